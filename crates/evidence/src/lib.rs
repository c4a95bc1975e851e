//! Identity evidence, made by readers and cards and checked by the server (SPEC §3, §9).
//!
//! - [`ca`]: the demo certificate authority and demo card keys, so everything runs without real
//!   cards; real deployments configure the JPKI CA certificate as the trust anchor instead.
//! - [`certificate`]: checks a card's user-authentication certificate: chain, expiry, revocation.
//! - [`challenge`]: the PIN path: the card's signature over a server challenge.
//! - [`attestation`]: a registered reader's signed statement of a face or visual result, bound to a
//!   server nonce, and the signature on every reader request.

#![deny(missing_docs)]

pub mod attestation;
pub mod ca;
pub mod certificate;
pub mod challenge;

/// Why evidence was refused. Messages say what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("certificate could not be parsed: {0}; read it again from the card")]
    /// The certificate cannot be parsed.
    CertificateMalformed(String),
    #[error("certificate was not issued by the trusted CA; this card cannot be used here")]
    /// Issued by another CA than the trusted one.
    ForeignIssuer,
    #[error("certificate signature does not verify against the CA; the card may be forged")]
    /// The certificate's signature does not verify.
    BadCertificateSignature,
    #[error("certificate expired on {0}; the holder should renew it at the municipal counter")]
    /// Expired (when, as text).
    Expired(String),
    #[error("certificate is not valid before {0}")]
    /// Not valid yet.
    NotYetValid(String),
    #[error("certificate {0} is revoked; the holder should contact the municipal counter")]
    /// On the revocation list (the serial).
    Revoked(String),
    #[error(
        "the card's signature over the challenge does not verify; place the card again and retry"
    )]
    /// The card's signature over the challenge does not verify.
    BadCardSignature,
    #[error("unsupported key algorithm {0}")]
    /// A key or signature algorithm the service does not accept.
    UnsupportedAlgorithm(String),
    #[error("attestation is malformed: {0}")]
    /// The attestation cannot be read.
    AttestationMalformed(String),
    #[error("attestation signature does not verify with this reader's registered key")]
    /// The attestation's signature does not verify.
    BadAttestationSignature,
    #[error("request signature is missing or does not verify: {0}")]
    /// The reader's request signature is missing or wrong.
    BadRequestSignature(String),
    #[error("key material is malformed: {0}")]
    /// Not a usable Ed25519 key.
    BadKey(String),
    #[error("could not build certificate: {0}")]
    /// The demo CA could not build a certificate.
    Build(String),
}

/// Base64 (standard alphabet, padded) used for every binary value on the wire.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes [`b64`].
pub fn unb64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s.trim())
}
