//! Self-declaration forms (被保険者資格申立書): saved as far as filled, flagged, and re-checked
//! automatically once the online check works.

use crate::auth::{ApiJson, StaffAuth};
use crate::error::ApiResult;
use crate::workflow::audit_by;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kakunin_core::audit::AuditAction;
use kakunin_core::declaration::{DeclarationStatus, SelfDeclaration};
use kakunin_core::roles::Permission;
use kakunin_store::declarations::DeclarationRecord;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// A submitted form.
#[derive(Deserialize, ToSchema)]
pub struct SubmitDeclaration {
    /// The visit that fell back to the form, if any.
    pub visit_id: Option<String>,
    pub form: SelfDeclaration,
}

/// Where a declaration stands.
#[derive(Serialize, ToSchema)]
pub struct DeclarationView {
    pub id: String,
    pub status: DeclarationStatus,
    /// Fields left empty; non-empty means the form is flagged for staff.
    pub missing: Vec<String>,
    pub flagged: bool,
    pub form: SelfDeclaration,
    pub matched_person_id: Option<i64>,
    pub rechecked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<DeclarationRecord> for DeclarationView {
    fn from(d: DeclarationRecord) -> Self {
        DeclarationView {
            id: d.id,
            status: d.status,
            flagged: !d.missing.is_empty(),
            missing: d.missing,
            form: d.form,
            matched_person_id: d.matched_person_id,
            rechecked_at: d.rechecked_at,
        }
    }
}

/// Store a self-declaration form, however far it was filled in.
#[utoipa::path(post, path = "/api/v1/declarations", tag = "declarations", request_body = SubmitDeclaration,
    responses((status = 201, body = DeclarationView)), security(("bearer" = [])))]
pub async fn submit_declaration(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<SubmitDeclaration>,
) -> ApiResult<(StatusCode, Json<DeclarationView>)> {
    let s = staff.require(Permission::Reception)?;
    if let Some(v) = &req.visit_id {
        staff.same_institution(&state.store.visit(v).await?.institution_code)?;
    }
    let record = DeclarationRecord {
        id: kakunin_store::new_id("d"),
        institution_code: s.institution_code.clone(),
        visit_id: req.visit_id,
        missing: req
            .form
            .missing_fields()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        form: req.form,
        status: DeclarationStatus::Pending,
        matched_person_id: None,
        created_at: kakunin_store::now(),
        rechecked_at: None,
    };
    let mut tx = state.store.transaction().await?;
    tx.insert_declaration(&record).await?;
    audit_by(
        &mut tx,
        s,
        AuditAction::Declaration,
        &record.id,
        json!({ "missing": record.missing }),
    );
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// A declaration and its re-check status.
#[utoipa::path(get, path = "/api/v1/declarations/{id}", tag = "declarations", responses((status = 200, body = DeclarationView)), security(("bearer" = [])))]
pub async fn declaration_status(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<DeclarationView>> {
    staff.require(Permission::Reception)?;
    let d = state.store.declaration(&id).await?;
    staff.same_institution(&d.institution_code)?;
    Ok(Json(d.into()))
}

/// Outcome of a re-check run.
#[derive(Serialize, ToSchema)]
pub struct RecheckSummary {
    pub checked: usize,
    pub confirmed: usize,
    pub mismatch: usize,
    pub not_found: usize,
}

/// Re-check pending declarations now (it also runs by itself every 30 s).
#[utoipa::path(post, path = "/api/v1/declarations/recheck", tag = "declarations", responses((status = 200, body = RecheckSummary)), security(("bearer" = [])))]
pub async fn recheck_now(
    State(state): State<AppState>,
    staff: StaffAuth,
) -> ApiResult<Json<RecheckSummary>> {
    if !staff.0.role.may(Permission::Administer) {
        staff.require(Permission::Reception)?;
    }
    Ok(Json(crate::recheck_declarations(&state).await?))
}
