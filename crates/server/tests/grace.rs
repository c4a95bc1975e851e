//! The certificate's grace period (SPEC §14): for three months after the user-authentication
//! certificate expires the card still yields eligibility, but no medical information can be
//! consented to or viewed; three months and a day after, it is refused as expired. On every
//! configured database.

mod common;

use axum::http::StatusCode;
use common::{assert_error, harnesses};
use kakunin_evidence::attestation::AttestedOutcome;
use serde_json::json;

/// Person 2's card (face-auth, registered), its certificate having expired `ago` before now.
fn expired(h: &common::Harness, ago: chrono::Duration) -> kakunin_evidence::ca::DemoCard {
    let now = chrono::Utc::now();
    h.ca.issue_card(
        &kakunin_store::seed::demo_card_id(2),
        now - chrono::Duration::days(1800),
        now - ago,
    )
    .unwrap()
}

#[tokio::test]
async fn in_the_grace_period_the_card_yields_eligibility_but_no_medical_information() {
    for h in harnesses().await {
        let card = expired(&h, chrono::Duration::days(20));
        let (s, v) = h
            .reader_call(
                "/api/v1/visits",
                json!({ "certificate": kakunin_evidence::b64(card.certificate_der()) }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let until = v["certificate_grace_until"]
            .as_str()
            .expect("the grace period is said")
            .to_owned();
        let id = v["id"].as_str().unwrap().to_owned();
        // Identity as usual; then no consent step: the result is ready at once.
        let (s, after) = h.face(&id, AttestedOutcome::Match).await;
        assert_eq!(s, StatusCode::OK, "{after}");
        assert_eq!(after["next"], "done", "{after}");
        assert_eq!(after["certificate_grace_until"], until.as_str());
        assert_error(
            &h.reader_call(&format!("/api/v1/visits/{id}/consent"), json!({ "medication": true, "checkup": true, "clinical": true, "limit_amount": true })).await,
            StatusCode::CONFLICT,
            "invalid_transition",
        );
        let (s, r) = h
            .call(
                "GET",
                &format!("/api/v1/visits/{id}/result"),
                Some("demo-token-reception"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["result"]["validity"], "valid");
        assert_eq!(r["viewable"], json!([]));
        assert_error(
            &h.call(
                "GET",
                &format!("/api/v1/visits/{id}/information/medication"),
                Some("demo-token-reception"),
                None,
            )
            .await,
            StatusCode::FORBIDDEN,
            "consent_missing",
        );
        let started = h.audit_details("visit_started").await;
        assert_eq!(
            started.last().unwrap()["certificate_grace_until"],
            until.as_str()
        );
    }
}

#[tokio::test]
async fn three_months_and_a_day_after_expiry_the_card_is_refused() {
    for h in harnesses().await {
        // The grace ends with the third month after the month of expiry: at most 123 days
        // after the expiry day; 130 days after is past every grace period.
        let card = expired(&h, chrono::Duration::days(130));
        assert_error(
            &h.reader_call(
                "/api/v1/visits",
                json!({ "certificate": kakunin_evidence::b64(card.certificate_der()) }),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "certificate_expired",
        );
    }
}
