//! Card readers (their Ed25519 public keys): enrolled by the operator, or asked for by a clinic
//! and approved by the operator; listed, suspended and revoked with effect at once. And the
//! certificate revocation list.

use crate::auth::{ApiJson, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::views::reader_view;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use kakunin_api::readers::{
    ReaderAction, ReaderQuery, ReaderStatusChange, ReaderView, RegisterReader, Revoke,
};
use kakunin_api::ApiCode;
use kakunin_core::audit::AuditAction;
use kakunin_core::roles::{Permission, Role};
use kakunin_store::directory::{Reader, ReaderStatus};
use serde_json::json;

/// Enrol a reader. The operator (admin) enrols it for a named institution, active at once;
/// clinic or pharmacy staff ask for one of their own institution, which stays `pending` — its
/// signatures refused — until the operator approves it.
#[utoipa::path(post, path = "/api/v1/readers", tag = "readers", request_body = RegisterReader,
    responses((status = 201, body = ReaderView), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn register_reader(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<RegisterReader>,
) -> ApiResult<(StatusCode, Json<ReaderView>)> {
    let (institution, status) = match staff.0.role {
        Role::Admin => (
            req.institution_code.clone().ok_or_else(|| {
                ApiError::unprocessable(
                    ApiCode::InstitutionRequired,
                    "name the reader's institution_code",
                )
            })?,
            ReaderStatus::Active,
        ),
        _ => {
            staff.require(Permission::Reception)?;
            (staff.0.institution_code.clone(), ReaderStatus::Pending)
        }
    };
    if institution.len() == 10 {
        // A medical-institution code: its check digit must hold before we look it up.
        kakunin_core::numbers::InstitutionCode::parse(&institution)?;
    }
    state.store.institution(&institution).await?;
    kakunin_evidence::attestation::parse_public_key(&req.public_key)?;
    super::check_chosen_id(&req.id, "a reader id")?;
    if state.store.reader(&req.id).await?.is_some() {
        return Err(ApiError::conflict(
            ApiCode::ReaderExists,
            format!(
                "reader {} is already registered; keep its key file or choose another id",
                req.id
            ),
        ));
    }
    let reader = Reader {
        id: req.id.clone(),
        institution_code: institution.clone(),
        public_key: req.public_key,
        status,
    };
    let mut tx = state.store.transaction().await?;
    tx.insert_reader(&reader, &staff.0.id).await?;
    tx.audit(
        &staff.0.id,
        Some(&institution),
        AuditAction::ReaderRegistered,
        &req.id,
        json!({ "status": status }),
    );
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(reader_view(&reader))))
}

/// Readers: all of them for the operator (or one institution's with `?institution=`), the own
/// institution's for clinic staff.
#[utoipa::path(get, path = "/api/v1/readers", tag = "readers", params(("institution" = Option<String>, Query)),
    responses((status = 200, body = [ReaderView])), security(("bearer" = [])))]
pub async fn list_readers(
    State(state): State<AppState>,
    staff: StaffAuth,
    Query(q): Query<ReaderQuery>,
) -> ApiResult<Json<Vec<ReaderView>>> {
    let institution = match staff.0.role {
        Role::Admin => q.institution,
        _ => {
            staff.require(Permission::Reception)?;
            Some(staff.0.institution_code.clone())
        }
    };
    let readers = state.store.readers(institution.as_deref()).await?;
    Ok(Json(readers.iter().map(reader_view).collect()))
}

/// Approve, suspend, resume or revoke a reader, with effect on its next request. The operator
/// may do all four; a clinic's own staff may suspend their institution's reader (a stolen or
/// misbehaving kiosk), never approve, resume or revoke one.
#[utoipa::path(post, path = "/api/v1/readers/{id}/status", tag = "readers", request_body = ReaderStatusChange,
    responses((status = 200, body = ReaderView), (status = 403, body = crate::error::ErrorBody), (status = 409, description = "reader_status_conflict", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_reader_status(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ReaderStatusChange>,
) -> ApiResult<Json<ReaderView>> {
    let reader = state.store.reader(&id).await?.ok_or_else(|| {
        ApiError::not_found(
            ApiCode::UnknownReader,
            format!("reader {id} is not registered"),
        )
    })?;
    if staff.0.role != Role::Admin {
        staff.require(Permission::Reception)?;
        staff.same_institution(&reader.institution_code)?;
        if req.action != ReaderAction::Suspend {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ApiCode::WrongRole,
                "only the operator approves, resumes or revokes readers; clinic staff may suspend their own",
            ));
        }
    }
    use ReaderStatus::*;
    let (from, to): (&[ReaderStatus], ReaderStatus) = match req.action {
        ReaderAction::Approve => (&[Pending], Active),
        ReaderAction::Suspend => (&[Pending, Active], Suspended),
        ReaderAction::Resume => (&[Suspended], Active),
        ReaderAction::Revoke => (&[Pending, Active, Suspended], Revoked),
    };
    let mut tx = state.store.transaction().await?;
    if !tx.set_reader_status(&id, from, to, &staff.0.id).await? {
        return Err(ApiError::conflict(
            ApiCode::ReaderStatusConflict,
            format!(
                "reader {id} is {}; it cannot be {:?}d from there",
                reader.status.as_str(),
                req.action
            )
            .to_lowercase(),
        ));
    }
    tx.audit(
        &staff.0.id,
        Some(&reader.institution_code),
        AuditAction::ReaderStatus,
        &id,
        json!({ "action": req.action, "from": reader.status, "to": to, "reason": req.reason }),
    );
    tx.commit().await?;
    Ok(Json(ReaderView {
        status: to,
        ..reader_view(&reader)
    }))
}

/// Add a certificate to the revocation list (admin).
#[utoipa::path(post, path = "/api/v1/revocations", tag = "readers", request_body = Revoke,
    responses((status = 204), (status = 403, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_certificate(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<Revoke>,
) -> ApiResult<StatusCode> {
    let admin = staff.require(Permission::Administer)?;
    if req.serial.is_empty() || !req.serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::unprocessable(
            ApiCode::InvalidFormat,
            "serial must be hex",
        ));
    }
    let serial = req.serial.to_ascii_lowercase();
    let revoked = state.store.is_revoked(&serial).await?;
    let mut tx = state.store.transaction().await?;
    if !revoked {
        tx.revoke_certificate(&serial, &req.reason).await?;
    }
    tx.audit(
        &admin.id,
        None,
        AuditAction::CardChange,
        &serial,
        json!({ "op": "revoke", "reason": req.reason }),
    );
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
