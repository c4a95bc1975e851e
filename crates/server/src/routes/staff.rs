//! Staff accounts and API tokens, for the operator (and each staff member for their own
//! password and tokens): the API twin of `kakunin staff`. Every change is audited.

use crate::auth::{ApiJson, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::workflow::audit_by;
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use kakunin_api::staff::{IssuedToken, NewStaff, NewToken, PasswordChange};
use kakunin_api::ApiCode;
use kakunin_core::audit::AuditAction;
use kakunin_core::roles::Role;
use kakunin_store::directory::{ApiToken, PasswordCheck, Staff};
use serde_json::json;

fn check_password_rules(password: &str) -> ApiResult<()> {
    kakunin_store::directory::password_acceptable(password)
        .map_err(|why| ApiError::unprocessable(ApiCode::WeakPassword, why))
}

/// Refuses unless the caller is the operator or staff member `id` themself.
fn operator_or_self<'a>(staff: &'a StaffAuth, id: &str) -> ApiResult<&'a Staff> {
    if staff.0.role == Role::Admin || staff.0.id == id {
        Ok(&staff.0)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ApiCode::WrongRole,
            "only the operator or the staff member themself may do this",
        ))
    }
}

/// Add a staff member (operator).
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = NewStaff,
    responses((status = 201, body = Staff), (status = 409, description = "staff_exists", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn add_staff(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<NewStaff>,
) -> ApiResult<(StatusCode, Json<Staff>)> {
    let admin = staff.require(kakunin_core::roles::Permission::Administer)?;
    super::check_chosen_id(&req.id, "a staff id")?;
    check_password_rules(&req.password)?;
    state.store.institution(&req.institution_code).await?;
    if state.store.staff(&req.id).await.is_ok() {
        return Err(ApiError::conflict(
            ApiCode::StaffExists,
            format!("staff id {} is taken; choose another", req.id),
        ));
    }
    let new = Staff {
        id: req.id,
        institution_code: req.institution_code,
        name: req.name,
        role: req.role,
    };
    let mut tx = state.store.transaction().await?;
    tx.insert_staff(&new, &req.password).await?;
    tx.audit(
        &admin.id,
        Some(&new.institution_code),
        AuditAction::StaffAccount,
        &new.id,
        json!({ "op": "add", "role": new.role }),
    );
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(new)))
}

/// Change a password (the staff member, with the current one) or reset it (operator).
#[utoipa::path(post, path = "/api/v1/staff/{id}/password", tag = "staff", request_body = PasswordChange,
    responses((status = 204), (status = 401, description = "wrong_login", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let actor = operator_or_self(&staff, &id)?;
    check_password_rules(&req.new_password)?;
    if actor.role != Role::Admin || actor.id == id {
        let current = req.current_password.as_deref().unwrap_or("");
        if !matches!(
            state.store.check_password(&id, current).await?,
            PasswordCheck::Right(_)
        ) {
            return Err(ApiError::unauthorized(
                ApiCode::WrongLogin,
                "the current password is wrong; type it again",
            ));
        }
    }
    let mut tx = state.store.transaction().await?;
    tx.set_password(&id, &req.new_password).await?;
    audit_by(
        &mut tx,
        actor,
        AuditAction::StaffAccount,
        &id,
        json!({ "op": if actor.id == id { "passwd" } else { "reset" } }),
    );
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issue an API token for a machine client of staff member `id` (their role and institution).
#[utoipa::path(post, path = "/api/v1/staff/{id}/tokens", tag = "staff", request_body = NewToken,
    responses((status = 201, body = IssuedToken)), security(("bearer" = [])))]
pub async fn issue_token(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    let actor = operator_or_self(&staff, &id)?;
    let label: String = req.label.chars().take(100).collect();
    let expires = chrono::Utc::now() + chrono::Duration::days(req.days.clamp(1, 3650));
    let mut tx = state.store.transaction().await?;
    let (token, record) = tx.issue_api_token(&id, &label, expires).await?;
    tx.audit(
        &actor.id,
        Some(&record.institution_code),
        AuditAction::StaffAccount,
        &id,
        json!({ "op": "token", "token_id": record.id, "label": label }),
    );
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { token, record })))
}

/// The API tokens of staff member `id` (never the tokens themselves).
#[utoipa::path(get, path = "/api/v1/staff/{id}/tokens", tag = "staff",
    responses((status = 200, body = [ApiToken])), security(("bearer" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ApiToken>>> {
    operator_or_self(&staff, &id)?;
    Ok(Json(state.store.api_tokens(Some(&id)).await?))
}

/// Revoke an API token, with effect on its next use.
#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}", tag = "staff",
    responses((status = 204), (status = 404, description = "unknown_token", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(token_id): Path<String>,
) -> ApiResult<StatusCode> {
    let owner = state
        .store
        .api_token_owner(&token_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                ApiCode::UnknownToken,
                format!("no unrevoked API token has id {token_id}; list them with GET /api/v1/staff/{{id}}/tokens"),
            )
        })?;
    let actor = operator_or_self(&staff, &owner)?;
    let mut tx = state.store.transaction().await?;
    tx.revoke_api_token(&token_id).await?;
    audit_by(
        &mut tx,
        actor,
        AuditAction::StaffAccount,
        &owner,
        json!({ "op": "revoke_token", "token_id": token_id }),
    );
    tx.commit().await?;
    // The cache is keyed by the token itself, which is not stored: forget them all (a cache).
    state.forget_all_tokens();
    Ok(StatusCode::NO_CONTENT)
}
