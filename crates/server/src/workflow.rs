//! The workflows behind the handlers: each loads what it changes, asks the domain, and commits
//! the business rows with the action's audit records in one transaction ([`Tx`]), retrying
//! from the load when another request changed the same visit or card in between.
//!
//! Everything is read before the transaction opens: a transaction holds the audit chain's head
//! (every audited write waits there), so it must not wait for a second pool connection.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use kakunin_api::ApiCode;
use kakunin_core::audit::AuditAction;
use kakunin_core::card::{Card, CounterContext};
use kakunin_core::consent::ConsentSelection;
use kakunin_core::visit::{Visit, VisitEvent};
use kakunin_core::DomainError;
use kakunin_store::cards::CardRecord;
use kakunin_store::directory::{Reader, Staff};
use kakunin_store::visits::{ConsentRecord, VisitRecord};
use kakunin_store::{StoreError, Tx};

/// No further check on a card: the caller has checked who may change it.
pub(crate) fn anyone(_: &CardRecord) -> ApiResult<()> {
    Ok(())
}

/// How often a workflow starts again after a concurrent change before giving up.
const ATTEMPTS: usize = 3;

fn concurrent_change(what: &str) -> ApiError {
    ApiError::conflict(
        ApiCode::ConcurrentChange,
        format!("the {what} is being changed by another request; retry"),
    )
}

/// Queues an audit record by staff member `by`, at their institution.
pub(crate) fn audit_by(
    tx: &mut Tx,
    by: &Staff,
    action: AuditAction,
    subject: &str,
    detail: serde_json::Value,
) {
    tx.audit(&by.id, Some(&by.institution_code), action, subject, detail);
}

/// Queues an audit record by reader `by`, at its institution.
pub(crate) fn audit_reader(
    tx: &mut Tx,
    by: &Reader,
    action: AuditAction,
    subject: &str,
    detail: serde_json::Value,
) {
    tx.audit(&by.id, Some(&by.institution_code), action, subject, detail);
}

/// A visit loaded and changed by one event, not yet saved.
struct VisitStep {
    before: VisitRecord,
    after: Visit,
}

async fn visit_step(
    state: &AppState,
    id: &str,
    may: &impl Fn(&VisitRecord) -> ApiResult<()>,
    event: &VisitEvent,
) -> ApiResult<VisitStep> {
    let before = state.store.visit(id).await?;
    may(&before)?;
    let mut after = before.visit.clone();
    after.apply(event.clone())?;
    Ok(VisitStep { before, after })
}

impl VisitStep {
    /// Saves the visit in `tx`; `None` when another request changed it since it was loaded.
    async fn save(self, tx: &mut Tx) -> ApiResult<Option<VisitRecord>> {
        match tx.save_visit(&self.before, &self.after).await {
            Ok(updated_at) => Ok(Some(VisitRecord {
                visit: self.after,
                updated_at,
                ..self.before
            })),
            Err(StoreError::VisitChanged(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Applies `event` to visit `id` (after `may` allowed it) and commits the new visit with the
/// audit records `record` queues for it. Every visit step is audited: pass the step's record.
pub(crate) async fn apply_visit(
    state: &AppState,
    id: &str,
    may: impl Fn(&VisitRecord) -> ApiResult<()>,
    event: VisitEvent,
    record: impl Fn(&mut Tx, &VisitRecord),
) -> ApiResult<VisitRecord> {
    for _ in 0..ATTEMPTS {
        let step = visit_step(state, id, &may, &event).await?;
        let mut tx = state.store.transaction().await?;
        let Some(after) = step.save(&mut tx).await? else {
            continue;
        };
        record(&mut tx, &after);
        tx.commit().await?;
        return Ok(after);
    }
    Err(concurrent_change("visit"))
}

/// A card loaded and changed, with the domain's answer to the change.
struct CardStep<T> {
    before: CardRecord,
    after: Card,
    outcome: Result<T, DomainError>,
}

impl<T> CardStep<T> {
    async fn load(
        state: &AppState,
        id: &str,
        may: &impl Fn(&CardRecord) -> ApiResult<()>,
        change: &mut impl FnMut(&mut Card) -> Result<T, DomainError>,
    ) -> ApiResult<CardStep<T>> {
        let before = state.store.card(id).await?;
        may(&before)?;
        let mut after = before.card.clone();
        let outcome = change(&mut after);
        Ok(CardStep {
            before,
            after,
            outcome,
        })
    }

    fn changed(&self) -> bool {
        self.after != self.before.card
    }

    /// Saves the card in `tx` if it changed; `false` when another request changed it since it
    /// was loaded.
    async fn save(&self, tx: &mut Tx) -> ApiResult<bool> {
        if !self.changed() {
            return Ok(true);
        }
        match tx.save_card(&self.before, &self.after).await {
            Ok(()) => Ok(true),
            Err(StoreError::CardChanged(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn record(&self) -> CardRecord {
        CardRecord {
            card: self.after.clone(),
            version: self.before.version + i64::from(self.changed()),
            ..self.before.clone()
        }
    }
}

/// What a card change amounted to, for its audit record.
pub(crate) enum CardOutcome<'a, T> {
    /// The change was made.
    Done(&'a T),
    /// The domain refused it, but the card still changed (a wrong PIN counts): audited too.
    RefusedButChanged(&'a DomainError),
}

/// Loads card `id`, checks `may` on it, lets `change` modify it, and commits whatever changed —
/// even when `change` refused, since a wrong PIN still counts — with the audit records `record`
/// queues. A refusal that left the card as it was writes nothing.
pub(crate) async fn change_card<T>(
    state: &AppState,
    id: &str,
    may: impl Fn(&CardRecord) -> ApiResult<()>,
    mut change: impl FnMut(&mut Card) -> Result<T, DomainError>,
    record: impl Fn(&mut Tx, CardOutcome<'_, T>),
) -> ApiResult<(CardRecord, T)> {
    for _ in 0..ATTEMPTS {
        let step = CardStep::load(state, id, &may, &mut change).await?;
        if step.outcome.is_err() && !step.changed() {
            return Err(step.outcome.err().expect("refused").into());
        }
        let mut tx = state.store.transaction().await?;
        if !step.save(&mut tx).await? {
            continue;
        }
        let after = step.record();
        match &step.outcome {
            Ok(value) => record(&mut tx, CardOutcome::Done(value)),
            Err(e) => record(&mut tx, CardOutcome::RefusedButChanged(e)),
        }
        tx.commit().await?;
        return step.outcome.map(|v| (after, v)).map_err(Into::into);
    }
    Err(concurrent_change("card"))
}

/// The patient's answer to the registration offer in visit `id`: the visit moves on and, on
/// yes, the card is registered through the reader — both with their audit records, at once.
pub(crate) async fn answer_registration(
    state: &AppState,
    id: &str,
    reader: &Reader,
    accept: bool,
) -> ApiResult<VisitRecord> {
    let may = crate::routes::visits::own_reader(reader);
    let event = VisitEvent::RegistrationAnswer { accept };
    for _ in 0..ATTEMPTS {
        let visit = visit_step(state, id, &may, &event).await?;
        let card_id = visit.before.card_id.clone().unwrap_or_default();
        let method = visit.after.identity;
        let staff = visit.after.visual_staff.clone();
        let card = if accept {
            let step = CardStep::load(state, &card_id, &anyone, &mut |card: &mut Card| {
                card.register(
                    kakunin_core::matrix::RegistrationChannel::CardReader,
                    method,
                    &reader.institution_code,
                    staff.clone(),
                    kakunin_store::now(),
                )
            })
            .await?;
            if let Err(e) = step.outcome {
                return Err(e.into());
            }
            Some(step)
        } else {
            None
        };
        let mut tx = state.store.transaction().await?;
        let Some(after) = visit.save(&mut tx).await? else {
            continue;
        };
        audit_reader(
            &mut tx,
            reader,
            AuditAction::VisitStep,
            id,
            serde_json::json!({ "step": "registration_answer", "accept": accept }),
        );
        if let Some(card) = &card {
            if !card.save(&mut tx).await? {
                continue;
            }
            audit_reader(
                &mut tx,
                reader,
                AuditAction::Registration,
                &card_id,
                serde_json::json!({ "channel": "card_reader", "method": method, "visit": id }),
            );
        }
        tx.commit().await?;
        return Ok(after);
    }
    Err(concurrent_change("visit"))
}

/// The patient's consent selection in visit `id`: the visit completes, the consent is stored,
/// and both are audited at once.
pub(crate) async fn give_consent(
    state: &AppState,
    id: &str,
    reader: &Reader,
    selection: ConsentSelection,
    assisted: bool,
    prescription: Option<kakunin_core::prescription::PrescriptionForm>,
    recipient_certificates: bool,
) -> ApiResult<VisitRecord> {
    let may = crate::routes::visits::own_reader(reader);
    let event = VisitEvent::ConsentGiven {
        selection,
        assisted,
        prescription,
        recipient_certificates,
    };
    for _ in 0..ATTEMPTS {
        let step = visit_step(state, id, &may, &event).await?;
        let person_id = step.before.person_id.ok_or_else(|| {
            ApiError::conflict(ApiCode::InvalidTransition, "the visit has no person")
        })?;
        let mut tx = state.store.transaction().await?;
        let Some(after) = step.save(&mut tx).await? else {
            continue;
        };
        tx.insert_consent(&ConsentRecord {
            visit_id: id.to_owned(),
            institution_code: after.institution_code.clone(),
            person_id,
            selection,
            assisted,
            at: kakunin_store::now(),
        })
        .await?;
        audit_reader(
            &mut tx,
            reader,
            AuditAction::Consent,
            id,
            serde_json::json!({ "selection": selection, "assisted": assisted, "prescription": after.visit.prescription, "recipient_certificates": recipient_certificates }),
        );
        tx.commit().await?;
        return Ok(after);
    }
    Err(concurrent_change("visit"))
}

/// Issues card `new` and, in the same transaction, retires the cards it replaces (`held`: a
/// re-issue): each old card's history says so and its certificate is revoked, so it starts no
/// visit. One person holds one valid card.
pub(crate) async fn issue_replacing(
    state: &AppState,
    clerk: &Staff,
    new: &CardRecord,
    held: &[CardRecord],
    ctx: &CounterContext,
) -> ApiResult<()> {
    let id = &new.card.id;
    'attempt: for _ in 0..ATTEMPTS {
        let mut retired = Vec::with_capacity(held.len());
        for old in held {
            let step = CardStep::load(state, &old.card.id, &anyone, &mut |card: &mut Card| {
                card.retire_for_reissue(id, ctx);
                Ok(())
            })
            .await?;
            let revoked = state.store.is_revoked(&step.before.cert_serial).await?;
            retired.push((step, revoked));
        }
        let mut tx = state.store.transaction().await?;
        tx.insert_card(new).await?;
        for (step, revoked) in &retired {
            if !step.save(&mut tx).await? {
                continue 'attempt;
            }
            let old = &step.before;
            if !revoked {
                tx.revoke_certificate(&old.cert_serial, &format!("reissued as {id}"))
                    .await?;
            }
            audit_by(
                &mut tx,
                clerk,
                AuditAction::CardChange,
                &old.card.id,
                serde_json::json!({ "op": "revoke", "reason": "reissued", "new_card": id, "serial": old.cert_serial }),
            );
        }
        let replaced: Vec<&str> = held.iter().map(|c| c.card.id.as_str()).collect();
        audit_by(
            &mut tx,
            clerk,
            AuditAction::CardChange,
            id,
            serde_json::json!({ "op": "issue", "kind": new.card.kind, "registered": new.card.registered, "replaces": replaced }),
        );
        tx.commit().await?;
        return Ok(());
    }
    Err(concurrent_change("card"))
}
