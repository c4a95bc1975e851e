//! Every branch of SPEC §6, table-driven: each row is a card, a starting registration, the events
//! in order, and where the visit must end (or which event must be refused).

use super::*;
use crate::card::CardKind::{FaceAuth, Standard};
use AttemptOutcome::*;
use IdentityMethod::*;
use VisitEvent as E;

fn cert_ok() -> E {
    E::CertificateChecked { ok: true }
}
fn attempt(method: IdentityMethod, outcome: AttemptOutcome) -> E {
    E::IdentityAttempt { method, outcome }
}
fn visual(confirmed: bool) -> E {
    E::VisualDecision {
        confirmed,
        staff: "staff-7".into(),
        holder_present: true,
    }
}
fn consent(assisted: bool) -> E {
    E::ConsentGiven {
        selection: ConsentSelection {
            medication: true,
            checkup: false,
            clinical: true,
            limit_amount: true,
        },
        assisted,
        prescription: None,
        recipient_certificates: false,
    }
}

struct Case {
    name: &'static str,
    kind: CardKind,
    registered: bool,
    events: Vec<E>,
    /// Index of the event that must be refused, with its code; later events are not applied.
    refused: Option<(usize, ErrorCode)>,
    end: VisitState,
}

fn cases() -> Vec<Case> {
    use VisitState::*;
    vec![
        Case {
            name: "face-auth, face matches, registered",
            kind: FaceAuth,
            registered: true,
            events: vec![cert_ok(), attempt(Face, Verified), consent(false)],
            refused: None,
            end: Completed,
        },
        Case {
            name: "standard, PIN, registered",
            kind: Standard,
            registered: true,
            events: vec![cert_ok(), attempt(Pin, Verified), consent(false)],
            refused: None,
            end: Completed,
        },
        Case {
            name: "standard, wrong PIN then face",
            kind: Standard,
            registered: true,
            events: vec![
                cert_ok(),
                attempt(Pin, Failed),
                attempt(Face, Verified),
                consent(false),
            ],
            refused: None,
            end: Completed,
        },
        Case {
            name: "face-auth never takes a PIN",
            kind: FaceAuth,
            registered: true,
            events: vec![cert_ok(), attempt(Pin, Verified)],
            refused: Some((1, ErrorCode::PinNotAllowedOnFaceAuth)),
            end: AwaitingIdentity,
        },
        Case {
            name: "certificate rejected",
            kind: FaceAuth,
            registered: true,
            events: vec![E::CertificateChecked { ok: false }],
            refused: None,
            end: Fallback {
                reason: FallbackReason::CertificateRejected,
            },
        },
        Case {
            name: "three failed faces go to staff, who confirm",
            kind: FaceAuth,
            registered: true,
            events: vec![
                cert_ok(),
                attempt(Face, Failed),
                attempt(Face, SpoofSuspected),
                attempt(Face, Failed),
                visual(true),
                consent(false),
            ],
            refused: None,
            end: Completed,
        },
        Case {
            name: "two failed faces stay at the kiosk",
            kind: FaceAuth,
            registered: true,
            events: vec![cert_ok(), attempt(Face, Failed), attempt(Face, Failed)],
            refused: None,
            end: AwaitingIdentity,
        },
        Case {
            name: "visual mode asked directly, staff reject",
            kind: FaceAuth,
            registered: true,
            events: vec![cert_ok(), E::VisualRequested, visual(false)],
            refused: None,
            end: Fallback {
                reason: FallbackReason::IdentityNotConfirmed,
            },
        },
        Case {
            name:
                "visual mode asked twice (photo handed over after the last attempt), staff confirm",
            kind: FaceAuth,
            registered: true,
            events: vec![
                cert_ok(),
                E::VisualRequested,
                E::VisualRequested,
                visual(true),
            ],
            refused: None,
            end: AwaitingConsent,
        },
        Case {
            name: "visual with holder absent refused",
            kind: FaceAuth,
            registered: true,
            events: vec![
                cert_ok(),
                E::VisualRequested,
                E::VisualDecision {
                    confirmed: true,
                    staff: "s".into(),
                    holder_present: false,
                },
            ],
            refused: Some((2, ErrorCode::VisualRequiresPresence)),
            end: AwaitingVisual,
        },
        Case {
            name: "visual cannot be sent as an attempt",
            kind: Standard,
            registered: true,
            events: vec![cert_ok(), attempt(Visual, Verified)],
            refused: Some((1, ErrorCode::IdentityMethodNotAllowed)),
            end: AwaitingIdentity,
        },
        Case {
            name: "unregistered face-auth registers on the spot by face",
            kind: FaceAuth,
            registered: false,
            events: vec![
                cert_ok(),
                attempt(Face, Verified),
                E::RegistrationAnswer { accept: true },
                consent(true),
            ],
            refused: None,
            end: Completed,
        },
        Case {
            name: "unregistered registers after visual confirmation",
            kind: FaceAuth,
            registered: false,
            events: vec![
                cert_ok(),
                E::VisualRequested,
                visual(true),
                E::RegistrationAnswer { accept: true },
                consent(false),
            ],
            refused: None,
            end: Completed,
        },
        Case {
            name: "registration declined",
            kind: Standard,
            registered: false,
            events: vec![
                cert_ok(),
                attempt(Pin, Verified),
                E::RegistrationAnswer { accept: false },
            ],
            refused: None,
            end: Fallback {
                reason: FallbackReason::NotRegistered,
            },
        },
        Case {
            name: "service down mid-visit",
            kind: FaceAuth,
            registered: true,
            events: vec![cert_ok(), E::ServiceDown],
            refused: None,
            end: Fallback {
                reason: FallbackReason::ServiceDown,
            },
        },
        Case {
            name: "consent before identity refused",
            kind: Standard,
            registered: true,
            events: vec![cert_ok(), consent(false)],
            refused: Some((1, ErrorCode::InvalidTransition)),
            end: AwaitingIdentity,
        },
        Case {
            name: "identity before certificate refused",
            kind: Standard,
            registered: true,
            events: vec![attempt(Face, Verified)],
            refused: Some((0, ErrorCode::InvalidTransition)),
            end: CardPlaced,
        },
        Case {
            name: "nothing after completion",
            kind: Standard,
            registered: true,
            events: vec![
                cert_ok(),
                attempt(Face, Verified),
                consent(false),
                E::ServiceDown,
            ],
            refused: Some((3, ErrorCode::InvalidTransition)),
            end: Completed,
        },
    ]
}

#[test]
fn every_branch_of_a_visit() {
    for case in cases() {
        let mut v = Visit::start(case.kind, case.registered, PlacedBy::Helper);
        for (i, ev) in case.events.into_iter().enumerate() {
            let before = v.clone();
            match (v.apply(ev), case.refused) {
                (Err(e), Some((at, code))) if at == i => {
                    assert_eq!(e.code, code, "{}", case.name);
                    assert_eq!(v, before, "{}: a refused event changes nothing", case.name);
                    break;
                }
                (Ok(()), _) => {}
                (r, _) => panic!("{}: event {i} gave {r:?}", case.name),
            }
        }
        assert_eq!(v.state, case.end, "{}", case.name);
        assert_eq!(v.placed_by, PlacedBy::Helper);
    }
}

#[test]
fn recorded_details_of_a_completed_visit() {
    let mut v = Visit::start(FaceAuth, false, PlacedBy::Patient);
    for e in [
        cert_ok(),
        E::VisualRequested,
        visual(true),
        E::RegistrationAnswer { accept: true },
        consent(true),
    ] {
        v.apply(e).unwrap();
    }
    assert!(v.result_ready());
    assert_eq!(v.identity, Some(Visual));
    assert_eq!(v.visual_staff.as_deref(), Some("staff-7"));
    assert!(v.registered && v.registered_here && v.consent_assisted);
    assert!(v.consent.unwrap().medication && !v.consent.unwrap().checkup);
}

#[test]
fn fallbacks_every_branch() {
    let t = crate::documents::Transition::default();
    let before = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let has = |certificate, card, notice, phone| PatientHas {
        eligibility_certificate: certificate,
        health_insurance_card: card,
        qualification_notice: notice,
        phone,
    };
    use Fallback::*;
    let table = [
        (
            Some(Standard),
            has(true, true, true, true),
            today,
            EligibilityCertificate,
        ),
        (
            Some(Standard),
            has(false, true, false, false),
            before,
            HealthInsuranceCard,
        ),
        // After 2025-12-01 a health insurance card proves nothing.
        (
            Some(Standard),
            has(false, true, false, false),
            today,
            SelfDeclarationForm,
        ),
        (
            Some(Standard),
            has(false, true, false, true),
            today,
            MynaportalScreen,
        ),
        (
            Some(Standard),
            has(false, false, true, true),
            today,
            QualificationNoticeWithCard,
        ),
        (
            Some(Standard),
            has(false, false, false, true),
            today,
            MynaportalScreen,
        ),
        (
            Some(Standard),
            has(false, false, false, false),
            today,
            SelfDeclarationForm,
        ),
        (
            Some(FaceAuth),
            has(true, false, false, true),
            today,
            EligibilityCertificate,
        ),
        (
            Some(FaceAuth),
            has(false, true, false, false),
            before,
            HealthInsuranceCard,
        ),
        (
            Some(FaceAuth),
            has(false, true, false, true),
            today,
            SelfDeclarationForm,
        ),
        (
            Some(FaceAuth),
            has(false, false, true, false),
            today,
            QualificationNoticeWithCard,
        ),
        (
            Some(FaceAuth),
            has(false, false, false, true),
            today,
            SelfDeclarationForm,
        ),
        (
            None,
            has(true, false, false, false),
            today,
            EligibilityCertificate,
        ),
        // The notice is nothing without the card.
        (
            None,
            has(false, false, true, true),
            today,
            SelfDeclarationForm,
        ),
    ];
    for (kind, h, day, want) in table {
        assert_eq!(fallback_for(kind, h, day, &t), want, "{kind:?} {h:?} {day}");
    }
}

#[test]
fn the_fallbacks_offered_follow_the_card_kind_and_the_transition() {
    let t = crate::documents::Transition::default();
    let before = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    use Fallback::*;
    assert_eq!(
        fallback_options(Some(FaceAuth), today, &t),
        [
            EligibilityCertificate,
            QualificationNoticeWithCard,
            SelfDeclarationForm
        ]
    );
    assert_eq!(
        fallback_options(Some(FaceAuth), before, &t),
        [
            EligibilityCertificate,
            HealthInsuranceCard,
            QualificationNoticeWithCard,
            SelfDeclarationForm
        ]
    );
    assert_eq!(
        fallback_options(Some(Standard), today, &t),
        [
            EligibilityCertificate,
            QualificationNoticeWithCard,
            MynaportalScreen,
            SelfDeclarationForm
        ]
    );
    assert_eq!(
        fallback_options(None, today, &t),
        [EligibilityCertificate, SelfDeclarationForm]
    );
}

#[test]
fn proxy_pickup_needs_a_document() {
    assert_eq!(
        proxy_pickup_basis(Some(ProxyDocument::Prescription)).unwrap(),
        ProxyDocument::Prescription
    );
    assert_eq!(
        proxy_pickup_basis(Some(ProxyDocument::EligibilityCertificate)).unwrap(),
        ProxyDocument::EligibilityCertificate
    );
    assert_eq!(
        proxy_pickup_basis(None).unwrap_err().code,
        ErrorCode::ProxyNeedsDocument
    );
}

#[test]
fn a_visit_left_waiting_on_the_patient_is_abandoned_one_waiting_for_staff_never() {
    let now = chrono::Utc::now();
    let long_ago = now - chrono::Duration::minutes(31);
    let after = chrono::Duration::minutes(30);
    let v = Visit::start(FaceAuth, true, PlacedBy::Patient);
    assert!(v.abandoned(long_ago, now, after));
    assert!(!v.abandoned(now - chrono::Duration::minutes(5), now, after));
    let mut visual = Visit::start(FaceAuth, true, PlacedBy::Patient);
    visual.apply(E::CertificateChecked { ok: true }).unwrap();
    visual.apply(E::VisualRequested).unwrap();
    assert_eq!(visual.state, VisitState::AwaitingVisual);
    assert!(!visual.abandoned(long_ago, now, after));
}

#[test]
fn in_the_certificates_grace_period_a_visit_completes_without_consent() {
    let until = chrono::NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
    let mut v = Visit::start(FaceAuth, true, PlacedBy::Patient);
    v.certificate_grace = Some(until);
    v.apply(cert_ok()).unwrap();
    v.apply(attempt(Face, Verified)).unwrap();
    assert_eq!(v.state, VisitState::Completed);
    assert!(v.result_ready());
    assert_eq!(v.consent, None);
    assert_eq!(
        v.apply(consent(false)).unwrap_err().code,
        ErrorCode::InvalidTransition,
        "nothing to consent to"
    );
    // An unregistered card cannot be registered with an expired certificate.
    let mut u = Visit::start(Standard, false, PlacedBy::Patient);
    u.certificate_grace = Some(until);
    u.apply(cert_ok()).unwrap();
    u.apply(attempt(Pin, Verified)).unwrap();
    assert_eq!(
        u.state,
        VisitState::Fallback {
            reason: FallbackReason::NotRegistered
        }
    );
}

#[test]
fn where_electronic_prescriptions_are_issued_the_choice_comes_with_the_consent() {
    use crate::prescription::PrescriptionForm;
    let mut v = Visit::start(Standard, true, PlacedBy::Patient);
    v.prescription_asked = true;
    v.apply(cert_ok()).unwrap();
    v.apply(attempt(Pin, Verified)).unwrap();
    assert_eq!(
        v.apply(consent(false)).unwrap_err().code,
        ErrorCode::PrescriptionChoice,
        "asked, so one is chosen"
    );
    assert_eq!(v.state, VisitState::AwaitingConsent, "nothing changed");
    let mut with = consent(false);
    if let E::ConsentGiven { prescription, .. } = &mut with {
        *prescription = Some(PrescriptionForm::Electronic);
    }
    v.apply(with.clone()).unwrap();
    assert_eq!(v.prescription, Some(PrescriptionForm::Electronic));
    // Where it is not asked, no answer is taken.
    let mut w = Visit::start(Standard, true, PlacedBy::Patient);
    w.apply(cert_ok()).unwrap();
    w.apply(attempt(Pin, Verified)).unwrap();
    assert_eq!(
        w.apply(with).unwrap_err().code,
        ErrorCode::PrescriptionChoice
    );
}
