//! Test harness: the app on a fresh database (SQLite, and PostgreSQL when configured), a
//! registered reader, and request helpers. Requests go through the router without a socket.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use kakunin_evidence::attestation::{
    Attestation, AttestedMethod, AttestedOutcome, ReaderKey, SignedAttestation,
};
use kakunin_evidence::ca::{DemoCa, DemoCard};
use kakunin_evidence::certificate::TrustAnchor;
use kakunin_server::{AppState, Config};
use kakunin_store::Store;
use serde_json::{json, Value};
use tower::ServiceExt;

pub struct Harness {
    pub app: Router,
    pub store: Store,
    pub ca: DemoCa,
    pub reader: ReaderKey,
    pub reader_id: String,
    _dir: Option<tempfile::TempDir>,
}

/// One harness per configured database.
pub async fn harnesses() -> Vec<Harness> {
    harnesses_with(Config::default()).await
}

/// One harness per configured database, with server settings `config`.
pub async fn harnesses_with(config: Config) -> Vec<Harness> {
    let mut v = vec![];
    for (store, dir) in kakunin_store::testing::stores().await {
        store.seed_persons(8, |_| {}).await.unwrap();
        let ca = DemoCa::new().unwrap();
        let state = AppState::new(
            store.clone(),
            TrustAnchor::from_der(ca.certificate_der().to_vec()).unwrap(),
            config.clone(),
        )
        .await
        .unwrap();
        let app = kakunin_server::app(state);
        let reader = ReaderKey::generate();
        let mut h = Harness {
            app,
            store,
            ca,
            reader,
            reader_id: "reader-1".into(),
            _dir: dir,
        };
        let clinic = kakunin_store::seed::demo_institution_codes().0;
        let (s, body) = h
            .call(
                "POST",
                "/api/v1/readers",
                Some("demo-token-admin"),
                Some(json!({ "id": "reader-1", "public_key": h.reader.public_key_b64(), "institution_code": clinic })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        h.reader_id = "reader-1".into();
        v.push(h);
    }
    v
}

impl Harness {
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, v)
    }

    /// A staff (bearer) request.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    /// The audit log's records (the operator's view), oldest first.
    pub async fn audit_records(&self) -> Vec<Value> {
        let (s, records) = self
            .call(
                "GET",
                "/api/v1/audit?limit=1000",
                Some("demo-token-admin"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{records}");
        records.as_array().cloned().unwrap_or_default()
    }

    /// How many audit records have `action`.
    pub async fn audit_count(&self, action: &str) -> usize {
        self.audit_records()
            .await
            .iter()
            .filter(|r| r["action"] == action)
            .count()
    }

    /// A GET as the demo receptionist.
    #[allow(dead_code)]
    pub async fn reception_get(&self, path: &str) -> (StatusCode, Value) {
        self.call("GET", path, Some("demo-token-reception"), None)
            .await
    }

    /// The details of the audit records with `action`, oldest first, parsed.
    #[allow(dead_code)]
    pub async fn audit_details(&self, action: &str) -> Vec<Value> {
        self.audit_records()
            .await
            .iter()
            .filter(|r| r["action"] == action)
            .map(|r| {
                serde_json::from_str(r["detail"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
            })
            .collect()
    }

    /// A raw-body staff request.
    pub async fn call_raw(&self, path: &str, token: &str, body: &str) -> (StatusCode, Value) {
        let req = Request::builder()
            .method("POST")
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(req).await
    }

    /// A request signed by `key` as reader `id`.
    pub async fn signed_as(
        &self,
        key: &ReaderKey,
        id: &str,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.send(signed_request(key, id, path, &body.to_string()))
            .await
    }

    /// A request signed by this harness's reader.
    pub async fn reader_call(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.signed_as(&self.reader, &self.reader_id, path, body)
            .await
    }

    /// The demo card of person `n`, with a certificate valid now.
    pub fn card(&self, person: i64) -> DemoCard {
        let now = chrono::Utc::now();
        self.ca
            .issue_card(
                &kakunin_store::seed::demo_card_id(person),
                now - chrono::Duration::days(30),
                now + chrono::Duration::days(365),
            )
            .unwrap()
    }

    /// Starts a visit for `card`; returns the visit id.
    pub async fn start(&self, card: &DemoCard, placed_by: &str) -> String {
        let (s, v) = self.reader_call("/api/v1/visits", json!({ "certificate": kakunin_evidence::b64(card.certificate_der()), "placed_by": placed_by })).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    pub async fn nonce(&self, visit: &str) -> String {
        let (s, v) = self
            .reader_call(&format!("/api/v1/visits/{visit}/nonce"), json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["nonce"].as_str().unwrap().to_owned()
    }

    pub fn attestation(
        &self,
        key: &ReaderKey,
        visit: &str,
        nonce: &str,
        method: AttestedMethod,
        outcome: AttestedOutcome,
        staff: Option<&str>,
    ) -> SignedAttestation {
        key.attest(&Attestation {
            reader_id: self.reader_id.clone(),
            visit_id: visit.into(),
            nonce: nonce.into(),
            method,
            outcome,
            score: Some(0.62),
            threshold: Some(0.42),
            staff_id: staff.map(str::to_owned),
            at: chrono::Utc::now(),
        })
    }

    /// One face attempt with `outcome`.
    pub async fn face(&self, visit: &str, outcome: AttestedOutcome) -> (StatusCode, Value) {
        let n = self.nonce(visit).await;
        let a = self.attestation(&self.reader, visit, &n, AttestedMethod::Face, outcome, None);
        self.reader_call(
            &format!("/api/v1/visits/{visit}/identity"),
            json!({ "method": "face", "attestation": a }),
        )
        .await
    }
}

/// A reader request as it travels: signed by `key` as reader `id`, with a fresh request id.
pub fn signed_request(key: &ReaderKey, id: &str, path: &str, body: &str) -> Request<Body> {
    let ts = chrono::Utc::now().timestamp();
    let request_id = kakunin_evidence::attestation::new_request_id();
    let sig = key.sign_request("POST", path, ts, &request_id, body.as_bytes());
    Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .header("x-kakunin-reader", id)
        .header("x-kakunin-timestamp", ts.to_string())
        .header("x-kakunin-request-id", request_id)
        .header("x-kakunin-signature", sig)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

/// Asserts an error answer: status and code.
pub fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error"]["code"], code, "{}", got.1);
    assert!(
        got.1["error"]["message"]
            .as_str()
            .is_some_and(|m| m.len() > 10),
        "a message says what to do: {}",
        got.1
    );
}
