//! Sign-in for the staff screens: a staff id and credential exchanged for a short-lived session
//! token, used as a bearer token like any other. The screens use only this and the public API.

use crate::auth::{ApiJson, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use kakunin_core::audit::AuditAction;
use kakunin_store::directory::Staff;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// Sign-in request.
#[derive(Deserialize, ToSchema)]
pub struct SignIn {
    pub staff_id: String,
    /// The staff member's credential (their staff token in this deployment).
    pub password: String,
}

/// A started session.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// Bearer token for the session.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub staff: Staff,
}

/// Sign in: answers a session token, or 401 `wrong_login` without saying which part was wrong.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = SignIn,
    responses((status = 201, body = SessionView), (status = 401, description = "wrong_login", body = crate::error::ErrorBody), (status = 429, description = "too_many_sign_ins", body = crate::error::ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SignIn>,
) -> ApiResult<(StatusCode, Json<SessionView>)> {
    let id = req.staff_id.trim();
    if state.sign_in_locked(id) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sign_ins",
            "too many failed sign-ins for this staff id; wait 15 minutes or ask an administrator",
        ));
    }
    let found = state.store.staff_by_credentials(id, &req.password).await?;
    state.record_sign_in(id, found.is_some());
    let Some(staff) = found else {
        return Err(ApiError::unauthorized(
            "wrong_login",
            "the staff id or the password is wrong; check both and try again",
        ));
    };
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let expires_at = Utc::now() + state.config.session_ttl;
    state
        .store
        .insert_session(&staff.id, &token, expires_at)
        .await?;
    state
        .audit(
            &staff.id,
            Some(&staff.institution_code),
            AuditAction::SignIn,
            &staff.id,
            json!({ "event": "sign_in", "expires_at": expires_at }),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionView {
            token,
            expires_at,
            staff,
        }),
    ))
}

/// Who is signed in with this token.
#[utoipa::path(get, path = "/api/v1/sessions/current", tag = "sessions",
    responses((status = 200, body = Staff), (status = 401, description = "session_expired / invalid_token", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn current(staff: StaffAuth) -> Json<Staff> {
    Json(staff.0)
}

/// Sign out: ends the session of this token.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "sessions",
    responses((status = 204)), security(("bearer" = [])))]
pub async fn sign_out(
    State(state): State<AppState>,
    staff: StaffAuth,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    if let Some(token) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
    {
        let token = token.trim();
        state.store.delete_session(token).await?;
        state.forget_token(token);
    }
    state
        .audit(
            &staff.0.id,
            Some(&staff.0.institution_code),
            AuditAction::SignIn,
            &staff.0.id,
            json!({ "event": "sign_out" }),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
