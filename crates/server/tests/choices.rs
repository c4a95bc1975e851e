//! What the patient chooses at the reader besides consent (SPEC §14): an electronic or paper
//! prescription where the institution issues electronic ones (the demo clinic does) — required
//! there, recorded with the visit, audited, given with the result —, and whether to use their 公費
//! recipient certificates. On every configured database.

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
        let (_, r) = h.reception_get(&format!("/api/v1/visits/{v}/result")).await;
        assert_eq!(r["prescription"], "paper", "{r}");
        let audit = h.audit_details("consent").await;
        assert_eq!(audit.last().unwrap()["prescription"], "paper", "{audit:?}");
    }
}

/// 公費 recipient certificates (SPEC §14): given with the result only when the patient chose to
/// use them at the reader; person 2 holds 難病医療費助成 in the demo data.
#[tokio::test]
async fn recipient_certificates_come_with_the_result_only_when_the_patient_chose_them() {
    for h in harnesses().await {
        for chosen in [true, false] {
            let card = h.card(2);
            let v = h.start(&card, "patient").await;
            h.face(&v, AttestedOutcome::Match).await;
            let consent = json!({ "medication": false, "checkup": false, "clinical": false, "limit_amount": false,
                                  "prescription": "electronic", "recipient_certificates": chosen });
            let (s, done) = h
                .reader_call(&format!("/api/v1/visits/{v}/consent"), consent)
                .await;
            assert_eq!(s, StatusCode::OK, "{done}");
            let (_, r) = h.reception_get(&format!("/api/v1/visits/{v}/result")).await;
            if chosen {
                let certs = r["recipient_certificates"].as_array().expect("given");
                assert_eq!(certs.len(), 1, "{r}");
                assert_eq!(certs[0]["program"], "難病医療費助成");
                assert_eq!(certs[0]["payer_number"], "54136015");
                assert_eq!(certs[0]["copay_limit"], 10000);
            } else {
                assert!(
                    r.get("recipient_certificates").is_none(),
                    "not without the patient's yes: {r}"
                );
            }
        }
    }
}
