//! The typed clients of `/api/v1`: [`ReaderClient`] for the card reader and kiosk (every
//! request signed with the reader's Ed25519 key, a fresh request id each time) and
//! [`StaffClient`] for staff programs (a bearer token). Both take a `reqwest::Client` the caller
//! built (its TLS settings: the server's CA, a client certificate) and the server's base URL.
//!
//! A refusal arrives as [`ClientError::Refused`] with its typed [`ApiCode`]; a server that cannot
//! be reached as [`ClientError::Unreachable`], so the kiosk can offer the fallbacks of SPEC §6.

use crate::audit::ChainReport;
use crate::declarations::{DeclarationView, SubmitDeclaration};
use crate::eligibility::{MedicalItem, NumbersCheck, ProxyPickup, VisitResult};
use crate::readers::{ReaderView, RegisterReader};
use crate::staff::{IssuedToken, NewToken, SessionView, SignIn};
use crate::visits::{
    ConsentRequest, IdentityEvidence, NonceView, QueueQuery, RegistrationAnswer, StartVisit,
    VisitView, VisualDecision, VisualRequest,
};
use crate::{ApiCode, ErrorBody};
use kakunin_core::eligibility::EligibilityResult;
use kakunin_evidence::attestation::{
    Attestation, ReaderKey, SignedAttestation, HEADER_READER, HEADER_REQUEST_ID, HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a call to the server came to, short of its answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached (network, TLS, timeout).
    #[error("server unreachable at {url} ({detail}); check the network and the server address, and meanwhile offer the fallbacks: insurance card or eligibility certificate, Mynaportal (standard cards), self-declaration form")]
    Unreachable {
        /// What was called.
        url: String,
        /// Why it failed.
        detail: String,
    },
    /// The server refused the request.
    #[error("{path}: {status} {code} — {message}")]
    Refused {
        /// The endpoint.
        path: String,
        /// HTTP status.
        status: u16,
        /// The stable code.
        code: ApiCode,
        /// What happened and what to do (the server's words).
        message: String,
    },
    /// The server answered something this client cannot read (another version?).
    #[error(
        "{path}: unexpected answer ({detail}); is the server the same version as this program?"
    )]
    Answer {
        /// The endpoint.
        path: String,
        /// What did not fit.
        detail: String,
    },
}

impl ClientError {
    /// The refusal's code, if the server refused.
    pub fn code(&self) -> Option<ApiCode> {
        match self {
            ClientError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The refusal's HTTP status, if the server refused.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Result alias.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// Reads an answer: the typed body on success, the typed refusal otherwise.
async fn answer<T: DeserializeOwned>(path: &str, res: reqwest::Response) -> Result<T> {
    let status = res.status();
    let bytes = res.bytes().await.map_err(|e| ClientError::Unreachable {
        url: path.to_owned(),
        detail: e.to_string(),
    })?;
    if status.is_success() {
        // A 204 answers `()`, which reads from JSON `null`.
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        return serde_json::from_slice(bytes).map_err(|e| ClientError::Answer {
            path: path.to_owned(),
            detail: e.to_string(),
        });
    }
    let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(b) => (b.error.code, b.error.message),
        // Not our error body (a proxy's page?): say so, without echoing it.
        Err(_) => (
            ApiCode::Unknown,
            format!("no error body ({} bytes)", bytes.len()),
        ),
    };
    Err(ClientError::Refused {
        path: path.to_owned(),
        status: status.as_u16(),
        code,
        message,
    })
}

fn unreachable(url: &str, e: reqwest::Error) -> ClientError {
    ClientError::Unreachable {
        url: url.to_owned(),
        detail: e.to_string(),
    }
}

/// The card reader's (and kiosk's) client: signs every request with the reader's key.
#[derive(Clone)]
pub struct ReaderClient {
    http: reqwest::Client,
    base: String,
    id: String,
    key: ReaderKey,
}

impl ReaderClient {
    /// A client for reader `id` holding `key`, talking to the server at `base`
    /// (`https://host:port`, no trailing slash).
    pub fn new(http: reqwest::Client, base: &str, id: &str, key: ReaderKey) -> ReaderClient {
        ReaderClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            id: id.to_owned(),
            key,
        }
    }

    /// The reader's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The reader's key (its public half is what the server enrolled).
    pub fn key(&self) -> &ReaderKey {
        &self.key
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Signs `attestation` with the reader's key.
    pub fn attest(&self, attestation: &Attestation) -> SignedAttestation {
        self.key.attest(attestation)
    }

    /// A signed POST of `body` to `path`.
    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        let bytes = serde_json::to_vec(body).expect("request bodies serialise");
        let ts = chrono::Utc::now().timestamp();
        let request_id = kakunin_evidence::attestation::new_request_id();
        let signature = self.key.sign_request("POST", path, ts, &request_id, &bytes);
        let url = format!("{}{path}", self.base);
        let res = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header(HEADER_READER, &self.id)
            .header(HEADER_TIMESTAMP, ts.to_string())
            .header(HEADER_REQUEST_ID, request_id)
            .header(HEADER_SIGNATURE, signature)
            .body(bytes)
            .send()
            .await
            .map_err(|e| unreachable(&url, e))?;
        answer(path, res).await
    }

    /// Starts a visit with the certificate read from the card (`POST /api/v1/visits`).
    pub async fn start_visit(&self, req: &StartVisit) -> Result<VisitView> {
        self.post("/api/v1/visits", req).await
    }

    /// A fresh single-use nonce for the visit's next attestation or PIN signature.
    pub async fn nonce(&self, visit: &str) -> Result<NonceView> {
        self.post(
            &format!("/api/v1/visits/{visit}/nonce"),
            &serde_json::json!({}),
        )
        .await
    }

    /// Identity evidence: a face attestation, or the card's PIN signature.
    pub async fn identity(&self, visit: &str, evidence: &IdentityEvidence) -> Result<VisitView> {
        self.post(&format!("/api/v1/visits/{visit}/identity"), evidence)
            .await
    }

    /// The patient's answer to the registration offer.
    pub async fn registration(&self, visit: &str, accept: bool) -> Result<VisitView> {
        self.post(
            &format!("/api/v1/visits/{visit}/registration"),
            &RegistrationAnswer { accept },
        )
        .await
    }

    /// The consent selection.
    pub async fn consent(&self, visit: &str, req: &ConsentRequest) -> Result<VisitView> {
        self.post(&format!("/api/v1/visits/{visit}/consent"), req)
            .await
    }

    /// Hands the visit to reception for visual confirmation, with the card photo.
    pub async fn visual_request(&self, visit: &str, req: &VisualRequest) -> Result<VisitView> {
        self.post(&format!("/api/v1/visits/{visit}/visual-request"), req)
            .await
    }

    /// The reader's own view of its visit (polled while staff decide).
    pub async fn view(&self, visit: &str) -> Result<VisitView> {
        self.post(
            &format!("/api/v1/visits/{visit}/view"),
            &serde_json::json!({}),
        )
        .await
    }

    /// Reports one offer of 照合番号B to the card and what came of it (audited).
    pub async fn card_face_try(
        &self,
        visit: &str,
        req: &crate::visits::CardFaceTry,
    ) -> Result<VisitView> {
        self.post(&format!("/api/v1/visits/{visit}/card-face"), req)
            .await
    }

    /// Takes the 照合番号B staff typed for the card on this reader, if any (given once).
    pub async fn take_number_b(&self, visit: &str) -> Result<crate::visits::NumberBHandover> {
        self.post(
            &format!("/api/v1/visits/{visit}/number-b/take"),
            &serde_json::json!({}),
        )
        .await
    }

    /// Hands staff the card photo of a visit already waiting for visual confirmation (read
    /// after staff typed 照合番号B).
    pub async fn visual_photo(&self, visit: &str, req: &VisualRequest) -> Result<VisitView> {
        self.post(&format!("/api/v1/visits/{visit}/visual-photo"), req)
            .await
    }

    /// Reports that the online check cannot be done.
    pub async fn service_down(&self, visit: &str) -> Result<VisitView> {
        self.post(
            &format!("/api/v1/visits/{visit}/service-down"),
            &serde_json::json!({}),
        )
        .await
    }
}

/// A staff program's client: a bearer token (an API token or a sign-in session's).
#[derive(Clone)]
pub struct StaffClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl StaffClient {
    /// A client with `token`, talking to the server at `base`.
    pub fn new(http: reqwest::Client, base: &str, token: &str) -> StaffClient {
        StaffClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// Signs in with a staff id and password and answers the session (its token works as a
    /// bearer token: [`StaffClient::new`]).
    pub async fn sign_in(http: &reqwest::Client, base: &str, req: &SignIn) -> Result<SessionView> {
        let path = "/api/v1/sessions";
        let url = format!("{}{path}", base.trim_end_matches('/'));
        let res = http
            .post(&url)
            .json(req)
            .send()
            .await
            .map_err(|e| unreachable(&url, e))?;
        answer(path, res).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        path: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<T> {
        let res = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| unreachable(&format!("{}{path}", self.base), e))?;
        answer(path, res).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(path, req).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        let req = self.http.post(format!("{}{path}", self.base)).json(body);
        self.send(path, req).await
    }

    /// Who this client's token belongs to (its institution, role).
    pub async fn current(&self) -> Result<crate::staff::Staff> {
        self.get("/api/v1/sessions/current").await
    }

    /// The reception queue.
    pub async fn queue(&self, q: &QueueQuery) -> Result<Vec<VisitView>> {
        let path = "/api/v1/visits";
        let req = self.http.get(format!("{}{path}", self.base)).query(q);
        self.send(path, req).await
    }

    /// One visit.
    pub async fn visit(&self, id: &str) -> Result<VisitView> {
        self.get(&format!("/api/v1/visits/{id}")).await
    }

    /// A completed visit's eligibility result (audited).
    pub async fn visit_result(&self, id: &str) -> Result<VisitResult> {
        self.get(&format!("/api/v1/visits/{id}/result")).await
    }

    /// Medical information of a visit's patient in `category`, if consented.
    pub async fn information(&self, id: &str, category: &str) -> Result<Vec<MedicalItem>> {
        self.get(&format!("/api/v1/visits/{id}/information/{category}"))
            .await
    }

    /// Hands 照合番号B, typed from the patient's card, to the reader holding the card of visit
    /// `id` (in visual mode), which opens the card-face applet with it under the lock-safe rule.
    pub async fn enter_number_b(
        &self,
        id: &str,
        e: &crate::visits::NumberBEntry,
    ) -> Result<crate::visits::NumberBStatus> {
        self.post(&format!("/api/v1/visits/{id}/number-b"), e).await
    }

    /// Where the 照合番号B typed for visit `id` stands: taken by the reader, and what came of it.
    pub async fn number_b_status(&self, id: &str) -> Result<crate::visits::NumberBStatus> {
        self.get(&format!("/api/v1/visits/{id}/number-b")).await
    }

    /// Staff's visual confirmation of a visit handed to reception.
    pub async fn visual_decision(&self, id: &str, d: &VisualDecision) -> Result<VisitView> {
        self.post(&format!("/api/v1/visits/{id}/visual"), d).await
    }

    /// An eligibility check by certificate numbers (audited).
    pub async fn check_numbers(&self, req: &NumbersCheck) -> Result<EligibilityResult> {
        self.post("/api/v1/eligibility/check", req).await
    }

    /// Registers this institution's 照会番号 for the patient holding the numbers (audited).
    pub async fn register_reference(
        &self,
        req: &crate::references::ReferenceRegistration,
    ) -> Result<crate::references::RegistrationOutcome> {
        self.post("/api/v1/reference-numbers", req).await
    }

    /// Sends a batch of 照会番号 registrations; answers its reception number (audited).
    pub async fn register_references(
        &self,
        req: &crate::references::RegistrationBatch,
    ) -> Result<crate::references::BatchReceipt> {
        self.post("/api/v1/reference-numbers/batches", req).await
    }

    /// The result of a batch of this institution, by its reception number.
    pub async fn reference_batch(
        &self,
        reception_number: &str,
    ) -> Result<crate::references::BatchResult> {
        let path = format!("/api/v1/reference-numbers/batches/{reception_number}");
        // Reception numbers are the service's own (digits); anything else is not sent as a path.
        if reception_number.is_empty()
            || !reception_number.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(ClientError::Refused {
                path,
                status: 404,
                code: ApiCode::UnknownReceptionNumber,
                message: "a reception number is letters and digits only (checked before sending); use the one the batch was answered with".into(),
            });
        }
        self.get(&path).await
    }

    /// Consented medical information of the patient holding the numbers (audited).
    pub async fn information_by_numbers(
        &self,
        req: &crate::references::InformationByNumbers,
    ) -> Result<crate::references::InformationView> {
        self.post("/api/v1/information/by-numbers", req).await
    }

    /// A pharmacy proxy pickup's check (audited).
    pub async fn proxy_pickup(&self, req: &ProxyPickup) -> Result<EligibilityResult> {
        self.post("/api/v1/proxy-pickups", req).await
    }

    /// Stores a self-declaration form.
    pub async fn submit_declaration(&self, req: &SubmitDeclaration) -> Result<DeclarationView> {
        self.post("/api/v1/declarations", req).await
    }

    /// A self-declaration and its re-check status.
    pub async fn declaration(&self, id: &str) -> Result<DeclarationView> {
        self.get(&format!("/api/v1/declarations/{id}")).await
    }

    /// Enrols a reader (active at once with the operator's token, pending with a clinic's).
    pub async fn register_reader(&self, req: &RegisterReader) -> Result<ReaderView> {
        self.post("/api/v1/readers", req).await
    }

    /// Issues an API token for staff member `staff_id`.
    pub async fn issue_token(&self, staff_id: &str, req: &NewToken) -> Result<IssuedToken> {
        self.post(&format!("/api/v1/staff/{staff_id}/tokens"), req)
            .await
    }

    /// Verifies the whole audit chain (operator).
    pub async fn verify_audit(&self) -> Result<ChainReport> {
        self.get("/api/v1/audit/verify").await
    }
}
