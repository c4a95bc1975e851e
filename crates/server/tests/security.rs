//! Findings of the attacker's review (issue 15), one behaviour per test: who may enrol readers,
//! suspended and revoked readers, replayed signed requests, passwords that are no tokens,
//! throttled sign-ins, clerks of another municipality, and the smaller HTTP items.

mod common;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use common::{assert_error, harnesses, signed_request, Harness};
use kakunin_evidence::attestation::ReaderKey;
use serde_json::{json, Value};
use std::net::SocketAddr;
use tower::ServiceExt;

async fn enrol(h: &Harness, token: &str, id: &str, key: &ReaderKey) -> (StatusCode, Value) {
    let clinic = kakunin_store::seed::demo_institution_codes().0;
    h.call(
        "POST",
        "/api/v1/readers",
        Some(token),
        Some(json!({ "id": id, "public_key": key.public_key_b64(), "institution_code": clinic })),
    )
    .await
}

async fn set_status(h: &Harness, token: &str, id: &str, action: &str) -> (StatusCode, Value) {
    h.call(
        "POST",
        &format!("/api/v1/readers/{id}/status"),
        Some(token),
        Some(json!({ "action": action, "reason": "test" })),
    )
    .await
}

/// A visit started by reader `id` with `key`, as any reader would.
async fn start_as(h: &Harness, key: &ReaderKey, id: &str) -> (StatusCode, Value) {
    let card = h.card(2);
    h.signed_as(
        key,
        id,
        "/api/v1/visits",
        json!({ "certificate": kakunin_evidence::b64(card.certificate_der()), "placed_by": "patient" }),
    )
    .await
}

#[tokio::test]
async fn a_reader_asked_for_by_reception_waits_for_the_operator() {
    for h in harnesses().await {
        let key = ReaderKey::generate();
        let (s, v) = enrol(&h, "demo-token-reception", "r-pending", &key).await;
        assert_eq!(
            (s, v["status"].as_str()),
            (StatusCode::CREATED, Some("pending")),
            "{v}"
        );
        // Its signature is not accepted: it cannot start visits or attest a match.
        assert_error(
            &start_as(&h, &key, "r-pending").await,
            StatusCode::FORBIDDEN,
            "reader_pending",
        );
        // Reception cannot approve its own request.
        assert_error(
            &set_status(&h, "demo-token-reception", "r-pending", "approve").await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
        let (s, v) = set_status(&h, "demo-token-admin", "r-pending", "approve").await;
        assert_eq!(
            (s, v["status"].as_str()),
            (StatusCode::OK, Some("active")),
            "{v}"
        );
        let (s, v) = start_as(&h, &key, "r-pending").await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
}

#[tokio::test]
async fn pharmacists_and_clerks_cannot_enrol_an_active_reader() {
    for h in harnesses().await {
        let key = ReaderKey::generate();
        let (s, v) = enrol(&h, "demo-token-pharmacist", "r-ph", &key).await;
        assert_eq!(v["status"], "pending", "{s} {v}");
        assert_error(
            &enrol(&h, "demo-token-clerk", "r-clerk", &key).await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
    }
}

#[tokio::test]
async fn a_suspended_or_revoked_reader_is_refused_at_once() {
    for h in harnesses().await {
        let (s, _) = start_as(&h, &h.reader, &h.reader_id).await;
        assert_eq!(s, StatusCode::CREATED);
        // The clinic suspends its own reader (a stolen kiosk), with effect on the next request.
        let (s, v) = set_status(&h, "demo-token-reception", &h.reader_id, "suspend").await;
        assert_eq!(
            (s, v["status"].as_str()),
            (StatusCode::OK, Some("suspended")),
            "{v}"
        );
        assert_error(
            &start_as(&h, &h.reader, &h.reader_id).await,
            StatusCode::FORBIDDEN,
            "reader_disabled",
        );
        // Another clinic's staff may not touch it; only the operator resumes it.
        assert_error(
            &set_status(&h, "demo-token-other-clinic", &h.reader_id, "suspend").await,
            StatusCode::FORBIDDEN,
            "other_institution",
        );
        let (s, _) = set_status(&h, "demo-token-admin", &h.reader_id, "resume").await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = start_as(&h, &h.reader, &h.reader_id).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, _) = set_status(&h, "demo-token-admin", &h.reader_id, "revoke").await;
        assert_eq!(s, StatusCode::OK);
        assert_error(
            &start_as(&h, &h.reader, &h.reader_id).await,
            StatusCode::FORBIDDEN,
            "reader_disabled",
        );
        assert_error(
            &set_status(&h, "demo-token-admin", &h.reader_id, "resume").await,
            StatusCode::CONFLICT,
            "reader_status_conflict",
        );
        // Listed with its status; each change audited.
        let (_, list) = h
            .call("GET", "/api/v1/readers", Some("demo-token-reception"), None)
            .await;
        assert!(list
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == h.reader_id.as_str() && r["status"] == "revoked"));
        let changes = h.audit_count("reader_status").await;
        assert_eq!(changes, 3);
    }
}

#[tokio::test]
async fn a_captured_signed_request_replayed_unchanged_is_refused() {
    for h in harnesses().await {
        let card = h.card(2);
        let body = json!({ "certificate": kakunin_evidence::b64(card.certificate_der()), "placed_by": "patient" }).to_string();
        let captured = signed_request(&h.reader, &h.reader_id, "/api/v1/visits", &body);
        let replay = {
            let mut b = Request::builder().method("POST").uri("/api/v1/visits");
            for (k, v) in captured.headers() {
                b = b.header(k, v);
            }
            b.body(Body::from(body.clone())).unwrap()
        };
        let (s, v) = h.send(captured).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (s, v) = h.send(replay).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("request_replayed")),
            "a replay opened a visit: {v}"
        );
    }
}

/// The ids are kept in the database, not one process's memory, so every server process on it
/// refuses a replay.
#[tokio::test]
async fn a_used_request_id_is_refused_by_the_store_itself() {
    for h in harnesses().await {
        let id = "0123456789abcdef0123456789abcdef";
        let w = chrono::Duration::seconds(600);
        assert!(h.store.first_use_of_request_id("r", id, w).await.unwrap());
        assert!(!h.store.first_use_of_request_id("r", id, w).await.unwrap());
        // Ids are per reader.
        assert!(h.store.first_use_of_request_id("r2", id, w).await.unwrap());
    }
}

#[tokio::test]
async fn a_password_is_never_a_bearer_token() {
    for h in harnesses().await {
        for password in ["demo-reception", "demo-admin"] {
            assert_error(
                &h.call("GET", "/api/v1/visits", Some(password), None).await,
                StatusCode::UNAUTHORIZED,
                "invalid_token",
            );
        }
        // Passwords are stored as argon2id with a salt each, never as a plain hash.
        let mut salts = vec![];
        for (id, ..) in kakunin_store::seed::DEMO_STAFF {
            let phc = h.store.password_hash(id).await.unwrap().unwrap();
            assert!(phc.starts_with("$argon2id$"), "{phc}");
            salts.push(phc.split('$').nth(4).unwrap().to_owned());
        }
        salts.sort();
        salts.dedup();
        assert_eq!(salts.len(), kakunin_store::seed::DEMO_STAFF.len());
    }
}

#[tokio::test]
async fn api_tokens_are_scoped_expire_and_can_be_revoked() {
    for h in harnesses().await {
        let mut tx = h.store.transaction().await.unwrap();
        let (token, record) = tx
            .issue_api_token(
                "staff-reception",
                "terminal",
                chrono::Utc::now() + chrono::Duration::days(1),
            )
            .await
            .unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        assert_eq!(
            record.institution_code,
            kakunin_store::seed::demo_institution_codes().0
        );
        let (s, _) = h.call("GET", "/api/v1/visits", Some(&token), None).await;
        assert_eq!(s, StatusCode::OK);
        // Scoped to reception: no operator actions.
        assert_error(
            &h.call("GET", "/api/v1/audit", Some(&token), None).await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
        let mut tx = h.store.transaction().await.unwrap();
        tx.revoke_api_token(&record.id).await.unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        assert!(h.store.staff_by_token(&token).await.unwrap().is_none());
        let mut tx = h.store.transaction().await.unwrap();
        let (expired, _) = tx
            .issue_api_token(
                "staff-reception",
                "old",
                chrono::Utc::now() - chrono::Duration::seconds(1),
            )
            .await
            .unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        assert_error(
            &h.call("GET", "/api/v1/visits", Some(&expired), None).await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        );
    }
}

async fn sign_in_from(h: &Harness, ip: [u8; 4], id: &str, password: &str) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method("POST")
        .uri("/api/v1/sessions")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({ "staff_id": id, "password": password }).to_string(),
        ))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    h.send(req).await
}

#[tokio::test]
async fn wrong_passwords_from_elsewhere_do_not_lock_out_the_desk() {
    for h in harnesses().await {
        let desk = [10, 0, 0, 5];
        let attacker = [10, 0, 0, 66];
        let (s, _) = sign_in_from(&h, desk, "staff-reception", "demo-reception").await;
        assert_eq!(s, StatusCode::CREATED);
        for _ in 0..6 {
            sign_in_from(&h, attacker, "staff-reception", "guess").await;
        }
        // The attacker is throttled for this account ...
        assert_error(
            &sign_in_from(&h, attacker, "staff-reception", "demo-reception").await,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sign_ins",
        );
        // ... but the receptionist at her usual desk signs in with the right password.
        let (s, v) = sign_in_from(&h, desk, "staff-reception", "demo-reception").await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
}

#[tokio::test]
async fn one_source_spraying_unknown_ids_is_limited() {
    for h in harnesses().await {
        let attacker = [10, 0, 0, 77];
        for n in 0..kakunin_server::limits::SOURCE_FAILURES {
            sign_in_from(&h, attacker, &format!("guess-{n}"), "x").await;
        }
        assert_error(
            &sign_in_from(&h, attacker, "staff-pharmacist", "demo-pharmacist").await,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sign_ins",
        );
        let (s, _) = sign_in_from(&h, [10, 0, 0, 8], "staff-pharmacist", "demo-pharmacist").await;
        assert_eq!(s, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn a_clerk_of_another_municipality_gets_403() {
    for h in harnesses().await {
        h.store
            .insert_institution(&kakunin_store::directory::Institution {
                code: "271004".into(),
                name: "大阪市役所".into(),
                kind: "municipality".into(),
                issues_e_prescriptions: false,
            })
            .await
            .unwrap();
        let mut tx = h.store.transaction().await.unwrap();
        tx.insert_staff(
            &kakunin_store::directory::Staff {
                id: "osaka-clerk".into(),
                institution_code: "271004".into(),
                name: "窓口 六郎".into(),
                role: kakunin_core::roles::Role::MunicipalClerk,
            },
            "osaka-password-1",
        )
        .await
        .unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        let mut tx = h.store.transaction().await.unwrap();
        let (token, _) = tx
            .issue_api_token(
                "osaka-clerk",
                "test",
                chrono::Utc::now() + chrono::Duration::days(1),
            )
            .await
            .unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        let card = kakunin_store::seed::demo_card_id(1);
        for (method, path, body) in [
            ("GET", format!("/api/v1/municipal/cards/{card}"), None),
            (
                "POST",
                format!("/api/v1/municipal/cards/{card}/pin-reset"),
                Some(json!({ "new_pin": "4321" })),
            ),
            (
                "POST",
                format!("/api/v1/municipal/cards/{card}/switch"),
                Some(json!({ "to": "face_auth" })),
            ),
        ] {
            assert_error(
                &h.call(method, &path, Some(&token), body).await,
                StatusCode::FORBIDDEN,
                "other_municipality",
            );
        }
        // The issuing municipality's clerk still can.
        let (s, _) = h
            .call(
                "GET",
                &format!("/api/v1/municipal/cards/{card}"),
                Some("demo-token-clerk"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }
}

#[tokio::test]
async fn answers_are_not_cached_nor_sniffed_and_the_bearer_scheme_is_case_insensitive() {
    for h in harnesses().await {
        for scheme in ["bearer", "BEARER", "Bearer"] {
            let req = Request::builder()
                .uri("/api/v1/visits")
                .header("authorization", format!("{scheme} demo-token-reception"))
                .body(Body::empty())
                .unwrap();
            let res = h.app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{scheme}");
            assert_eq!(res.headers()["cache-control"], "no-store");
            assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        }
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    for h in harnesses().await {
        let big = format!("{{\"staff_id\": \"{}\"}}", "x".repeat(3 << 20));
        let (s, v) = h.call_raw("/api/v1/sessions", "none", &big).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
        let reader_big = format!("{{\"placed_by\": \"{}\"}}", "x".repeat(2 << 20));
        let (s, v) = h
            .send(signed_request(
                &h.reader,
                &h.reader_id,
                "/api/v1/visits",
                &reader_big,
            ))
            .await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    }
}

#[tokio::test]
async fn a_database_outage_answers_503_quickly_without_its_details() {
    for h in harnesses().await {
        h.store.pool.close().await;
        let started = std::time::Instant::now();
        let (s, v) = h
            .call("GET", "/api/v1/visits", Some("demo-token-reception"), None)
            .await;
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
        // The token may still be cached for a moment; a write must reach the database.
        let (s2, v2) = h
            .call(
                "POST",
                "/api/v1/sessions",
                None,
                Some(json!({ "staff_id": "staff-reception", "password": "demo-reception" })),
            )
            .await;
        for (s, v) in [(s, v), (s2, v2)] {
            if s == StatusCode::OK {
                continue;
            }
            assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
            let msg = v["error"]["message"].as_str().unwrap();
            assert!(
                !msg.contains("sqlx") && !msg.contains("corrupt") && !msg.contains("pool"),
                "{msg}"
            );
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}

#[tokio::test]
async fn the_operator_manages_staff_and_tokens_through_the_api() {
    for h in harnesses().await {
        let clinic = kakunin_store::seed::demo_institution_codes().0;
        let new = json!({ "id": "staff-new", "name": "新人 七子", "role": "reception", "institution_code": clinic, "password": "first-password-1" });
        assert_error(
            &h.call(
                "POST",
                "/api/v1/staff",
                Some("demo-token-reception"),
                Some(new.clone()),
            )
            .await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
        let short = json!({ "id": "staff-x", "name": "x", "role": "reception", "institution_code": clinic, "password": "short" });
        assert_error(
            &h.call(
                "POST",
                "/api/v1/staff",
                Some("demo-token-admin"),
                Some(short),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
        );
        let (s, v) = h
            .call("POST", "/api/v1/staff", Some("demo-token-admin"), Some(new))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        // The new member changes the first password, giving it.
        let (_, session) = sign_in_from(&h, [10, 0, 0, 5], "staff-new", "first-password-1").await;
        let own = session["token"].as_str().unwrap().to_owned();
        assert_error(
            &h.call(
                "POST",
                "/api/v1/staff/staff-new/password",
                Some(&own),
                Some(json!({ "current_password": "wrong", "new_password": "second-password-2" })),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "wrong_login",
        );
        let (s, _) = h
            .call(
                "POST",
                "/api/v1/staff/staff-new/password",
                Some(&own),
                Some(json!({ "current_password": "first-password-1", "new_password": "second-password-2" })),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = sign_in_from(&h, [10, 0, 0, 5], "staff-new", "second-password-2").await;
        assert_eq!(s, StatusCode::CREATED);
        // Another member may not touch it.
        assert_error(
            &h.call(
                "POST",
                "/api/v1/staff/staff-new/password",
                Some("demo-token-pharmacist"),
                Some(json!({ "new_password": "taken-over-password" })),
            )
            .await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
        // A token for the terminal, shown once, revoked with effect at once (even cached).
        let (s, issued) = h
            .call(
                "POST",
                "/api/v1/staff/staff-new/tokens",
                Some("demo-token-admin"),
                Some(json!({ "label": "terminal pc-1", "days": 30 })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{issued}");
        let token = issued["token"].as_str().unwrap().to_owned();
        let (s, _) = h.call("GET", "/api/v1/visits", Some(&token), None).await;
        assert_eq!(s, StatusCode::OK);
        let (_, list) = h
            .call("GET", "/api/v1/staff/staff-new/tokens", Some(&own), None)
            .await;
        assert!(
            !list.to_string().contains(&token),
            "a listing never shows the token"
        );
        let id = issued["record"]["id"].as_str().unwrap();
        let (s, _) = h
            .call(
                "DELETE",
                &format!("/api/v1/tokens/{id}"),
                Some("demo-token-admin"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_error(
            &h.call("GET", "/api/v1/visits", Some(&token), None).await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        );
        let changes = h.audit_count("staff_account").await;
        assert_eq!(changes, 4, "add, passwd, token, revoke");
    }
}

#[tokio::test]
async fn demo_tokens_are_added_to_an_old_demo_database_but_a_revoked_one_stays_revoked() {
    for h in harnesses().await {
        // A database from before API tokens has none for the clerk.
        sqlx::query("DELETE FROM api_tokens WHERE staff_id = 'staff-clerk'")
            .execute(&h.store.pool)
            .await
            .unwrap();
        assert!(h
            .store
            .staff_by_token("demo-token-clerk")
            .await
            .unwrap()
            .is_none());
        let tokens = h.store.api_tokens(Some("staff-admin")).await.unwrap();
        let mut tx = h.store.transaction().await.unwrap();
        tx.revoke_api_token(&tokens[0].id).await.unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        h.store.ensure_demo_api_tokens().await.unwrap();
        assert!(h
            .store
            .staff_by_token("demo-token-admin")
            .await
            .unwrap()
            .is_none());
        assert!(h
            .store
            .staff_by_token("demo-token-clerk")
            .await
            .unwrap()
            .is_some());
    }
}
