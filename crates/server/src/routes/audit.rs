//! Reading and verifying the audit log (admin).

use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::{Query, State};
use axum::Json;
use kakunin_api::audit::AuditQuery;
use kakunin_core::audit::AuditRecord;
use kakunin_core::roles::Permission;
use kakunin_store::audit::ChainReport;

/// Audit records, oldest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = Vec<AuditRecord>)), security(("bearer" = [])))]
pub async fn audit_records(
    State(state): State<AppState>,
    staff: StaffAuth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    staff.require(Permission::Administer)?;
    Ok(Json(
        state
            .store
            .audit_records(q.after.unwrap_or(0), q.limit.unwrap_or(100).clamp(1, 1000))
            .await?,
    ))
}

/// Verify the whole hash chain.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", responses((status = 200, body = ChainReport)), security(("bearer" = [])))]
pub async fn verify_chain(
    State(state): State<AppState>,
    staff: StaffAuth,
) -> ApiResult<Json<ChainReport>> {
    staff.require(Permission::Administer)?;
    Ok(Json(state.store.verify_audit_chain().await?))
}
