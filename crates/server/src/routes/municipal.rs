//! Municipal counter (市町村窓口, SPEC §7): issue, switch kind, register, reset a PIN, view.

use crate::auth::{ApiJson, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::views::{card_record_view, person_view};
use crate::workflow::{audit_by, change_card, issue_replacing, CardOutcome};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{Datelike, NaiveDate};
use kakunin_api::municipal::{CardView, IssueCard, PersonQuery, PersonView, ResetPin, SwitchKind};
use kakunin_api::ApiCode;
use kakunin_core::audit::AuditAction;
use kakunin_core::card::{Card, CardKind, CounterContext, Pin, RegistrationChoice};
use kakunin_core::roles::Permission;
use kakunin_core::DomainError;
use kakunin_store::cards::CardRecord;
use kakunin_store::directory::Staff;
use serde_json::json;

/// The counter's view of a card: with its holder.
async fn counter_view(state: &AppState, r: &CardRecord) -> ApiResult<CardView> {
    let mut view = card_record_view(r);
    let q = state.store.qualification_of_person(r.person_id).await?;
    view.holder = Some(person_view(&q, vec![]));
    let places = r
        .card
        .memo
        .iter()
        .map(|m| m.municipality.clone())
        .chain(r.card.history.iter().map(|e| e.place.clone()));
    use std::collections::btree_map::Entry;
    for code in places {
        if let Entry::Vacant(name) = view.names.entry(code) {
            if let Ok(i) = state.store.institution(name.key()).await {
                name.insert(i.name);
            }
        }
    }
    for id in r.card.history.iter().filter_map(|e| e.staff.clone()) {
        if let Entry::Vacant(name) = view.names.entry(id) {
            if let Ok(s) = state.store.staff(name.key()).await {
                name.insert(s.name);
            }
        }
    }
    Ok(view)
}

/// Find residents at the counter (clerks): by card id, by birth date (and name), or by name.
#[utoipa::path(get, path = "/api/v1/municipal/persons", tag = "municipal counter", params(PersonQuery),
    responses((status = 200, body = [PersonView]), (status = 422, description = "search_too_wide", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn find_persons(
    State(state): State<AppState>,
    staff: StaffAuth,
    axum::extract::Query(q): axum::extract::Query<PersonQuery>,
) -> ApiResult<Json<Vec<PersonView>>> {
    staff.require(Permission::CounterOperations)?;
    let ids: Vec<i64> = if let Some(card) = q.card_id.as_deref().filter(|c| !c.trim().is_empty()) {
        vec![state.store.card(card.trim()).await?.person_id]
    } else if let Some(birth) = q.birth_date {
        let wanted = q
            .name
            .as_deref()
            .map(kakunin_core::declaration::comparable_name)
            .unwrap_or_default();
        state
            .store
            .persons_born_on(birth, 10_000)
            .await?
            .into_iter()
            .filter(|(_, name, kana)| {
                wanted.is_empty()
                    || kakunin_core::declaration::comparable_name(name).starts_with(&wanted)
                    || kakunin_core::declaration::comparable_name(kana).starts_with(&wanted)
            })
            .take(20)
            .map(|(id, ..)| id)
            .collect()
    } else if let Some(name) = q.name.as_deref().filter(|n| !n.trim().is_empty()) {
        // By name alone: the family name (the first word) exactly, in kanji or kana, both
        // indexed; the given name, when typed, narrows it.
        let name = name.trim().replace('\u{3000}', " ");
        let (family, given) = name.split_once(' ').unwrap_or((&name, ""));
        let wanted = kakunin_core::declaration::comparable_name(&name);
        let given = kakunin_core::declaration::comparable_name(given);
        state
            .store
            .persons_by_family_name(family, &kakunin_core::declaration::katakana(family), 200)
            .await?
            .into_iter()
            .filter(|(_, n, kana)| {
                let (n, kana) = (
                    kakunin_core::declaration::comparable_name(n),
                    kakunin_core::declaration::comparable_name(kana),
                );
                given.is_empty() || n.starts_with(&wanted) || kana.starts_with(&wanted)
            })
            .take(20)
            .map(|(id, ..)| id)
            .collect()
    } else {
        return Err(ApiError::unprocessable(
            ApiCode::SearchTooWide,
            "give the name or kana (family name first), the birth date, or the card id",
        ));
    };
    let mut out = vec![];
    for id in ids {
        let person = state.store.qualification_of_person(id).await?;
        let cards = state
            .store
            .valid_cards_of_person(id)
            .await?
            .into_iter()
            .map(|c| c.card.id)
            .collect();
        out.push(person_view(&person, cards));
    }
    Ok(Json(out))
}

fn counter(staff: &Staff) -> CounterContext {
    CounterContext {
        municipality: staff.institution_code.clone(),
        staff: Some(staff.id.clone()),
        at: kakunin_store::now(),
    }
}

/// Refuses with 403 `other_municipality` unless `clerk` works at the municipality that issued
/// card `id` (a card stored before municipalities were recorded belongs to none).
async fn own_card(state: &AppState, clerk: &Staff, id: &str) -> ApiResult<CardRecord> {
    let record = state.store.card(id).await?;
    own(clerk)(&record)?;
    Ok(record)
}

/// The check of [`own_card`] on a card already loaded.
fn own(clerk: &Staff) -> impl Fn(&CardRecord) -> ApiResult<()> + '_ {
    move |record| {
        if record.municipality_code.as_deref() == Some(clerk.institution_code.as_str()) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ApiCode::OtherMunicipality,
                "this card was issued by another municipality; only its own counter may see or change it",
            ))
        }
    }
}

fn pin_with_salt(pin: Option<&str>) -> Result<Option<(Pin, [u8; 16])>, DomainError> {
    pin.map(|p| Ok((Pin::parse(p)?, rand::random())))
        .transpose()
}

/// Issue a card (standard with PIN, or face-auth).
#[utoipa::path(post, path = "/api/v1/municipal/cards", tag = "municipal counter", request_body = IssueCard,
    responses((status = 201, body = CardView), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn issue_card(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<IssueCard>,
) -> ApiResult<(StatusCode, Json<CardView>)> {
    let clerk = staff.require(Permission::CounterOperations)?;
    state
        .store
        .qualification_of_person(req.person_id)
        .await
        .map_err(|_| {
            ApiError::not_found(
                ApiCode::UnknownPerson,
                format!(
                    "insured person {} not found; check the person id",
                    req.person_id
                ),
            )
        })?;
    let held = state.store.valid_cards_of_person(req.person_id).await?;
    if let (Some(old), false) = (held.first(), req.reissue) {
        if old.card.kind == CardKind::Standard && req.kind == CardKind::FaceAuth {
            return switch_instead_of_issuing(&state, clerk, old, req.register_insurance_use).await;
        }
        return Err(ApiError::conflict(
            ApiCode::AlreadyHoldsCard,
            format!(
                "this person already holds card {} ({}); one person holds one valid card: switch its kind, or re-issue it (reissue: true) if it was lost or damaged",
                old.card.id,
                old.card.kind.as_str()
            ),
        ));
    }
    let pin = pin_with_salt(req.pin.as_deref())?;
    let ctx = counter(clerk);
    let id = format!("C{:011}", rand::random::<u64>() % 100_000_000_000);
    let card = Card::issue(
        id.clone(),
        req.kind,
        pin.as_ref().map(|(p, s)| (p, *s)),
        req.register_insurance_use,
        &ctx,
    )?;
    let issued = ctx.at.date_naive();
    let record = CardRecord {
        card,
        person_id: req.person_id,
        cert_serial: kakunin_evidence::ca::demo_serial_hex(&id),
        expires_on: NaiveDate::from_ymd_opt(
            issued.year() + 10,
            issued.month(),
            issued.day().min(28),
        )
        .unwrap_or(issued),
        security_code: format!("{:04}", rand::random::<u16>() % 10_000),
        version: 0,
        municipality_code: Some(clerk.institution_code.clone()),
    };
    for old in &held {
        own(clerk)(old)?;
    }
    issue_replacing(&state, clerk, &record, &held, &ctx).await?;
    Ok((
        StatusCode::CREATED,
        Json(counter_view(&state, &record).await?),
    ))
}

/// A standard-card holder who asks for a face-auth card keeps their card: it is switched
/// (seed §1(2)), with the registration the holder chose at the counter.
async fn switch_instead_of_issuing(
    state: &AppState,
    clerk: &Staff,
    old: &CardRecord,
    register: bool,
) -> ApiResult<(StatusCode, Json<CardView>)> {
    let ctx = counter(clerk);
    let choice = if old.card.registered {
        RegistrationChoice::NotAsked
    } else if register {
        RegistrationChoice::RegisterNow
    } else {
        RegistrationChoice::Declined
    };
    let (record, ()) = change_card(
        state,
        &old.card.id,
        own(clerk),
        |card| card.switch_kind(CardKind::FaceAuth, None, choice, &ctx),
        |tx, _| {
            audit_by(tx, clerk, AuditAction::CardChange, &old.card.id,
                json!({ "op": "switch", "from": "standard", "to": "face_auth", "registration": choice, "asked": "issue" }))
        },
    )
    .await?;
    Ok((StatusCode::OK, Json(counter_view(state, &record).await?)))
}

/// A card with its memo field and history.
#[utoipa::path(get, path = "/api/v1/municipal/cards/{id}", tag = "municipal counter",
    responses((status = 200, body = CardView), (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn card_view(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<CardView>> {
    let clerk = staff.require(Permission::CounterOperations)?;
    Ok(Json(
        counter_view(&state, &own_card(&state, clerk, &id).await?).await?,
    ))
}

/// Switch kind on the same card (no re-issue).
#[utoipa::path(post, path = "/api/v1/municipal/cards/{id}/switch", tag = "municipal counter", request_body = SwitchKind,
    responses((status = 200, body = CardView), (status = 409, description = "register_before_switch: offer registration first", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn switch_kind(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SwitchKind>,
) -> ApiResult<Json<CardView>> {
    let clerk = staff.require(Permission::CounterOperations)?;
    let pin = pin_with_salt(req.new_pin.as_deref())?;
    let ctx = counter(clerk);
    let (record, _) = change_card(
        &state,
        &id,
        own(clerk),
        |card| {
            let from = card.kind;
            card.switch_kind(
                req.to,
                pin.as_ref().map(|(p, s)| (p, *s)),
                req.registration,
                &ctx,
            )
            .map(|_| from)
        },
        |tx, outcome| {
            if let CardOutcome::Done(from) = outcome {
                audit_by(tx, clerk, AuditAction::CardChange, &id,
                    json!({ "op": "switch", "from": from, "to": req.to, "registration": req.registration }));
            }
        },
    )
    .await?;
    Ok(Json(counter_view(&state, &record).await?))
}

/// Register insurance use at the counter (face-auth cards).
#[utoipa::path(post, path = "/api/v1/municipal/cards/{id}/registration", tag = "municipal counter",
    responses((status = 200, body = CardView), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn register_at_counter(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<CardView>> {
    let clerk = staff.require(Permission::CounterOperations)?;
    let (record, ()) = change_card(
        &state,
        &id,
        own(clerk),
        |card| {
            card.register(
                kakunin_core::matrix::RegistrationChannel::MunicipalCounter,
                None,
                &clerk.institution_code,
                Some(clerk.id.clone()),
                kakunin_store::now(),
            )
        },
        |tx, _| {
            audit_by(
                tx,
                clerk,
                AuditAction::Registration,
                &id,
                json!({ "channel": "municipal_counter" }),
            )
        },
    )
    .await?;
    Ok(Json(counter_view(&state, &record).await?))
}

/// Reset a (locked) PIN: only here.
#[utoipa::path(post, path = "/api/v1/municipal/cards/{id}/pin-reset", tag = "municipal counter", request_body = ResetPin,
    responses((status = 200, body = CardView), (status = 422, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn reset_pin(
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ResetPin>,
) -> ApiResult<Json<CardView>> {
    let clerk = staff.require(Permission::CounterOperations)?;
    let pin = Pin::parse(&req.new_pin)?;
    let ctx = counter(clerk);
    let (record, ()) = change_card(
        &state,
        &id,
        own(clerk),
        |card| card.reset_pin_at_counter(&pin, rand::random(), &ctx),
        |tx, _| {
            audit_by(
                tx,
                clerk,
                AuditAction::CardChange,
                &id,
                json!({ "op": "pin_reset" }),
            )
        },
    )
    .await?;
    Ok(Json(counter_view(&state, &record).await?))
}
