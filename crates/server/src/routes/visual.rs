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
use kakunin_api::visits::{
    NumberBEntry, NumberBHandover, NumberBStatus, VisitView, VisualDecision, VisualRequest,
};
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
    let photo = checked_photo(&req.body)?;
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

/// The request's photo, if any, once it is known to be a JPEG or PNG within [`MAX_PHOTO`].
fn checked_photo(req: &VisualRequest) -> ApiResult<Option<Vec<u8>>> {
    let Some(b64) = &req.photo else {
        return Ok(None);
    };
    kakunin_evidence::unb64(b64)
        .ok()
        .filter(|b| b.len() <= MAX_PHOTO && image_type(b).is_some())
        .map(Some)
        .ok_or_else(|| {
            ApiError::unprocessable(
                ApiCode::BadPhoto,
                "the photo must be a JPEG or PNG of at most 512 KiB, base64",
            )
        })
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
    Ok(Json(visit_view(&visit, &state.config.transition)))
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
    state.typed_numbers().record(&id, req.body.clone());
    Ok(Json(visit_view(&visit, &state.config.transition)))
}

/// Reception staff type 照合番号B from the patient's card (a visit in visual mode whose photo the
/// kiosk could not read from its camera). It is checked here — a mistyped number would spend one
/// of the applet's tries —, held in memory for the reader holding the card, which opens the
/// card-face applet with it under the lock-safe rule and reports what came of it. Audited
/// without the digits.
#[utoipa::path(post, path = "/api/v1/visits/{id}/number-b", tag = "visits", request_body = NumberBEntry,
    responses((status = 200, body = NumberBStatus), (status = 422, description = "number_b_format", body = crate::error::ErrorBody), (status = 409, description = "invalid_transition", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn enter_number_b(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<NumberBEntry>,
) -> ApiResult<Json<NumberBStatus>> {
    let s = staff.require(Permission::Reception)?;
    let number = kakunin_core::card_face::typed(&req.number_b)
        .map_err(|e| ApiError::unprocessable(ApiCode::NumberBFormat, e.to_string()))?;
    let visit = state.store.visit(&id).await?;
    staff.same_institution(&visit.institution_code)?;
    visit.visit.waiting_for_staff("typing 照合番号B")?;
    state
        .audit_by(s, AuditAction::NumberBTyped, &id, json!({ "staff": s.id }))
        .await?;
    let mut typed = state.typed_numbers();
    typed.hand(&id, number);
    Ok(Json(typed.status(&id)))
}

/// Where the 照合番号B typed for a visit stands: still waiting for the reader, and the reader's
/// last report of an offer to the card (opened, wrong with the tries left, locked, not tried).
#[utoipa::path(get, path = "/api/v1/visits/{id}/number-b", tag = "visits",
    responses((status = 200, body = NumberBStatus)), security(("bearer" = [])))]
pub async fn number_b_status(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<NumberBStatus>> {
    staff.require(Permission::Reception)?;
    let visit = state.store.visit(&id).await?;
    staff.same_institution(&visit.institution_code)?;
    Ok(Json(state.typed_numbers().status(&id)))
}

/// The reader holding the card takes the 照合番号B staff typed for its visit (given once).
#[utoipa::path(post, path = "/api/v1/visits/{id}/number-b/take", tag = "visits",
    responses((status = 200, body = NumberBHandover)), security(("reader_signature" = [])))]
pub async fn take_number_b(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: SignedReader<serde_json::Value>,
) -> ApiResult<Json<NumberBHandover>> {
    let visit = state.store.visit(&id).await?;
    own_reader(&req.reader)(&visit)?;
    Ok(Json(NumberBHandover {
        number_b: state.typed_numbers().take(&id),
    }))
}

/// The card photo of a visit already waiting for visual confirmation, read after staff typed
/// 照合番号B: held for staff like the photo handed over with the request.
#[utoipa::path(post, path = "/api/v1/visits/{id}/visual-photo", tag = "visits", request_body = VisualRequest,
    responses((status = 200, body = VisitView), (status = 422, description = "bad_photo", body = crate::error::ErrorBody), (status = 409, description = "invalid_transition", body = crate::error::ErrorBody)), security(("reader_signature" = [])))]
pub async fn visual_photo(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: SignedReader<VisualRequest>,
) -> ApiResult<Json<VisitView>> {
    let photo = checked_photo(&req.body)?
        .ok_or_else(|| ApiError::unprocessable(ApiCode::BadPhoto, "no photo in the request"))?;
    let visit = state.store.visit(&id).await?;
    own_reader(&req.reader)(&visit)?;
    visit
        .visit
        .waiting_for_staff("handing staff the card photo")?;
    state.hold_photo(&id, &req.reader.id, photo);
    Ok(Json(visit_view(&visit, &state.config.transition)))
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
    Ok(Json(visit_view(&after, &state.config.transition)))
}
