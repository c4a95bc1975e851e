//! Checks a card's user-authentication certificate: issued by the trusted CA (signature and
//! issuer name), within its validity, and not revoked.

use crate::EvidenceError;
use chrono::{DateTime, Utc};
use x509_parser::prelude::*;

/// A certificate that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedCertificate {
    /// Serial number, lower-case hex without leading zero bytes.
    pub serial: String,
    /// Subject common name.
    pub subject_cn: String,
    /// When the certificate expires.
    pub not_after: DateTime<Utc>,
    /// Key algorithm OID (dotted).
    pub key_algorithm: String,
    /// Raw subjectPublicKey bits (Ed25519: 32 bytes; RSA: PKCS#1 RSAPublicKey DER).
    pub public_key: Vec<u8>,
}

/// The trust anchor: the CA certificate that issues user-authentication certificates.
pub struct TrustAnchor {
    der: Vec<u8>,
}

impl TrustAnchor {
    /// From the CA certificate's DER. Fails if it does not parse.
    pub fn from_der(der: Vec<u8>) -> Result<Self, EvidenceError> {
        X509Certificate::from_der(&der)
            .map_err(|e| EvidenceError::CertificateMalformed(e.to_string()))?;
        Ok(TrustAnchor { der })
    }

    /// Checks `cert_der` at time `now`; `is_revoked` is asked with the hex serial.
    pub fn verify(
        &self,
        cert_der: &[u8],
        now: DateTime<Utc>,
        is_revoked: impl FnOnce(&str) -> bool,
    ) -> Result<VerifiedCertificate, EvidenceError> {
        let cert = self.verify_issued(cert_der, now, is_revoked)?;
        if now > cert.not_after {
            return Err(EvidenceError::Expired(
                cert.not_after.date_naive().to_string(),
            ));
        }
        Ok(cert)
    }

    /// Checks everything but the end of the validity (issuer, signature, not before `now`,
    /// revocation): for callers that judge an expired certificate themselves (the grace period
    /// of `kakunin_core::certificate`).
    pub fn verify_issued(
        &self,
        cert_der: &[u8],
        now: DateTime<Utc>,
        is_revoked: impl FnOnce(&str) -> bool,
    ) -> Result<VerifiedCertificate, EvidenceError> {
        let (_, ca) = X509Certificate::from_der(&self.der)
            .map_err(|e| EvidenceError::CertificateMalformed(e.to_string()))?;
        let (rest, cert) = X509Certificate::from_der(cert_der)
            .map_err(|e| EvidenceError::CertificateMalformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(EvidenceError::CertificateMalformed(
                "trailing bytes after the certificate".into(),
            ));
        }
        if cert.issuer() != ca.subject() {
            return Err(EvidenceError::ForeignIssuer);
        }
        cert.verify_signature(Some(ca.public_key()))
            .map_err(|_| EvidenceError::BadCertificateSignature)?;
        let validity = cert.validity();
        let not_after =
            DateTime::from_timestamp(validity.not_after.timestamp(), 0).unwrap_or_default();
        let not_before =
            DateTime::from_timestamp(validity.not_before.timestamp(), 0).unwrap_or_default();
        if now < not_before {
            return Err(EvidenceError::NotYetValid(not_before.to_rfc3339()));
        }
        let serial = hex::encode(
            cert.raw_serial()
                .iter()
                .skip_while(|b| **b == 0)
                .copied()
                .collect::<Vec<_>>(),
        );
        if is_revoked(&serial) {
            return Err(EvidenceError::Revoked(serial));
        }
        let subject_cn = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .unwrap_or("")
            .to_owned();
        let spki = cert.public_key();
        Ok(VerifiedCertificate {
            serial,
            subject_cn,
            not_after,
            key_algorithm: spki.algorithm.algorithm.to_id_string(),
            public_key: spki.subject_public_key.data.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::{demo_serial_hex, DemoCa};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn demo_card_verifies_and_bad_ones_do_not() {
        let ca = DemoCa::new().unwrap();
        let anchor = TrustAnchor::from_der(ca.certificate_der().to_vec()).unwrap();
        let card = ca
            .issue_card(
                "card-1",
                at("2025-01-01T00:00:00Z"),
                at("2030-01-01T00:00:00Z"),
            )
            .unwrap();
        let v = anchor
            .verify(card.certificate_der(), at("2026-11-25T00:00:00Z"), |_| {
                false
            })
            .unwrap();
        assert_eq!(v.serial, demo_serial_hex("card-1").trim_start_matches("00"));
        assert_eq!(v.subject_cn, "card-1");

        let expired = anchor
            .verify(card.certificate_der(), at("2031-01-01T00:00:00Z"), |_| {
                false
            })
            .unwrap_err();
        assert!(matches!(expired, EvidenceError::Expired(_)), "{expired}");
        let revoked = anchor
            .verify(card.certificate_der(), at("2026-11-25T00:00:00Z"), |_| true)
            .unwrap_err();
        assert!(matches!(revoked, EvidenceError::Revoked(_)));
        let mut forged = card.certificate_der().to_vec();
        let n = forged.len();
        forged[n - 5] ^= 0xff; // inside the signature
        assert!(matches!(
            anchor.verify(&forged, at("2026-11-25T00:00:00Z"), |_| false),
            Err(EvidenceError::BadCertificateSignature)
        ));
        assert!(matches!(
            anchor.verify(&forged[..40], at("2026-11-25T00:00:00Z"), |_| false),
            Err(EvidenceError::CertificateMalformed(_))
        ));
        // A certificate from another CA (self-signed card cert) is refused as foreign.
        let other = TrustAnchor::from_der(card.certificate_der().to_vec()).unwrap();
        assert!(matches!(
            other.verify(card.certificate_der(), at("2026-11-25T00:00:00Z"), |_| {
                false
            }),
            Err(EvidenceError::ForeignIssuer)
        ));
    }
}
