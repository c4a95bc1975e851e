//! `kakunin reader`: the card-reader agent. It holds the reader's own Ed25519 key (registered with
//! the server on first start), reads the card, verifies identity (face on frames given to it, PIN
//! for standard cards, or hand-off to staff), signs what it attests with the server's nonce, and
//! answers the registration offer and consent selection through the API.

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use kakunin_card::client::MyNumberCard;
use kakunin_card::virtual_card::VirtualCard;
use kakunin_card::CardChannel;
use kakunin_evidence::attestation::{
    Attestation, AttestedMethod, AttestedOutcome, ReaderKey, HEADER_READER, HEADER_REQUEST_ID,
    HEADER_SIGNATURE, HEADER_TIMESTAMP,
};
use kakunin_face::{DecisionKind, FaceEngine};
use serde_json::{json, Value};
use std::path::PathBuf;

pub(crate) use crate::enrol::{load_or_create_key, register, state_path};
use std::time::Instant;

/// Reader commands.
#[derive(Subcommand)]
pub enum Reader {
    /// Runs whole visits with virtual demo cards against a running server, printing each step.
    Demo {
        #[command(flatten)]
        server: crate::tls::ServerConnection,
        /// API token used once to enrol this reader: the operator's (active at once, naming
        /// --institution) or a clinic's (pending until the operator approves).
        #[arg(long, default_value = "demo-token-admin", env = "KAKUNIN_TOKEN")]
        token: String,
        /// The reader's institution, when the operator's token enrols it (default: the demo
        /// clinic).
        #[arg(long)]
        institution: Option<String>,
        /// Reader id.
        #[arg(long, default_value = "reader-demo")]
        id: String,
        /// Where the reader's private key is kept (created on first start; default in the
        /// state directory, $XDG_STATE_HOME/kakunin or ~/.local/state/kakunin).
        #[arg(long, default_value_os_t = state_path("reader-demo.key"))]
        key_file: PathBuf,
        /// Photo stored on the virtual cards (a face image; greyscale on real cards).
        #[arg(long, required = true)]
        card_photo: PathBuf,
        /// Live camera frame(s) shown to the reader, tried in order (one per attempt).
        #[arg(long)]
        live: Vec<PathBuf>,
        /// Read the virtual cards through pcscd (vpcd) instead of directly (needs the `pcsc`
        /// build feature and ./scripts/setup-pcsc).
        #[arg(long)]
        pcsc: bool,
    },
    /// Runs the kiosk service: the patient's screen at /kiosk, its camera frames and its card
    /// slot (a PC/SC reader, or the virtual demo cards), against a running server.
    Serve {
        #[command(flatten)]
        server: crate::tls::ServerConnection,
        /// Where the kiosk screen is served (beyond loopback only when the screen is another
        /// device).
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: String,
        /// API token used to enrol this reader: the operator's (active at once, naming
        /// --institution) or a clinic's (pending until the operator approves).
        #[arg(long, default_value = "demo-token-admin", env = "KAKUNIN_TOKEN")]
        token: String,
        /// The reader's institution, when the operator's token enrols it (default: the demo
        /// clinic).
        #[arg(long)]
        institution: Option<String>,
        /// The reader's private key (created on first start; the reader id derives from it;
        /// default in the state directory).
        #[arg(long, default_value_os_t = state_path("kakunin-kiosk.key"))]
        key_file: PathBuf,
        /// Read cards from the PC/SC reader whose name contains this text (needs the `pcsc`
        /// build feature), instead of offering the virtual demo cards.
        #[arg(long)]
        pcsc: Option<String>,
        /// With --pcsc: the cards are kakunin's demo cards (behind vpcd), whose 照合番号B is
        /// known, so their photo is read for face recognition. Never for real cards.
        #[arg(long)]
        demo_number_b: bool,
        /// Photo on the virtual demo cards' chips (default: a drawn placeholder).
        #[arg(long)]
        card_photo: Option<PathBuf>,
        /// Attest a face match without asking for a small head turn first.
        #[arg(long)]
        no_active_check: bool,
    },
}

/// The agent's connection to the server.
pub(crate) struct Agent {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) id: String,
    pub(crate) key: ReaderKey,
}

impl Agent {
    pub(crate) async fn post(&self, path: &str, body: Value) -> Result<(u16, Value)> {
        let bytes = body.to_string();
        let ts = chrono::Utc::now().timestamp();
        let request_id = kakunin_evidence::attestation::new_request_id();
        let sig = self
            .key
            .sign_request("POST", path, ts, &request_id, bytes.as_bytes());
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header(HEADER_READER, &self.id)
            .header(HEADER_TIMESTAMP, ts.to_string())
            .header(HEADER_REQUEST_ID, request_id)
            .header(HEADER_SIGNATURE, sig)
            .body(bytes)
            .send()
            .await
            .map_err(|e| anyhow!("server unreachable ({e}); offer the fallbacks: insurance card or eligibility certificate, Mynaportal (standard cards), self-declaration form"))?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    pub(crate) async fn ok(&self, path: &str, body: Value) -> Result<Value> {
        let (s, v) = self.post(path, body).await?;
        if s >= 400 {
            bail!(
                "{path}: {s} {} — {}",
                v["error"]["code"],
                v["error"]["message"]
            );
        }
        Ok(v)
    }

    /// The reader's signed attestation of a face decision on `visit`, bound to `nonce`.
    pub(crate) fn face_attestation(
        &self,
        visit: &str,
        nonce: String,
        decision: &kakunin_face::Decision,
    ) -> kakunin_evidence::attestation::SignedAttestation {
        let outcome = match decision.decision {
            DecisionKind::Match => AttestedOutcome::Match,
            DecisionKind::SpoofSuspected => AttestedOutcome::SpoofSuspected,
            _ => AttestedOutcome::NoMatch,
        };
        self.key.attest(&Attestation {
            reader_id: self.id.clone(),
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

    pub(crate) async fn nonce(&self, visit: &str) -> Result<String> {
        Ok(self
            .ok(&format!("/api/v1/visits/{visit}/nonce"), json!({}))
            .await?["nonce"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }
}

fn step(t: Instant, what: &str) {
    println!("  {:>7.1} ms  {what}", t.elapsed().as_secs_f64() * 1000.0);
}

/// What is in front of the reader: the card (its 照合番号B, kind, PIN if the holder chose PIN),
/// who placed it, and the camera frames, one per face attempt.
#[derive(Clone, Copy)]
struct Presented<'a> {
    number_b: &'a str,
    face_auth: bool,
    pin: Option<&'a str>,
    placed_by: &'a str,
    frames: &'a [kakunin_face::image::Rgb],
}

/// One visit: the card on the reader through the whole flow.
async fn visit<C: CardChannel>(
    agent: &Agent,
    card: &mut MyNumberCard<C>,
    p: Presented<'_>,
    engine: Option<&FaceEngine>,
) -> Result<Value> {
    let Presented {
        number_b,
        face_auth,
        pin,
        placed_by,
        frames: live,
    } = p;
    let t = Instant::now();
    let der = card.read_auth_certificate()?;
    step(t, "read the user-authentication certificate (no PIN)");
    let v = agent
        .ok(
            "/api/v1/visits",
            json!({ "certificate": kakunin_evidence::b64(&der), "placed_by": placed_by }),
        )
        .await?;
    let id = v["id"].as_str().unwrap_or_default().to_owned();
    step(
        t,
        &format!(
            "visit {id} started; server checked the certificate; methods {}",
            v["identity_methods"]
        ),
    );
    let mut view = v;
    if let (Some(pin), false) = (pin, face_auth) {
        let nonce = agent.nonce(&id).await?;
        let sig = card.sign_with_pin(pin, nonce.as_bytes(), face_auth)?;
        view = agent.ok(&format!("/api/v1/visits/{id}/identity"), json!({ "method": "pin", "nonce": nonce, "signature": kakunin_evidence::b64(sig), "certificate": kakunin_evidence::b64(&der) })).await?;
        step(
            t,
            "PIN verified by the card; the server checked the card's signature over its nonce",
        );
    } else {
        let photo = card.read_card_face(number_b)?.photo;
        step(t, "read the card-face photo with 照合番号B");
        let card_img = kakunin_face::image::decode(&photo)?;
        // The card photo's face is found and embedded once per visit, not once per attempt.
        let card_face = match (engine, live.is_empty()) {
            (Some(e), false) => Some(e.face(&card_img)?),
            (None, false) => bail!("no face engine: run ./scripts/fetch-models"),
            (_, true) => None,
        };
        if let Some(Err(reason)) = &card_face {
            step(
                t,
                &format!("card photo unusable for face recognition ({reason:?})"),
            );
        }
        let usable = card_face.as_ref().and_then(|f| f.as_ref().ok());
        for (attempt, frame) in live.iter().enumerate().take_while(|_| usable.is_some()) {
            let (Some(e), Some(f)) = (engine, usable) else {
                break;
            };
            let decision = e.verify_against(f, frame, attempt as u8 + 1)?;
            step(
                t,
                &format!(
                    "face attempt {}: {} (engine {:.0} ms)",
                    attempt + 1,
                    decision.describe(),
                    decision.timings.total_ms
                ),
            );
            let nonce = agent.nonce(&id).await?;
            let a = agent.face_attestation(&id, nonce, &decision);
            view = agent
                .ok(
                    &format!("/api/v1/visits/{id}/identity"),
                    json!({ "method": "face", "attestation": a }),
                )
                .await?;
            step(
                t,
                &format!(
                    "server accepted the signed attestation; next: {}",
                    view["next"]
                ),
            );
            if view["next"] != "identity" {
                break;
            }
        }
        if view["next"] == "identity" {
            view = agent
                .ok(&format!("/api/v1/visits/{id}/visual-request"), json!({}))
                .await?;
            step(
                t,
                "handed to reception for visual confirmation (目視モード)",
            );
        }
    }
    if view["next"] == "visual_mode" {
        println!("  → please go to the reception desk: staff confirm with POST /api/v1/visits/{id}/visual");
        return Ok(view);
    }
    if view["next"] == "registration_offer" {
        view = agent
            .ok(
                &format!("/api/v1/visits/{id}/registration"),
                json!({ "accept": true }),
            )
            .await?;
        step(t, "insurance-use registration accepted on the spot");
    }
    if view["next"] == "consent" {
        view = agent
            .ok(&format!("/api/v1/visits/{id}/consent"), json!({ "medication": true, "checkup": true, "clinical": false, "limit_amount": true, "assisted": placed_by == "helper" }))
            .await?;
        step(
            t,
            "consent selected; eligibility result ready for reception",
        );
    }
    Ok(view)
}

/// 照合番号B of the demo cards (born 1980-02-17 = 昭和55年, expiring 2034, code 1234).
const NUMBER_B: &str = "55021720341234";

#[cfg(feature = "pcsc")]
async fn visit_over_pcsc(
    agent: &Agent,
    mut vc: VirtualCard,
    face_auth: bool,
    pin: Option<&str>,
    engine: Option<&FaceEngine>,
    frames: &[kakunin_face::image::Rgb],
    placed_by: &str,
) -> Result<Value> {
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
    let channel = channel
        .ok_or_else(|| anyhow!("no card in the Virtual PCD reader; run ./scripts/setup-pcsc"))?;
    let mut card = MyNumberCard::new(channel).with_extended_reads(8192);
    let result = visit(
        agent,
        &mut card,
        Presented {
            number_b: NUMBER_B,
            face_auth,
            pin,
            placed_by,
            frames,
        },
        engine,
    )
    .await;
    drop(card);
    stop.store(true, Ordering::Relaxed);
    let _ = server.join();
    result
}

#[cfg(not(feature = "pcsc"))]
async fn visit_over_pcsc(
    _: &Agent,
    _: VirtualCard,
    _: bool,
    _: Option<&str>,
    _: Option<&FaceEngine>,
    _: &[kakunin_face::image::Rgb],
    _: &str,
) -> Result<Value> {
    bail!("this kakunin was built without PC/SC; build with `--features pcsc`")
}

/// With the demo operator token and no --institution, the reader belongs to the demo clinic.
fn demo_institution_for_operator(token: &str) -> impl FnOnce() -> Option<String> + '_ {
    move || (token == "demo-token-admin").then(|| kakunin_store::seed::demo_institution_codes().0)
}

/// Runs a reader command.
pub async fn run(cmd: Reader) -> Result<()> {
    let (server, token, institution, id, key_file, card_photo, live, pcsc) = match cmd {
        Reader::Demo {
            server,
            token,
            institution,
            id,
            key_file,
            card_photo,
            live,
            pcsc,
        } => (
            server,
            token,
            institution,
            id,
            key_file,
            card_photo,
            live,
            pcsc,
        ),
        Reader::Serve {
            server,
            listen,
            token,
            institution,
            key_file,
            pcsc,
            demo_number_b,
            card_photo,
            no_active_check,
        } => {
            let institution = institution.or_else(demo_institution_for_operator(&token));
            return crate::kiosk::serve_standalone(
                &server,
                &listen,
                &token,
                institution.as_deref(),
                &key_file,
                pcsc,
                demo_number_b,
                card_photo.as_deref(),
                !no_active_check,
            )
            .await;
        }
    };
    let institution = institution.or_else(demo_institution_for_operator(&token));
    let (key, created) = load_or_create_key(&key_file)?;
    let agent = Agent {
        http: server.client()?,
        base: server.base(),
        id: id.clone(),
        key,
    };
    let health = agent
        .http
        .get(format!("{}/readyz", agent.base))
        .send()
        .await;
    if health.is_err() {
        bail!("server {} unreachable; start it with ./scripts/serve. At the kiosk: offer the fallbacks (insurance card or eligibility certificate; Mynaportal for standard cards; the self-declaration form)", agent.base);
    }
    if created {
        if let Err(e) = register(&agent, &token, institution.as_deref()).await {
            std::fs::remove_file(&key_file).ok();
            return Err(e);
        }
        println!(
            "registered reader {id} with the server (key in {})",
            key_file.display()
        );
    }
    let engine = FaceEngine::load(&kakunin_face::models::model_dir(), Default::default()).ok();
    let photo = std::fs::read(&card_photo)
        .with_context(|| format!("cannot read the card photo {}", card_photo.display()))?;
    let frames: Vec<_> = live
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            kakunin_face::image::decode(&bytes).with_context(|| format!("{}", p.display()))
        })
        .collect::<Result<_>>()?;
    let ca = kakunin_evidence::ca::DemoCa::new()?;
    let face = crate::kiosk::slot::demo_face(photo);
    for (person, face_auth, pin, placed_by) in [
        (2, true, None, "patient"),
        (1, false, Some("1234"), "helper"),
    ] {
        let card_id = kakunin_store::seed::demo_card_id(person);
        println!(
            "card {card_id} ({}) placed by the {placed_by}",
            if face_auth { "face-auth" } else { "standard" }
        );
        let vc = crate::kiosk::slot::demo_card(&ca, person, face_auth, &face)?;
        let t = Instant::now();
        let outcome = if pcsc {
            visit_over_pcsc(
                &agent,
                vc,
                face_auth,
                pin,
                engine.as_ref(),
                &frames,
                placed_by,
            )
            .await
        } else {
            visit(
                &agent,
                &mut MyNumberCard::new(vc),
                Presented {
                    number_b: NUMBER_B,
                    face_auth,
                    pin,
                    placed_by,
                    frames: &frames,
                },
                engine.as_ref(),
            )
            .await
        };
        match outcome {
            Ok(v) => println!(
                "  result: {} ({}) — {:.0} ms from card placed",
                v["state"],
                v["next"],
                t.elapsed().as_secs_f64() * 1000.0
            ),
            Err(e) => println!("  stopped: {e}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    use super::*;
    use kakunin_card::virtual_card::CardFace;

    fn face() -> CardFace {
        // A small image without a face stands in for the photo.
        let photo = include_bytes!("../../face/tests/fixtures/cmyk.jpg").to_vec();
        CardFace {
            name: "試験 太郎".into(),
            address: "東京都".into(),
            birth_date: "19800217".into(),
            sex: 1,
            expiry: "20341231".into(),
            photo,
        }
    }

    fn card(person: i64, face_auth: bool) -> MyNumberCard<VirtualCard> {
        let ca = kakunin_evidence::ca::DemoCa::new().unwrap();
        MyNumberCard::new(crate::kiosk::slot::demo_card(&ca, person, face_auth, &face()).unwrap())
    }

    #[tokio::test]
    async fn visits_through_a_running_server_and_an_unreachable_one() {
        let (_dir, base) = crate::kiosk::tests::running_server().await;
        let agent = Agent {
            http: reqwest::Client::new(),
            base: base.clone(),
            id: "r-test".into(),
            key: ReaderKey::generate(),
        };
        let res = agent
            .http
            .post(format!("{base}/api/v1/readers"))
            .bearer_auth("demo-token-admin")
            .json(&json!({ "id": "r-test", "public_key": agent.key.public_key_b64(), "institution_code": kakunin_store::seed::demo_institution_codes().0 }))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());

        // Standard card, PIN path, helper placed the card: completes.
        let v = visit(
            &agent,
            &mut card(1, false),
            Presented {
                number_b: "",
                face_auth: false,
                pin: Some("1234"),
                placed_by: "helper",
                frames: &[],
            },
            None,
        )
        .await
        .unwrap();
        assert_eq!(v["next"], "done", "{v}");
        // A wrong PIN stops the visit with the card's own answer.
        let e = visit(
            &agent,
            &mut card(1, false),
            Presented {
                number_b: "",
                face_auth: false,
                pin: Some("9999"),
                placed_by: "patient",
                frames: &[],
            },
            None,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("wrong PIN"), "{e}");
        // Face-auth card, no camera frames: handed to reception (visual mode), never a PIN.
        let v = visit(
            &agent,
            &mut card(2, true),
            Presented {
                number_b: "55021720341234",
                face_auth: true,
                pin: Some("1234"),
                placed_by: "patient",
                frames: &[],
            },
            None,
        )
        .await
        .unwrap();
        assert_eq!(v["next"], "visual_mode", "{v}");
        // A wrong 照合番号B stops before any attempt.
        let e = visit(
            &agent,
            &mut card(2, true),
            Presented {
                number_b: "00000000000000",
                face_auth: true,
                pin: None,
                placed_by: "patient",
                frames: &[],
            },
            None,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("照合番号B"), "{e}");

        // Server down: the agent says so and names the fallbacks.
        let down = Agent {
            http: reqwest::Client::new(),
            base: "http://127.0.0.1:9".into(),
            id: "r-test".into(),
            key: ReaderKey::generate(),
        };
        let e = visit(
            &down,
            &mut card(1, false),
            Presented {
                number_b: "",
                face_auth: false,
                pin: Some("1234"),
                placed_by: "patient",
                frames: &[],
            },
            None,
        )
        .await
        .unwrap_err();
        assert!(
            e.to_string().contains("server unreachable")
                && e.to_string().contains("self-declaration"),
            "{e}"
        );
    }
}
