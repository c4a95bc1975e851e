//! The demo certificate authority and demo cards.
//!
//! Keys are derived from a fixed label, so the server, the card-reader agent and the tests all
//! arrive at the same CA and card keys without sharing files. That makes them worthless as
//! secrets: the CA's name says DEMO, and production configures the real CA certificate instead.
//! Real JPKI certificates are RSA-2048; the demo uses Ed25519. The checks accept both.

use crate::EvidenceError;
use chrono::{DateTime, Datelike, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::{Signer, SigningKey};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SerialNumber, PKCS_ED25519,
};
use sha2::{Digest, Sha256};

/// Common name of the demo CA.
pub const DEMO_CA_NAME: &str = "kakunin DEMO JPKI user-authentication CA (not for production)";

fn derive_key(label: &str, id: &str) -> SigningKey {
    let mut h = Sha256::new();
    h.update(label.as_bytes());
    h.update([0]);
    h.update(id.as_bytes());
    SigningKey::from_bytes(&h.finalize().into())
}

fn rcgen_key(key: &SigningKey) -> Result<KeyPair, EvidenceError> {
    let der = key
        .to_pkcs8_der()
        .map_err(|e| EvidenceError::BadKey(e.to_string()))?;
    KeyPair::from_pkcs8_der_and_sign_algo(&der.as_bytes().into(), &PKCS_ED25519)
        .map_err(|e| EvidenceError::BadKey(e.to_string()))
}

fn to_time(t: DateTime<Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The demo CA: its certificate and its signing key.
pub struct DemoCa {
    cert: rcgen::Certificate,
    key: KeyPair,
    cert_der: Vec<u8>,
}

impl DemoCa {
    /// The one demo CA (deterministic).
    pub fn new() -> Result<Self, EvidenceError> {
        let key = rcgen_key(&derive_key("kakunin demo ca", "root"))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, DEMO_CA_NAME);
        dn.push(DnType::OrganizationName, "kakunin demo");
        dn.push(DnType::CountryName, "JP");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = to_time("2020-01-01T00:00:00Z".parse().expect("constant"));
        params.not_after = to_time("2050-01-01T00:00:00Z".parse().expect("constant"));
        params.serial_number = Some(SerialNumber::from(vec![1]));
        let cert = params
            .self_signed(&key)
            .map_err(|e| EvidenceError::Build(e.to_string()))?;
        Ok(DemoCa {
            cert_der: cert.der().to_vec(),
            cert,
            key,
        })
    }

    /// The CA certificate (DER), the trust anchor for demo cards.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Issues the user-authentication certificate of demo card `card_id`, valid from
    /// `not_before` until `not_after`.
    pub fn issue_card(
        &self,
        card_id: &str,
        not_before: DateTime<Utc>,
        not_after: DateTime<Utc>,
    ) -> Result<DemoCard, EvidenceError> {
        let signing = derive_key("kakunin demo card", card_id);
        let key = rcgen_key(&signing)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, card_id);
        dn.push(DnType::CountryName, "JP");
        params.distinguished_name = dn;
        params.not_before = to_time(not_before);
        params.not_after = to_time(not_after);
        params.serial_number = Some(SerialNumber::from(demo_serial(card_id)));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .map_err(|e| EvidenceError::Build(e.to_string()))?;
        Ok(DemoCard {
            card_id: card_id.to_owned(),
            key: signing,
            cert_der: cert.der().to_vec(),
        })
    }
}

/// Serial number bytes of a demo card's certificate: the first 16 bytes of SHA-256(card id),
/// with the top bit cleared so the DER integer stays positive.
pub fn demo_serial(card_id: &str) -> Vec<u8> {
    let mut s = Sha256::digest(card_id.as_bytes())[..16].to_vec();
    s[0] &= 0x7f;
    if s[0] == 0 {
        s[0] = 1;
    }
    s
}

/// Card id of a demo person's card (the seed's cards and the reader's virtual demo cards).
pub fn demo_card_id(person_id: i64) -> String {
    format!("C{person_id:011}")
}

/// PIN of every standard demo card.
pub const DEMO_PIN: &str = "1234";

/// Hex serial as the server stores it (see [`crate::certificate::VerifiedCertificate::serial`]).
pub fn demo_serial_hex(card_id: &str) -> String {
    hex::encode(demo_serial(card_id))
}

/// A demo card's user-authentication key and certificate.
pub struct DemoCard {
    /// The card's id (its certificate's subject).
    pub card_id: String,
    key: SigningKey,
    cert_der: Vec<u8>,
}

impl DemoCard {
    /// The user-authentication certificate (DER), as read from EF 000A without PIN.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Signs `challenge` with the user-authentication key, as the chip does after VERIFY.
    pub fn sign_challenge(&self, challenge: &[u8]) -> Vec<u8> {
        self.key.sign(challenge).to_bytes().to_vec()
    }
}

/// Default expiry of a demo card issued on `issued`: the 5th birthday-ish anniversary; demo data
/// uses issue date + 10 years (the card itself) and +5 years (the certificate).
pub fn certificate_expiry(issued: DateTime<Utc>) -> DateTime<Utc> {
    issued.with_year(issued.year() + 5).unwrap_or(issued)
}

/// A certificate from a CA other than the demo CA (for tests of the foreign-issuer refusal).
pub fn foreign_test_certificate() -> Result<Vec<u8>, EvidenceError> {
    let key = rcgen_key(&derive_key("kakunin foreign test", "ca"))?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Some other CA");
    params
        .self_signed(&key)
        .map(|c| c.der().to_vec())
        .map_err(|e| EvidenceError::Build(e.to_string()))
}
