//! What the screens rely on: sign-in sessions (wrong login, expiry, sign-out), the card photo
//! handed over for visual mode (held in memory, staff of the same institution only, dropped once
//! staff decide), the reader's own view of its visit, and the pages with their security headers.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{assert_error, harnesses, harnesses_with};
use http_body_util::BodyExt;
use kakunin_evidence::attestation::AttestedOutcome;
use kakunin_server::Config;
use serde_json::json;
use tower::ServiceExt;

async fn sign_in(h: &common::Harness, id: &str, password: &str) -> (StatusCode, serde_json::Value) {
    h.call(
        "POST",
        "/api/v1/sessions",
        None,
        Some(json!({ "staff_id": id, "password": password })),
    )
    .await
}

#[tokio::test]
async fn sign_in_use_and_sign_out_and_wrong_logins() {
    for h in harnesses().await {
        let (s, session) = sign_in(&h, "staff-reception", "demo-reception").await;
        assert_eq!(s, StatusCode::CREATED, "{session}");
        let token = session["token"].as_str().unwrap().to_owned();
        assert_eq!(token.len(), 64);
        assert_eq!(session["staff"]["role"], "reception");
        let (s, me) = h
            .call("GET", "/api/v1/sessions/current", Some(&token), None)
            .await;
        assert_eq!(
            (s, me["id"].as_str()),
            (StatusCode::OK, Some("staff-reception"))
        );
        // The session token works on the API like any staff token.
        let (s, _) = h.call("GET", "/api/v1/visits", Some(&token), None).await;
        assert_eq!(s, StatusCode::OK);

        // Wrong password, unknown staff and another staff member's password: one answer.
        for (id, pw) in [
            ("staff-reception", "wrong"),
            ("nobody", "demo-reception"),
            ("staff-reception", "demo-clerk"),
        ] {
            assert_error(
                &sign_in(&h, id, pw).await,
                StatusCode::UNAUTHORIZED,
                "wrong_login",
            );
        }
        assert_error(
            &h.call_raw("/api/v1/sessions", "x", "{\"staff_id\": 1")
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_types",
        );

        assert_error(
            &h.call_raw("/api/v1/sessions", "x", "{\"staff_id\": ").await,
            StatusCode::BAD_REQUEST,
            "malformed_json",
        );
        let (s, _) = h
            .call("DELETE", "/api/v1/sessions/current", Some(&token), None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_error(
            &h.call("GET", "/api/v1/sessions/current", Some(&token), None)
                .await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        );
        // Sign-in, sign-out and each failed sign-in are audited.
        let events: Vec<String> = h
            .audit_records()
            .await
            .iter()
            .filter(|r| r["action"] == "sign_in")
            .map(|r| r["detail"].to_string())
            .collect();
        let count = |e: &str| events.iter().filter(|d| d.contains(e)).count();
        assert_eq!(
            (
                count("\\\"sign_in\\\""),
                count("sign_out"),
                count("sign_in_failed")
            ),
            (1, 1, 3),
            "{events:?}"
        );
    }
}

#[tokio::test]
async fn repeated_failed_sign_ins_lock_that_staff_id_only() {
    for h in harnesses().await {
        for _ in 0..5 {
            assert_error(
                &sign_in(&h, "staff-pharmacist", "guess").await,
                StatusCode::UNAUTHORIZED,
                "wrong_login",
            );
        }
        // Now even the right password is refused for a while; other staff are not affected.
        assert_error(
            &sign_in(&h, "staff-pharmacist", "demo-pharmacist").await,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sign_ins",
        );
        let (s, _) = sign_in(&h, "staff-reception", "demo-reception").await;
        assert_eq!(s, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn an_ended_session_is_refused_as_expired() {
    let config = Config {
        session_ttl: chrono::Duration::milliseconds(300),
        ..Config::default()
    };
    for h in harnesses_with(config.clone()).await {
        let (_, session) = sign_in(&h, "staff-reception", "demo-reception").await;
        let token = session["token"].as_str().unwrap().to_owned();
        let (s, _) = h.call("GET", "/api/v1/visits", Some(&token), None).await;
        assert_eq!(s, StatusCode::OK);
        // Cached as valid a moment ago; the end is still checked on every use.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert_error(
            &h.call("GET", "/api/v1/visits", Some(&token), None).await,
            StatusCode::UNAUTHORIZED,
            "session_expired",
        );
    }
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A, 0x7E, 0x9B,
    0x55, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0xE5, 0x27, 0xDE, 0xFC, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

async fn photo(h: &common::Harness, visit: &str, token: &str) -> (StatusCode, String, Vec<u8>) {
    let req = Request::builder()
        .uri(format!("/api/v1/visits/{visit}/photo"))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = h.app.clone().oneshot(req).await.unwrap();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let status = res.status();
    (
        status,
        kind,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

#[tokio::test]
async fn card_photo_for_visual_mode_is_held_for_own_staff_until_they_decide() {
    for h in harnesses().await {
        let v = h.start(&h.card(2), "patient").await;
        // Not an image: refused, and the visit stays where it was.
        assert_error(
            &h.reader_call(
                &format!("/api/v1/visits/{v}/visual-request"),
                json!({ "photo": kakunin_evidence::b64(b"not an image") }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_photo",
        );
        let (_, view) = h
            .reader_call(&format!("/api/v1/visits/{v}/view"), json!({}))
            .await;
        assert_eq!(view["next"], "identity", "{view}");
        // No photo handed over yet.
        let (s, _, _) = photo(&h, &v, "demo-token-reception").await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // Attempts run out (the server moves the visit to visual mode), then the reader hands
        // over the photo: asking twice is accepted.
        for _ in 0..3 {
            h.face(&v, AttestedOutcome::NoMatch).await;
        }
        let (s, view) = h
            .reader_call(
                &format!("/api/v1/visits/{v}/visual-request"),
                json!({ "photo": kakunin_evidence::b64(PNG) }),
            )
            .await;
        assert_eq!(
            (s, view["next"].as_str()),
            (StatusCode::OK, Some("visual_mode")),
            "{view}"
        );

        let (s, kind, bytes) = photo(&h, &v, "demo-token-reception").await;
        assert_eq!(
            (s, kind.as_str(), bytes.as_slice()),
            (StatusCode::OK, "image/png", PNG)
        );
        let (s, _, _) = photo(&h, &v, "demo-token-other-clinic").await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _, _) = photo(&h, &v, "demo-token-clerk").await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        let (s, _) = h
            .call(
                "POST",
                &format!("/api/v1/visits/{v}/visual"),
                Some("demo-token-reception"),
                Some(json!({ "confirmed": true })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, _, _) = photo(&h, &v, "demo-token-reception").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "dropped once staff decided");
        // A second decision (double submission) is refused, not recorded twice.
        assert_error(
            &h.call(
                "POST",
                &format!("/api/v1/visits/{v}/visual"),
                Some("demo-token-reception"),
                Some(json!({ "confirmed": true })),
            )
            .await,
            StatusCode::CONFLICT,
            "invalid_transition",
        );
    }
}

#[tokio::test]
async fn pages_are_served_with_security_headers() {
    let h = harnesses().await.remove(0);
    for path in ["/login", "/reception", "/municipal"] {
        let res = h
            .app
            .clone()
            .oneshot(Request::builder().uri(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert_eq!(res.headers()["cache-control"], "no-store");
    }
    let res = h
        .app
        .clone()
        .oneshot(Request::builder().uri("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/login");
}

#[tokio::test]
async fn reception_sees_whom_it_confirms_readers_do_not() {
    for h in harnesses().await {
        let card = h.card(2);
        let v = h.start(&card, "patient").await;
        let (s, view) = h
            .call(
                "GET",
                &format!("/api/v1/visits/{v}"),
                Some("demo-token-reception"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let q = h.store.qualification_of_person(2).await.unwrap();
        let holder = &view["holder"];
        assert_eq!(holder["name"], q.name.as_str(), "{view}");
        assert_eq!(holder["name_kana"], q.name_kana.as_str());
        assert_eq!(
            holder["birth_date_wareki"],
            kakunin_core::wareki::japanese_date(q.birth_date)
                .unwrap()
                .as_str()
        );
        assert!(holder["age"].as_u64().is_some());
        // The reader's own view carries no personal data.
        let (_, reader_view) = h
            .reader_call(&format!("/api/v1/visits/{v}/view"), json!({}))
            .await;
        assert!(reader_view.get("holder").is_none(), "{reader_view}");
    }
}

#[tokio::test]
async fn a_visit_the_patient_walked_away_from_leaves_the_queue() {
    let config = Config {
        visit_expiry: chrono::Duration::milliseconds(200),
        ..Config::default()
    };
    for h in harnesses_with(config.clone()).await {
        let v = h.start(&h.card(2), "patient").await;
        let listed = |body: &serde_json::Value| {
            body.as_array()
                .unwrap()
                .iter()
                .any(|x| x["id"] == v.as_str())
        };
        let (_, now) = h
            .call("GET", "/api/v1/visits", Some("demo-token-reception"), None)
            .await;
        assert!(listed(&now), "{now}");
        assert!(
            now[0]["holder"]["name"].is_string(),
            "the queue names the patient"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (_, later) = h
            .call("GET", "/api/v1/visits", Some("demo-token-reception"), None)
            .await;
        assert!(!listed(&later), "{later}");
        let (_, all) = h
            .call(
                "GET",
                "/api/v1/visits?include_abandoned=true",
                Some("demo-token-reception"),
                None,
            )
            .await;
        let row = all
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == v.as_str())
            .unwrap()
            .clone();
        assert_eq!(row["abandoned"], true, "{row}");
    }
}
