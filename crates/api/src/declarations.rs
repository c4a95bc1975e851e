//! Self-declaration forms (被保険者資格申立書) and their re-check.

use kakunin_core::declaration::{DeclarationStatus, SelfDeclaration};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A submitted form.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubmitDeclaration {
    /// The visit that fell back to the form, if any.
    pub visit_id: Option<String>,
    /// The form as far as it was filled in.
    pub form: SelfDeclaration,
}

/// Where a declaration stands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeclarationView {
    /// The declaration's id.
    pub id: String,
    /// Its re-check status.
    pub status: DeclarationStatus,
    /// Fields left empty; non-empty means the form is flagged for staff.
    pub missing: Vec<String>,
    /// Flagged for staff (fields missing).
    pub flagged: bool,
    /// The form.
    pub form: SelfDeclaration,
    /// The insured person the re-check matched.
    pub matched_person_id: Option<i64>,
    /// When it was re-checked.
    pub rechecked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Outcome of a re-check run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RecheckSummary {
    /// Declarations checked.
    pub checked: usize,
    /// Confirmed by the record.
    pub confirmed: usize,
    /// Found, but the form disagrees with the record.
    pub mismatch: usize,
    /// No record found.
    pub not_found: usize,
}
