//! The electronic or paper prescription choice (SPEC §14): where the institution issues
//! electronic prescriptions (the demo clinic does) the reader's consent carries the patient's
//! choice; it is required there, recorded with the visit, audited, and given with the result.
//! On every configured database.

mod common;

use axum::http::StatusCode;
use common::{assert_error, harnesses};
use kakunin_evidence::attestation::AttestedOutcome;
use serde_json::json;

#[tokio::test]
async fn where_electronic_prescriptions_are_issued_the_choice_is_required_and_given_with_the_result(
) {
    for h in harnesses().await {
        let card = h.card(2);
        let v = h.start(&card, "patient").await;
        let (s, view) = h.face(&v, AttestedOutcome::Match).await;
        assert_eq!(s, StatusCode::OK, "{view}");
        assert_eq!(view["asks_prescription"], true, "{view}");
        let consent = json!({ "medication": true, "checkup": false, "clinical": false, "limit_amount": false });
        assert_error(
            &h.reader_call(&format!("/api/v1/visits/{v}/consent"), consent.clone())
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "prescription_choice",
        );
        let mut chosen = consent.clone();
        chosen["prescription"] = json!("paper");
        let (s, done) = h
            .reader_call(&format!("/api/v1/visits/{v}/consent"), chosen)
            .await;
        assert_eq!(
            (s, done["next"].as_str()),
            (StatusCode::OK, Some("done")),
            "{done}"
        );
        assert_eq!(done["prescription"], "paper");
        let (_, r) = h
            .call(
                "GET",
                &format!("/api/v1/visits/{v}/result"),
                Some("demo-token-reception"),
                None,
            )
            .await;
        assert_eq!(r["prescription"], "paper", "{r}");
        let audit = h.audit_details("consent").await;
        assert_eq!(audit.last().unwrap()["prescription"], "paper", "{audit:?}");
    }
}
