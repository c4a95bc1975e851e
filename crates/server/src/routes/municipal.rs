//! Municipal counter (市町村窓口, SPEC §7): issue, switch kind, register, reset a PIN, view.

use crate::auth::{ApiJson, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::workflow::{audit_by, change_card, issue_replacing, CardOutcome};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{Datelike, NaiveDate};
use kakunin_core::audit::AuditAction;
use kakunin_core::card::{
    Card, CardHistoryEntry, CardKind, CounterContext, MemoEntry, Pin, RegistrationChoice,
};
use kakunin_core::roles::Permission;
use kakunin_core::DomainError;
use kakunin_store::cards::CardRecord;
use kakunin_store::directory::Staff;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

/// A card as the counter shows it: kind, PIN status, memo field and history.
#[derive(Serialize, ToSchema)]
pub struct CardView {
    pub id: String,
    pub person_id: i64,
    pub kind: CardKind,
    pub registered: bool,
    /// Absent on face-auth cards.
    pub pin: Option<PinView>,
    /// 追記欄: struck entries stay, with `struck_on`.
    pub memo: Vec<MemoEntry>,
    pub history: Vec<CardHistoryEntry>,
    pub certificate_serial: String,
    pub expires_on: NaiveDate,
    /// The holder, as the card's face shows them (the counter's views only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<PersonView>,
    /// Names of the municipalities and institutions (by code) and of the staff (by id) that the
    /// memo and history mention, so the counter shows names, not bare codes.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub names: std::collections::BTreeMap<String, String>,
}

/// A resident as the counter finds them.
#[derive(Serialize, ToSchema)]
pub struct PersonView {
    pub person_id: i64,
    pub name: String,
    pub name_kana: String,
    pub birth_date: NaiveDate,
    /// The birth date in the Japanese era.
    pub birth_date_wareki: Option<String>,
    /// Their cards whose certificates are not revoked (one at most).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<String>,
}

impl PersonView {
    fn of(q: &kakunin_core::eligibility::QualificationRecord, cards: Vec<String>) -> PersonView {
        PersonView {
            person_id: q.person_id,
            name: q.name.clone(),
            name_kana: q.name_kana.clone(),
            birth_date: q.birth_date,
            birth_date_wareki: kakunin_core::wareki::japanese_date(q.birth_date),
            cards,
        }
    }
}

/// The counter's view of a card: with its holder.
async fn counter_view(state: &AppState, r: &CardRecord) -> ApiResult<CardView> {
    let mut view = CardView::from(r);
    let q = state.store.qualification_of_person(r.person_id).await?;
    view.holder = Some(PersonView::of(&q, vec![]));
    let places = r
        .card
        .memo
        .iter()
        .map(|m| m.municipality.clone())
        .chain(r.card.history.iter().map(|e| e.place.clone()));
    for code in places {
        if !view.names.contains_key(&code) {
            if let Ok(i) = state.store.institution(&code).await {
                view.names.insert(code, i.name);
            }
        }
    }
    for id in r.card.history.iter().filter_map(|e| e.staff.clone()) {
        if !view.names.contains_key(&id) {
            if let Ok(s) = state.store.staff(&id).await {
                view.names.insert(id, s.name);
            }
        }
    }
    Ok(view)
}

/// A search of residents: by birth date, narrowed by name (kanji or kana, spaces and width
/// ignored, a prefix is enough); by name alone (the family name exactly, in kanji or kana, then
/// the given name as a prefix); or by card id.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct PersonQuery {
    pub birth_date: Option<NaiveDate>,
    pub name: Option<String>,
    pub card_id: Option<String>,
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
            "search_too_wide",
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
        out.push(PersonView::of(&person, cards));
    }
    Ok(Json(out))
}

/// PIN status (never the PIN).
#[derive(Serialize, ToSchema)]
pub struct PinView {
    pub locked: bool,
    pub tries_left: u8,
}

impl From<&CardRecord> for CardView {
    fn from(r: &CardRecord) -> Self {
        CardView {
            id: r.card.id.clone(),
            person_id: r.person_id,
            kind: r.card.kind,
            registered: r.card.registered,
            pin: r.card.pin.as_ref().map(|p| PinView {
                locked: p.locked(),
                tries_left: p.tries_left(),
            }),
            memo: r.card.memo.clone(),
            history: r.card.history.clone(),
            certificate_serial: r.cert_serial.clone(),
            expires_on: r.expires_on,
            holder: None,
            names: Default::default(),
        }
    }
}

/// Issue request.
#[derive(Deserialize, ToSchema)]
pub struct IssueCard {
    pub person_id: i64,
    pub kind: CardKind,
    /// 4 digits; required for standard cards, refused for face-auth cards.
    pub pin: Option<String>,
    /// Register insurance use at issuance (face-auth cards, on the holder's request).
    #[serde(default)]
    pub register_insurance_use: bool,
    /// Re-issue: the person holds a card already (lost, damaged); the new card replaces it and
    /// the old card's certificates are revoked. Without it, a holder is refused
    /// (`already_holds_card`) — or, asking for a face-auth card while holding a standard one,
    /// switched on the same card (seed §1(2)).
    #[serde(default)]
    pub reissue: bool,
}

/// Switch request.
#[derive(Deserialize, ToSchema)]
pub struct SwitchKind {
    pub to: CardKind,
    /// The new PIN when switching to standard.
    pub new_pin: Option<String>,
    /// For an unregistered card switching to face-auth: what the holder chose when offered
    /// registration. `not_asked` is refused with `register_before_switch`.
    #[serde(default)]
    pub registration: RegistrationChoice,
}

/// PIN reset request.
#[derive(Deserialize, ToSchema)]
pub struct ResetPin {
    pub new_pin: String,
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
    if record.municipality_code.as_deref() == Some(clerk.institution_code.as_str()) {
        Ok(record)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "other_municipality",
            "this card was issued by another municipality; only its own counter may see or change it",
        ))
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
                "unknown_person",
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
            "already_holds_card",
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
        own_card(&state, clerk, &old.card.id).await?;
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
    own_card(state, clerk, &old.card.id).await?;
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
    own_card(&state, clerk, &id).await?;
    let ctx = counter(clerk);
    let (record, _) = change_card(
        &state,
        &id,
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
    own_card(&state, clerk, &id).await?;
    let (record, ()) = change_card(
        &state,
        &id,
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
    own_card(&state, clerk, &id).await?;
    let ctx = counter(clerk);
    let (record, ()) = change_card(
        &state,
        &id,
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
