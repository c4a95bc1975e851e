//! The audit log's hash chain (SPEC §10): each record's hash covers the previous hash and every
//! field, so removing, reordering or editing a record breaks verification from that point on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: [u8; 32] = [0; 32];

/// What an audit record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// An eligibility check (by card, by numbers).
    EligibilityCheck,
    /// A consent selection at the reader.
    Consent,
    /// A view of medical information under a consent.
    InformationView,
    /// Staff's visual confirmation (目視確認) of a holder.
    VisualConfirmation,
    /// Identity verified (or not) at the reader: face or PIN.
    IdentityVerification,
    /// Insurance-use registration of a card.
    Registration,
    /// Any change of a card: issue, switch, PIN attempt or reset, revocation.
    CardChange,
    /// A card placed on a reader started a visit (or its certificate was refused).
    VisitStarted,
    /// A self-declaration stored or re-checked.
    Declaration,
    /// A pharmacy proxy pickup's check.
    ProxyPickup,
    /// A reader enrolled.
    ReaderRegistered,
    /// A staff member signed in to the screens (or out, or failed to).
    SignIn,
    /// A reader was approved, suspended, resumed or revoked.
    ReaderStatus,
    /// A staff account or an API token was created, changed or revoked.
    StaffAccount,
    /// A visit moved on by a step no other action records (the answer to the registration
    /// offer, a hand-over to staff, the service reported down).
    VisitStep,
    /// An institution registered its 照会番号 for a patient (or was refused).
    ReferenceNumber,
    /// A reader offered 照合番号B to a card's card-face applet (or chose not to), and what came
    /// of it.
    CardFaceVerify,
    /// Reception staff typed 照合番号B from a patient's card for the reader holding it (the
    /// digits are never recorded).
    NumberBTyped,
}

impl AuditAction {
    /// Code name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::EligibilityCheck => "eligibility_check",
            AuditAction::Consent => "consent",
            AuditAction::InformationView => "information_view",
            AuditAction::VisualConfirmation => "visual_confirmation",
            AuditAction::IdentityVerification => "identity_verification",
            AuditAction::Registration => "registration",
            AuditAction::CardChange => "card_change",
            AuditAction::VisitStarted => "visit_started",
            AuditAction::Declaration => "declaration",
            AuditAction::ProxyPickup => "proxy_pickup",
            AuditAction::ReaderRegistered => "reader_registered",
            AuditAction::SignIn => "sign_in",
            AuditAction::ReaderStatus => "reader_status",
            AuditAction::StaffAccount => "staff_account",
            AuditAction::VisitStep => "visit_step",
            AuditAction::ReferenceNumber => "reference_number",
            AuditAction::CardFaceVerify => "card_face_verify",
            AuditAction::NumberBTyped => "number_b_typed",
        }
    }
}

/// An audit record before it is chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEvent {
    /// When it happened (UTC).
    pub at: DateTime<Utc>,
    /// Staff id, reader id or `system`.
    pub actor: String,
    /// Institution or municipality code, when there is one.
    pub institution: Option<String>,
    /// What was done.
    pub action: AuditAction,
    /// What it is about: card, person, visit or declaration id.
    pub subject: String,
    /// Compact JSON with the particulars (never images, never PINs).
    pub detail: String,
}

/// A chained record as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    #[serde(flatten)]
    /// The event recorded.
    pub event: AuditEvent,
    /// Hex hash of the previous record (all zeros for the first).
    pub prev_hash: String,
    /// Hex hash of this record.
    pub hash: String,
}

/// Hash of `event` at position `seq` after `prev`. Fields are length-prefixed so that no two
/// different records encode alike.
pub fn chain_hash(prev: &[u8; 32], seq: i64, event: &AuditEvent) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    let at = event.at.timestamp_micros().to_be_bytes();
    h.update(at);
    for field in [
        event.actor.as_str(),
        event.institution.as_deref().unwrap_or(""),
        event.action.as_str(),
        &event.subject,
        &event.detail,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().into()
}

/// Chains `event` after `prev`.
pub fn chain(prev: &[u8; 32], seq: i64, event: AuditEvent) -> (AuditRecord, [u8; 32]) {
    let hash = chain_hash(prev, seq, &event);
    (
        AuditRecord {
            seq,
            event,
            prev_hash: hex::encode(prev),
            hash: hex::encode(hash),
        },
        hash,
    )
}

/// Where verification of a chain stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainBreak {
    /// The first record that does not verify.
    pub seq: i64,
    /// Why it does not.
    pub reason: String,
}

/// Verifies records in order, starting after `prev` at `expected_seq`. Returns the last hash.
pub fn verify<'a>(
    mut prev: [u8; 32],
    mut expected_seq: i64,
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> Result<[u8; 32], ChainBreak> {
    for r in records {
        if r.seq != expected_seq {
            return Err(ChainBreak {
                seq: r.seq,
                reason: "sequence gap: a record is missing".into(),
            });
        }
        if r.prev_hash != hex::encode(prev) {
            return Err(ChainBreak {
                seq: r.seq,
                reason: "previous hash does not match".into(),
            });
        }
        let h = chain_hash(&prev, r.seq, &r.event);
        if r.hash != hex::encode(h) {
            return Err(ChainBreak {
                seq: r.seq,
                reason: "record was altered".into(),
            });
        }
        prev = h;
        expected_seq += 1;
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(i: i64) -> AuditEvent {
        AuditEvent {
            at: DateTime::from_timestamp(1_700_000_000 + i, 0).unwrap(),
            actor: "staff-1".into(),
            institution: Some("1310123456".into()),
            action: AuditAction::EligibilityCheck,
            subject: format!("person-{i}"),
            detail: "{}".into(),
        }
    }

    fn chain_of(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|i| {
                let (r, h) = chain(&prev, i, ev(i));
                prev = h;
                r
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies_and_tampering_is_found() {
        let recs = chain_of(5);
        assert!(verify(GENESIS, 1, &recs).is_ok());

        let mut edited = recs.clone();
        edited[2].event.subject = "someone-else".into();
        assert_eq!(
            verify(GENESIS, 1, &edited).unwrap_err(),
            ChainBreak {
                seq: 3,
                reason: "record was altered".into()
            }
        );

        let mut removed = recs.clone();
        removed.remove(1);
        assert_eq!(verify(GENESIS, 1, &removed).unwrap_err().seq, 3);

        let mut swapped = recs.clone();
        swapped.swap(3, 4);
        assert!(verify(GENESIS, 1, &swapped).is_err());
    }
}
