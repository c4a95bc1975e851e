//! The card-face step and staff's typed 照合番号B, against a running server: a face-auth card
//! whose number the kiosk does not know (as every real card) is opened only through them.
use super::tests::{audited, call, code, demo_kiosk_reader, post, running_server};
use super::*;
use axum::body::Body;
use serde_json::{json, Value};

/// The face-auth demo card.
const FACE_AUTH_CARD: &str = "C00000000002";

/// A kiosk whose demo cards' 照合番号B it must read from their face (as for real cards), its
/// server's directory and base URL.
async fn reading_kiosk() -> (Router, tempfile::TempDir, String) {
    let (dir, base) = running_server().await;
    let reader = demo_kiosk_reader(&base, &dir.path().join("kiosk.key")).await;
    let photo = include_bytes!("placeholder-photo.png").to_vec();
    let slot = CardSlot::demo_read_from_face(photo, true).unwrap();
    let k = Kiosk::new(reader, None, slot);
    (router(Arc::new(k), Default::default()), dir, base)
}

/// Places the face-auth card; answers the visit id and the kiosk's answer.
async fn place(app: &Router) -> (String, Value) {
    let r = post(app, "/kiosk/api/card", json!({ "card_id": FACE_AUTH_CARD })).await;
    assert_eq!(r.0, 200, "{:?}", r.1);
    (r.1["visit"]["id"].as_str().unwrap().to_owned(), r.1)
}

/// Reception's call to the server as the demo receptionist.
async fn reception(
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth("demo-token-reception");
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Where reception asks for visit `id`'s card photo.
fn photo_path(id: &str) -> String {
    format!("/api/v1/visits/{id}/photo")
}

/// Reception types `number` for the visit at `path` (`…/number-b`); answers the status and
/// the error code, if any, and the body.
async fn type_number(base: &str, path: &str, number: &str) -> (u16, Option<String>, Value) {
    let (s, v) = reception(
        base,
        reqwest::Method::POST,
        path,
        Some(json!({ "number_b": number })),
    )
    .await;
    (s, v["error"]["code"].as_str().map(str::to_owned), v)
}

#[tokio::test]
async fn without_its_number_a_face_auth_card_is_never_opened_by_guess() {
    let (app, _dir, base) = reading_kiosk().await;
    let (id, placed) = place(&app).await;
    // The screen is told to read the card's face first (where this build can read one).
    assert_eq!(
        placed["read_card_face"].as_bool().unwrap_or(false),
        cfg!(feature = "ocr"),
        "{placed}"
    );
    // A face frame before the card's face is read cannot be compared with anything.
    let r = call(
        &app,
        "POST",
        "/kiosk/api/face",
        Body::from(vec![0u8; 10]),
        false,
    )
    .await;
    assert!(
        matches!(code(&r), "card_photo_unusable" | "no_engine"),
        "{:?}",
        r.1
    );
    // Staff take over without the photo; nothing was offered to the card.
    let r = post(&app, "/kiosk/api/visual", json!({})).await;
    assert_eq!(r.1["visit"]["next"], "visual_mode", "{:?}", r.1);
    assert!(audited(&base, "card_face_verify", &id).await.is_empty());
    let photo = reception(&base, reqwest::Method::GET, &photo_path(&id), None).await;
    assert_eq!(
        (photo.0, photo.1["error"]["code"].as_str()),
        (404, Some("no_photo"))
    );
}

#[tokio::test]
async fn staff_type_the_number_and_the_kiosk_opens_the_photo_for_them() {
    let (app, _dir, base) = reading_kiosk().await;
    let (id, _) = place(&app).await;
    let path = format!("/api/v1/visits/{id}/number-b");
    // Not yet in visual mode: nothing to type for.
    let early = type_number(&base, &path, "55021720341234").await;
    assert_eq!(
        (early.0, early.1.as_deref()),
        (409, Some("invalid_transition"))
    );
    post(&app, "/kiosk/api/visual", json!({})).await;
    // A mistyped number never reaches the card (it would spend a try).
    let bad = type_number(&base, &path, "5502172034123").await;
    assert_eq!(
        (bad.0, bad.1.as_deref()),
        (422, Some("number_b_format")),
        "{:?}",
        bad.2
    );
    assert!(bad.2["error"]["message"]
        .as_str()
        .unwrap()
        .contains("14 digits"));
    // Typed with an IME's full-width digits and a space: taken as the 14 digits.
    let sent = type_number(&base, &path, "５５０２１７ 20341234").await;
    assert_eq!(
        (sent.0, &sent.2["pending"], &sent.2["offers"]),
        (200, &json!(true), &json!(0)),
        "{:?}",
        sent.2
    );
    // The kiosk polls its visit while staff decide: it takes the number and opens the card.
    let r = call(&app, "GET", "/kiosk/api/visit", Body::empty(), false).await;
    assert_eq!(r.1["visit"]["next"], "visual_mode", "{:?}", r.1);
    let status = reception(&base, reqwest::Method::GET, &path, None).await;
    assert_eq!(status.1["pending"], false);
    assert_eq!(status.1["offers"], 1);
    assert_eq!(status.1["last"]["outcome"], "opened", "{:?}", status.1);
    assert_eq!(status.1["last"]["source"], "staff");
    let photo = reqwest::Client::new()
        .get(format!("{base}/api/v1/visits/{id}/photo"))
        .bearer_auth("demo-token-reception")
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status().as_u16(), 200);
    assert_eq!(photo.headers()["content-type"], "image/png");
    // Both are in the audit log; the digits are not.
    let typed = audited(&base, "number_b_typed", &id).await;
    assert_eq!(typed.len(), 1);
    assert_eq!(typed[0]["staff"], "staff-reception");
    assert!(!typed[0].to_string().contains("5502"), "{}", typed[0]);
    let offers = audited(&base, "card_face_verify", &id).await;
    assert_eq!(offers.len(), 1);
    assert_eq!(
        (offers[0]["source"].as_str(), offers[0]["outcome"].as_str()),
        (Some("staff"), Some("opened"))
    );
    // Taken once: polling again offers nothing more.
    call(&app, "GET", "/kiosk/api/visit", Body::empty(), false).await;
    assert_eq!(audited(&base, "card_face_verify", &id).await.len(), 1);
}

#[tokio::test]
async fn a_typed_number_the_card_refuses_is_shown_with_its_tries_left_and_not_repeated() {
    let (app, _dir, base) = reading_kiosk().await;
    let (id, _) = place(&app).await;
    post(&app, "/kiosk/api/visual", json!({})).await;
    let path = format!("/api/v1/visits/{id}/number-b");
    // Well formed, but another card's security code.
    type_number(&base, &path, "55021720349999").await;
    call(&app, "GET", "/kiosk/api/visit", Body::empty(), false).await;
    let status = reception(&base, reqwest::Method::GET, &path, None).await;
    assert_eq!(status.1["last"]["outcome"], "wrong", "{:?}", status.1);
    assert_eq!(status.1["last"]["tries_left"], 10, "tries before the offer");
    let photo = reception(&base, reqwest::Method::GET, &photo_path(&id), None).await;
    assert_eq!(photo.0, 404);
    // Staff may type once more (tries to spare); the right number then opens it.
    type_number(&base, &path, "55021720341234").await;
    call(&app, "GET", "/kiosk/api/visit", Body::empty(), false).await;
    let status = reception(&base, reqwest::Method::GET, &path, None).await;
    assert_eq!(
        (
            status.1["offers"].as_u64(),
            status.1["last"]["outcome"].as_str()
        ),
        (Some(2), Some("opened"))
    );
    assert_eq!(status.1["last"]["tries_left"], 9);
}

#[tokio::test]
async fn another_institutions_staff_cannot_type_for_the_visit() {
    let (app, _dir, base) = reading_kiosk().await;
    let (id, _) = place(&app).await;
    post(&app, "/kiosk/api/visual", json!({})).await;
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/visits/{id}/number-b"))
        .bearer_auth("demo-token-other-clinic")
        .json(&json!({ "number_b": "55021720341234" }))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(res.status().as_u16(), 403 | 404),
        "{}",
        res.status()
    );
}

/// Card-face frames need the OCR engine (`--features ocr`, ./scripts/setup-ocr) and a Japanese
/// font to draw the demo card with.
#[cfg(feature = "ocr")]
mod camera {
    use super::*;

    async fn frame(app: &Router, jpeg: Vec<u8>) -> Value {
        let r = call(app, "POST", "/kiosk/api/card-face", Body::from(jpeg), false).await;
        assert_eq!(r.0, 200, "{:?}", r.1);
        r.1
    }

    fn jpeg(img: &image::RgbImage) -> Vec<u8> {
        let mut out = vec![];
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(img)
            .unwrap();
        out
    }

    #[tokio::test]
    async fn the_cards_face_held_to_the_camera_opens_its_photo_once() {
        let (app, _dir, base) = reading_kiosk().await;
        let (id, _) = place(&app).await;
        let mut seen = vec![];
        for f in crate::demo::held_up(None, 4, 7, false).unwrap() {
            let r = frame(&app, f).await;
            seen.push(r["seen"].as_str().unwrap().to_owned());
            if r["seen"] == "opened" {
                assert!(r["outline"].as_array().is_some_and(|o| o.len() == 4), "{r}");
                assert_eq!(r["frame"], json!([640, 480]));
                break;
            }
        }
        assert_eq!(seen.last().map(String::as_str), Some("opened"), "{seen:?}");
        let offers = audited(&base, "card_face_verify", &id).await;
        assert_eq!(offers.len(), 1, "one VERIFY");
        assert_eq!(
            (offers[0]["source"].as_str(), offers[0]["outcome"].as_str()),
            (Some("camera"), Some("opened"))
        );
        // Staff now get the card photo without typing anything.
        post(&app, "/kiosk/api/visual", json!({})).await;
        let photo = reception(&base, reqwest::Method::GET, &photo_path(&id), None).await;
        assert_ne!(photo.0, 404);
    }

    #[tokio::test]
    async fn another_cards_face_is_refused_once_and_never_tried_again() {
        let (app, _dir, base) = reading_kiosk().await;
        let (id, _) = place(&app).await;
        let mut last = Value::Null;
        for f in crate::demo::held_up(None, 4, 11, true).unwrap() {
            last = frame(&app, f).await;
            if last["seen"] != "read_again" {
                break;
            }
        }
        assert_eq!(last["seen"], "wrong", "{last}");
        assert_eq!(last["tries_left"], 9);
        // The right card's face now: still not tried (no second automatic try); staff.
        let right = crate::demo::held_up(None, 1, 7, false).unwrap().remove(0);
        assert_eq!(frame(&app, right).await["seen"], "to_staff");
        let offers = audited(&base, "card_face_verify", &id).await;
        assert_eq!(offers.len(), 1, "{offers:?}");
        assert_eq!(offers[0]["outcome"], "wrong");
    }

    #[tokio::test]
    async fn no_card_two_cards_and_the_back_are_told_apart_and_upside_down_is_read() {
        use kakunin_cardface::render;
        let (app, _dir, base) = reading_kiosk().await;
        let (id, _) = place(&app).await;
        let fonts = render::Fonts::find().unwrap();
        let front = render::front(&crate::demo::printed_face(None, false), &fonts).unwrap();
        let shot = |seed, upside_down, centre: Option<(f32, f32)>| render::Shot {
            frame: (640, 480),
            rotation: 3.0,
            tilt: 5.0,
            scale: if centre.is_some() { 0.4 } else { 0.8 },
            upside_down,
            blur: 0.0,
            glare: None,
            light: 1.0,
            jpeg_quality: 100,
            hand: 0,
            seed,
            centre,
        };
        let empty = image::RgbImage::from_pixel(640, 480, image::Rgb([40, 40, 45]));
        assert_eq!(frame(&app, jpeg(&empty)).await["seen"], "no_card");
        let back = render::photograph(&render::back("123456789018", &fonts), &shot(2, false, None));
        let r = frame(&app, jpeg(&back)).await;
        assert_eq!(r["seen"], "back_shown", "{r}");
        assert!(r["outline"].is_array(), "the card was found: {r}");
        let (a, b) = (
            shot(3, false, Some((0.27, 0.5))),
            shot(4, false, Some((0.73, 0.5))),
        );
        let two = render::photograph_all(&[(&front, &a), (&front, &b)], &a);
        assert_eq!(frame(&app, jpeg(&two)).await["seen"], "several_cards");
        assert!(audited(&base, "card_face_verify", &id).await.is_empty());
        let mut seen = Value::Null;
        for seed in 5..9 {
            seen = frame(
                &app,
                jpeg(&render::photograph(&front, &shot(seed, true, None))),
            )
            .await;
            if seen["seen"] == "opened" {
                break;
            }
        }
        assert_eq!(seen["seen"], "opened", "{seen}");
    }

    #[tokio::test]
    async fn a_card_taken_off_mid_read_ends_the_step_with_a_clear_code() {
        let (app, _dir, _) = reading_kiosk().await;
        place(&app).await;
        call(&app, "DELETE", "/kiosk/api/card", Body::empty(), false).await;
        let f = crate::demo::held_up(None, 1, 7, false).unwrap().remove(0);
        let r = call(&app, "POST", "/kiosk/api/card-face", Body::from(f), false).await;
        assert_eq!((r.0, code(&r)), (409, "no_card"));
    }
}
