//! 照会番号 (reference numbers): a clinic registers its own patient number for a patient, one at
//! a time or as a batch answered later by reception number (受付番号); and medical information
//! fetched by the patient's numbers within a consent's span.

use crate::eligibility::NumbersCheck;
use chrono::NaiveDate;
use kakunin_core::consent::InfoCategory;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One registration: the clinic's number for the patient holding these insurance numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReferenceRegistration {
    /// The 照会番号 (1–50 letters, digits or '-').
    pub reference_number: String,
    /// 保険者番号 (6 or 8 digits; a 6-digit number may come padded with spaces).
    pub insurer_number: String,
    /// 記号 (may be empty).
    #[serde(default)]
    pub symbol: String,
    /// 番号.
    pub number: String,
    /// 枝番.
    #[serde(default)]
    pub branch: String,
}

/// What became of one registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegistrationOutcome {
    /// The registration as sent.
    #[serde(flatten)]
    pub registration: ReferenceRegistration,
    /// Registered (or already so registered).
    pub registered: bool,
    /// Why not, when not: the API code (`qualification_not_found`, `reference_number_taken`,
    /// `invalid_format`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<crate::ApiCode>,
    /// What happened and what to do, when not registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl RegistrationOutcome {
    /// `registration` was registered.
    pub fn registered(registration: ReferenceRegistration) -> RegistrationOutcome {
        RegistrationOutcome {
            registration,
            registered: true,
            code: None,
            message: None,
        }
    }

    /// `registration` was refused with `code`, saying `message`.
    pub fn refused(
        registration: ReferenceRegistration,
        code: crate::ApiCode,
        message: String,
    ) -> RegistrationOutcome {
        RegistrationOutcome {
            registration,
            registered: false,
            code: Some(code),
            message: Some(message),
        }
    }
}

/// A batch of registrations (the terminal's `OQSmuimm01`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RegistrationBatch {
    /// The registrations, in order.
    pub registrations: Vec<ReferenceRegistration>,
}

/// A batch received: fetch its result with the reception number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchReceipt {
    /// 受付番号.
    pub reception_number: String,
    /// Registrations received.
    pub received: usize,
}

/// A batch's result (the terminal's `OQSmuimm02`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchResult {
    /// 受付番号.
    pub reception_number: String,
    /// When the batch was received.
    pub received_at: chrono::DateTime<chrono::Utc>,
    /// One outcome per registration, in the batch's order.
    pub outcomes: Vec<RegistrationOutcome>,
}

/// Medical information asked for by a patient's numbers (the terminal's `YZKsiquc01`,
/// `TKKsiquc01`): given only within a day of the patient's consent at this institution.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InformationByNumbers {
    /// The patient's numbers (`on` and `limit_consent` are not used).
    #[serde(flatten)]
    pub numbers: NumbersCheck,
    /// The category.
    pub category: InfoCategory,
    /// Items recorded on or after this day only.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Items recorded on or before this day only.
    #[serde(default)]
    pub to: Option<NaiveDate>,
}

/// The patient and the consented items.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InformationView {
    /// Name in kanji.
    pub name: String,
    /// Name in katakana.
    pub name_kana: String,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// 1 male, 2 female.
    pub sex: i64,
    /// The items, newest first.
    pub items: Vec<crate::eligibility::MedicalItem>,
}
