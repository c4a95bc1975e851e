//! Defects found when kakunin was tried as a new user would (issue 14), one behaviour per test.

mod common;

use axum::http::StatusCode;
use common::{assert_error, harnesses};
use serde_json::json;

#[tokio::test]
async fn a_declared_name_without_the_space_or_in_kana_is_matched() {
    for h in harnesses().await {
        let q = h.store.qualification_of_person(7).await.unwrap();
        let joined: String = q.name.split_whitespace().collect();
        let kana_half_width = q.name_kana.clone();
        let mut ids = vec![];
        for name in [
            joined.clone(),
            q.name.replace(' ', "\u{3000}"),
            kana_half_width,
        ] {
            let form = json!({ "form": { "name": name, "birth_date": q.birth_date, "copay_percent": q.copay_percent } });
            let (s, d) = h
                .call(
                    "POST",
                    "/api/v1/declarations",
                    Some("demo-token-reception"),
                    Some(form),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{d}");
            ids.push((name, d["id"].as_str().unwrap().to_owned()));
        }
        let (s, _) = h
            .call(
                "POST",
                "/api/v1/declarations/recheck",
                Some("demo-token-reception"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        for (name, id) in ids {
            let (_, v) = h
                .call(
                    "GET",
                    &format!("/api/v1/declarations/{id}"),
                    Some("demo-token-reception"),
                    None,
                )
                .await;
            assert_eq!(v["status"], "confirmed", "{name}: {v}");
        }
    }
}

/// A person the seed gave no card (a quarter of generated persons have none).
async fn person_without_card(h: &common::Harness) -> i64 {
    h.store.seed_persons(40, |_| {}).await.unwrap();
    for id in 9..=48 {
        if h.store.valid_cards_of_person(id).await.unwrap().is_empty() {
            return id;
        }
    }
    panic!("the seed gave every person a card");
}

async fn audit_details(h: &common::Harness, subject: &str) -> Vec<String> {
    h.audit_records()
        .await
        .iter()
        .filter(|r| r["subject"] == subject)
        .map(|r| {
            r["detail"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| r["detail"].to_string())
        })
        .collect()
}

#[tokio::test]
async fn the_counter_does_not_register_a_standard_card() {
    for h in harnesses().await {
        let person = person_without_card(&h).await;
        assert_error(
            &h.call(
                "POST",
                "/api/v1/municipal/cards",
                Some("demo-token-clerk"),
                Some(json!({ "person_id": person, "kind": "standard", "pin": "1234", "register_insurance_use": true })),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "channel_not_for_standard_card",
        );
        // Without registration it is issued, and stays unregistered.
        let (s, v) = h
            .call(
                "POST",
                "/api/v1/municipal/cards",
                Some("demo-token-clerk"),
                Some(json!({ "person_id": person, "kind": "standard", "pin": "1234" })),
            )
            .await;
        assert_eq!(
            (s, v["registered"].as_bool()),
            (StatusCode::CREATED, Some(false)),
            "{v}"
        );
    }
}

#[tokio::test]
async fn three_wrong_pins_at_the_gateway_are_audited_with_the_lock() {
    for h in harnesses().await {
        let card = kakunin_store::seed::demo_card_id(4); // standard, not registered
        for _ in 0..3 {
            let (s, _) = h
                .call(
                    "POST",
                    "/api/v1/registrations",
                    Some("demo-token-admin"),
                    Some(json!({ "card_id": card, "channel": "smartphone", "pin": "0000" })),
                )
                .await;
            assert!(s.is_client_error());
        }
        let details = audit_details(&h, &card).await;
        let attempts: Vec<_> = details
            .iter()
            .filter(|d| d.contains("pin_attempt"))
            .collect();
        assert_eq!(attempts.len(), 3, "{details:?}");
        assert!(
            attempts.iter().any(|d| d.contains("pin_locked")),
            "{details:?}"
        );
    }
}

#[tokio::test]
async fn a_holder_gets_no_second_card_a_reissue_revokes_the_old_one() {
    for h in harnesses().await {
        let holder = 1; // demo standard card C00000000001
        let old = kakunin_store::seed::demo_card_id(holder);
        assert_error(
            &h.call(
                "POST",
                "/api/v1/municipal/cards",
                Some("demo-token-clerk"),
                Some(json!({ "person_id": holder, "kind": "standard", "pin": "5678" })),
            )
            .await,
            StatusCode::CONFLICT,
            "already_holds_card",
        );
        let (s, new) = h
            .call(
                "POST",
                "/api/v1/municipal/cards",
                Some("demo-token-clerk"),
                Some(json!({ "person_id": holder, "kind": "standard", "pin": "5678", "reissue": true })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{new}");
        // The old card's certificate no longer starts visits.
        let cert = h.card(holder);
        let (s, v) = h
            .reader_call(
                "/api/v1/visits",
                json!({ "certificate": kakunin_evidence::b64(cert.certificate_der()), "placed_by": "patient" }),
            )
            .await;
        assert_eq!(v["error"]["code"], "certificate_revoked", "{s} {v}");
        let (_, view) = h
            .call(
                "GET",
                &format!("/api/v1/municipal/cards/{old}"),
                Some("demo-token-clerk"),
                None,
            )
            .await;
        assert!(view["history"].to_string().contains("reissued"), "{view}");
        assert!(audit_details(&h, &old)
            .await
            .iter()
            .any(|d| d.contains("reissued")));
        assert_eq!(
            h.store.valid_cards_of_person(holder).await.unwrap().len(),
            1
        );
    }
}

#[tokio::test]
async fn a_standard_holder_asking_for_face_auth_is_switched_on_the_same_card() {
    for h in harnesses().await {
        let holder = 1;
        let (s, v) = h
            .call(
                "POST",
                "/api/v1/municipal/cards",
                Some("demo-token-clerk"),
                Some(json!({ "person_id": holder, "kind": "face_auth" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["id"], kakunin_store::seed::demo_card_id(holder).as_str());
        assert_eq!(v["kind"], "face_auth");
        assert!(v["memo"].to_string().contains("顔認証"), "{v}");
        assert_eq!(
            h.store.valid_cards_of_person(holder).await.unwrap().len(),
            1
        );
    }
}

#[tokio::test]
async fn the_counter_finds_a_resident_by_name_alone_in_kanji_or_kana() {
    for h in harnesses().await {
        let q = h.store.qualification_of_person(3).await.unwrap();
        let (family_kana, given_kana) = q.name_kana.split_once(' ').unwrap();
        let hiragana: String = family_kana
            .chars()
            .map(|c| match c {
                'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap(),
                c => c,
            })
            .collect();
        for name in [
            q.name.clone(),
            q.name.replace(' ', "\u{3000}"),
            family_kana.to_owned(),
            hiragana,
            format!("{family_kana} {given_kana}"),
        ] {
            let (s, found) = h
                .call(
                    "GET",
                    &format!("/api/v1/municipal/persons?name={}", urlencode(&name)),
                    Some("demo-token-clerk"),
                    None,
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{found}");
            assert!(
                found
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["person_id"] == 3),
                "{name}: {found}"
            );
        }
        assert_error(
            &h.call(
                "GET",
                "/api/v1/municipal/persons",
                Some("demo-token-clerk"),
                None,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "search_too_wide",
        );
        assert_error(
            &h.call(
                "GET",
                "/api/v1/municipal/persons?name=x",
                Some("demo-token-reception"),
                None,
            )
            .await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
