//! 照会番号 (reference numbers) an institution registers for its patients, one at a time or as
//! a batch fetched later by reception number; and consented medical information by a
//! patient's numbers (the terminal folder's medication and checkup requests).

use crate::auth::{ApiJson, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::routes::eligibility::lookup;
use crate::workflow::audit_by;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use kakunin_api::eligibility::NumbersCheck;
use kakunin_api::references::{
    BatchReceipt, BatchResult, InformationByNumbers, InformationView, ReferenceRegistration,
    RegistrationBatch, RegistrationOutcome,
};
use kakunin_api::ApiCode;
use kakunin_core::audit::AuditAction;
use kakunin_core::reference::{may_register, ReferenceNumber};
use kakunin_core::roles::Permission;
use kakunin_store::directory::Staff;
use kakunin_store::Tx;
use serde_json::json;

/// Most registrations in one batch (a request body is at most 1 MiB).
pub const MAX_BATCH: usize = 5_000;

/// The batch kind stored for 照会番号 registrations.
const BATCH_KIND: &str = "reference_numbers";

fn numbers_of(r: &ReferenceRegistration) -> NumbersCheck {
    NumbersCheck {
        // The folder interface pads a 6-digit insurer number with spaces to 8.
        insurer_number: r.insurer_number.trim().to_owned(),
        symbol: r.symbol.trim().to_owned(),
        number: r.number.trim().to_owned(),
        branch: r.branch.trim().to_owned(),
        ..NumbersCheck::default()
    }
}

/// One registration inside `tx`: the patient found by the numbers, the number free or theirs
/// already, written with its audit record. Answers the patient's id.
async fn register_one(
    state: &AppState,
    tx: &mut Tx,
    by: &Staff,
    r: &ReferenceRegistration,
) -> ApiResult<i64> {
    let number = ReferenceNumber::parse(&r.reference_number)?;
    let q = lookup(state, &numbers_of(r)).await?;
    let holder = tx
        .reference_holder(&by.institution_code, &number, q.person_id)
        .await?;
    may_register(&number, holder)?;
    tx.register_reference_number(&by.institution_code, q.person_id, &number)
        .await?;
    audit_by(
        tx,
        by,
        AuditAction::ReferenceNumber,
        &q.person_id.to_string(),
        json!({ "reference_number": number }),
    );
    Ok(q.person_id)
}

/// Registers this institution's 照会番号 for the patient holding the numbers (replacing the
/// number it had for them).
#[utoipa::path(post, path = "/api/v1/reference-numbers", tag = "reference numbers", request_body = ReferenceRegistration,
    responses((status = 200, body = RegistrationOutcome), (status = 404, description = "qualification_not_found", body = crate::error::ErrorBody),
        (status = 409, description = "reference_number_taken", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn register_reference(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<ReferenceRegistration>,
) -> ApiResult<Json<RegistrationOutcome>> {
    let s = staff.require(Permission::Reception)?;
    let mut tx = state.store.transaction().await?;
    register_one(&state, &mut tx, s, &req).await?;
    tx.commit().await?;
    Ok(Json(RegistrationOutcome::registered(req)))
}

/// Whether a refusal belongs to one registration of a batch (the batch goes on) rather than to
/// the whole (the database is down: nothing is kept).
fn refuses_one(e: &ApiError) -> bool {
    matches!(
        e.code,
        ApiCode::InvalidFormat
            | ApiCode::InvalidCheckDigit
            | ApiCode::QualificationNotFound
            | ApiCode::UnknownInsurer
            | ApiCode::ReferenceNumberTaken
    )
}

/// A reception number: 16 random digits.
fn reception_number() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// Receives a batch of registrations (the terminal's `OQSmuimm01`): every one is judged and
/// written in one transaction with its audit record and the batch's; the answer is the
/// reception number its result is fetched by.
#[utoipa::path(post, path = "/api/v1/reference-numbers/batches", tag = "reference numbers", request_body = RegistrationBatch,
    responses((status = 200, body = BatchReceipt), (status = 422, description = "invalid_format (empty or over 5,000)", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn register_batch(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<RegistrationBatch>,
) -> ApiResult<Json<BatchReceipt>> {
    let s = staff.require(Permission::Reception)?;
    let n = req.registrations.len();
    if n == 0 || n > MAX_BATCH {
        return Err(ApiError::unprocessable(
            ApiCode::InvalidFormat,
            format!("a batch holds 1 to {MAX_BATCH} registrations, not {n}; split it"),
        ));
    }
    let mut tx = state.store.transaction().await?;
    let mut outcomes = Vec::with_capacity(n);
    for r in req.registrations {
        let outcome = match register_one(&state, &mut tx, s, &r).await {
            Ok(_) => RegistrationOutcome::registered(r),
            Err(e) if refuses_one(&e) => RegistrationOutcome::refused(r, e.code, e.message),
            Err(e) => return Err(e),
        };
        outcomes.push(outcome);
    }
    let registered = outcomes.iter().filter(|o| o.registered).count();
    let reception = reception_number();
    tx.insert_batch(
        &s.institution_code,
        &reception,
        BATCH_KIND,
        &serde_json::to_value(&outcomes).expect("outcomes serialise"),
    )
    .await?;
    audit_by(
        &mut tx,
        s,
        AuditAction::ReferenceNumber,
        &reception,
        json!({ "batch": n, "registered": registered }),
    );
    tx.commit().await?;
    Ok(Json(BatchReceipt {
        reception_number: reception,
        received: n,
    }))
}

/// The result of a batch of this institution (the terminal's `OQSmuimm02`).
#[utoipa::path(get, path = "/api/v1/reference-numbers/batches/{reception_number}", tag = "reference numbers",
    responses((status = 200, body = BatchResult), (status = 404, description = "unknown_reception_number", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn batch_result(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(reception_number): Path<String>,
) -> ApiResult<Json<BatchResult>> {
    let s = staff.require(Permission::Reception)?;
    let b = state
        .store
        .batch(&s.institution_code, &reception_number)
        .await?;
    let outcomes = serde_json::from_value(b.result).map_err(|e| {
        tracing::error!(reception = %b.reception_number, kind = %b.kind, error = %e, "stored batch result unreadable");
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            ApiCode::StorageUnavailable,
            "the batch's stored result cannot be read; send the batch again",
        )
    })?;
    Ok(Json(BatchResult {
        reception_number: b.reception_number,
        received_at: b.received_at,
        outcomes,
    }))
}

/// Consented medical information of the patient holding the numbers: only in a category the
/// patient consented to at this institution, within a day of that consent.
#[utoipa::path(post, path = "/api/v1/information/by-numbers", tag = "eligibility", request_body = InformationByNumbers,
    responses((status = 200, body = InformationView), (status = 403, description = "consent_missing", body = crate::error::ErrorBody),
        (status = 404, description = "qualification_not_found", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn information_by_numbers(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<InformationByNumbers>,
) -> ApiResult<Json<InformationView>> {
    let s = staff.require(Permission::ViewMedicalInformation)?;
    let q = lookup(&state, &req.numbers).await?;
    let latest = state
        .store
        .latest_consent(&s.institution_code, q.person_id)
        .await?;
    kakunin_core::consent::may_view_by_numbers(
        latest
            .as_ref()
            .map(|c| (s.institution_code.as_str(), &c.selection, c.at)),
        &s.institution_code,
        req.category,
        chrono::Utc::now(),
    )?;
    let items: Vec<_> = state
        .store
        .medical_information(q.person_id, req.category)
        .await?
        .into_iter()
        .filter(|i| req.from.is_none_or(|f| i.recorded_on >= f))
        .filter(|i| req.to.is_none_or(|t| i.recorded_on <= t))
        .collect();
    state
        .audit_by(
            s,
            AuditAction::InformationView,
            &q.person_id.to_string(),
            json!({ "by": "numbers", "category": req.category, "items": items.len(),
                "consent_visit": latest.map(|c| c.visit_id) }),
        )
        .await?;
    Ok(Json(InformationView {
        name: q.name,
        name_kana: q.name_kana,
        birth_date: q.birth_date,
        sex: q.sex,
        items,
    }))
}
