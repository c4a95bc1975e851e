//! The kiosk service of the card-reader agent: the patient's screen (served at `/kiosk`) posts
//! its steps and camera frames here; the agent reads the card, runs the face engine on the
//! frames, signs attestations with the server's nonces and drives the visit through the public
//! API, exactly as `kakunin reader demo` does. One kiosk holds one card slot.
//!
//! The slot holds the demo's virtual cards (the screen offers them as "place card" buttons) or
//! a PC/SC reader ([`slot::CardSlot`]).

use crate::agent::face_attestation;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use kakunin_api::client::ReaderClient;
use kakunin_api::visits::{
    ConsentRequest, IdentityEvidence, NextStep, StartVisit, VisitView, VisualRequest,
};
use kakunin_card::client::MyNumberCard;
use kakunin_card::{CardChannel, CardError};
use kakunin_core::visit::PlacedBy;
use kakunin_face::attempt::{FaceAttempts, Verdict};
use kakunin_face::{Decision, DecisionKind, Face, FaceEngine};
use serde::{Deserialize, Serialize};
use slot::{CardSlot, OfferedCard};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Quality retries (no face, too dark, …) allowed before the patient is sent to staff; they do
/// not count as recognition attempts.
const MAX_QUALITY_RETRIES: u32 = 15;
/// Largest camera frame accepted from the screen.
pub(super) const MAX_FRAME: usize = 4 << 20;

/// A card placed on the reader and the visit it started.
struct Session {
    card_id: String,
    card: MyNumberCard<Box<dyn CardChannel + Send>>,
    certificate: Vec<u8>,
    visit: String,
    face_auth: bool,
    /// The card photo (as read) and its face, found once per visit.
    photo: Option<Vec<u8>>,
    card_face: Option<Result<Face, String>>,
    /// 照合番号B offers the card refused in this visit (none is repeated automatically).
    number_b_failures: u32,
    /// Frames of the card's printed face seen, and those with a card read unsurely.
    card_face_frames: u32,
    card_face_reads: u32,
    quality_retries: u32,
    /// The face attempts' frames (the face crate judges them).
    attempts: FaceAttempts,
}

/// The kiosk: its reader's client, the face engine and the card slot.
pub struct Kiosk {
    reader: ReaderClient,
    engine: Option<Arc<FaceEngine>>,
    cards: CardSlot,
    slot: Mutex<Option<Session>>,
    /// Reads 照合番号B from the card's printed face (the `ocr` build feature).
    card_faces: card_face::CardFaceReader,
    /// Ask for a head turn before attesting a match ([`kakunin_face::attempt`]).
    active_check: bool,
}

use error::{err, no_card, KioskCode, KioskError};

type KioskResult<T> = std::result::Result<T, KioskError>;

impl Kiosk {
    /// A kiosk over `cards`, talking to the server as `reader`.
    pub fn new(reader: ReaderClient, engine: Option<Arc<FaceEngine>>, cards: CardSlot) -> Kiosk {
        Kiosk {
            reader,
            engine,
            cards,
            slot: Mutex::new(None),
            card_faces: card_face::CardFaceReader::default(),
            active_check: true,
        }
    }

    /// Turns the head-turn check off (for cameras that cannot show movement, e.g. tests with
    /// still images). On by default.
    pub fn without_active_check(mut self) -> Kiosk {
        self.active_check = false;
        self
    }

    /// A kiosk with the demo cards (persons 1–4 of the seed) carrying `photo` on their chips.
    pub fn with_demo_cards(
        reader: ReaderClient,
        engine: Option<Arc<FaceEngine>>,
        photo: Vec<u8>,
    ) -> crate::Result<Kiosk> {
        Ok(Kiosk::new(reader, engine, CardSlot::demo(photo)?))
    }

    async fn nonce(&self, visit: &str) -> KioskResult<String> {
        Ok(self.reader.nonce(visit).await?.nonce)
    }
}

/// The kiosk's routes: the page, its script, and its steps under `/kiosk/api`.
pub fn router(kiosk: Arc<Kiosk>, access: guard::Access) -> Router {
    Router::new()
        .route(
            "/kiosk",
            get(|| async { kakunin_web::html_page(include_str!("kiosk.html")) }),
        )
        .route(
            "/kiosk/kiosk.js",
            get(|| async {
                kakunin_web::static_asset(
                    "text/javascript; charset=utf-8",
                    include_str!("kiosk.js"),
                )
            }),
        )
        .route(
            "/kiosk/app.css",
            get(|| async {
                kakunin_web::static_asset("text/css; charset=utf-8", kakunin_web::APP_CSS)
            }),
        )
        .route("/kiosk/api/cards", get(cards))
        .route("/kiosk/api/card", post(place_card).delete(remove_card))
        .route("/kiosk/api/visit", get(visit_view))
        // Frames a little over the limit still arrive, so the screen gets our clear refusal.
        .route(
            "/kiosk/api/face",
            post(face_frame).layer(axum::extract::DefaultBodyLimit::max(2 * MAX_FRAME)),
        )
        .route(
            "/kiosk/api/card-face",
            post(card_face::card_face_frame)
                .layer(axum::extract::DefaultBodyLimit::max(2 * MAX_FRAME)),
        )
        .route("/kiosk/api/pin", post(pin).get(pin_tries))
        .route("/kiosk/api/visual", post(to_staff))
        .route("/kiosk/api/registration", post(registration))
        .route("/kiosk/api/consent", post(consent))
        .with_state(kiosk)
        .layer(axum::middleware::from_fn_with_state(access, guard::guard))
}

/// The cards the screen can offer ("place this card" buttons, or the PC/SC reader).
async fn cards(State(k): State<Arc<Kiosk>>) -> Json<Vec<OfferedCard>> {
    let slot = k.slot.lock().await;
    Json(k.cards.offer(slot.as_ref().map(|s| s.card_id.as_str())))
}

#[derive(Deserialize)]
struct Place {
    card_id: String,
    #[serde(default)]
    placed_by: PlacedBy,
}

/// The kiosk's answer to each step: the visit plus what the reader saw.
#[derive(Serialize)]
struct Step {
    visit: StepVisit,
    #[serde(skip_serializing_if = "Option::is_none")]
    face: Option<Decision>,
    /// A face-auth card whose 照合番号B the kiosk must read from its printed face (through
    /// `/kiosk/api/card-face`) before the face can be compared with the card photo.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    read_card_face: bool,
}

impl Step {
    fn of(view: VisitView) -> Step {
        Step::judged(StepVisit::Server(view), None)
    }

    /// A face step's answer: the visit, and the engine's judgement of the frame.
    fn judged(visit: StepVisit, face: Option<Decision>) -> Step {
        Step {
            visit,
            face,
            read_card_face: false,
        }
    }
}

/// The visit as the screen needs it: the server's view, or — within a face attempt the reader
/// has not finished — what the patient should do next.
#[derive(Serialize)]
#[serde(untagged)]
enum StepVisit {
    /// The server's view after a step it took.
    Server(VisitView),
    /// Still on identity: another frame is wanted.
    Identity(IdentityInProgress),
}

/// An identity step the reader is still gathering frames for.
#[derive(Serialize)]
struct IdentityInProgress {
    id: String,
    next: NextStep,
    /// Frames of poor quality still allowed (they do not count as attempts).
    #[serde(skip_serializing_if = "Option::is_none")]
    quality_retries_left: Option<u32>,
    /// What the screen asks the patient: `turn_head` or `keep_looking`.
    #[serde(skip_serializing_if = "Option::is_none")]
    instruction: Option<&'static str>,
}

/// A card is placed: read its certificate (no PIN) and start the visit.
async fn place_card(State(k): State<Arc<Kiosk>>, Json(p): Json<Place>) -> KioskResult<Json<Step>> {
    let mut slot = k.slot.lock().await;
    if slot.is_some() {
        return Err(err(
            KioskCode::CardPresent,
            "a card is already on the reader; finish or remove it first",
        ));
    }
    let channel = k.cards.connect(&p.card_id).await?;
    let mut card = MyNumberCard::new(channel).with_extended_reads(8192);
    let der = card.read_auth_certificate()?;
    let v = k
        .reader
        .start_visit(&StartVisit {
            certificate: kakunin_evidence::b64(&der),
            placed_by: p.placed_by,
        })
        .await?;
    let face_auth = v.card_kind == kakunin_core::card::CardKind::FaceAuth;
    *slot = Some(Session {
        card_id: p.card_id,
        card,
        certificate: der,
        visit: v.id.clone(),
        // The server knows the card's kind from its certificate.
        face_auth,
        photo: None,
        card_face: None,
        number_b_failures: 0,
        card_face_frames: 0,
        card_face_reads: 0,
        quality_retries: 0,
        attempts: FaceAttempts::new(k.active_check),
    });
    Ok(Json(Step {
        read_card_face: face_auth
            && k.cards.number_b().is_none()
            && card_face::CardFaceReader::available(),
        ..Step::of(v)
    }))
}

/// Opens the card-face applet with `number_b` under the lock-safe rule (the card's tries read
/// first; never a second automatic try in a visit) and reads the photo; every offer, sent or
/// held back, is reported to the server's audit log.
async fn open_card_face(
    k: &Kiosk,
    s: &mut Session,
    number_b: &str,
    offer: crate::agent::Offer,
) -> Result<Vec<u8>, CardError> {
    let got = crate::agent::open_card_face(
        &k.reader,
        &s.visit,
        &mut s.card,
        number_b,
        offer,
        s.number_b_failures,
    )
    .await;
    if matches!(got, Err(CardError::VerifyNumberBWrong { .. })) {
        s.number_b_failures += 1;
    }
    Ok(got?.photo)
}

/// The card is taken off the reader: the session ends (the visit stays as it is on the server).
async fn remove_card(State(k): State<Arc<Kiosk>>) -> StatusCode {
    k.slot.lock().await.take();
    StatusCode::NO_CONTENT
}

/// The visit as the server sees it now (polled while staff decide in visual mode).
async fn visit_view(State(k): State<Arc<Kiosk>>) -> KioskResult<Json<Step>> {
    let mut slot = k.slot.lock().await;
    let s = slot.as_mut().ok_or_else(no_card)?;
    let view = k.reader.view(&s.visit).await?;
    if view.next == NextStep::VisualMode {
        typed_number_b(&k, s).await?;
    }
    Ok(Json(Step::of(view)))
}

async fn current(k: &Kiosk) -> KioskResult<String> {
    k.slot
        .lock()
        .await
        .as_ref()
        .map(|s| s.visit.clone())
        .ok_or_else(no_card)
}

/// One camera frame for face recognition. Quality problems ask for another frame; a finished
/// comparison is attested to the server, which counts the attempt.
async fn face_frame(State(k): State<Arc<Kiosk>>, frame: Bytes) -> KioskResult<Json<Step>> {
    if frame.len() > MAX_FRAME {
        return Err(err(
            KioskCode::FrameTooLarge,
            "camera frame larger than 4 MiB",
        ));
    }
    let Some(engine) = k.engine.clone() else {
        return Err(err(
            KioskCode::NoEngine,
            "the face engine is not loaded (run ./scripts/fetch-models); staff confirm visually",
        ));
    };
    let mut slot = k.slot.lock().await;
    let s = slot.as_mut().ok_or_else(no_card)?;
    if s.card_face.is_none() {
        let photo = match (s.photo.clone(), k.cards.number_b()) {
            (Some(photo), _) => photo,
            (None, Some(number_b)) => {
                open_card_face(&k, s, &number_b, crate::agent::Offer::Known).await?
            }
            (None, None) => return Err(err(
                KioskCode::CardPhotoUnusable,
                "the card photo cannot be read without the card's 照合番号B (read from its printed face first); staff confirm visually",
            )),
        };
        let e = engine.clone();
        let p = photo.clone();
        let found = tokio::task::spawn_blocking(
            move || -> Result<Result<Face, String>, kakunin_face::FaceError> {
                let img = kakunin_face::image::decode(&p)?;
                Ok(e.face(&img)?.map_err(|r| format!("{r:?}")))
            },
        )
        .await
        .map_err(|e| err(KioskCode::EngineFailed, e.to_string()))?
        .map_err(|e| err(KioskCode::CardPhotoUnusable, e.to_string()))?;
        s.photo = Some(photo);
        s.card_face = Some(found);
    }
    let card_face = match s.card_face.as_ref() {
        Some(Ok(f)) => f.clone(),
        _ => {
            return Err(err(
                KioskCode::CardPhotoUnusable,
                "no usable face in the card photo; staff confirm visually",
            ))
        }
    };
    let decision = tokio::task::spawn_blocking(
        move || -> Result<kakunin_face::Decision, kakunin_face::FaceError> {
            let img = kakunin_face::image::decode(&frame)?;
            // The server counts the attempts (the domain's limit); the engine judges the frame.
            engine.verify_against(&card_face, &img)
        },
    )
    .await
    .map_err(|e| err(KioskCode::EngineFailed, e.to_string()))?
    .map_err(|e| err(KioskCode::BadFrame, format!("camera frame: {e}")))?;
    let decision = match s.attempts.add(decision) {
        // Quality problems ask for another frame and are not attempts.
        Verdict::Retry(frame) => {
            s.quality_retries += 1;
            return Ok(Json(Step::judged(
                StepVisit::Identity(IdentityInProgress {
                    id: s.visit.clone(),
                    next: NextStep::Identity,
                    quality_retries_left: Some(
                        MAX_QUALITY_RETRIES.saturating_sub(s.quality_retries),
                    ),
                    instruction: None,
                }),
                Some(frame),
            )));
        }
        Verdict::Continue { instruction, frame } => {
            return Ok(Json(Step::judged(
                StepVisit::Identity(IdentityInProgress {
                    id: s.visit.clone(),
                    next: NextStep::Identity,
                    quality_retries_left: None,
                    instruction: Some(instruction.as_str()),
                }),
                Some(frame),
            )));
        }
        Verdict::Done(outcome) => outcome,
    };
    if decision.decision == DecisionKind::SpoofSuspected {
        tracing::info!(visit = %s.visit, "attempt attested as a suspected presentation attack");
    }
    let id = s.visit.clone();
    let nonce = k.nonce(&id).await?;
    let attestation = face_attestation(&k.reader, &id, nonce, &decision);
    let v = k
        .reader
        .identity(&id, &IdentityEvidence::Face { attestation })
        .await?;
    Ok(Json(Step::judged(StepVisit::Server(v), Some(decision))))
}

#[derive(Deserialize)]
struct PinEntry {
    pin: String,
}

/// The standard card on the reader, for the PIN steps: a face-auth card has no PIN (the
/// screen shows no PIN pad for one; refused here anyway).
fn standard_card(slot: &mut Option<Session>) -> KioskResult<&mut Session> {
    let s = slot.as_mut().ok_or_else(no_card)?;
    if s.face_auth {
        return Err(CardError::PinNotAvailable.into());
    }
    Ok(s)
}

/// PIN path (standard cards only): the card checks the PIN and signs the server's nonce.
async fn pin(State(k): State<Arc<Kiosk>>, Json(p): Json<PinEntry>) -> KioskResult<Json<Step>> {
    let mut slot = k.slot.lock().await;
    let s = standard_card(&mut slot)?;
    let id = s.visit.clone();
    let nonce = k.nonce(&id).await?;
    let sig = s.card.sign_with_pin(&p.pin, nonce.as_bytes(), false)?;
    let evidence = IdentityEvidence::Pin {
        nonce,
        signature: kakunin_evidence::b64(sig),
        certificate: kakunin_evidence::b64(&s.certificate),
    };
    Ok(Json(Step::of(k.reader.identity(&id, &evidence).await?)))
}

/// The PIN tries the card has left.
#[derive(Serialize)]
struct PinTries {
    tries_left: u8,
}

/// The PIN tries the card has left, read without spending one (shown before the patient types).
async fn pin_tries(State(k): State<Arc<Kiosk>>) -> KioskResult<Json<PinTries>> {
    let mut slot = k.slot.lock().await;
    let s = standard_card(&mut slot)?;
    Ok(Json(PinTries {
        tries_left: s.card.pin_tries_left()?,
    }))
}

/// Hand the visit to reception for visual confirmation, with the card photo for staff.
async fn to_staff(State(k): State<Arc<Kiosk>>) -> KioskResult<Json<Step>> {
    let mut slot = k.slot.lock().await;
    let s = slot.as_mut().ok_or_else(no_card)?;
    if let (None, Some(number_b)) = (&s.photo, k.cards.number_b()) {
        // Staff still get the visit when the card-face applet stays shut (they confirm against
        // the card in the patient's hand).
        if let Ok(photo) = open_card_face(&k, s, &number_b, crate::agent::Offer::Known).await {
            s.photo = Some(photo);
        }
    }
    let photo = s.photo.as_deref().and_then(for_staff);
    let id = s.visit.clone();
    let v = k
        .reader
        .visual_request(&id, &VisualRequest { photo })
        .await?;
    Ok(Json(Step::of(v)))
}

/// The card photo as staff's browser shows it (base64): browsers show JPEG and PNG; a JPEG 2000
/// photo, as real chips hold, goes over as PNG.
fn for_staff(photo: &[u8]) -> Option<String> {
    if photo.starts_with(&[0xFF, 0xD8, 0xFF]) || photo.starts_with(b"\x89PNG") {
        return Some(kakunin_evidence::b64(photo));
    }
    kakunin_face::image::decode(photo)
        .and_then(|img| kakunin_face::image::encode_png(&img))
        .map(kakunin_evidence::b64)
        .map_err(|e| tracing::warn!("card photo not handed to staff: {e}"))
        .ok()
}

/// While staff decide in visual mode without the card photo, a 照合番号B they typed from the
/// card is taken from the server and offered to the card (under the lock-safe rule; the
/// outcome is reported, so staff see it); an opened applet's photo goes to staff.
async fn typed_number_b(k: &Kiosk, s: &mut Session) -> KioskResult<()> {
    if s.photo.is_some() {
        return Ok(());
    }
    let Some(number_b) = k.reader.take_number_b(&s.visit).await?.number_b else {
        return Ok(());
    };
    match open_card_face(k, s, &number_b, crate::agent::Offer::Typed).await {
        Ok(photo) => {
            let handed = for_staff(&photo);
            s.photo = Some(photo);
            k.reader
                .visual_photo(&s.visit, &VisualRequest { photo: handed })
                .await?;
        }
        // Reported to the server by open_card_face; staff see the outcome there.
        Err(e) => {
            tracing::info!(visit = %s.visit, error = %e, "typed 照合番号B did not open the card face")
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct Answer {
    accept: bool,
}

/// The patient's answer to the insurance-use registration offer.
async fn registration(
    State(k): State<Arc<Kiosk>>,
    Json(a): Json<Answer>,
) -> KioskResult<Json<Step>> {
    let id = current(&k).await?;
    Ok(Json(Step::of(k.reader.registration(&id, a.accept).await?)))
}

/// The consent selection, with the helper flag.
async fn consent(
    State(k): State<Arc<Kiosk>>,
    Json(c): Json<ConsentRequest>,
) -> KioskResult<Json<Step>> {
    let id = current(&k).await?;
    Ok(Json(Step::of(k.reader.consent(&id, &c).await?)))
}

mod card_face;
mod error;
pub mod guard;
mod setup;
pub mod slot;
pub use setup::{embedded, serve, KioskConfig, SlotConfig};

#[cfg(test)]
mod card_face_tests;
#[cfg(test)]
pub(crate) mod tests;
