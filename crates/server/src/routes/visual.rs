//! Visual mode (目視モード, SPEC §3): the reader hands the visit to reception with the card photo;
//! staff of the same institution see the photo and confirm or reject. The photo is held in memory
//! only, until staff decide or [`crate::limits::PHOTO_TTL`] passes.

use super::visits::{own_reader, reader_event};
use crate::auth::{ApiJson, SignedReader, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::limits::PhotoLookup;
use crate::views::visit_view;
use crate::workflow::{apply_visit, audit_by};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use kakunin_api::visits::{VisitView, VisualDecision, VisualRequest};
use kakunin_api::ApiCode;
use kakunin_core::audit::AuditAction;
use kakunin_core::roles::Permission;
use kakunin_core::visit::{VisitEvent, VisitState};
use serde_json::json;

/// Largest photo accepted (card photos are a few kilobytes).
const MAX_PHOTO: usize = 512 * 1024;

/// Hand the visit to reception for visual confirmation (the patient asked, or attempts ran out).
#[utoipa::path(post, path = "/api/v1/visits/{id}/visual-request", tag = "visits", request_body = VisualRequest,
    responses((status = 200, body = VisitView), (status = 422, description = "bad_photo", body = crate::error::ErrorBody)), security(("reader_signature" = [])))]
pub async fn request_visual(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: SignedReader<VisualRequest>,
) -> ApiResult<Json<VisitView>> {
    let photo = match &req.body.photo {
        Some(b64) => {
            let bytes = kakunin_evidence::unb64(b64)
                .ok()
                .filter(|b| b.len() <= MAX_PHOTO && image_type(b).is_some())
                .ok_or_else(|| {
                    ApiError::unprocessable(
                        ApiCode::BadPhoto,
                        "the photo must be a JPEG or PNG of at most 512 KiB, base64",
                    )
                })?;
            Some(bytes)
        }
        None => None,
    };
    let view = reader_event(
        &state,
        &id,
        &req.reader,
        VisitEvent::VisualRequested,
        "visual_requested",
    )
    .await?;
    if let Some(p) = photo {
        state.hold_photo(&id, &req.reader.id, p);
    }
    Ok(view)
}

fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

/// The card photo of a visit waiting for visual confirmation, for staff of its institution.
#[utoipa::path(get, path = "/api/v1/visits/{id}/photo", tag = "visits",
    responses((status = 200, description = "JPEG or PNG", content_type = "image/jpeg"), (status = 404, description = "no_photo", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn card_photo(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    staff.require(Permission::Reception)?;
    let visit = state.store.visit(&id).await?;
    staff.same_institution(&visit.institution_code)?;
    let photo = match state.held_photo(&id) {
        PhotoLookup::Held(p) if visit.visit.state == VisitState::AwaitingVisual => p,
        PhotoLookup::Evicted => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                ApiCode::PhotoEvicted,
                "the card photo was dropped because too many photos were waiting; compare the patient with the photo printed on the card, or ask them to place the card on the reader again",
            ))
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                ApiCode::NoPhoto,
                "no card photo is held for this visit; ask the patient to place the card on the reader again",
            ))
        }
    };
    let kind = image_type(&photo).unwrap_or("application/octet-stream");
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-store"),
        ],
        photo,
    ))
}

/// The reader's own view of its visit (the kiosk polls it while staff decide in visual mode).
#[utoipa::path(post, path = "/api/v1/visits/{id}/view", tag = "visits", responses((status = 200, body = VisitView)), security(("reader_signature" = [])))]
pub async fn reader_view(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: SignedReader<serde_json::Value>,
) -> ApiResult<Json<VisitView>> {
    let visit = state.store.visit(&id).await?;
    own_reader(&req.reader)(&visit)?;
    Ok(Json(visit_view(&visit)))
}

/// A reader reports one offer of 照合番号B to the card on it (from its camera's read of the card's
/// face, or known) and what came of it: every VERIFY of the card-face applet, and every one the
/// lock-safe rule held back, is in the audit log with the tries the card had left.
#[utoipa::path(post, path = "/api/v1/visits/{id}/card-face", tag = "visits", request_body = kakunin_api::visits::CardFaceTry,
    responses((status = 200, body = VisitView)), security(("reader_signature" = [])))]
pub async fn card_face_try(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: SignedReader<kakunin_api::visits::CardFaceTry>,
) -> ApiResult<Json<VisitView>> {
    let visit = state.store.visit(&id).await?;
    own_reader(&req.reader)(&visit)?;
    state
        .audit(
            &req.reader.id,
            Some(&req.reader.institution_code),
            AuditAction::CardFaceVerify,
            &id,
            json!({ "source": req.body.source, "outcome": req.body.outcome, "tries_left": req.body.tries_left }),
        )
        .await?;
    Ok(Json(visit_view(&visit)))
}

/// Visual confirmation (目視確認) by reception staff, recorded with the staff member.
#[utoipa::path(post, path = "/api/v1/visits/{id}/visual", tag = "visits", request_body = VisualDecision,
    responses((status = 200, body = VisitView), (status = 422, description = "visual_requires_presence", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn visual_confirmation(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<VisualDecision>,
) -> ApiResult<Json<VisitView>> {
    let s = staff.require(Permission::Reception)?.clone();
    let event = VisitEvent::VisualDecision {
        confirmed: req.confirmed,
        staff: s.id.clone(),
        holder_present: req.holder_present,
    };
    let after = apply_visit(
        &state,
        &id,
        |v| staff.same_institution(&v.institution_code),
        event,
        |tx, _| {
            audit_by(
                tx,
                &s,
                AuditAction::VisualConfirmation,
                &id,
                json!({ "confirmed": req.confirmed, "staff": s.id }),
            )
        },
    )
    .await?;
    state.drop_photo(&id);
    Ok(Json(visit_view(&after)))
}
