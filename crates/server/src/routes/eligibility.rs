//! Eligibility results: from a completed visit (card), by eligibility-certificate numbers, for a
//! pharmacy proxy pickup; and medical-information views limited to what was consented.

use crate::auth::{ApiJson, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use kakunin_api::eligibility::{NumbersCheck, ProxyPickup, VisitResult};
use kakunin_api::ApiCode;
use kakunin_core::audit::AuditAction;
use kakunin_core::consent::{ConsentSelection, InfoCategory};
use kakunin_core::eligibility::{EligibilityResult, QualificationRecord};
use kakunin_core::medical_assistance::MedicalAssistance;
use kakunin_core::numbers::{InsuredNumbers, InsurerNumber};
use kakunin_core::roles::Permission;
use kakunin_core::visit::proxy_pickup_basis;
use kakunin_store::persons::MedicalItem;
use serde_json::json;

/// The eligibility result of a completed visit (only consented information).
#[utoipa::path(get, path = "/api/v1/visits/{id}/result", tag = "eligibility",
    responses((status = 200, body = VisitResult), (status = 409, description = "result_not_ready", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn visit_result(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<VisitResult>> {
    let s = staff.require(Permission::Reception)?;
    let v = state.store.visit(&id).await?;
    staff.same_institution(&v.institution_code)?;
    if !v.visit.result_ready() {
        return Err(ApiError::conflict(
            ApiCode::ResultNotReady,
            format!(
                "the visit is {}; the result is ready after consent selection",
                v.visit.state.as_str()
            ),
        ));
    }
    let person = v
        .person_id
        .ok_or_else(|| ApiError::conflict(ApiCode::ResultNotReady, "the visit has no person"))?;
    let q = state.store.qualification_of_person(person).await?;
    let consent = v.visit.consent.unwrap_or_default();
    let today = chrono::Utc::now().date_naive();
    let mut result = EligibilityResult::new(&q, today, Some(&consent));
    result.reference_number = state
        .store
        .reference_number(&s.institution_code, person)
        .await?;
    result.medical_assistance = assistance(&state, &q, &s.institution_code, today).await?;
    let recipient_certificates = kakunin_core::public_expense::offered(
        &state.store.recipient_certificates(person).await?,
        v.visit.recipient_certificates,
        today,
    );
    state
        .audit_by(
            s,
            AuditAction::EligibilityCheck,
            &id,
            json!({ "by": "card", "person": person, "validity": result.validity, "medical_assistance": result.medical_assistance.as_ref().map(MedicalAssistance::status), "recipient_certificates": recipient_certificates.len() }),
        )
        .await?;
    Ok(Json(VisitResult {
        visit_id: id,
        result,
        viewable: consent.categories(),
        consent,
        consent_assisted: v.visit.consent_assisted,
        consented_at: v.updated_at,
        prescription: v.visit.prescription,
        recipient_certificates,
    }))
}

/// Medical information of the visit's patient in one category, if consented for this institution
/// and visit.
#[utoipa::path(get, path = "/api/v1/visits/{id}/information/{category}", tag = "eligibility",
    params(("id" = String, Path), ("category" = String, Path, description = "medication | checkup | clinical")),
    responses((status = 200, body = Vec<MedicalItem>), (status = 403, description = "consent_missing or other_institution", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn information_view(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path((id, category)): Path<(String, String)>,
) -> ApiResult<Json<Vec<MedicalItem>>> {
    let s = staff.require(Permission::ViewMedicalInformation)?;
    let category = InfoCategory::parse(&category).ok_or_else(|| {
        ApiError::not_found(
            ApiCode::UnknownCategory,
            "category must be medication, checkup or clinical",
        )
    })?;
    let v = state.store.visit(&id).await?;
    staff.same_institution(&v.institution_code)?;
    let consent = state.store.consent_of_visit(&id).await?;
    kakunin_core::consent::may_view(
        consent
            .as_ref()
            .map(|c| (c.institution_code.as_str(), &c.selection)),
        &s.institution_code,
        category,
    )?;
    let person = consent.map(|c| c.person_id).unwrap_or_default();
    let items = state.store.medical_information(person, category).await?;
    state
        .audit_by(
            s,
            AuditAction::InformationView,
            &id,
            json!({ "category": category, "person": person, "items": items.len() }),
        )
        .await?;
    Ok(Json(items))
}

/// 医療扶助 for a public-assistance recipient's record, as `institution` is told it on `day`
/// (none for an insured person).
async fn assistance(
    state: &AppState,
    q: &QualificationRecord,
    institution: &str,
    day: chrono::NaiveDate,
) -> ApiResult<Option<MedicalAssistance>> {
    if !kakunin_core::medical_assistance::is_recipient(&q.insurer_number) {
        return Ok(None);
    }
    let tickets = state.store.medical_tickets(q.person_id).await?;
    Ok(Some(kakunin_core::medical_assistance::for_institution(
        &tickets,
        institution,
        day,
    )))
}

pub(crate) async fn lookup(state: &AppState, req: &NumbersCheck) -> ApiResult<QualificationRecord> {
    let numbers = InsuredNumbers {
        insurer: InsurerNumber::parse(&req.insurer_number)?,
        symbol: req.symbol.clone(),
        number: req.number.clone(),
        branch: req.branch.clone(),
    };
    numbers.validate()?;
    let found = state
        .store
        .qualification_by_numbers(
            numbers.insurer.as_str(),
            &numbers.symbol,
            &numbers.number,
            &numbers.branch,
        )
        .await?;
    match found {
        Some(q) if req.birth_date.is_none_or(|b| b == q.birth_date) => Ok(q),
        _ if !state.store.insurer_exists(numbers.insurer.as_str()).await? => Err(ApiError::not_found(
            ApiCode::UnknownInsurer,
            format!("insurer {} is not known to the service; check the insurer number", numbers.insurer),
        )),
        _ => Err(ApiError::not_found(ApiCode::QualificationNotFound, "no qualification matches these numbers; check them against the certificate, or use the self-declaration form")),
    }
}

/// Eligibility check by the numbers of a document: a 資格確認書, a health insurance card while
/// valid, or a 資格情報のお知らせ with the card (`kakunin_core::documents`).
#[utoipa::path(post, path = "/api/v1/eligibility/check", tag = "eligibility", request_body = NumbersCheck,
    responses((status = 200, body = EligibilityResult), (status = 404, body = crate::error::ErrorBody), (status = 422, description = "invalid_check_digit, document_expired, document_not_genuine, notice_not_valid_alone", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn check_by_numbers(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<NumbersCheck>,
) -> ApiResult<Json<EligibilityResult>> {
    let s = staff.require(Permission::Reception)?;
    let today = chrono::Utc::now().date_naive();
    let on = match req.on {
        Some(day) if day > today => {
            return Err(ApiError::unprocessable(
                ApiCode::InvalidFormat,
                format!("eligibility is judged for a day up to today, not {day}"),
            ))
        }
        Some(day) => day,
        None => today,
    };
    if let Some(shown) = &req.document {
        kakunin_core::documents::may_check_with(shown, on, &state.config.transition)?;
    }
    let q = lookup(&state, &req).await?;
    // A numbers check carries no consent for medical information; only the limit category can
    // be consented to at the desk.
    let consent = req.limit_consent.then_some(ConsentSelection {
        limit_amount: true,
        ..ConsentSelection::default()
    });
    let mut result = EligibilityResult::new(&q, on, consent.as_ref());
    result.document = req.document.map(|d| d.kind);
    result.reference_number = state
        .store
        .reference_number(&s.institution_code, q.person_id)
        .await?;
    result.medical_assistance = assistance(&state, &q, &s.institution_code, on).await?;
    state
        .audit_by(s, AuditAction::EligibilityCheck,
            &q.person_id.to_string(),
            json!({ "by": "numbers", "document": result.document, "validity": result.validity, "limit_consent": req.limit_consent, "on": on, "medical_assistance": result.medical_assistance.as_ref().map(MedicalAssistance::status) }),
        )
        .await?;
    Ok(Json(result))
}

/// Pharmacy proxy pickup: no visual confirmation possible, so the check uses the prescription's
/// or the eligibility certificate's numbers. No medical information is shown.
#[utoipa::path(post, path = "/api/v1/proxy-pickups", tag = "eligibility", request_body = ProxyPickup,
    responses((status = 200, body = EligibilityResult), (status = 422, description = "proxy_needs_document", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn proxy_pickup(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<ProxyPickup>,
) -> ApiResult<Json<EligibilityResult>> {
    let s = staff.require(Permission::ProxyPickup)?;
    let document = proxy_pickup_basis(req.document)?;
    let q = lookup(&state, &req.numbers).await?;
    let result = EligibilityResult::new(&q, chrono::Utc::now().date_naive(), None);
    state
        .audit_by(
            s,
            AuditAction::ProxyPickup,
            &q.person_id.to_string(),
            json!({ "document": document, "validity": result.validity }),
        )
        .await?;
    Ok(Json(result))
}
