//! The visit flow (受付, SPEC §6). Readers drive it with signed requests; reception staff open
//! visual mode and see the queue. Every step goes through `kakunin_core::visit::Visit::apply`.

use crate::auth::{SignedReader, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::views::{staff_visit_view, staff_visit_views, visit_view};
use crate::workflow::{answer_registration, apply_visit, audit_reader, give_consent};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use kakunin_api::visits::{
    ConsentRequest, IdentityEvidence, NonceView, QueueQuery, RegistrationAnswer, StartVisit,
    VisitView,
};
use kakunin_api::ApiCode;
use kakunin_core::audit::AuditAction;
use kakunin_core::matrix::IdentityMethod;
use kakunin_core::roles::Permission;
use kakunin_core::visit::{AttemptOutcome, Visit, VisitEvent};
use kakunin_evidence::attestation::{
    open_attestation, parse_public_key, AttestedMethod, AttestedOutcome,
};
use kakunin_evidence::{challenge::verify_card_signature, unb64};
use kakunin_store::directory::Reader;
use kakunin_store::visits::VisitRecord;
use serde_json::json;

pub(crate) fn own_reader(reader: &Reader) -> impl Fn(&VisitRecord) -> ApiResult<()> + '_ {
    move |v| {
        if v.reader_id.as_deref() == Some(reader.id.as_str()) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "this visit was started by another reader",
            ))
        }
    }
}

/// Start a visit: the certificate is checked (chain, expiry, revocation) and the card looked up.
#[utoipa::path(post, path = "/api/v1/visits", tag = "visits", request_body = StartVisit,
    responses((status = 201, body = VisitView), (status = 422, description = "certificate_expired, certificate_revoked, certificate_forged, ...", body = crate::error::ErrorBody)),
    security(("reader_signature" = [])))]
pub async fn start_visit(
    State(state): State<AppState>,
    req: SignedReader<StartVisit>,
) -> ApiResult<(StatusCode, Json<VisitView>)> {
    let reader = &req.reader;
    let der = unb64(&req.body.certificate).map_err(|_| {
        ApiError::unprocessable(
            ApiCode::CertificateMalformed,
            "certificate must be base64 DER; read it again from the card",
        )
    })?;
    let (cert, standing) = match state.verify_certificate(&der).await {
        Ok(c) => c,
        Err(e) => {
            state
                .audit(
                    &reader.id,
                    Some(&reader.institution_code),
                    AuditAction::VisitStarted,
                    "certificate",
                    json!({ "refused": e.code }),
                )
                .await?;
            return Err(e);
        }
    };
    let card = state.store.card_by_serial(&cert.serial).await?.ok_or_else(|| {
        ApiError::not_found(ApiCode::UnknownCard, "the certificate is valid but no card is on record for it; check the card at the municipal counter")
    })?;
    let mut visit = Visit::start(card.card.kind, card.card.registered, req.body.placed_by);
    if let kakunin_core::certificate::Standing::Grace { until } = standing {
        visit.certificate_grace = Some(until);
    }
    visit.prescription_asked = state
        .store
        .institution(&reader.institution_code)
        .await?
        .issues_e_prescriptions;
    visit.apply(VisitEvent::CertificateChecked { ok: true })?;
    let now = kakunin_store::now();
    let record = VisitRecord {
        id: kakunin_store::new_id("v"),
        institution_code: reader.institution_code.clone(),
        reader_id: Some(reader.id.clone()),
        card_id: Some(card.card.id.clone()),
        person_id: Some(card.person_id),
        visit,
        started_at: now,
        updated_at: now,
    };
    let mut tx = state.store.transaction().await?;
    tx.insert_visit(&record).await?;
    audit_reader(
        &mut tx,
        reader,
        AuditAction::VisitStarted,
        &record.id,
        json!({ "card": card.card.id, "placed_by": req.body.placed_by, "certificate_grace_until": record.visit.certificate_grace }),
    );
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(visit_view(&record, &state.config.transition)),
    ))
}

/// The reception queue: this institution's latest visits, newest first, each with its holder;
/// visits the patient walked away from leave it after the visit expiry.
#[utoipa::path(get, path = "/api/v1/visits", tag = "visits", params(QueueQuery), responses((status = 200, body = Vec<VisitView>)), security(("bearer" = [])))]
pub async fn queue(
    State(state): State<AppState>,
    staff: StaffAuth,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<Vec<VisitView>>> {
    let s = staff.require(Permission::Reception)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let visits = match q.since {
        Some(since) => {
            state
                .store
                .visits_of_institution_since(&s.institution_code, since, limit)
                .await?
        }
        None => {
            state
                .store
                .visits_of_institution(&s.institution_code, limit)
                .await?
        }
    };
    let now = Utc::now();
    let abandoned = |v: &VisitRecord| {
        v.visit
            .abandoned(v.updated_at, now, state.config.visit_expiry)
    };
    let listed: Vec<&VisitRecord> = visits
        .iter()
        .filter(|v| q.include_abandoned || !abandoned(v))
        .collect();
    let mut views = staff_visit_views(&state, &listed).await?;
    for (view, v) in views.iter_mut().zip(&listed) {
        view.abandoned = abandoned(v);
    }
    Ok(Json(views))
}

/// One visit's state (staff of its institution).
#[utoipa::path(get, path = "/api/v1/visits/{id}", tag = "visits", responses((status = 200, body = VisitView), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn visit_status(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<VisitView>> {
    staff.require(Permission::Reception)?;
    let v = state.store.visit(&id).await?;
    staff.same_institution(&v.institution_code)?;
    Ok(Json(staff_visit_view(&state, &v).await?))
}

/// Issue a nonce for the next attestation or PIN challenge of this visit.
#[utoipa::path(post, path = "/api/v1/visits/{id}/nonce", tag = "visits", responses((status = 200, body = NonceView)), security(("reader_signature" = [])))]
pub async fn issue_nonce(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: SignedReader<serde_json::Value>,
) -> ApiResult<Json<NonceView>> {
    let v = state.store.visit(&id).await?;
    own_reader(&req.reader)(&v)?;
    let nonce = hex::encode(rand::random::<[u8; 24]>());
    state.store.issue_nonce(&nonce, &req.reader.id, &id).await?;
    Ok(Json(NonceView {
        nonce,
        expires_in_seconds: state.config.nonce_ttl.num_seconds(),
    }))
}

async fn consume(state: &AppState, nonce: &str, reader: &Reader, visit: &str) -> ApiResult<()> {
    if state
        .store
        .consume_nonce(nonce, &reader.id, visit, state.config.nonce_ttl)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::conflict(ApiCode::NonceReplayed, "the nonce is unknown, expired or already used (a replay); ask for a new nonce and attest again"))
    }
}

/// Submit identity evidence. The server checks it; it does not trust the reader's word.
#[utoipa::path(post, path = "/api/v1/visits/{id}/identity", tag = "visits", request_body = IdentityEvidence,
    responses((status = 200, body = VisitView), (status = 409, description = "nonce_replayed", body = crate::error::ErrorBody),
        (status = 422, description = "attestation_forged, card_signature_invalid, pin_not_allowed_on_face_auth", body = crate::error::ErrorBody)),
    security(("reader_signature" = [])))]
pub async fn identity_evidence(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: SignedReader<IdentityEvidence>,
) -> ApiResult<Json<VisitView>> {
    let reader = &req.reader;
    let before = state.store.visit(&id).await?;
    own_reader(reader)(&before)?;
    let (event, detail) = match req.body {
        IdentityEvidence::Face { attestation } | IdentityEvidence::Visual { attestation } => {
            let a = open_attestation(&parse_public_key(&reader.public_key)?, &attestation)?;
            if a.reader_id != reader.id || a.visit_id != id {
                return Err(ApiError::unprocessable(
                    ApiCode::AttestationMismatch,
                    "the attestation names another reader or visit",
                ));
            }
            consume(&state, &a.nonce, reader, &id).await?;
            let detail = json!({ "method": a.method, "outcome": a.outcome, "score": a.score, "threshold": a.threshold, "staff": a.staff_id });
            let event = match a.method {
                AttestedMethod::Face => VisitEvent::IdentityAttempt {
                    method: IdentityMethod::Face,
                    outcome: match a.outcome {
                        AttestedOutcome::Match => AttemptOutcome::Verified,
                        AttestedOutcome::NoMatch => AttemptOutcome::Failed,
                        AttestedOutcome::SpoofSuspected => AttemptOutcome::SpoofSuspected,
                    },
                },
                AttestedMethod::Visual => {
                    // A reader's word that staff confirmed is no staff member's signature: a
                    // rogue reader could name anyone. Staff confirm with their own sign-in.
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        ApiCode::VisualNeedsStaff,
                        format!("a visual confirmation is signed by the staff member at reception: they confirm with their own sign-in (POST /api/v1/visits/{id}/visual); hand the visit over with POST /api/v1/visits/{id}/visual-request"),
                    ));
                }
            };
            (event, detail)
        }
        IdentityEvidence::Pin {
            nonce,
            signature,
            certificate,
        } => {
            consume(&state, &nonce, reader, &id).await?;
            // The domain decides (a face-auth card has no PIN) before the card's evidence is
            // looked at.
            before.visit.clone().apply(VisitEvent::IdentityAttempt {
                method: IdentityMethod::Pin,
                outcome: AttemptOutcome::Verified,
            })?;
            let der = unb64(&certificate).map_err(|_| {
                ApiError::unprocessable(
                    ApiCode::CertificateMalformed,
                    "certificate must be base64 DER",
                )
            })?;
            // In the grace period the card still proves its holder (eligibility only).
            let (cert, _) = state.verify_certificate(&der).await?;
            let card = state.store.card_by_serial(&cert.serial).await?;
            if card.map(|c| c.card.id) != before.card_id {
                return Err(ApiError::unprocessable(
                    ApiCode::CertificateMismatch,
                    "this certificate belongs to another card than the one that started the visit",
                ));
            }
            let sig = unb64(&signature).map_err(|_| {
                ApiError::unprocessable(ApiCode::CardSignatureInvalid, "signature must be base64")
            })?;
            verify_card_signature(&cert, nonce.as_bytes(), &sig)?;
            (
                VisitEvent::IdentityAttempt {
                    method: IdentityMethod::Pin,
                    outcome: AttemptOutcome::Verified,
                },
                json!({ "method": "pin", "outcome": "match" }),
            )
        }
    };
    let after = apply_visit(&state, &id, own_reader(reader), event, |tx, _| {
        audit_reader(
            tx,
            reader,
            AuditAction::IdentityVerification,
            &id,
            detail.clone(),
        )
    })
    .await?;
    Ok(Json(visit_view(&after, &state.config.transition)))
}

/// A body-less reader step: apply `event` to the reader's own visit, audited as step `step`,
/// and answer its new view.
pub(crate) async fn reader_event(
    state: &AppState,
    id: &str,
    reader: &Reader,
    event: VisitEvent,
    step: &str,
) -> ApiResult<Json<VisitView>> {
    let after = apply_visit(state, id, own_reader(reader), event, |tx, _| {
        audit_reader(
            tx,
            reader,
            AuditAction::VisitStep,
            id,
            json!({ "step": step }),
        )
    })
    .await?;
    Ok(Json(visit_view(&after, &state.config.transition)))
}

/// Answer the insurance-use registration offer; on yes the card is registered (reader channel).
#[utoipa::path(post, path = "/api/v1/visits/{id}/registration", tag = "visits", request_body = RegistrationAnswer,
    responses((status = 200, body = VisitView)), security(("reader_signature" = [])))]
pub async fn registration_answer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: SignedReader<RegistrationAnswer>,
) -> ApiResult<Json<VisitView>> {
    let after = answer_registration(&state, &id, &req.reader, req.body.accept).await?;
    Ok(Json(visit_view(&after, &state.config.transition)))
}

/// Record the consent selection; the visit completes and reception can see the result.
#[utoipa::path(post, path = "/api/v1/visits/{id}/consent", tag = "visits", request_body = ConsentRequest,
    responses((status = 200, body = VisitView)), security(("reader_signature" = [])))]
pub async fn consent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: SignedReader<ConsentRequest>,
) -> ApiResult<Json<VisitView>> {
    let after = give_consent(
        &state,
        &id,
        &req.reader,
        req.body.selection,
        req.body.assisted,
        req.body.prescription,
        req.body.recipient_certificates,
    )
    .await?;
    Ok(Json(visit_view(&after, &state.config.transition)))
}

/// Report that the online check cannot be done (network or service trouble seen by the reader).
#[utoipa::path(post, path = "/api/v1/visits/{id}/service-down", tag = "visits", responses((status = 200, body = VisitView)), security(("reader_signature" = [])))]
pub async fn service_down(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: SignedReader<serde_json::Value>,
) -> ApiResult<Json<VisitView>> {
    reader_event(
        &state,
        &id,
        &req.reader,
        VisitEvent::ServiceDown,
        "service_down",
    )
    .await
}
