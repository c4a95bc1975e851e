//! The PIN path (SPEC §9): after VERIFY with the PIN, the card signs the server's challenge with
//! its user-authentication key; the server checks that signature against the certificate. A real
//! JPKI card signs a PKCS#1 v1.5 DigestInfo over SHA-256, which is what ring's
//! `RSA_PKCS1_2048_8192_SHA256` verifies; demo cards sign with Ed25519.

use crate::certificate::VerifiedCertificate;
use crate::EvidenceError;

const OID_ED25519: &str = "1.3.101.112";
const OID_RSA: &str = "1.2.840.113549.1.1.1";

/// Verifies the card's `signature` over `challenge` with the key in `cert`.
pub fn verify_card_signature(
    cert: &VerifiedCertificate,
    challenge: &[u8],
    signature: &[u8],
) -> Result<(), EvidenceError> {
    let alg: &dyn ring::signature::VerificationAlgorithm = match cert.key_algorithm.as_str() {
        OID_ED25519 => &ring::signature::ED25519,
        OID_RSA => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        other => return Err(EvidenceError::UnsupportedAlgorithm(other.to_owned())),
    };
    ring::signature::UnparsedPublicKey::new(alg, &cert.public_key)
        .verify(challenge, signature)
        .map_err(|_| EvidenceError::BadCardSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::DemoCa;
    use crate::certificate::TrustAnchor;

    #[test]
    fn card_signature_over_challenge() {
        let ca = DemoCa::new().unwrap();
        let now = chrono::Utc::now();
        let card = ca
            .issue_card(
                "c9",
                now - chrono::Duration::days(1),
                now + chrono::Duration::days(365),
            )
            .unwrap();
        let cert = TrustAnchor::from_der(ca.certificate_der().to_vec())
            .unwrap()
            .verify(card.certificate_der(), now, |_| false)
            .unwrap();
        let sig = card.sign_challenge(b"challenge-1");
        verify_card_signature(&cert, b"challenge-1", &sig).unwrap();
        assert!(matches!(
            verify_card_signature(&cert, b"challenge-2", &sig),
            Err(EvidenceError::BadCardSignature)
        ));
        let other = ca
            .issue_card("c10", now, now + chrono::Duration::days(1))
            .unwrap();
        assert!(verify_card_signature(
            &cert,
            b"challenge-1",
            &other.sign_challenge(b"challenge-1")
        )
        .is_err());
    }
}
