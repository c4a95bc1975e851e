//! Checks by numbers say which document was shown, and refuse those that no longer prove
//! anything (SPEC §14): a health insurance card after 2025-12-01 or after its printed expiry, one
//! issued after the transition began, a 資格確認書 past its validity, a 資格情報のお知らせ
//! without the card. On every configured database.

mod common;

use axum::http::StatusCode;
use common::{assert_error, harnesses};
use serde_json::{json, Value};

const RECEPTION: Option<&str> = Some("demo-token-reception");

async fn numbers_with(h: &common::Harness, document: Value) -> Value {
    let q = h.store.qualification_of_person(1).await.unwrap();
    json!({ "insurer_number": q.insurer_number, "symbol": q.symbol, "number": q.number,
            "branch": q.branch, "document": document })
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

#[tokio::test]
async fn an_eligibility_certificate_in_its_validity_checks_and_the_result_names_it() {
    for h in harnesses().await {
        let until = today() + chrono::Duration::days(365);
        let req = numbers_with(
            &h,
            json!({ "kind": "eligibility_certificate", "valid_until": until }),
        )
        .await;
        let (s, r) = h
            .call("POST", "/api/v1/eligibility/check", RECEPTION, Some(req))
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["document"], "eligibility_certificate");
        assert_eq!(r["validity"], "valid");
        let audit = h.audit_details("eligibility_check").await;
        assert_eq!(
            audit.last().unwrap()["document"],
            "eligibility_certificate",
            "{audit:?}"
        );
    }
}

#[tokio::test]
async fn an_expired_certificate_or_health_insurance_card_is_refused_with_the_reason() {
    for h in harnesses().await {
        let past = today() - chrono::Duration::days(1);
        let req = numbers_with(
            &h,
            json!({ "kind": "eligibility_certificate", "valid_until": past }),
        )
        .await;
        assert_error(
            &h.call("POST", "/api/v1/eligibility/check", RECEPTION, Some(req))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "document_expired",
        );
        // Today is after 2025-12-01: every health insurance card has ended, whatever it prints.
        let later = today() + chrono::Duration::days(365);
        let req = numbers_with(
            &h,
            json!({ "kind": "health_insurance_card", "valid_until": later }),
        )
        .await;
        let r = h
            .call("POST", "/api/v1/eligibility/check", RECEPTION, Some(req))
            .await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "document_expired");
        assert!(
            r.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("2025-12-01"),
            "{}",
            r.1
        );
        let req = numbers_with(
            &h,
            json!({ "kind": "health_insurance_card", "issued": "2025-04-01" }),
        )
        .await;
        assert_error(
            &h.call("POST", "/api/v1/eligibility/check", RECEPTION, Some(req))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "document_not_genuine",
        );
        assert_eq!(
            h.audit_details("eligibility_check").await.len(),
            0,
            "refusals check nothing"
        );
    }
}

#[tokio::test]
async fn the_notice_of_qualification_counts_only_with_the_card() {
    for h in harnesses().await {
        let alone = numbers_with(&h, json!({ "kind": "qualification_notice" })).await;
        assert_error(
            &h.call("POST", "/api/v1/eligibility/check", RECEPTION, Some(alone))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "notice_not_valid_alone",
        );
        let with_card = numbers_with(
            &h,
            json!({ "kind": "qualification_notice", "with_card": true }),
        )
        .await;
        let (s, r) = h
            .call(
                "POST",
                "/api/v1/eligibility/check",
                RECEPTION,
                Some(with_card),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["document"], "qualification_notice");
    }
}

#[tokio::test]
async fn a_check_that_does_not_say_its_document_still_works_as_before() {
    for h in harnesses().await {
        let q = h.store.qualification_of_person(1).await.unwrap();
        let req = json!({ "insurer_number": q.insurer_number, "symbol": q.symbol, "number": q.number, "branch": q.branch });
        let (s, r) = h
            .call("POST", "/api/v1/eligibility/check", RECEPTION, Some(req))
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert!(r.get("document").is_none(), "{r}");
    }
}
