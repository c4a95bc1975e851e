//! 医療扶助 (SPEC §14): a public-assistance recipient's check carries this month's ticket to
//! the institution it designates; before the welfare office registers the month it answers
//! 「未委託」; another institution gets no ticket data. Seed persons 5 (this month's tickets) and
//! 6 (last month's only) are the demo's recipients. On every configured database.

mod common;

use axum::http::StatusCode;
use common::harnesses;
use serde_json::{json, Value};

async fn check(h: &common::Harness, person: i64, token: &str) -> Value {
    let q = h.store.qualification_of_person(person).await.unwrap();
    let req = json!({ "insurer_number": q.insurer_number, "symbol": q.symbol, "number": q.number, "branch": q.branch });
    let (s, r) = h
        .call("POST", "/api/v1/eligibility/check", Some(token), Some(req))
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    r
}

#[tokio::test]
async fn this_months_ticket_goes_to_the_designated_institution_only() {
    for h in harnesses().await {
        let r = check(&h, 5, "demo-token-reception").await;
        assert_eq!(r["insurance_type"], "生活保護（医療扶助）");
        let a = &r["medical_assistance"];
        assert_eq!(a["status"], "ticket", "{r}");
        assert_eq!(a["ticket"]["kind"], "medical");
        assert_eq!(a["ticket"]["designated_name"], "かくにん内科クリニック");
        assert_eq!(a["ticket"]["self_pay_amount"], 0);
        // The pharmacy gets its dispensing ticket.
        let p = check(&h, 5, "demo-token-pharmacist").await;
        assert_eq!(
            p["medical_assistance"]["ticket"]["kind"], "dispensing",
            "{p}"
        );
        // The clinic next door is not designated: no ticket data.
        let other = check(&h, 5, "demo-token-other-clinic").await;
        assert_eq!(
            other["medical_assistance"],
            json!({ "status": "other_institution" }),
            "{other}"
        );
        let audit = h.audit_details("eligibility_check").await;
        assert_eq!(
            audit.last().unwrap()["medical_assistance"],
            "other_institution"
        );
    }
}

#[tokio::test]
async fn before_the_office_registers_the_month_the_answer_is_not_entrusted() {
    for h in harnesses().await {
        let r = check(&h, 6, "demo-token-reception").await;
        assert_eq!(
            r["medical_assistance"],
            json!({ "status": "not_entrusted" }),
            "{r}"
        );
        // An insured person's result says nothing of medical assistance.
        let insured = check(&h, 1, "demo-token-reception").await;
        assert!(insured.get("medical_assistance").is_none(), "{insured}");
    }
}
