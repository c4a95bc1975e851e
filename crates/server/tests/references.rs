//! 照会番号: registered one by one or as a batch, seen only by the institution that registered
//! it, one number per patient per institution; medical information by numbers only under
//! consent. On every configured database.

mod common;

use axum::http::StatusCode;
use common::{assert_error, harnesses};
use serde_json::{json, Value};

const RECEPTION: Option<&str> = Some("demo-token-reception");
const OTHER: Option<&str> = Some("demo-token-other-clinic");

async fn numbers(h: &common::Harness, person: i64) -> Value {
    let q = h.store.qualification_of_person(person).await.unwrap();
    json!({ "insurer_number": q.insurer_number, "symbol": q.symbol, "number": q.number, "branch": q.branch })
}

fn with_number(numbers: &Value, reference: &str) -> Value {
    let mut r = numbers.clone();
    r["reference_number"] = json!(reference);
    r
}

#[tokio::test]
async fn a_reference_number_is_the_registering_institutions_alone() {
    for h in harnesses().await {
        let p1 = numbers(&h, 1).await;
        let p2 = numbers(&h, 2).await;
        let (s, r) = h
            .call(
                "POST",
                "/api/v1/reference-numbers",
                RECEPTION,
                Some(with_number(&p1, "24434")),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["registered"], true);
        assert_eq!(h.audit_count("reference_number").await, 1);

        let (_, mine) = h
            .call(
                "POST",
                "/api/v1/eligibility/check",
                RECEPTION,
                Some(p1.clone()),
            )
            .await;
        assert_eq!(mine["reference_number"], "24434", "{mine}");
        let (_, theirs) = h
            .call("POST", "/api/v1/eligibility/check", OTHER, Some(p1.clone()))
            .await;
        assert!(theirs.get("reference_number").is_none(), "{theirs}");

        // One number names one patient here; another clinic may use it for its own.
        assert_error(
            &h.call(
                "POST",
                "/api/v1/reference-numbers",
                RECEPTION,
                Some(with_number(&p2, "24434")),
            )
            .await,
            StatusCode::CONFLICT,
            "reference_number_taken",
        );
        let (s, _) = h
            .call(
                "POST",
                "/api/v1/reference-numbers",
                OTHER,
                Some(with_number(&p2, "24434")),
            )
            .await;
        assert_eq!(s, StatusCode::OK);

        // Registering again for the same patient replaces the number and frees the old one.
        let (s, _) = h
            .call(
                "POST",
                "/api/v1/reference-numbers",
                RECEPTION,
                Some(with_number(&p1, "30001")),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (_, mine) = h
            .call(
                "POST",
                "/api/v1/eligibility/check",
                RECEPTION,
                Some(p1.clone()),
            )
            .await;
        assert_eq!(mine["reference_number"], "30001");
        let (s, _) = h
            .call(
                "POST",
                "/api/v1/reference-numbers",
                RECEPTION,
                Some(with_number(&p2, "24434")),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "the old number is free again");

        assert_error(
            &h.call(
                "POST",
                "/api/v1/reference-numbers",
                RECEPTION,
                Some(with_number(&p1, "24 434")),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_format",
        );
        let mut unknown = p1.clone();
        unknown["number"] = json!("99999999");
        assert_error(
            &h.call(
                "POST",
                "/api/v1/reference-numbers",
                RECEPTION,
                Some(with_number(&unknown, "40000")),
            )
            .await,
            StatusCode::NOT_FOUND,
            "qualification_not_found",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/reference-numbers",
                Some("demo-token-clerk"),
                Some(with_number(&p1, "1")),
            )
            .await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
    }
}

#[tokio::test]
async fn a_batch_is_judged_item_by_item_and_fetched_by_its_reception_number() {
    for h in harnesses().await {
        let p1 = numbers(&h, 1).await;
        let p2 = numbers(&h, 2).await;
        let p3 = numbers(&h, 3).await;
        let batch = json!({ "registrations": [
            with_number(&p1, "A-1"), with_number(&p2, "A-2"),
            with_number(&p3, "A-1"), // taken within the same batch
        ]});
        let before = h.audit_count("reference_number").await;
        let (s, receipt) = h
            .call(
                "POST",
                "/api/v1/reference-numbers/batches",
                RECEPTION,
                Some(batch),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{receipt}");
        assert_eq!(receipt["received"], 3);
        assert_eq!(
            h.audit_count("reference_number").await,
            before + 3,
            "two registrations and the batch"
        );
        let n = receipt["reception_number"].as_str().unwrap();
        let (s, result) = h
            .call(
                "GET",
                &format!("/api/v1/reference-numbers/batches/{n}"),
                RECEPTION,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{result}");
        let outcomes = result["outcomes"].as_array().unwrap();
        assert_eq!(
            outcomes
                .iter()
                .map(|o| o["registered"].as_bool().unwrap())
                .collect::<Vec<_>>(),
            [true, true, false]
        );
        assert_eq!(outcomes[2]["code"], "reference_number_taken");
        assert_eq!(outcomes[0]["reference_number"], "A-1");

        assert_error(
            &h.call(
                "GET",
                &format!("/api/v1/reference-numbers/batches/{n}"),
                OTHER,
                None,
            )
            .await,
            StatusCode::NOT_FOUND,
            "unknown_reception_number",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/reference-numbers/batches",
                RECEPTION,
                Some(json!({ "registrations": [] })),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_format",
        );
    }
}

#[tokio::test]
async fn information_by_numbers_needs_this_institutions_consent() {
    for h in harnesses().await {
        let mut q = numbers(&h, 1).await;
        q["category"] = json!("medication");
        assert_error(
            &h.call(
                "POST",
                "/api/v1/information/by-numbers",
                RECEPTION,
                Some(q.clone()),
            )
            .await,
            StatusCode::FORBIDDEN,
            "consent_missing",
        );
        q["category"] = json!("surgery");
        assert_error(
            &h.call("POST", "/api/v1/information/by-numbers", RECEPTION, Some(q))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_types",
        );
    }
}
