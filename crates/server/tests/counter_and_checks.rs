//! Municipal counter, PIN channels, eligibility by numbers, proxy pickup, declarations, and the
//! generic bad inputs (malformed JSON, wrong types, tokens, roles).

mod common;

use axum::http::StatusCode;
use common::{assert_error, harnesses};
use serde_json::json;

#[tokio::test]
async fn counter_issue_switch_register_and_pin_reset() {
    for h in harnesses().await {
        let clerk = Some("demo-token-clerk");
        assert_error(
            &h.call(
                "POST",
                "/api/v1/municipal/cards",
                clerk,
                Some(json!({ "person_id": 5, "kind": "face_auth", "pin": "1234" })),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pin_not_allowed_on_face_auth",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/municipal/cards",
                clerk,
                Some(json!({ "person_id": 5, "kind": "standard", "pin": "12" })),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pin_format",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/municipal/cards",
                clerk,
                Some(json!({ "person_id": 999999, "kind": "face_auth" })),
            )
            .await,
            StatusCode::NOT_FOUND,
            "unknown_person",
        );
        let (s, card) = h
            .call(
                "POST",
                "/api/v1/municipal/cards",
                clerk,
                Some(
                    json!({ "person_id": 5, "kind": "face_auth", "register_insurance_use": true }),
                ),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{card}");
        assert_eq!(card["memo"][0]["text"], "顔認証");
        assert_eq!(card["registered"], true);
        assert!(card["pin"].is_null());

        // Card 4: standard, not registered → prompted to register before switching.
        let path = "/api/v1/municipal/cards/C00000000004";
        assert_error(
            &h.call(
                "POST",
                &format!("{path}/switch"),
                clerk,
                Some(json!({ "to": "face_auth" })),
            )
            .await,
            StatusCode::CONFLICT,
            "register_before_switch",
        );
        assert_error(
            &h.call(
                "POST",
                &format!("{path}/switch"),
                clerk,
                Some(json!({ "to": "standard", "new_pin": "1111" })),
            )
            .await,
            StatusCode::CONFLICT,
            "already_that_kind",
        );
        let (s, card) = h
            .call(
                "POST",
                &format!("{path}/switch"),
                clerk,
                Some(json!({ "to": "face_auth", "registration": "register_now" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{card}");
        assert_eq!(
            (card["kind"].as_str(), card["registered"].as_bool()),
            (Some("face_auth"), Some(true))
        );
        assert_eq!(card["memo"][0]["struck_on"], serde_json::Value::Null);
        assert_error(
            &h.call(
                "POST",
                &format!("{path}/switch"),
                clerk,
                Some(json!({ "to": "standard" })),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pin_format",
        );
        let (s, card) = h
            .call(
                "POST",
                &format!("{path}/switch"),
                clerk,
                Some(json!({ "to": "standard", "new_pin": "2468" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{card}");
        assert!(
            card["memo"][0]["struck_on"].is_string(),
            "struck through, kept: {card}"
        );
        assert_eq!(
            card["registered"], true,
            "registration survives the switches"
        );
        assert_eq!(card["pin"]["tries_left"], 3);
        let (_, view) = h.call("GET", path, clerk, None).await;
        let events: Vec<&str> = view["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(
            events,
            ["issued", "registered", "switched_kind", "switched_kind"]
        );

        assert_error(
            &h.call(
                "POST",
                "/api/v1/municipal/cards/C00000000002/registration",
                clerk,
                None,
            )
            .await,
            StatusCode::CONFLICT,
            "already_registered",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/municipal/cards/C00000000001/registration",
                clerk,
                None,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "channel_not_for_standard_card",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/municipal/cards/C00000000002/pin-reset",
                clerk,
                Some(json!({ "new_pin": "1234" })),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pin_not_allowed_on_face_auth",
        );
        assert_error(
            &h.call(
                "GET",
                "/api/v1/municipal/cards/C00000000001",
                Some("demo-token-reception"),
                None,
            )
            .await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
        assert_error(
            &h.call("GET", "/api/v1/municipal/cards/nope", clerk, None)
                .await,
            StatusCode::NOT_FOUND,
            "unknown_card",
        );
    }
}

#[tokio::test]
async fn pin_channels_count_wrong_pins_lock_and_refuse_face_auth() {
    for h in harnesses().await {
        let gw = Some("demo-token-admin");
        let reg = |card: &str, channel: &str, pin: &str| json!({ "card_id": card, "channel": channel, "pin": pin });
        for channel in ["smartphone", "atm"] {
            assert_error(
                &h.call(
                    "POST",
                    "/api/v1/registrations",
                    gw,
                    Some(reg("C00000000003", channel, "1234")),
                )
                .await,
                StatusCode::UNPROCESSABLE_ENTITY,
                "pin_required_for_channel",
            );
        }
        assert_error(
            &h.call(
                "POST",
                "/api/v1/registrations",
                gw,
                Some(reg("C00000000003", "card_reader", "1234")),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "use_other_endpoint",
        );
        // Card 4 (standard, unregistered; demo PIN 1234): three wrong PINs lock; the 4th is refused as locked.
        let wrong = h
            .call(
                "POST",
                "/api/v1/registrations",
                gw,
                Some(reg("C00000000004", "smartphone", "0000")),
            )
            .await;
        assert_error(&wrong, StatusCode::UNPROCESSABLE_ENTITY, "pin_wrong");
        assert!(wrong.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 tries left"));
        assert_error(
            &h.call(
                "POST",
                "/api/v1/registrations",
                gw,
                Some(reg("C00000000004", "atm", "9999")),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "pin_wrong",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/registrations",
                gw,
                Some(reg("C00000000004", "atm", "9999")),
            )
            .await,
            StatusCode::LOCKED,
            "pin_locked",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/registrations",
                gw,
                Some(reg("C00000000004", "atm", "1234")),
            )
            .await,
            StatusCode::LOCKED,
            "pin_locked",
        );
        let (_, card) = h
            .call(
                "GET",
                "/api/v1/municipal/cards/C00000000004",
                Some("demo-token-clerk"),
                None,
            )
            .await;
        assert_eq!(
            (
                card["pin"]["locked"].as_bool(),
                card["registered"].as_bool()
            ),
            (Some(true), Some(false)),
            "{card}"
        );
        let (s, _) = h
            .call(
                "POST",
                "/api/v1/municipal/cards/C00000000004/pin-reset",
                Some("demo-token-clerk"),
                Some(json!({ "new_pin": "1357" })),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        let (s, card) = h
            .call(
                "POST",
                "/api/v1/registrations",
                gw,
                Some(reg("C00000000004", "smartphone", "1357")),
            )
            .await;
        assert_eq!(
            (s, card["registered"].as_bool()),
            (StatusCode::OK, Some(true)),
            "{card}"
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/registrations",
                Some("demo-token-reception"),
                Some(reg("C00000000004", "atm", "1357")),
            )
            .await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
    }
}

#[tokio::test]
async fn eligibility_by_numbers_and_proxy_pickup() {
    for h in harnesses().await {
        let q = h.store.qualification_of_person(6).await.unwrap();
        let numbers = json!({ "insurer_number": q.insurer_number, "symbol": q.symbol, "number": q.number, "branch": q.branch });
        let (s, r) = h
            .call(
                "POST",
                "/api/v1/eligibility/check",
                Some("demo-token-reception"),
                Some(numbers.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["name"], q.name.as_str());
        assert!(
            r["limit_category"].is_null(),
            "no consent on a certificate check"
        );
        // With the patient's consent at the desk the limit category is included; the consent
        // reaches nothing else.
        let mut with_limit = None;
        for person in 1..=8 {
            let q = h.store.qualification_of_person(person).await.unwrap();
            if q.limit_category.is_some() {
                with_limit = Some(q);
                break;
            }
        }
        let ql = with_limit.expect("the seed gives some persons a limit category");
        let consented = json!({ "insurer_number": ql.insurer_number, "symbol": ql.symbol, "number": ql.number, "branch": ql.branch, "limit_consent": true });
        let (s, r) = h
            .call(
                "POST",
                "/api/v1/eligibility/check",
                Some("demo-token-reception"),
                Some(consented),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["limit_category"], ql.limit_category.as_deref().unwrap());
        let mut wrong_birth = numbers.clone();
        wrong_birth["birth_date"] = json!("1900-01-01");
        assert_error(
            &h.call(
                "POST",
                "/api/v1/eligibility/check",
                Some("demo-token-reception"),
                Some(wrong_birth),
            )
            .await,
            StatusCode::NOT_FOUND,
            "qualification_not_found",
        );
        let mut bad_digit = numbers.clone();
        let n = q.insurer_number.clone();
        let last = (n.as_bytes()[n.len() - 1] - b'0' + 1) % 10;
        bad_digit["insurer_number"] = json!(format!("{}{}", &n[..n.len() - 1], last));
        assert_error(
            &h.call(
                "POST",
                "/api/v1/eligibility/check",
                Some("demo-token-reception"),
                Some(bad_digit),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_check_digit",
        );
        let unknown_insurer =
            json!({ "insurer_number": "01990019", "number": "1", "branch": "00" });
        let expect = if kakunin_core::numbers::InsurerNumber::parse("01990019").is_ok() {
            "unknown_insurer"
        } else {
            "invalid_check_digit"
        };
        let got = h
            .call(
                "POST",
                "/api/v1/eligibility/check",
                Some("demo-token-reception"),
                Some(unknown_insurer),
            )
            .await;
        assert_eq!(got.1["error"]["code"], expect, "{}", got.1);
        let mut bad_branch = numbers.clone();
        bad_branch["branch"] = json!("0");
        assert_error(
            &h.call(
                "POST",
                "/api/v1/eligibility/check",
                Some("demo-token-reception"),
                Some(bad_branch),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_format",
        );

        let mut pickup = numbers.clone();
        assert_error(
            &h.call(
                "POST",
                "/api/v1/proxy-pickups",
                Some("demo-token-pharmacist"),
                Some(pickup.clone()),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "proxy_needs_document",
        );
        pickup["document"] = json!("prescription");
        let (s, r) = h
            .call(
                "POST",
                "/api/v1/proxy-pickups",
                Some("demo-token-pharmacist"),
                Some(pickup.clone()),
            )
            .await;
        assert_eq!(
            (s, r["number"].as_str()),
            (StatusCode::OK, Some(q.number.as_str()))
        );
        pickup["document"] = json!("eligibility_certificate");
        assert_eq!(
            h.call(
                "POST",
                "/api/v1/proxy-pickups",
                Some("demo-token-pharmacist"),
                Some(pickup.clone())
            )
            .await
            .0,
            StatusCode::OK
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/proxy-pickups",
                Some("demo-token-reception"),
                Some(pickup),
            )
            .await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
    }
}

#[tokio::test]
async fn declarations_are_saved_as_filled_flagged_and_rechecked() {
    for h in harnesses().await {
        let q = h.store.qualification_of_person(7).await.unwrap();
        let full = json!({ "form": {
            "name": q.name, "birth_date": q.birth_date, "sex": if q.sex == 1 { "male" } else { "female" }, "address": q.address,
            "contact": "090-0000-0000", "insurance_type": q.insurance_type, "insurer_name": q.insurer_name, "employer_name": "かくにん商事",
            "copay_percent": q.copay_percent } });
        let (s, d) = h
            .call(
                "POST",
                "/api/v1/declarations",
                Some("demo-token-reception"),
                Some(full),
            )
            .await;
        assert_eq!(
            (s, d["flagged"].as_bool(), d["status"].as_str()),
            (StatusCode::CREATED, Some(false), Some("pending")),
            "{d}"
        );
        let partial = json!({ "form": { "name": "名無し 権兵衛", "copay_percent": 30 } });
        let (s, p) = h
            .call(
                "POST",
                "/api/v1/declarations",
                Some("demo-token-reception"),
                Some(partial),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(p["flagged"], true);
        assert_eq!(
            p["missing"],
            json!([
                "birth_date",
                "sex",
                "address",
                "contact",
                "insurance_type",
                "insurer_name",
                "employer_name"
            ])
        );
        let mismatch = json!({ "form": { "name": q.name, "birth_date": q.birth_date, "copay_percent": if q.copay_percent == 30 { 10 } else { 30 } } });
        let (_, m) = h
            .call(
                "POST",
                "/api/v1/declarations",
                Some("demo-token-reception"),
                Some(mismatch),
            )
            .await;

        let (s, sum) = h
            .call(
                "POST",
                "/api/v1/declarations/recheck",
                Some("demo-token-reception"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            (
                sum["checked"].as_i64(),
                sum["confirmed"].as_i64(),
                sum["mismatch"].as_i64(),
                sum["not_found"].as_i64()
            ),
            (Some(3), Some(1), Some(1), Some(1)),
            "{sum}"
        );
        for (id, want) in [
            (&d["id"], "confirmed"),
            (&p["id"], "not_found"),
            (&m["id"], "mismatch"),
        ] {
            let (_, v) = h
                .call(
                    "GET",
                    &format!("/api/v1/declarations/{}", id.as_str().unwrap()),
                    Some("demo-token-reception"),
                    None,
                )
                .await;
            assert_eq!(v["status"], want, "{v}");
        }
        assert_error(
            &h.call(
                "GET",
                &format!("/api/v1/declarations/{}", d["id"].as_str().unwrap()),
                Some("demo-token-other-clinic"),
                None,
            )
            .await,
            StatusCode::FORBIDDEN,
            "other_institution",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/declarations",
                Some("demo-token-reception"),
                Some(json!({ "form": { "copay_percent": "thirty" } })),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_types",
        );
    }
}

#[tokio::test]
async fn malformed_requests_tokens_and_roles() {
    for h in harnesses().await {
        assert_error(
            &h.call_raw(
                "/api/v1/eligibility/check",
                "demo-token-reception",
                "{\"insurer_number\": ",
            )
            .await,
            StatusCode::BAD_REQUEST,
            "malformed_json",
        );
        assert_error(
            &h.call_raw(
                "/api/v1/eligibility/check",
                "demo-token-reception",
                "{\"insurer_number\": 1, \"number\": [], \"branch\": {}}",
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_types",
        );
        assert_error(
            &h.call_raw("/api/v1/eligibility/check", "demo-token-reception", "{}")
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_types",
        );
        assert_error(
            &h.call("POST", "/api/v1/eligibility/check", None, Some(json!({})))
                .await,
            StatusCode::UNAUTHORIZED,
            "missing_token",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/eligibility/check",
                Some("stolen"),
                Some(json!({})),
            )
            .await,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/eligibility/check",
                Some("demo-token-clerk"),
                Some(json!({ "insurer_number": "01130012", "number": "1", "branch": "00" })),
            )
            .await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
        assert_error(
            &h.call("GET", "/api/v1/audit", Some("demo-token-reception"), None)
                .await,
            StatusCode::FORBIDDEN,
            "wrong_role",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/municipal/cards",
                Some("demo-token-clerk"),
                Some(json!({ "person_id": "five", "kind": "face_auth" })),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_types",
        );
        assert_error(
            &h.call(
                "POST",
                "/api/v1/municipal/cards",
                Some("demo-token-clerk"),
                Some(json!({ "person_id": 5, "kind": "gold" })),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_types",
        );

        let (s, doc) = h.call("GET", "/api/openapi.json", None, None).await;
        assert_eq!(s, StatusCode::OK);
        for p in [
            "/api/v1/visits",
            "/api/v1/visits/{id}/identity",
            "/api/v1/municipal/cards/{id}/switch",
            "/api/v1/eligibility/check",
            "/api/v1/audit/verify",
        ] {
            assert!(doc["paths"][p].is_object(), "{p} documented");
        }
        assert_eq!(
            h.call("GET", "/healthz", None, None).await.0,
            StatusCode::OK
        );
        assert_eq!(h.call("GET", "/readyz", None, None).await.0, StatusCode::OK);
        let (s, m) = h.call("GET", "/metrics", None, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            m.as_str().unwrap().contains("kakunin_http_requests_total"),
            "{m}"
        );
    }
}

#[tokio::test]
async fn a_numbers_check_is_judged_for_the_day_asked_never_a_future_one() {
    for h in harnesses().await {
        let q = h.store.qualification_of_person(6).await.unwrap();
        let check = |on: chrono::NaiveDate| json!({ "insurer_number": q.insurer_number, "symbol": q.symbol, "number": q.number, "branch": q.branch, "on": on });
        // The clinic software's 資格確認日 before the qualification began: not valid that day.
        let before = q.valid_from - chrono::Duration::days(1);
        let (s, r) = h
            .call(
                "POST",
                "/api/v1/eligibility/check",
                Some("demo-token-reception"),
                Some(check(before)),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["validity"], "invalid", "{r}");
        let (_, r) = h
            .call(
                "POST",
                "/api/v1/eligibility/check",
                Some("demo-token-reception"),
                Some(check(q.valid_from)),
            )
            .await;
        assert_eq!(r["validity"], "valid", "{r}");
        let tomorrow = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
        assert_error(
            &h.call(
                "POST",
                "/api/v1/eligibility/check",
                Some("demo-token-reception"),
                Some(check(tomorrow)),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_format",
        );
    }
}
