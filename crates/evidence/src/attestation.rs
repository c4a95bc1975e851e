//! What a registered card reader signs with its own Ed25519 key.
//!
//! - An [`Attestation`] of a face or visual result, bound to a server nonce. It travels as the
//!   exact JSON bytes that were signed ([`SignedAttestation::payload`]), so the server never has to
//!   re-serialise anything to check a signature.
//! - Every reader request: [`request_message`] is signed and sent in the `x-kakunin-*` headers.

use crate::{b64, unb64, EvidenceError};
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Header carrying the reader id.
pub const HEADER_READER: &str = "x-kakunin-reader";
/// Header carrying the request time (unix seconds).
pub const HEADER_TIMESTAMP: &str = "x-kakunin-timestamp";
/// Header carrying the base64 signature over [`request_message`].
pub const HEADER_SIGNATURE: &str = "x-kakunin-signature";
/// Header carrying the request's unique id (signed; the server refuses an id seen before).
pub const HEADER_REQUEST_ID: &str = "x-kakunin-request-id";
/// How far a request's timestamp may be from the server's clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// How the reader verified identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttestedMethod {
    /// Face recognition by the reader's engine.
    Face,
    /// Visual confirmation (refused from readers: staff confirm with their own sign-in).
    Visual,
}

/// What the reader concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttestedOutcome {
    /// Face matched / staff confirmed.
    Match,
    /// Face did not match / staff rejected.
    NoMatch,
    /// Presentation attack suspected.
    SpoofSuspected,
}

/// A reader's statement about one identity attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attestation {
    /// The reader that attests.
    pub reader_id: String,
    /// The visit it attests for.
    pub visit_id: String,
    /// The server nonce this answers (single use).
    pub nonce: String,
    /// How identity was checked.
    pub method: AttestedMethod,
    /// What the check found.
    pub outcome: AttestedOutcome,
    /// Similarity score (face), if any.
    pub score: Option<f32>,
    /// Threshold the score was compared with.
    pub threshold: Option<f32>,
    /// Staff who confirmed (visual).
    pub staff_id: Option<String>,
    /// When the reader decided.
    pub at: DateTime<Utc>,
}

/// An attestation as sent: base64 of the signed JSON bytes, and base64 of the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedAttestation {
    /// The attestation's JSON, base64.
    pub payload: String,
    /// The reader's Ed25519 signature over the payload's bytes, base64.
    pub signature: String,
}

/// A reader's Ed25519 key.
#[derive(Clone)]
pub struct ReaderKey(SigningKey);

impl ReaderKey {
    /// A new random key.
    pub fn generate() -> Self {
        ReaderKey(SigningKey::generate(&mut rand_core_compat::OsRng))
    }

    /// From its 32 secret bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EvidenceError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| EvidenceError::BadKey("a reader key is 32 bytes".into()))?;
        Ok(ReaderKey(SigningKey::from_bytes(&arr)))
    }

    /// The 32 secret bytes (to keep in the reader's key file).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Public key, base64, as registered with the server.
    pub fn public_key_b64(&self) -> String {
        b64(self.0.verifying_key().as_bytes())
    }

    /// Signs an attestation.
    pub fn attest(&self, a: &Attestation) -> SignedAttestation {
        let payload = serde_json::to_vec(a).expect("attestation serialises");
        SignedAttestation {
            signature: b64(self.0.sign(&payload).to_bytes()),
            payload: b64(payload),
        }
    }

    /// Signs a request; returns the signature header value.
    pub fn sign_request(
        &self,
        method: &str,
        path: &str,
        timestamp: i64,
        request_id: &str,
        body: &[u8],
    ) -> String {
        b64(self
            .0
            .sign(request_message(method, path, timestamp, request_id, body).as_bytes())
            .to_bytes())
    }
}

/// A fresh request id: 128 random bits, hex.
pub fn new_request_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Whether `id` has the form of a request id (16–64 characters of `[0-9a-zA-Z_-]`).
pub fn valid_request_id(id: &str) -> bool {
    (16..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The bytes a reader signs for a request: method, path (with query), timestamp, request id and
/// the body's SHA-256, one per line. The request id makes every signed request unique, so a
/// captured one cannot be replayed within the timestamp window.
pub fn request_message(
    method: &str,
    path: &str,
    timestamp: i64,
    request_id: &str,
    body: &[u8],
) -> String {
    format!(
        "{method}\n{path}\n{timestamp}\n{request_id}\n{}",
        hex::encode(Sha256::digest(body))
    )
}

/// Parses a registered public key (base64 of 32 bytes).
pub fn parse_public_key(b64_key: &str) -> Result<VerifyingKey, EvidenceError> {
    let bytes = unb64(b64_key).map_err(|e| EvidenceError::BadKey(e.to_string()))?;
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| EvidenceError::BadKey("an Ed25519 public key is 32 bytes".into()))?;
    VerifyingKey::from_bytes(&arr).map_err(|e| EvidenceError::BadKey(e.to_string()))
}

fn parse_signature(s: &str) -> Option<Signature> {
    let bytes = unb64(s).ok()?;
    let arr: [u8; 64] = bytes.as_slice().try_into().ok()?;
    Some(Signature::from_bytes(&arr))
}

/// Checks a request signature.
pub fn verify_request(
    key: &VerifyingKey,
    method: &str,
    path: &str,
    timestamp: i64,
    request_id: &str,
    body: &[u8],
    signature: &str,
) -> Result<(), EvidenceError> {
    let sig = parse_signature(signature).ok_or_else(|| {
        EvidenceError::BadRequestSignature("not a base64 Ed25519 signature".into())
    })?;
    key.verify(
        request_message(method, path, timestamp, request_id, body).as_bytes(),
        &sig,
    )
    .map_err(|_| EvidenceError::BadRequestSignature("signature does not match the request".into()))
}

/// Checks an attestation's signature with the reader's key and parses it.
pub fn open_attestation(
    key: &VerifyingKey,
    signed: &SignedAttestation,
) -> Result<Attestation, EvidenceError> {
    let payload = unb64(&signed.payload)
        .map_err(|e| EvidenceError::AttestationMalformed(format!("payload is not base64: {e}")))?;
    let sig = parse_signature(&signed.signature).ok_or(EvidenceError::BadAttestationSignature)?;
    key.verify(&payload, &sig)
        .map_err(|_| EvidenceError::BadAttestationSignature)?;
    serde_json::from_slice(&payload).map_err(|e| EvidenceError::AttestationMalformed(e.to_string()))
}

/// ed25519-dalek 2 takes a `rand_core` 0.6 RNG; `rand` 0.8's OsRng is one.
mod rand_core_compat {
    pub use rand::rngs::OsRng;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn att() -> Attestation {
        Attestation {
            reader_id: "r1".into(),
            visit_id: "v1".into(),
            nonce: "n1".into(),
            method: AttestedMethod::Face,
            outcome: AttestedOutcome::Match,
            score: Some(0.71),
            threshold: Some(0.45),
            staff_id: None,
            at: Utc::now(),
        }
    }

    #[test]
    fn attestation_round_trip_and_forgery() {
        let key = ReaderKey::generate();
        let pk = parse_public_key(&key.public_key_b64()).unwrap();
        let signed = key.attest(&att());
        assert_eq!(
            open_attestation(&pk, &signed).unwrap(),
            att_with_at(&signed)
        );

        let mut tampered_json: serde_json::Value =
            serde_json::from_slice(&unb64(&signed.payload).unwrap()).unwrap();
        tampered_json["outcome"] = "match".into();
        tampered_json["score"] = 0.99.into();
        let forged = SignedAttestation {
            payload: b64(serde_json::to_vec(&tampered_json).unwrap()),
            signature: signed.signature.clone(),
        };
        assert!(matches!(
            open_attestation(&pk, &forged),
            Err(EvidenceError::BadAttestationSignature)
        ));

        let other = ReaderKey::generate();
        assert!(matches!(
            open_attestation(&pk, &other.attest(&att())),
            Err(EvidenceError::BadAttestationSignature)
        ));
        let garbage = SignedAttestation {
            payload: "%%%".into(),
            signature: signed.signature,
        };
        assert!(matches!(
            open_attestation(&pk, &garbage),
            Err(EvidenceError::AttestationMalformed(_))
        ));
    }

    fn att_with_at(signed: &SignedAttestation) -> Attestation {
        serde_json::from_slice(&unb64(&signed.payload).unwrap()).unwrap()
    }

    #[test]
    fn request_signatures() {
        let key = ReaderKey::generate();
        let pk = parse_public_key(&key.public_key_b64()).unwrap();
        let id = new_request_id();
        assert!(valid_request_id(&id));
        let sig = key.sign_request("POST", "/api/v1/visits", 100, &id, b"{}");
        verify_request(&pk, "POST", "/api/v1/visits", 100, &id, b"{}", &sig).unwrap();
        assert!(verify_request(&pk, "POST", "/api/v1/visits", 101, &id, b"{}", &sig).is_err());
        assert!(verify_request(&pk, "POST", "/api/v1/visits", 100, &id, b"{ }", &sig).is_err());
        assert!(verify_request(&pk, "POST", "/api/v1/visits", 100, &id, b"{}", "nope").is_err());
        // The request id is signed: another id with the same signature is refused.
        let other = new_request_id();
        assert!(verify_request(&pk, "POST", "/api/v1/visits", 100, &other, b"{}", &sig).is_err());
        let restored = ReaderKey::from_bytes(&key.to_bytes()).unwrap();
        assert_eq!(restored.public_key_b64(), key.public_key_b64());
    }
}
