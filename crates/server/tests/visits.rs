//! The visit flow end to end through the API, and every forged, replayed or unknown input to it.

mod common;

use axum::http::StatusCode;
use common::{assert_error, harnesses};
use kakunin_evidence::attestation::{AttestedMethod, AttestedOutcome, ReaderKey};
use serde_json::json;

#[tokio::test]
async fn face_auth_patient_by_face_with_consent_and_information_views() {
    for h in harnesses().await {
        let card = h.card(2); // face-auth, registered
        let v = h.start(&card, "helper").await;
        let (s, view) = h.face(&v, AttestedOutcome::Match).await;
        assert_eq!(s, StatusCode::OK, "{view}");
        assert_eq!(view["next"], "consent");
        assert_eq!(
            view["identity_methods"],
            json!(["face", "visual"]),
            "never a PIN for a face-auth card"
        );

        let (s, _) = h
            .call(
                "GET",
                &format!("/api/v1/visits/{v}/result"),
                Some("demo-token-reception"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT, "no result before consent");

        let (s, view) = h.reader_call(&format!("/api/v1/visits/{v}/consent"), json!({ "medication": true, "checkup": false, "clinical": false, "limit_amount": false, "assisted": true, "prescription": "electronic" })).await;
        assert_eq!(
            (s, view["next"].as_str()),
            (StatusCode::OK, Some("done")),
            "{view}"
        );

        let (s, r) = h
            .call(
                "GET",
                &format!("/api/v1/visits/{v}/result"),
                Some("demo-token-reception"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["result"]["validity"], "valid");
        assert!(
            r["result"]["limit_category"].is_null(),
            "limit category only with consent"
        );
        assert_eq!(r["viewable"], json!(["medication"]));
        assert_eq!(r["consent_assisted"], true);

        let (s, items) = h
            .call(
                "GET",
                &format!("/api/v1/visits/{v}/information/medication"),
                Some("demo-token-reception"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{items}");
        assert_eq!(items.as_array().unwrap().len(), 1);
        assert_error(
            &h.call(
                "GET",
                &format!("/api/v1/visits/{v}/information/checkup"),
                Some("demo-token-reception"),
                None,
            )
            .await,
            StatusCode::FORBIDDEN,
            "consent_missing",
        );
        assert_error(
            &h.call(
                "GET",
                &format!("/api/v1/visits/{v}/information/medication"),
                Some("demo-token-other-clinic"),
                None,
            )
            .await,
            StatusCode::FORBIDDEN,
            "other_institution",
        );
        assert_error(
            &h.call(
                "GET",
                &format!("/api/v1/visits/{v}/information/medication"),
                Some("demo-token-clerk"),
                None,
            )
            .await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );

        let (s, queue) = h
            .call("GET", "/api/v1/visits", Some("demo-token-reception"), None)
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(queue[0]["id"], v.as_str());
        assert_eq!(queue[0]["placed_by"], "helper");

        let (s, report) = h
            .call(
                "GET",
                "/api/v1/audit/verify",
                Some("demo-token-admin"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert!(report["broken"].is_null(), "{report}");
        let records = h.audit_records().await;
        let actions: Vec<&str> = records
            .iter()
            .map(|r| r["action"].as_str().unwrap())
            .collect();
        for a in [
            "visit_started",
            "identity_verification",
            "consent",
            "eligibility_check",
            "information_view",
        ] {
            assert!(actions.contains(&a), "{a} audited: {actions:?}");
        }
    }
}

#[tokio::test]
async fn failed_faces_go_to_visual_mode_then_registration_on_the_spot() {
    for h in harnesses().await {
        let v = h.start(&h.card(3), "patient").await; // face-auth, not registered
        for left in [2, 1] {
            let (s, view) = h.face(&v, AttestedOutcome::NoMatch).await;
            assert_eq!(
                (s, view["face_attempts_left"].as_i64()),
                (StatusCode::OK, Some(left)),
                "{view}"
            );
        }
        let (_, view) = h.face(&v, AttestedOutcome::SpoofSuspected).await;
        assert_eq!(view["next"], "visual_mode");
        assert_error(
            &h.call(
                "POST",
                &format!("/api/v1/visits/{v}/visual"),
                Some("demo-token-reception"),
                Some(json!({ "confirmed": true, "holder_present": false })),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "visual_requires_presence",
        );
        assert_error(
            &h.call(
                "POST",
                &format!("/api/v1/visits/{v}/visual"),
                Some("demo-token-other-clinic"),
                Some(json!({ "confirmed": true })),
            )
            .await,
            StatusCode::FORBIDDEN,
            "other_institution",
        );
        let (s, view) = h
            .call(
                "POST",
                &format!("/api/v1/visits/{v}/visual"),
                Some("demo-token-reception"),
                Some(json!({ "confirmed": true })),
            )
            .await;
        assert_eq!(
            (s, view["next"].as_str()),
            (StatusCode::OK, Some("registration_offer")),
            "{view}"
        );
        let (s, view) = h
            .reader_call(
                &format!("/api/v1/visits/{v}/registration"),
                json!({ "accept": true }),
            )
            .await;
        assert_eq!(
            (s, view["next"].as_str()),
            (StatusCode::OK, Some("consent")),
            "{view}"
        );
        let (_, card) = h
            .call(
                "GET",
                "/api/v1/municipal/cards/C00000000003",
                Some("demo-token-clerk"),
                None,
            )
            .await;
        assert_eq!(card["registered"], true);
        assert_eq!(
            card["history"].as_array().unwrap().last().unwrap()["channel"],
            "card_reader"
        );
        assert_eq!(
            card["history"].as_array().unwrap().last().unwrap()["staff"],
            "staff-reception"
        );
    }
}

#[tokio::test]
async fn pin_path_for_standard_cards_only() {
    for h in harnesses().await {
        let card = h.card(1);
        let v = h.start(&card, "patient").await;
        let n = h.nonce(&v).await;
        let pin = |n: &str, sig: Vec<u8>| json!({ "method": "pin", "nonce": n, "signature": kakunin_evidence::b64(sig), "certificate": kakunin_evidence::b64(card.certificate_der()) });
        // A signature by another card fails.
        let other = h.card(4);
        assert_error(
            &h.reader_call(
                &format!("/api/v1/visits/{v}/identity"),
                pin(&n, other.sign_challenge(n.as_bytes())),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "card_signature_invalid",
        );
        let n = h.nonce(&v).await;
        let (s, view) = h
            .reader_call(
                &format!("/api/v1/visits/{v}/identity"),
                pin(&n, card.sign_challenge(n.as_bytes())),
            )
            .await;
        assert_eq!(
            (s, view["identity"].as_str()),
            (StatusCode::OK, Some("pin")),
            "{view}"
        );
        // The same nonce again is a replay.
        assert_error(
            &h.reader_call(
                &format!("/api/v1/visits/{v}/identity"),
                pin(&n, card.sign_challenge(n.as_bytes())),
            )
            .await,
            StatusCode::CONFLICT,
            "nonce_replayed",
        );

        let face = h.card(2);
        let v = h.start(&face, "patient").await;
        let n = h.nonce(&v).await;
        let body = json!({ "method": "pin", "nonce": n, "signature": kakunin_evidence::b64(face.sign_challenge(n.as_bytes())), "certificate": kakunin_evidence::b64(face.certificate_der()) });
        assert_error(
            &h.reader_call(&format!("/api/v1/visits/{v}/identity"), body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pin_not_allowed_on_face_auth",
        );
    }
}

#[tokio::test]
async fn forged_replayed_and_unknown_reader_attestations_are_refused() {
    for h in harnesses().await {
        let v = h.start(&h.card(2), "patient").await;
        let n = h.nonce(&v).await;
        let forger = ReaderKey::generate();
        let forged = h.attestation(
            &forger,
            &v,
            &n,
            AttestedMethod::Face,
            AttestedOutcome::Match,
            None,
        );
        assert_error(
            &h.reader_call(
                &format!("/api/v1/visits/{v}/identity"),
                json!({ "method": "face", "attestation": forged }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "attestation_forged",
        );

        let good = h.attestation(
            &h.reader,
            &v,
            &n,
            AttestedMethod::Face,
            AttestedOutcome::NoMatch,
            None,
        );
        let (s, _) = h
            .reader_call(
                &format!("/api/v1/visits/{v}/identity"),
                json!({ "method": "face", "attestation": good }),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        // Replaying a captured good attestation (same nonce) fails.
        let replay = h.attestation(
            &h.reader,
            &v,
            &n,
            AttestedMethod::Face,
            AttestedOutcome::Match,
            None,
        );
        assert_error(
            &h.reader_call(
                &format!("/api/v1/visits/{v}/identity"),
                json!({ "method": "face", "attestation": replay }),
            )
            .await,
            StatusCode::CONFLICT,
            "nonce_replayed",
        );
        // A nonce that was never issued.
        let made_up = h.attestation(
            &h.reader,
            &v,
            "00ff",
            AttestedMethod::Face,
            AttestedOutcome::Match,
            None,
        );
        assert_error(
            &h.reader_call(
                &format!("/api/v1/visits/{v}/identity"),
                json!({ "method": "face", "attestation": made_up }),
            )
            .await,
            StatusCode::CONFLICT,
            "nonce_replayed",
        );

        // Unknown reader, and a known reader id with the wrong key.
        assert_error(
            &h.signed_as(
                &forger,
                "reader-x",
                "/api/v1/visits",
                json!({ "certificate": "" }),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "unknown_reader",
        );
        assert_error(
            &h.signed_as(
                &forger,
                "reader-1",
                &format!("/api/v1/visits/{v}/nonce"),
                json!({}),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "bad_request_signature",
        );
        // Unsigned reader request.
        assert_error(
            &h.call("POST", "/api/v1/visits", None, Some(json!({})))
                .await,
            StatusCode::UNAUTHORIZED,
            "missing_reader_signature",
        );

        // A reader's claim that staff confirmed visually is refused, whoever it names: the
        // staff member confirms with their own sign-in (a rogue reader could name anyone).
        for named in ["staff-other-clinic", "staff-reception"] {
            let n = h.nonce(&v).await;
            let a = h.attestation(
                &h.reader,
                &v,
                &n,
                AttestedMethod::Visual,
                AttestedOutcome::Match,
                Some(named),
            );
            assert_error(
                &h.reader_call(
                    &format!("/api/v1/visits/{v}/identity"),
                    json!({ "method": "visual", "attestation": a }),
                )
                .await,
                StatusCode::FORBIDDEN,
                "visual_needs_staff",
            );
        }
        let (_, view) = h
            .call(
                "GET",
                &format!("/api/v1/visits/{v}"),
                Some("demo-token-reception"),
                None,
            )
            .await;
        assert_ne!(view["identity"].as_str(), Some("visual"), "{view}");
    }
}

#[tokio::test]
async fn expired_revoked_and_foreign_certificates_are_refused() {
    for h in harnesses().await {
        let now = chrono::Utc::now();
        let id = kakunin_store::seed::demo_card_id(2);
        // Past the three months of grace after its expiry (tests/grace.rs has the grace).
        let expired =
            h.ca.issue_card(
                &id,
                now - chrono::Duration::days(900),
                now - chrono::Duration::days(130),
            )
            .unwrap();
        let start = |der: Vec<u8>| json!({ "certificate": kakunin_evidence::b64(der) });
        assert_error(
            &h.reader_call("/api/v1/visits", start(expired.certificate_der().to_vec()))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_expired",
        );

        let foreign = kakunin_evidence::ca::foreign_test_certificate().unwrap();
        assert_error(
            &h.reader_call("/api/v1/visits", start(foreign)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_foreign_issuer",
        );
        assert_error(
            &h.reader_call("/api/v1/visits", start(b"not a certificate".to_vec()))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_malformed",
        );
        assert_error(
            &h.reader_call("/api/v1/visits", json!({ "certificate": "%%%" }))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_malformed",
        );

        let card = h.card(2);
        let serial = kakunin_evidence::ca::demo_serial_hex(&id);
        assert_error(
            &h.call(
                "POST",
                "/api/v1/revocations",
                Some("demo-token-reception"),
                Some(json!({ "serial": serial, "reason": "lost" })),
            )
            .await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
        let (s, _) = h
            .call(
                "POST",
                "/api/v1/revocations",
                Some("demo-token-admin"),
                Some(json!({ "serial": serial, "reason": "lost" })),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_error(
            &h.reader_call("/api/v1/visits", start(card.certificate_der().to_vec()))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_revoked",
        );

        // A valid certificate for a card the service does not know.
        let unknown =
            h.ca.issue_card(
                "C99999999999",
                now - chrono::Duration::days(1),
                now + chrono::Duration::days(10),
            )
            .unwrap();
        assert_error(
            &h.reader_call("/api/v1/visits", start(unknown.certificate_der().to_vec()))
                .await,
            StatusCode::NOT_FOUND,
            "unknown_card",
        );
    }
}

#[tokio::test]
async fn visit_steps_out_of_order_and_of_other_readers_are_refused() {
    for h in harnesses().await {
        let v = h.start(&h.card(2), "patient").await;
        assert_error(
            &h.reader_call(&format!("/api/v1/visits/{v}/consent"), json!({ "medication": true, "checkup": true, "clinical": true, "limit_amount": true })).await,
            StatusCode::CONFLICT,
            "invalid_transition",
        );
        // A second registered reader cannot drive this visit.
        let other = ReaderKey::generate();
        let (s, _) = h
            .call(
                "POST",
                "/api/v1/readers",
                Some("demo-token-admin"),
                Some(json!({ "id": "reader-2", "public_key": other.public_key_b64(), "institution_code": kakunin_store::seed::demo_institution_codes().0 })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_error(
            &h.signed_as(
                &other,
                "reader-2",
                &format!("/api/v1/visits/{v}/nonce"),
                json!({}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/readers",
                Some("demo-token-reception"),
                Some(json!({ "id": "reader-2", "public_key": other.public_key_b64() })),
            )
            .await,
            StatusCode::CONFLICT,
            "reader_exists",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/readers",
                Some("demo-token-reception"),
                Some(json!({ "id": "r3", "public_key": "short" })),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_public_key",
        );
        assert_error(
            &h.call("POST", "/api/v1/readers", Some("demo-token-admin"), Some(json!({ "id": "r4", "public_key": other.public_key_b64(), "institution_code": "0000000000" }))).await,
            StatusCode::NOT_FOUND,
            "unknown_institution",
        );
        let (clinic, _, _) = kakunin_store::seed::demo_institution_codes();
        let mut wrong = clinic.clone().into_bytes();
        wrong[9] = b'0' + (wrong[9] - b'0' + 1) % 10;
        assert_error(
            &h.call("POST", "/api/v1/readers", Some("demo-token-admin"), Some(json!({ "id": "r5", "public_key": other.public_key_b64(), "institution_code": String::from_utf8(wrong).unwrap() }))).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_check_digit",
        );
        // Service down at the reader: the visit falls back with the face-auth options.
        let (s, view) = h
            .reader_call(&format!("/api/v1/visits/{v}/service-down"), json!({}))
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            view["fallback"]["options"],
            json!([
                "eligibility_certificate",
                "qualification_notice_with_card",
                "self_declaration_form"
            ]),
            "no Mynaportal for face-auth, and no health insurance card after 2025-12-01"
        );
        assert_error(
            &h.call(
                "GET",
                "/api/v1/visits/v-nope",
                Some("demo-token-reception"),
                None,
            )
            .await,
            StatusCode::NOT_FOUND,
            "unknown_visit",
        );
    }
}
