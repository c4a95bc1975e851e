//! Whole visits from the command line (`kakunin reader demo`): the demo cards placed on the
//! reader one after another, each visit printed step by step with its timings.

use crate::{ReaderError, Result};
use kakunin_api::client::ReaderClient;
use kakunin_api::visits::{
    ConsentRequest, IdentityEvidence, NextStep, StartVisit, VisitView, VisualRequest,
};
use kakunin_card::card_face::CardFace;
use kakunin_card::client::MyNumberCard;
use kakunin_card::virtual_card::VirtualCard;
use kakunin_card::{CardChannel, CardError};
use kakunin_core::consent::ConsentSelection;
use kakunin_core::visit::PlacedBy;
use kakunin_evidence::attestation::{
    Attestation, AttestedMethod, AttestedOutcome, SignedAttestation,
};
use kakunin_face::{Decision, DecisionKind, FaceEngine};
use std::time::Instant;

/// The reader's signed attestation of a face decision on `visit`, bound to `nonce`.
pub fn face_attestation(
    reader: &ReaderClient,
    visit: &str,
    nonce: String,
    decision: &Decision,
) -> SignedAttestation {
    let outcome = match decision.decision {
        DecisionKind::Match => AttestedOutcome::Match,
        DecisionKind::SpoofSuspected => AttestedOutcome::SpoofSuspected,
        _ => AttestedOutcome::NoMatch,
    };
    reader.attest(&Attestation {
        reader_id: reader.id().to_owned(),
        visit_id: visit.to_owned(),
        nonce,
        method: AttestedMethod::Face,
        outcome,
        score: decision.score,
        threshold: Some(decision.threshold),
        staff_id: None,
        at: chrono::Utc::now(),
    })
}

fn step(t: Instant, what: &str) {
    println!("  {:>7.1} ms  {what}", t.elapsed().as_secs_f64() * 1000.0);
}

/// What is in front of the reader: the card (its 照合番号B, kind, PIN if the holder chose PIN),
/// who placed it, and the camera frames, one per face attempt.
#[derive(Clone, Copy)]
pub struct Presented<'a> {
    /// 照合番号B for the card-face photo.
    pub number_b: &'a str,
    /// The card is a face-auth card (no PIN).
    pub face_auth: bool,
    /// The PIN the holder types (standard cards).
    pub pin: Option<&'a str>,
    /// Who placed the card.
    pub placed_by: PlacedBy,
    /// One camera frame per face attempt.
    pub frames: &'a [kakunin_face::image::Rgb],
}

/// One visit: the card on the reader through the whole flow; answers the visit's last view.
pub async fn visit<C: CardChannel>(
    reader: &ReaderClient,
    card: &mut MyNumberCard<C>,
    p: Presented<'_>,
    engine: Option<&FaceEngine>,
) -> Result<VisitView> {
    let t = Instant::now();
    let der = card.read_auth_certificate()?;
    step(t, "read the user-authentication certificate (no PIN)");
    let mut view = reader
        .start_visit(&StartVisit {
            certificate: kakunin_evidence::b64(&der),
            placed_by: p.placed_by,
        })
        .await?;
    let id = view.id.clone();
    step(
        t,
        &format!(
            "visit {id} started; server checked the certificate; methods {:?}",
            view.identity_methods
        ),
    );
    if let (Some(pin), false) = (p.pin, p.face_auth) {
        let nonce = reader.nonce(&id).await?.nonce;
        let sig = card.sign_with_pin(pin, nonce.as_bytes(), p.face_auth)?;
        view = reader
            .identity(
                &id,
                &IdentityEvidence::Pin {
                    nonce,
                    signature: kakunin_evidence::b64(sig),
                    certificate: kakunin_evidence::b64(&der),
                },
            )
            .await?;
        step(
            t,
            "PIN verified by the card; the server checked the card's signature over its nonce",
        );
    } else {
        view = by_face(reader, card, &p, engine, view, t).await?;
    }
    if view.next == NextStep::VisualMode {
        println!("  → please go to the reception desk: staff confirm with POST /api/v1/visits/{id}/visual");
        return Ok(view);
    }
    if view.next == NextStep::RegistrationOffer {
        view = reader.registration(&id, true).await?;
        step(t, "insurance-use registration accepted on the spot");
    }
    if view.next == NextStep::Consent {
        let consent = ConsentRequest {
            selection: ConsentSelection {
                medication: true,
                checkup: true,
                clinical: false,
                limit_amount: true,
            },
            assisted: p.placed_by == PlacedBy::Helper,
            // The demo patient takes an electronic prescription where one is offered.
            prescription: view
                .asks_prescription
                .then_some(kakunin_core::prescription::PrescriptionForm::Electronic),
            recipient_certificates: true,
        };
        view = reader.consent(&id, &consent).await?;
        step(
            t,
            "consent selected; eligibility result ready for reception",
        );
    }
    Ok(view)
}

/// Where a 照合番号B offered to the card came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Offer {
    /// Known for the card (kakunin's demo cards).
    Known,
    /// Typed by reception staff from the card.
    Typed,
    /// Read by the camera from the card's face, with this confidence (0–1).
    Camera(f32),
}

impl Offer {
    /// The lock-safe rule's view of it (`kakunin_core::card_face::may_try`).
    fn source(self) -> kakunin_core::card_face::Source {
        match self {
            Offer::Known | Offer::Typed => kakunin_core::card_face::Source::Staff,
            Offer::Camera(confidence) => kakunin_core::card_face::Source::Camera { confidence },
        }
    }

    /// As reported to the audit log.
    fn reported(self) -> kakunin_api::visits::NumberBSource {
        use kakunin_api::visits::NumberBSource;
        match self {
            Offer::Known => NumberBSource::Known,
            Offer::Typed => NumberBSource::Staff,
            Offer::Camera(_) => NumberBSource::Camera,
        }
    }
}

/// Opens the card-face applet of `card` with `number_b` from `offer` under the lock-safe rule
/// (the card's tries read first; `failed_before` offers the card refused in this visit) and
/// reports the offer — opened, wrong, held back or locked — to the server's audit log for
/// `visit`. A card that could not be reached (removed, unreadable) is not reported.
pub(crate) async fn open_card_face<C: CardChannel>(
    reader: &ReaderClient,
    visit: &str,
    card: &mut MyNumberCard<C>,
    number_b: &str,
    offer: Offer,
    failed_before: u32,
) -> std::result::Result<CardFace, CardError> {
    use kakunin_api::visits::{CardFaceTry, NumberBOutcome};
    let (tries_left, got) = card.open_card_face(number_b, offer.source(), failed_before);
    let outcome = match &got {
        Ok(_) => NumberBOutcome::Opened,
        Err(CardError::VerifyNumberBWrong { .. }) => NumberBOutcome::Wrong,
        Err(CardError::NumberBLocked) => NumberBOutcome::Locked,
        Err(CardError::NumberBNotTried(_)) => NumberBOutcome::NotTried,
        Err(_) => return got,
    };
    let report = CardFaceTry {
        source: offer.reported(),
        outcome,
        tries_left,
    };
    if let Err(e) = reader.card_face_try(visit, &report).await {
        tracing::warn!(visit = %visit, error = %e, "card-face offer not recorded");
    }
    got
}

/// Face recognition against the card-face photo, one attempt per frame, until the server moves
/// the visit on; without a usable photo or frames, the visit goes to reception.
async fn by_face<C: CardChannel>(
    reader: &ReaderClient,
    card: &mut MyNumberCard<C>,
    p: &Presented<'_>,
    engine: Option<&FaceEngine>,
    mut view: VisitView,
    t: Instant,
) -> Result<VisitView> {
    let id = view.id.clone();
    let photo = open_card_face(reader, &id, card, p.number_b, Offer::Known, 0)
        .await?
        .photo;
    step(t, "read the card-face photo with 照合番号B");
    let card_img = kakunin_face::image::decode(&photo)?;
    // The card photo's face is found and embedded once per visit, not once per attempt.
    let card_face = match (engine, p.frames.is_empty()) {
        (Some(e), false) => Some(e.face(&card_img)?),
        (None, false) => {
            return Err(ReaderError::Other(
                "no face engine: run ./scripts/fetch-models".into(),
            ))
        }
        (_, true) => None,
    };
    if let Some(Err(reason)) = &card_face {
        step(
            t,
            &format!("card photo unusable for face recognition ({reason:?})"),
        );
    }
    let usable = card_face.as_ref().and_then(|f| f.as_ref().ok());
    if let (Some(e), Some(f)) = (engine, usable) {
        for frame in p.frames {
            // The server counts the attempts (the domain's limit); the engine judges the frame.
            let decision = e.verify_against(f, frame)?;
            step(
                t,
                &format!(
                    "face attempt: {} (engine {:.0} ms)",
                    decision.describe(),
                    decision.timings.total_ms
                ),
            );
            let nonce = reader.nonce(&id).await?.nonce;
            let attestation = face_attestation(reader, &id, nonce, &decision);
            view = reader
                .identity(&id, &IdentityEvidence::Face { attestation })
                .await?;
            step(
                t,
                &format!(
                    "server accepted the signed attestation; {} attempts left; next: {:?}",
                    view.face_attempts_left, view.next
                ),
            );
            if view.next != NextStep::Identity {
                break;
            }
        }
    }
    if view.next == NextStep::Identity {
        view = reader
            .visual_request(&id, &VisualRequest::default())
            .await?;
        step(
            t,
            "handed to reception for visual confirmation (目視モード)",
        );
    }
    Ok(view)
}

/// Where `kakunin reader demo` reads its cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoSlot {
    /// The virtual cards directly.
    Direct,
    /// The virtual cards behind vsmartcard's vpcd, read through pcscd (the `pcsc` feature).
    Pcsc,
}

/// Runs the demo visits: a face-auth card placed by the patient, a standard card by PIN placed
/// by a helper; prints each and its result.
pub async fn demo_visits(
    reader: &ReaderClient,
    photo: Vec<u8>,
    frames: &[kakunin_face::image::Rgb],
    slot: DemoSlot,
) -> Result<()> {
    let engine = FaceEngine::load(&kakunin_face::models::model_dir(), Default::default()).ok();
    let ca = kakunin_evidence::ca::DemoCa::new()?;
    let face = crate::demo::face(photo);
    let number_b = crate::demo::number_b();
    for (person, face_auth, pin, placed_by) in [
        (2, true, None, PlacedBy::Patient),
        (
            1,
            false,
            Some(kakunin_evidence::ca::DEMO_PIN),
            PlacedBy::Helper,
        ),
    ] {
        let card_id = kakunin_evidence::ca::demo_card_id(person);
        println!(
            "card {card_id} ({}) placed by the {placed_by:?}",
            if face_auth { "face-auth" } else { "standard" }
        );
        let vc = crate::demo::card(&ca, person, face_auth, &face)?;
        let presented = Presented {
            number_b: &number_b,
            face_auth,
            pin,
            placed_by,
            frames,
        };
        let t = Instant::now();
        let outcome = match slot {
            DemoSlot::Pcsc => visit_over_pcsc(reader, vc, presented, engine.as_ref()).await,
            DemoSlot::Direct => {
                visit(
                    reader,
                    &mut MyNumberCard::new(vc),
                    presented,
                    engine.as_ref(),
                )
                .await
            }
        };
        match outcome {
            Ok(v) => println!(
                "  result: {} ({:?}) — {:.0} ms from card placed",
                v.state.as_str(),
                v.next,
                t.elapsed().as_secs_f64() * 1000.0
            ),
            Err(e) => println!("  stopped: {e}"),
        }
    }
    Ok(())
}

#[cfg(feature = "pcsc")]
async fn visit_over_pcsc(
    reader: &ReaderClient,
    mut vc: VirtualCard,
    presented: Presented<'_>,
    engine: Option<&FaceEngine>,
) -> Result<VisitView> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let server = std::thread::spawn(move || {
        kakunin_card::vpcd::serve(
            &mut vc,
            &format!("127.0.0.1:{}", kakunin_card::vpcd::VPCD_PORT),
            &s2,
        )
    });
    // Let pcscd see the new card before connecting (the previous one was just removed).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut channel = None;
    for _ in 0..50 {
        if let Ok(c) = kakunin_card::pcsc_channel::PcscChannel::connect("Virtual PCD") {
            channel = Some(c);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let channel = channel.ok_or_else(|| {
        ReaderError::Other("no card in the Virtual PCD reader; run ./scripts/setup-pcsc".into())
    })?;
    let mut card = MyNumberCard::new(channel).with_extended_reads(8192);
    let result = visit(reader, &mut card, presented, engine).await;
    drop(card);
    stop.store(true, Ordering::Relaxed);
    let _ = server.join();
    result
}

#[cfg(not(feature = "pcsc"))]
async fn visit_over_pcsc(
    _: &ReaderClient,
    _: VirtualCard,
    _: Presented<'_>,
    _: Option<&FaceEngine>,
) -> Result<VisitView> {
    Err(ReaderError::Other(
        "this kakunin was built without PC/SC; build with `--features pcsc`".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kakunin_api::client::{ClientError, StaffClient};
    use kakunin_card::virtual_card::CardFace;
    use kakunin_evidence::attestation::ReaderKey;

    fn face() -> CardFace {
        // A small image without a face stands in for the photo.
        let photo = include_bytes!("../../face/tests/fixtures/cmyk.jpg").to_vec();
        crate::demo::face(photo)
    }

    fn card(person: i64, face_auth: bool) -> MyNumberCard<VirtualCard> {
        let ca = kakunin_evidence::ca::DemoCa::new().unwrap();
        MyNumberCard::new(crate::demo::card(&ca, person, face_auth, &face()).unwrap())
    }

    fn presented<'a>(number_b: &'a str, face_auth: bool, pin: Option<&'a str>) -> Presented<'a> {
        Presented {
            number_b,
            face_auth,
            pin,
            placed_by: PlacedBy::Patient,
            frames: &[],
        }
    }

    #[tokio::test]
    async fn visits_through_a_running_server_and_an_unreachable_one() {
        let (_dir, base) = crate::kiosk::tests::running_server().await;
        let reader = ReaderClient::new(
            reqwest::Client::new(),
            &base,
            "r-test",
            ReaderKey::generate(),
        );
        let operator = StaffClient::new(reqwest::Client::new(), &base, "demo-token-admin");
        let clinic = kakunin_store::seed::demo_institution_codes().0;
        crate::enrol::register(&reader, &operator, Some(&clinic))
            .await
            .unwrap();

        // Standard card, PIN path, helper placed the card: completes.
        let v = visit(
            &reader,
            &mut card(1, false),
            Presented {
                placed_by: PlacedBy::Helper,
                ..presented("", false, Some("1234"))
            },
            None,
        )
        .await
        .unwrap();
        assert_eq!(v.next, NextStep::Done, "{v:?}");
        // A wrong PIN stops the visit with the card's own answer.
        let e = visit(
            &reader,
            &mut card(1, false),
            presented("", false, Some("9999")),
            None,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("wrong PIN"), "{e}");
        // Face-auth card, no camera frames: handed to reception (visual mode), never a PIN.
        let number_b = crate::demo::number_b();
        let v = visit(
            &reader,
            &mut card(2, true),
            presented(&number_b, true, Some("1234")),
            None,
        )
        .await
        .unwrap();
        assert_eq!(v.next, NextStep::VisualMode, "{v:?}");
        // A wrong 照合番号B stops before any attempt.
        let e = visit(
            &reader,
            &mut card(2, true),
            presented("00000000000000", true, None),
            None,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("照合番号B"), "{e}");

        // Server down: the agent says so and names the fallbacks.
        let down = ReaderClient::new(
            reqwest::Client::new(),
            "http://127.0.0.1:9",
            "r-test",
            ReaderKey::generate(),
        );
        let e = visit(
            &down,
            &mut card(1, false),
            presented("", false, Some("1234")),
            None,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(e, ReaderError::Server(ClientError::Unreachable { .. }))
                && e.to_string().contains("self-declaration"),
            "{e}"
        );
    }
}
