//! A visit (受付) at a clinic or pharmacy, as a state machine (SPEC §6), and the fallbacks when the
//! online check cannot be done.
//!
//! ```text
//! CardPlaced ──certificate ok──▶ AwaitingIdentity ──verified──▶ (RegistrationOffered) ──▶ AwaitingConsent ──▶ Completed
//!     │                            │  face fails ×N / staff asked         │ declined
//!     │ certificate bad            ▼                                        ▼
//!     └──────────────▶ Fallback ◀── AwaitingVisual ──rejected──▶ Fallback(not registered / identity not confirmed)
//! ```

use crate::card::CardKind;
use crate::consent::ConsentSelection;
use crate::error::{DomainError, ErrorCode};
use crate::matrix::{
    identity_method_allowed, registration_allowed, IdentityMethod, RegistrationChannel,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Failed face-recognition attempts before the kiosk sends the patient to staff (SPEC §3).
pub const DEFAULT_FACE_ATTEMPTS: u8 = 3;

/// Who put the card on the reader (SPEC §3: a helper may, at the patient's request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlacedBy {
    #[default]
    /// The patient themself.
    Patient,
    /// Family, caregiver or facility staff.
    Helper,
}

/// Why the online check by card cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FallbackReason {
    /// The card could not be read.
    CardUnreadable,
    /// The certificate failed chain, expiry or revocation checks.
    CertificateRejected,
    /// The central service or the network is down.
    ServiceDown,
    /// The card is not registered for insurance use and registration was declined.
    NotRegistered,
    /// Staff could not confirm the person is the card holder.
    IdentityNotConfirmed,
}

/// Where a visit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum VisitState {
    /// The card is on the reader; its certificate is being checked.
    CardPlaced,
    /// Waiting for the holder's identity (face, or PIN on a standard card).
    AwaitingIdentity,
    /// Handed to reception staff for visual confirmation (目視モード).
    AwaitingVisual,
    /// Insurance-use registration is offered (an unregistered card).
    RegistrationOffered,
    /// Waiting for the consent selection.
    AwaitingConsent,
    /// Done: reception sees the result.
    Completed,
    /// The online check by card cannot go on.
    Fallback {
        /// Why.
        reason: FallbackReason,
    },
}

impl VisitState {
    /// Code name of the state.
    pub fn as_str(&self) -> &'static str {
        match self {
            VisitState::CardPlaced => "card_placed",
            VisitState::AwaitingIdentity => "awaiting_identity",
            VisitState::AwaitingVisual => "awaiting_visual",
            VisitState::RegistrationOffered => "registration_offered",
            VisitState::AwaitingConsent => "awaiting_consent",
            VisitState::Completed => "completed",
            VisitState::Fallback { .. } => "fallback",
        }
    }
}

/// An outcome of one identity attempt, as verified by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The holder is who the card says.
    Verified,
    /// The face did not match, or the PIN was wrong.
    Failed,
    /// The reader suspected a printed photo or a screen.
    SpoofSuspected,
}

/// Something that happens during a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum VisitEvent {
    /// The server checked the card's certificate.
    CertificateChecked {
        /// Valid (chain, expiry, revocation).
        ok: bool,
    },
    /// A PIN or face attempt (visual goes through `VisualDecision`).
    IdentityAttempt {
        /// Face or PIN.
        method: IdentityMethod,
        /// What the attempt came to.
        outcome: AttemptOutcome,
    },
    /// Staff or the patient ask for visual mode.
    VisualRequested,
    /// Staff's visual decision.
    VisualDecision {
        /// The person is the holder.
        confirmed: bool,
        /// The staff member who decided.
        staff: String,
        /// The holder is there in person.
        holder_present: bool,
    },
    /// The answer to the registration offer.
    RegistrationAnswer {
        /// Register now.
        accept: bool,
    },
    /// The consent selection.
    ConsentGiven {
        /// What the patient agreed to share.
        selection: ConsentSelection,
        /// A helper operated the screen.
        assisted: bool,
        /// Electronic or paper prescription, where the institution asks ([`crate::prescription`]).
        prescription: Option<crate::prescription::PrescriptionForm>,
        /// The patient uses their 公費 recipient certificates ([`crate::public_expense`]).
        recipient_certificates: bool,
    },
    /// The online service is down.
    ServiceDown,
}

/// One visit's state and what has been recorded in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Visit {
    /// Where it stands.
    pub state: VisitState,
    /// The card's kind.
    pub card_kind: CardKind,
    /// Who placed the card.
    pub placed_by: PlacedBy,
    /// Whether the card was registered for insurance use (at start, or on the spot).
    pub registered: bool,
    /// Registered during this visit at the reader.
    pub registered_here: bool,
    /// Face attempts made.
    pub face_attempts: u8,
    /// Face attempts allowed before visual mode (the domain's limit).
    pub max_face_attempts: u8,
    /// How identity was finally verified.
    pub identity: Option<IdentityMethod>,
    /// Staff who confirmed (visual mode).
    pub visual_staff: Option<String>,
    /// The consent given, once given.
    pub consent: Option<ConsentSelection>,
    /// A helper operated the consent screen at the patient's request.
    pub consent_assisted: bool,
    /// The card's certificate has expired and is in its grace period to this day
    /// ([`crate::certificate`]): eligibility only, no consent to medical information.
    #[serde(default)]
    pub certificate_grace: Option<chrono::NaiveDate>,
    /// The institution issues electronic prescriptions, so the patient is asked electronic or
    /// paper with the consent.
    #[serde(default)]
    pub prescription_asked: bool,
    /// The patient's choice, once given.
    #[serde(default)]
    pub prescription: Option<crate::prescription::PrescriptionForm>,
    /// The patient chose to use their 公費 recipient certificates (受給者証) in this visit.
    #[serde(default)]
    pub recipient_certificates: bool,
}

fn transition_error(state: &VisitState, what: &str) -> DomainError {
    DomainError::new(
        ErrorCode::InvalidTransition,
        format!(
            "{what} is not possible while the visit is {}; follow the kiosk's current step",
            state.as_str()
        ),
    )
}

impl Visit {
    /// Whether the patient walked away mid-visit: still waiting on the patient (identity,
    /// registration offer, consent) with nothing done for `after`. A visit waiting for staff's
    /// visual decision is never abandoned (staff must decide it); finished ones are not either.
    pub fn abandoned(
        &self,
        last_change: DateTime<Utc>,
        now: DateTime<Utc>,
        after: chrono::Duration,
    ) -> bool {
        matches!(
            self.state,
            VisitState::CardPlaced
                | VisitState::AwaitingIdentity
                | VisitState::RegistrationOffered
                | VisitState::AwaitingConsent
        ) && now - last_change > after
    }

    /// A card was placed on the reader.
    pub fn start(card_kind: CardKind, registered: bool, placed_by: PlacedBy) -> Visit {
        Visit {
            state: VisitState::CardPlaced,
            card_kind,
            placed_by,
            registered,
            registered_here: false,
            face_attempts: 0,
            max_face_attempts: DEFAULT_FACE_ATTEMPTS,
            identity: None,
            visual_staff: None,
            consent: None,
            consent_assisted: false,
            certificate_grace: None,
            prescription_asked: false,
            prescription: None,
            recipient_certificates: false,
        }
    }

    /// Applies `event`; on refusal nothing changes.
    pub fn apply(&mut self, event: VisitEvent) -> Result<(), DomainError> {
        use VisitState::*;
        let next = match (self.state, event) {
            (_, VisitEvent::ServiceDown) if !matches!(self.state, Completed) => Fallback {
                reason: FallbackReason::ServiceDown,
            },
            (CardPlaced, VisitEvent::CertificateChecked { ok: true }) => AwaitingIdentity,
            (CardPlaced, VisitEvent::CertificateChecked { ok: false }) => Fallback {
                reason: FallbackReason::CertificateRejected,
            },
            (AwaitingIdentity, VisitEvent::IdentityAttempt { method, outcome }) => {
                identity_method_allowed(self.card_kind, method)?;
                if method == IdentityMethod::Visual {
                    return Err(DomainError::new(ErrorCode::IdentityMethodNotAllowed, "visual confirmation is recorded by staff in visual mode, not as an attempt"));
                }
                match outcome {
                    AttemptOutcome::Verified => {
                        self.identity = Some(method);
                        self.after_identity()
                    }
                    AttemptOutcome::Failed | AttemptOutcome::SpoofSuspected
                        if method == IdentityMethod::Face =>
                    {
                        self.face_attempts += 1;
                        if self.face_attempts >= self.max_face_attempts {
                            AwaitingVisual
                        } else {
                            AwaitingIdentity
                        }
                    }
                    // A wrong PIN is counted by the card; the holder may try again or use face.
                    AttemptOutcome::Failed | AttemptOutcome::SpoofSuspected => AwaitingIdentity,
                }
            }
            // Asking again while waiting is harmless: the reader hands staff the card photo after
            // the last failed face attempt already moved the visit to visual mode.
            (AwaitingIdentity | AwaitingVisual, VisitEvent::VisualRequested) => AwaitingVisual,
            (
                AwaitingIdentity | AwaitingVisual,
                VisitEvent::VisualDecision {
                    confirmed,
                    staff,
                    holder_present,
                },
            ) => {
                // Confirming needs the holder in person; a rejection stands whoever is there
                // (nobody, or a proxy).
                if confirmed && !holder_present {
                    return Err(DomainError::new(
                        ErrorCode::VisualRequiresPresence,
                        "visual confirmation needs the card holder in person; for a proxy pickup check the prescription or the eligibility certificate",
                    ));
                }
                if confirmed {
                    self.identity = Some(IdentityMethod::Visual);
                    self.visual_staff = Some(staff);
                    self.after_identity()
                } else {
                    self.visual_staff = Some(staff);
                    Fallback {
                        reason: FallbackReason::IdentityNotConfirmed,
                    }
                }
            }
            (RegistrationOffered, VisitEvent::RegistrationAnswer { accept: true }) => {
                let method = self
                    .identity
                    .expect("identity is set before registration is offered");
                registration_allowed(
                    RegistrationChannel::CardReader,
                    self.card_kind,
                    Some(method),
                )?;
                self.registered = true;
                self.registered_here = true;
                AwaitingConsent
            }
            (RegistrationOffered, VisitEvent::RegistrationAnswer { accept: false }) => Fallback {
                reason: FallbackReason::NotRegistered,
            },
            (
                AwaitingConsent,
                VisitEvent::ConsentGiven {
                    selection,
                    assisted,
                    prescription,
                    recipient_certificates,
                },
            ) => {
                self.prescription =
                    crate::prescription::choice(self.prescription_asked, prescription)?;
                self.recipient_certificates = recipient_certificates;
                self.consent = Some(selection);
                self.consent_assisted = assisted;
                Completed
            }
            (state, event) => return Err(transition_error(&state, event_name(&event))),
        };
        self.state = next;
        Ok(())
    }

    fn after_identity(&self) -> VisitState {
        match (self.registered, self.certificate_grace) {
            (true, None) => VisitState::AwaitingConsent,
            // In the certificate's grace period the card yields eligibility only: nothing to
            // consent to, so the result is ready at once.
            (true, Some(_)) => VisitState::Completed,
            (false, None) => VisitState::RegistrationOffered,
            // Registration links the certificate to the insurance record; an expired one
            // cannot be linked (the holder renews it at the municipal counter first).
            (false, Some(_)) => VisitState::Fallback {
                reason: FallbackReason::NotRegistered,
            },
        }
    }

    /// Whether the card photo may still be read for staff — a photo handed over, or 照合番号B
    /// typed from the card — which is only while staff have a visual confirmation to make.
    pub fn waiting_for_staff(&self, what: &str) -> Result<(), DomainError> {
        if self.state == VisitState::AwaitingVisual {
            Ok(())
        } else {
            Err(transition_error(&self.state, what))
        }
    }

    /// Whether the eligibility result may be given to reception.
    pub fn result_ready(&self) -> bool {
        self.state == VisitState::Completed
    }
}

fn event_name(e: &VisitEvent) -> &'static str {
    match e {
        VisitEvent::CertificateChecked { .. } => "checking the certificate",
        VisitEvent::IdentityAttempt { .. } => "an identity attempt",
        VisitEvent::VisualRequested => "visual mode",
        VisitEvent::VisualDecision { .. } => "visual confirmation",
        VisitEvent::RegistrationAnswer { .. } => "answering the registration offer",
        VisitEvent::ConsentGiven { .. } => "consent selection",
        VisitEvent::ServiceDown => "reporting the service down",
    }
}

/// What the patient has with them when the online check by card cannot be done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PatientHas {
    /// A 資格確認書 (eligibility certificate).
    pub eligibility_certificate: bool,
    /// A health insurance card (健康保険証), valid only until the transition's last day.
    pub health_insurance_card: bool,
    /// The card's 資格情報のお知らせ (valid only with the card).
    pub qualification_notice: bool,
    /// A smartphone that can show Mynaportal's eligibility screen.
    pub phone: bool,
}

/// How eligibility is confirmed instead (SPEC §6 step 6 and §14; 保発0710第1号 2(1), 2(2)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Check with the 資格確認書's numbers.
    EligibilityCertificate,
    /// Check with the health insurance card's numbers (only while health insurance cards are
    /// still valid: to 2025-12-01).
    HealthInsuranceCard,
    /// Check with the numbers of the 資格情報のお知らせ, the card in hand.
    QualificationNoticeWithCard,
    /// The patient shows Mynaportal's eligibility screen (standard cards only).
    MynaportalScreen,
    /// The patient fills the self-declaration form as far as they can.
    SelfDeclarationForm,
}

/// The fallback for a patient holding a card of `kind` (None: no card at all) on `day`.
/// Face-auth cards cannot use Mynaportal, so without a document they go to the form; a health
/// insurance card counts only until the transition's last day.
pub fn fallback_for(
    kind: Option<CardKind>,
    has: PatientHas,
    day: chrono::NaiveDate,
    t: &crate::documents::Transition,
) -> Fallback {
    if has.eligibility_certificate {
        Fallback::EligibilityCertificate
    } else if has.health_insurance_card && t.cards_valid_on(day) {
        Fallback::HealthInsuranceCard
    } else if has.qualification_notice && kind.is_some() {
        Fallback::QualificationNoticeWithCard
    } else if kind == Some(CardKind::Standard) && has.phone {
        Fallback::MynaportalScreen
    } else {
        Fallback::SelfDeclarationForm
    }
}

/// The fallbacks open to a holder of `kind` on `day`, in the order they are offered (the
/// domain asked for each thing the patient may have with them).
pub fn fallback_options(
    kind: Option<CardKind>,
    day: chrono::NaiveDate,
    t: &crate::documents::Transition,
) -> Vec<Fallback> {
    let one = |f: fn(&mut PatientHas)| {
        let mut has = PatientHas::default();
        f(&mut has);
        has
    };
    let mut v = vec![];
    for has in [
        one(|h| h.eligibility_certificate = true),
        one(|h| h.health_insurance_card = true),
        one(|h| h.qualification_notice = true),
        one(|h| h.phone = true),
    ] {
        let f = fallback_for(kind, has, day, t);
        if f != Fallback::SelfDeclarationForm && !v.contains(&f) {
            v.push(f);
        }
    }
    // The form is what is left when nothing else is at hand: always offered, always last.
    v.push(fallback_for(kind, PatientHas::default(), day, t));
    v
}

/// What a proxy (代理人) brings to a pharmacy when the holder is absent (SPEC §6 step 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProxyDocument {
    /// 処方箋, which carries the insurer numbers.
    Prescription,
    /// 資格確認書.
    EligibilityCertificate,
}

/// The basis for a proxy pickup check: visual confirmation is impossible with the holder absent,
/// so a prescription or an eligibility certificate is required.
pub fn proxy_pickup_basis(document: Option<ProxyDocument>) -> Result<ProxyDocument, DomainError> {
    document.ok_or_else(|| {
        DomainError::new(
            ErrorCode::ProxyNeedsDocument,
            "the holder is absent, so visual confirmation is impossible: check eligibility with the prescription or the eligibility certificate",
        )
    })
}

#[cfg(test)]
mod tests;
