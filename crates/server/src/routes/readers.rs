//! Registering card readers (their Ed25519 public keys) and revoking certificates.

use crate::auth::{ApiJson, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use kakunin_core::audit::AuditAction;
use kakunin_core::roles::{Permission, Role};
use kakunin_store::directory::Reader;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// Reader registration.
#[derive(Deserialize, ToSchema)]
pub struct RegisterReader {
    /// Reader id chosen by the reader (e.g. its serial number).
    pub id: String,
    /// Ed25519 public key, base64 of 32 bytes.
    pub public_key: String,
    /// Admins name the institution; clinic staff register readers of their own institution.
    pub institution_code: Option<String>,
}

/// A registered reader.
#[derive(Serialize, ToSchema)]
pub struct ReaderView {
    pub id: String,
    pub institution_code: String,
}

/// Register a reader: by clinic/pharmacy staff for their own institution, or by an admin.
#[utoipa::path(post, path = "/api/v1/readers", tag = "readers", request_body = RegisterReader,
    responses((status = 201, body = ReaderView), (status = 409, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn register_reader(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<RegisterReader>,
) -> ApiResult<(StatusCode, Json<ReaderView>)> {
    let institution = match staff.0.role {
        Role::Admin => req.institution_code.clone().ok_or_else(|| {
            ApiError::unprocessable("institution_required", "name the reader's institution_code")
        })?,
        _ => {
            staff.require(Permission::Reception)?;
            staff.0.institution_code.clone()
        }
    };
    if institution.len() == 10 {
        // A medical-institution code: its check digit must hold before we look it up.
        kakunin_core::numbers::InstitutionCode::parse(&institution)?;
    }
    state.store.institution(&institution).await?;
    kakunin_evidence::attestation::parse_public_key(&req.public_key)?;
    if req.id.trim().is_empty() || req.id.len() > 64 {
        return Err(ApiError::unprocessable(
            "invalid_format",
            "reader id must be 1–64 characters",
        ));
    }
    if state.store.reader(&req.id).await?.is_some() {
        return Err(ApiError::conflict(
            "reader_exists",
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
    };
    state.store.insert_reader(&reader, &staff.0.id).await?;
    state
        .audit(
            &staff.0.id,
            Some(&institution),
            AuditAction::ReaderRegistered,
            &req.id,
            json!({}),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ReaderView {
            id: req.id,
            institution_code: institution,
        }),
    ))
}

/// Revocation request.
#[derive(Deserialize, ToSchema)]
pub struct Revoke {
    /// Certificate serial, lower-case hex.
    pub serial: String,
    pub reason: String,
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
            "invalid_format",
            "serial must be hex",
        ));
    }
    let serial = req.serial.to_ascii_lowercase();
    if !state.store.is_revoked(&serial).await? {
        state.store.revoke_certificate(&serial, &req.reason).await?;
    }
    state
        .audit(
            &admin.id,
            None,
            AuditAction::CardChange,
            &serial,
            json!({ "op": "revoke", "reason": req.reason }),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
