//! The kiosk's steps against a running server, and each refusal the screen translates.
use super::*;
use axum::body::Body;
use axum::http::Request;
use kakunin_face::attempt::ATTEMPT_FRAMES;
use serde_json::{json, Value};
use tower::ServiceExt;

/// A running server with demo data and a kiosk registered with it.
async fn kiosk(engine: Option<Arc<FaceEngine>>) -> (Router, tempfile::TempDir) {
    let (app, dir, _) = kiosk_and_server(engine).await;
    (app, dir)
}

/// A real server on loopback over a fresh SQLite database with four seeded persons; answers
/// its directory (keep it alive) and base URL.
pub(crate) async fn running_server() -> (tempfile::TempDir, String) {
    kakunin_server::testing::demo_server(4).await
}

/// The kiosk settings of a test: the demo operator enrols it with the demo clinic, its key at
/// `key`.
fn demo_config(base: &str, key: &std::path::Path, slot: SlotConfig) -> KioskConfig {
    KioskConfig {
        server: base.to_owned(),
        listen: "127.0.0.1:0".into(),
        token: "demo-token-admin".into(),
        institution: Some(kakunin_store::seed::demo_institution_codes().0),
        key_file: key.to_owned(),
        slot,
        active_check: true,
        remote_screen: false,
    }
}

/// A kiosk reader client with its key at `key`, enrolled by the demo operator with the demo
/// clinic.
pub(crate) async fn demo_kiosk_reader(base: &str, key: &std::path::Path) -> ReaderClient {
    let config = demo_config(
        base,
        key,
        SlotConfig::Demo {
            photo: None,
            read_card_face: false,
        },
    );
    setup::connect(reqwest::Client::new(), &config)
        .await
        .unwrap()
        .reader
}

/// The same, and the server's base URL.
pub(crate) async fn kiosk_and_server(
    engine: Option<Arc<FaceEngine>>,
) -> (Router, tempfile::TempDir, String) {
    let photo = include_bytes!("placeholder-photo.png").to_vec();
    kiosk_with_photo(engine, photo).await
}

/// A kiosk whose demo cards carry `photo`, and its server.
async fn kiosk_with_photo(
    engine: Option<Arc<FaceEngine>>,
    photo: Vec<u8>,
) -> (Router, tempfile::TempDir, String) {
    let (dir, base) = running_server().await;
    let reader = demo_kiosk_reader(&base, &dir.path().join("kiosk.key")).await;
    let k = Kiosk::with_demo_cards(reader, engine, photo).unwrap();
    (router(Arc::new(k), Default::default()), dir, base)
}

pub(crate) async fn call(
    app: &Router,
    method: &str,
    path: &str,
    body: Body,
    json: bool,
) -> (u16, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if json {
        req = req.header("content-type", "application/json");
    } else if path == "/kiosk/api/face" || path == "/kiosk/api/card-face" {
        req = req.header("content-type", "image/jpeg");
    }
    let res = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub(crate) async fn post(app: &Router, path: &str, v: Value) -> (u16, Value) {
    call(app, "POST", path, Body::from(v.to_string()), true).await
}

pub(crate) fn code(r: &(u16, Value)) -> &str {
    r.1["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_demo_kiosk_refuses_other_machines_other_sites_and_non_images() {
    let (app, _dir, _) = kiosk_and_server(None).await;
    let frame = |kind: &str| {
        Request::builder()
            .method("POST")
            .uri("/kiosk/api/face")
            .header("content-type", kind)
            .body(Body::from("not a form field"))
            .unwrap()
    };
    // A cross-origin form can send text/plain without asking; it is refused before any step.
    let res = app.clone().oneshot(frame("text/plain")).await.unwrap();
    assert_eq!(res.status().as_u16(), 415);
    let mut req = frame("image/jpeg");
    req.headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status().as_u16(),
        403
    );
    let mut req = frame("image/jpeg");
    req.headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    req.headers_mut()
        .insert("host", "127.0.0.1:8080".parse().unwrap());
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status().as_u16(),
        403
    );
    // Another machine on the LAN.
    let mut req = Request::builder()
        .uri("/kiosk/api/cards")
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [192, 0, 2, 10],
            50000,
        ))));
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status().as_u16(), 403);
}

#[tokio::test]
async fn kiosk_steps_and_their_refusals() {
    let (app, _dir) = kiosk(None).await;
    // Nothing on the reader yet.
    let r = call(&app, "GET", "/kiosk/api/visit", Body::empty(), false).await;
    assert_eq!((r.0, code(&r)), (409, "no_card"));
    let r = post(
        &app,
        "/kiosk/api/card",
        json!({ "card_id": "C99999999999" }),
    )
    .await;
    assert_eq!((r.0, code(&r)), (409, "no_card"));

    // Standard card by PIN: a wrong PIN says how many tries are left; a second card cannot
    // be placed meanwhile; the right PIN goes on to consent.
    let r = post(
        &app,
        "/kiosk/api/card",
        json!({ "card_id": "C00000000001", "placed_by": "helper" }),
    )
    .await;
    assert_eq!(
        (r.0, r.1["visit"]["next"].as_str()),
        (200, Some("identity")),
        "{:?}",
        r.1
    );
    let r = post(
        &app,
        "/kiosk/api/card",
        json!({ "card_id": "C00000000002" }),
    )
    .await;
    assert_eq!((r.0, code(&r)), (409, "card_present"));
    let r = post(&app, "/kiosk/api/pin", json!({ "pin": "9999" })).await;
    assert_eq!(
        (r.0, code(&r), r.1["error"]["tries_left"].as_u64()),
        (422, "pin_wrong", Some(2))
    );
    let r = post(&app, "/kiosk/api/pin", json!({ "pin": "1234" })).await;
    assert_eq!(r.1["visit"]["next"], "consent", "{:?}", r.1);
    let r = post(&app, "/kiosk/api/consent", json!({ "medication": true, "checkup": false, "clinical": false, "limit_amount": false, "assisted": true, "prescription": "paper" })).await;
    assert_eq!(r.1["visit"]["next"], "done", "{:?}", r.1);
    let r = call(&app, "DELETE", "/kiosk/api/card", Body::empty(), false).await;
    assert_eq!(r.0, 204);

    // Face-auth card: a PIN is refused (the screen never offers one); without the face
    // engine, frames are refused with a reason and staff take over with the card photo.
    post(
        &app,
        "/kiosk/api/card",
        json!({ "card_id": "C00000000002" }),
    )
    .await;
    let r = post(&app, "/kiosk/api/pin", json!({ "pin": "1234" })).await;
    assert_eq!((r.0, code(&r)), (422, "pin_not_available"));
    let r = call(
        &app,
        "POST",
        "/kiosk/api/face",
        Body::from(vec![0u8; 10]),
        false,
    )
    .await;
    assert_eq!((r.0, code(&r)), (422, "no_engine"));
    let r = call(
        &app,
        "POST",
        "/kiosk/api/face",
        Body::from(vec![0u8; MAX_FRAME + 1]),
        false,
    )
    .await;
    assert_eq!((r.0, code(&r)), (422, "frame_too_large"));
    let r = post(&app, "/kiosk/api/visual", json!({})).await;
    assert_eq!(r.1["visit"]["next"], "visual_mode", "{:?}", r.1);
    let r = call(&app, "GET", "/kiosk/api/visit", Body::empty(), false).await;
    assert_eq!(r.1["visit"]["next"], "visual_mode");
}

#[tokio::test]
async fn garbage_camera_frames_are_refused_with_a_reason() {
    let Some(models) = kakunin_face::testing::models_or_skip() else {
        return;
    };
    let engine = Arc::new(FaceEngine::load(&models, Default::default()).unwrap());
    let (app, _dir) = kiosk(Some(engine)).await;
    post(
        &app,
        "/kiosk/api/card",
        json!({ "card_id": "C00000000002" }),
    )
    .await;
    // The placeholder card photo has no face: staff must confirm.
    let r = call(
        &app,
        "POST",
        "/kiosk/api/face",
        Body::from(vec![0xFFu8, 0xD8, 0xFF, 0]),
        false,
    )
    .await;
    assert_eq!((r.0, code(&r)), (422, "card_photo_unusable"), "{:?}", r.1);
}

#[tokio::test]
async fn a_jpeg2000_card_photo_reaches_staff_as_png() {
    let jp2 = include_bytes!("../../../face/tests/fixtures/gradient.jp2").to_vec();
    let (app, _dir, base) = kiosk_with_photo(None, jp2).await;
    let placed = post(
        &app,
        "/kiosk/api/card",
        json!({ "card_id": "C00000000002" }),
    )
    .await;
    let id = placed.1["visit"]["id"].as_str().unwrap().to_owned();
    let r = post(&app, "/kiosk/api/visual", json!({})).await;
    assert_eq!(r.1["visit"]["next"], "visual_mode", "{:?}", r.1);
    let res = reqwest::Client::new()
        .get(format!("{base}/api/v1/visits/{id}/photo"))
        .bearer_auth("demo-token-reception")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "image/png");
    let png = res.bytes().await.unwrap();
    let img = kakunin_face::image::decode(&png).unwrap();
    assert_eq!((img.width, img.height), (40, 30));
    // The card-face applet was opened once, under the lock-safe rule, and the log says so with
    // the tries the card had.
    let offers = audited(&base, "card_face_verify", &id).await;
    assert_eq!(offers.len(), 1, "{offers:?}");
    let detail = &offers[0];
    assert_eq!(detail["outcome"], "opened");
    assert_eq!(detail["source"], "known");
    assert_eq!(detail["tries_left"], 10);
}

/// The audit records of `action` about visit `id`, their details parsed.
pub(crate) async fn audited(base: &str, action: &str, id: &str) -> Vec<Value> {
    let audit: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/audit?limit=1000"))
        .bearer_auth("demo-token-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == action && r["subject"] == id)
        .map(|r| serde_json::from_str(r["detail"].as_str().unwrap()).unwrap())
        .collect()
}

/// The face engine and the development data (`../shared/data`), or `None` (test skipped) where
/// they are missing.
fn engine_and_data() -> Option<(Arc<FaceEngine>, std::path::PathBuf)> {
    let models = kakunin_face::testing::models_or_skip()?;
    let data = kakunin_face::testing::data_or_skip()?;
    let engine = Arc::new(FaceEngine::load(&models, Default::default()).unwrap());
    Some((engine, data))
}

/// The frames of one NUAA sequence (`live` or `print_attack`), in name order.
fn nuaa_frames(data: &std::path::Path, kind: &str, subject: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(data.join("nuaa").join(kind).join(subject))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// A kiosk whose face-auth demo card carries NUAA subject 0004's first live frame as its photo,
/// with that card placed.
async fn holder_card_placed(
    engine: Arc<FaceEngine>,
    data: &std::path::Path,
) -> (Router, tempfile::TempDir) {
    let card_photo = std::fs::read(&nuaa_frames(data, "live", "0004")[0]).unwrap();
    let (app, dir, _) = kiosk_with_photo(Some(engine), card_photo).await;
    post(
        &app,
        "/kiosk/api/card",
        json!({ "card_id": "C00000000002" }),
    )
    .await;
    (app, dir)
}

/// Posts one camera frame (a JPEG file) to the kiosk.
async fn post_frame(app: &Router, frame: &std::path::Path) -> (u16, Value) {
    let jpeg = std::fs::read(frame).unwrap();
    call(app, "POST", "/kiosk/api/face", Body::from(jpeg), false).await
}

/// The active check on real webcam frames (NUAA): a still frame of the holder matches but is
/// asked to turn, and after the waits the attempt counts as a suspected presentation attack; the
/// holder's live frames, where the head moves, check in.
#[tokio::test]
async fn a_still_photo_of_the_holder_must_turn_and_a_moving_head_checks_in() {
    let Some((engine, data)) = engine_and_data() else {
        return;
    };
    let frames = nuaa_frames(&data, "live", "0004");
    let (app, _dir) = holder_card_placed(engine, &data).await;

    let still = std::fs::read(&frames[1]).unwrap();
    let mut asked = 0;
    let mut after = Value::Null;
    for _ in 0..(ATTEMPT_FRAMES + 2) {
        let (status, step) = call(
            &app,
            "POST",
            "/kiosk/api/face",
            Body::from(still.clone()),
            false,
        )
        .await;
        assert_eq!(status, 200, "{step}");
        if step["visit"]["instruction"] == "turn_head" {
            asked += 1;
            continue;
        }
        after = step;
        break;
    }
    assert_eq!(
        asked,
        ATTEMPT_FRAMES - 1,
        "asked to turn for the whole attempt"
    );
    assert_eq!(after["face"]["decision"], "spoof_suspected", "{after}");
    assert_eq!(after["visit"]["face_attempts_left"], 2, "{after}");

    let mut next = Value::Null;
    for f in frames.iter().cycle().take(40) {
        let (_, step) = post_frame(&app, f).await;
        next = step["visit"]["next"].clone();
        if next != "identity" {
            break;
        }
    }
    assert_eq!(next, "consent", "the moving head checked in");
}

/// NUAA's print attack on the same subject: the holder's photo printed, held up, bent and moved
/// in front of the camera. However it moves it shows no parallax, so no attempt checks in and
/// after three the patient is sent to staff.
#[tokio::test]
async fn a_moved_print_of_the_holder_never_checks_in() {
    let Some((engine, data)) = engine_and_data() else {
        return;
    };
    let prints = nuaa_frames(&data, "print_attack", "0004");
    let (app, _dir) = holder_card_placed(engine, &data).await;
    let (mut matched_frames, mut outcomes, mut next) = (0, vec![], Value::Null);
    for f in prints.iter().cycle().take(3 * ATTEMPT_FRAMES as usize + 4) {
        let (status, step) = post_frame(&app, f).await;
        assert_eq!(status, 200, "{step}");
        if step["visit"]["instruction"] == "turn_head" {
            matched_frames += 1;
        }
        next = step["visit"]["next"].clone();
        if step["visit"].get("instruction").is_none() {
            outcomes.push(step["face"]["decision"].clone());
        }
        if next != "identity" {
            break;
        }
    }
    eprintln!("matched frames {matched_frames}, attempts {outcomes:?}, then {next}");
    assert!(matched_frames > 0, "the print matches the card photo");
    assert_ne!(next, "consent", "a print checked in: {outcomes:?}");
    assert_eq!(outcomes.len(), 3, "three attempts: {outcomes:?}");
    assert!(
        outcomes.iter().all(|d| d != "match"),
        "no attempt matched: {outcomes:?}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_named_and_the_card_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = crate::enrol::load_or_create_key(&dir.path().join("k.key")).unwrap();
    let reader = ReaderClient::new(reqwest::Client::new(), "http://127.0.0.1:9", "kiosk-x", key);
    let photo = include_bytes!("placeholder-photo.png").to_vec();
    let app = router(
        Arc::new(Kiosk::with_demo_cards(reader, None, photo).unwrap()),
        Default::default(),
    );
    for _ in 0..2 {
        let r = post(
            &app,
            "/kiosk/api/card",
            json!({ "card_id": "C00000000002" }),
        )
        .await;
        assert_eq!((r.0, code(&r)), (502, "server_unreachable"), "{:?}", r.1);
    }
}

/// The kiosk reading a card through pcscd: the virtual card behind vsmartcard's vpcd, exactly as
/// a card on a physical reader. Needs the `pcsc` feature and ./scripts/setup-pcsc.
#[cfg(feature = "pcsc")]
#[tokio::test(flavor = "multi_thread")]
async fn a_card_on_a_pcsc_reader_checks_in_by_pin() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let (_, dir, base) = kiosk_and_server(None).await;
    let reader = demo_kiosk_reader(&base, &dir.path().join("pcsc-kiosk.key")).await;
    let app = router(
        Arc::new(Kiosk::new(
            reader,
            None,
            slot::CardSlot::Pcsc {
                reader: "Virtual PCD".into(),
                number_b: None,
            },
        )),
        Default::default(),
    );
    let offered = call(&app, "GET", "/kiosk/api/cards", Body::empty(), false).await;
    assert_eq!(offered.1[0]["pcsc"], true, "{:?}", offered.1);

    // The person-1 demo card (standard) behind vpcd.
    let ca = kakunin_evidence::ca::DemoCa::new().unwrap();
    let face = crate::demo::face(include_bytes!("placeholder-photo.png").to_vec());
    let mut vc = crate::demo::card(&ca, 1, false, &face).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let vpcd = std::thread::spawn(move || {
        for _ in 0..50 {
            let addr = format!("127.0.0.1:{}", kakunin_card::vpcd::VPCD_PORT);
            if kakunin_card::vpcd::serve(&mut vc, &addr, &s2).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("could not reach vpcd: run ./scripts/setup-pcsc");
    });
    // The screen tries until the card is there.
    let mut placed = None;
    for _ in 0..100 {
        let r = post(&app, "/kiosk/api/card", json!({ "card_id": "reader" })).await;
        if r.0 == 200 {
            placed = Some(r.1);
            break;
        }
        assert_eq!(code(&r), "no_card", "{:?}", r.1);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let placed = placed.expect("the card appeared on the Virtual PCD reader");
    assert_eq!(placed["visit"]["card_kind"], "standard");
    let r = post(&app, "/kiosk/api/pin", json!({ "pin": "1234" })).await;
    assert_eq!(r.1["visit"]["next"], "consent", "{:?}", r.1);
    let r = post(&app, "/kiosk/api/consent", json!({ "medication": false, "checkup": false, "clinical": false, "limit_amount": false, "assisted": false, "prescription": "electronic" })).await;
    assert_eq!(r.1["visit"]["next"], "done", "{:?}", r.1);
    call(&app, "DELETE", "/kiosk/api/card", Body::empty(), false).await;
    stop.store(true, Ordering::Relaxed);
    vpcd.join().unwrap();
}
