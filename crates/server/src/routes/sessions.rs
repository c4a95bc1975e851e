//! Sign-in for the staff screens: a staff id and credential exchanged for a short-lived session
//! token, used as a bearer token like any other. The screens use only this and the public API.

use crate::auth::{ApiJson, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::limits::Throttled;
use crate::workflow::audit_by;
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::Utc;
use kakunin_api::staff::{SessionView, SignIn};
use kakunin_api::ApiCode;
use kakunin_core::audit::AuditAction;
use kakunin_store::directory::{PasswordCheck, Staff};
use rand::RngCore;
use serde_json::json;

/// The client's address, when the server was started with connection info (`serve`); the
/// sign-in throttle counts failures per source with it.
pub struct Source(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Source(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Sign in: answers a session token, or 401 `wrong_login` without saying which part was wrong.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = SignIn,
    responses((status = 201, body = SessionView), (status = 401, description = "wrong_login", body = crate::error::ErrorBody), (status = 429, description = "too_many_sign_ins", body = crate::error::ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    Source(source): Source,
    ApiJson(req): ApiJson<SignIn>,
) -> ApiResult<(StatusCode, Json<SessionView>)> {
    let id = req.staff_id.trim();
    if id.is_empty() || id.len() > 64 || req.password.len() > 1024 {
        return Err(ApiError::unauthorized(
            ApiCode::WrongLogin,
            "the staff id or the password is wrong; check both and try again",
        ));
    }
    if let Err(t) = state.sign_in_allowed(id, source) {
        let (wait, whose) = match t {
            Throttled::Account(w) => (w, "this staff id"),
            Throttled::Source(w) => (w, "this computer"),
        };
        tracing::warn!(staff = id, source = ?source, "sign-in throttled");
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ApiCode::TooManySignIns,
            format!(
                "too many failed sign-ins from {whose}; try again in {} seconds, or sign in from the computer you usually use",
                wait.as_secs().max(1)
            ),
        ));
    }
    let check = state.store.check_password(id, &req.password).await?;
    let found = match check {
        PasswordCheck::Right(s) => Some(s),
        PasswordCheck::Wrong => None,
    };
    state.record_sign_in(id, source, found.is_some());
    let Some(staff) = found else {
        state
            .audit(
                "anonymous",
                None,
                AuditAction::SignIn,
                id,
                json!({ "event": "sign_in_failed", "source": source.map(|s| s.to_string()) }),
            )
            .await?;
        return Err(ApiError::unauthorized(
            ApiCode::WrongLogin,
            "the staff id or the password is wrong; check both and try again",
        ));
    };
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let expires_at = Utc::now() + state.config.session_ttl;
    let mut tx = state.store.transaction().await?;
    tx.insert_session(&staff.id, &token, expires_at).await?;
    audit_by(
        &mut tx,
        &staff,
        AuditAction::SignIn,
        &staff.id,
        json!({ "event": "sign_in", "expires_at": expires_at }),
    );
    tx.commit().await?;
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
    let mut tx = state.store.transaction().await?;
    let token = crate::auth::bearer_token(&headers);
    if let Some(token) = token {
        tx.delete_session(token).await?;
    }
    audit_by(
        &mut tx,
        &staff.0,
        AuditAction::SignIn,
        &staff.0.id,
        json!({ "event": "sign_out" }),
    );
    tx.commit().await?;
    if let Some(token) = token {
        state.forget_token(token);
    }
    Ok(StatusCode::NO_CONTENT)
}
