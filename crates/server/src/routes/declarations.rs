//! Self-declaration forms (被保険者資格申立書): saved as far as filled, flagged, and re-checked
//! automatically once the online check works.

use crate::auth::{ApiJson, StaffAuth};
use crate::error::ApiResult;
use crate::views::declaration_view;
use crate::workflow::audit_by;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kakunin_api::declarations::{DeclarationView, RecheckSummary, SubmitDeclaration};
use kakunin_core::audit::AuditAction;
use kakunin_core::declaration::DeclarationStatus;
use kakunin_core::roles::Permission;
use kakunin_store::declarations::DeclarationRecord;
use serde_json::json;

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
    Ok((StatusCode::CREATED, Json(declaration_view(record))))
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
    Ok(Json(declaration_view(d)))
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
