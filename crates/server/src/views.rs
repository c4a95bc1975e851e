//! What the API answers, built from what is stored: the `kakunin-api` views of visits, cards,
//! residents, readers and declarations.

use crate::error::ApiResult;
use crate::AppState;
use chrono::Utc;
use kakunin_api::declarations::DeclarationView;
use kakunin_api::municipal::{CardView, PersonView, PinView};
use kakunin_api::readers::ReaderView;
use kakunin_api::visits::{FallbackAdvice, HolderView, NextStep, VisitView};
use kakunin_core::documents::Transition;
use kakunin_core::eligibility::QualificationRecord;
use kakunin_core::matrix::identity_methods;
use kakunin_core::visit::{fallback_options, VisitState};
use kakunin_store::cards::CardRecord;
use kakunin_store::declarations::DeclarationRecord;
use kakunin_store::directory::Reader;
use kakunin_store::visits::VisitRecord;

/// A visit as its reader sees it (no holder); its fallbacks as they stand today under
/// `transition`.
pub(crate) fn visit_view(r: &VisitRecord, transition: &Transition) -> VisitView {
    let v = &r.visit;
    let fallback = match v.state {
        VisitState::Fallback { reason } => Some(FallbackAdvice {
            reason,
            options: fallback_options(Some(v.card_kind), Utc::now().date_naive(), transition),
        }),
        _ => None,
    };
    VisitView {
        id: r.id.clone(),
        state: v.state,
        next: NextStep::of(&v.state),
        card_kind: v.card_kind,
        placed_by: v.placed_by,
        registered: v.registered,
        identity_methods: identity_methods(v.card_kind).to_vec(),
        face_attempts_left: v.max_face_attempts.saturating_sub(v.face_attempts),
        identity: v.identity,
        fallback,
        started_at: r.started_at,
        holder: None,
        abandoned: false,
        updated_at: r.updated_at,
        certificate_grace_until: v.certificate_grace,
        asks_prescription: v.prescription_asked,
        prescription: v.prescription,
    }
}

/// The holder as reception sees them.
fn holder_view(q: QualificationRecord) -> HolderView {
    HolderView {
        birth_date_wareki: kakunin_core::wareki::japanese_date(q.birth_date),
        age: kakunin_core::wareki::age_on(q.birth_date, Utc::now().date_naive()),
        name: q.name,
        name_kana: q.name_kana,
        birth_date: q.birth_date,
        sex: q.sex,
    }
}

/// A visit as reception staff see it: with the holder, when the card's person is known.
pub(crate) async fn staff_visit_view(state: &AppState, r: &VisitRecord) -> ApiResult<VisitView> {
    let mut views = staff_visit_views(state, &[r]).await?;
    Ok(views.pop().expect("one view per visit"))
}

/// Visits as reception staff see them, their holders looked up together.
pub(crate) async fn staff_visit_views(
    state: &AppState,
    records: &[&VisitRecord],
) -> ApiResult<Vec<VisitView>> {
    let mut ids: Vec<i64> = records.iter().filter_map(|r| r.person_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let holders = state.store.qualifications_of_persons(&ids).await?;
    Ok(records
        .iter()
        .map(|r| {
            let mut view = visit_view(r, &state.config.transition);
            view.holder = r
                .person_id
                .and_then(|pid| holders.get(&pid).cloned())
                .map(holder_view);
            view
        })
        .collect())
}

/// A resident as the counter finds them, with their valid cards.
pub(crate) fn person_view(q: &QualificationRecord, cards: Vec<String>) -> PersonView {
    PersonView {
        person_id: q.person_id,
        name: q.name.clone(),
        name_kana: q.name_kana.clone(),
        birth_date: q.birth_date,
        birth_date_wareki: kakunin_core::wareki::japanese_date(q.birth_date),
        cards,
    }
}

/// A card as the counter shows it (without holder and names).
pub(crate) fn card_record_view(r: &CardRecord) -> CardView {
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

/// A reader and its enrolment status.
pub(crate) fn reader_view(r: &Reader) -> ReaderView {
    ReaderView {
        id: r.id.clone(),
        institution_code: r.institution_code.clone(),
        status: r.status,
    }
}

/// A self-declaration and its re-check status.
pub(crate) fn declaration_view(d: DeclarationRecord) -> DeclarationView {
    DeclarationView {
        id: d.id,
        status: d.status,
        flagged: !d.missing.is_empty(),
        missing: d.missing,
        form: d.form,
        matched_person_id: d.matched_person_id,
        rechecked_at: d.rechecked_at,
    }
}
