//! The three matrices of SPEC §3–§5: which identity methods a card allows, which registration
//! channels work for which card, and which services each credential can use.

use crate::card::{pin_on_face_auth, CardKind};
use crate::error::{DomainError, ErrorCode};
use serde::{Deserialize, Serialize};

/// How the holder's identity is verified at a clinic or pharmacy (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentityMethod {
    /// 暗証番号: the card signs a server challenge after VERIFY.
    Pin,
    /// 顔認証: the reader compares a live frame with the card photo.
    Face,
    /// 目視確認: reception staff compare the person with the card photo.
    Visual,
}

impl IdentityMethod {
    /// All methods, for tables and tests.
    pub const ALL: [IdentityMethod; 3] = [
        IdentityMethod::Pin,
        IdentityMethod::Face,
        IdentityMethod::Visual,
    ];

    /// Code name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityMethod::Pin => "pin",
            IdentityMethod::Face => "face",
            IdentityMethod::Visual => "visual",
        }
    }
}

/// Whether `method` may verify the holder of a card of `kind` (SPEC §3). A face-auth card never
/// gets a PIN screen.
pub fn identity_method_allowed(kind: CardKind, method: IdentityMethod) -> Result<(), DomainError> {
    match (kind, method) {
        (CardKind::FaceAuth, IdentityMethod::Pin) => Err(pin_on_face_auth()),
        _ => Ok(()),
    }
}

/// The identity methods offered for a card, default first.
pub fn identity_methods(kind: CardKind) -> &'static [IdentityMethod] {
    match kind {
        CardKind::Standard => &[
            IdentityMethod::Face,
            IdentityMethod::Pin,
            IdentityMethod::Visual,
        ],
        CardKind::FaceAuth => &[IdentityMethod::Face, IdentityMethod::Visual],
    }
}

/// Where insurance-use registration (健康保険証利用登録) can be done (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationChannel {
    /// マイナポータル on a smartphone.
    Smartphone,
    /// セブン銀行 ATM.
    Atm,
    /// 顔認証付きカードリーダー at a clinic or pharmacy.
    CardReader,
    /// 市町村窓口, at issuance or kind switch.
    MunicipalCounter,
}

impl RegistrationChannel {
    /// All channels, for tables and tests.
    pub const ALL: [RegistrationChannel; 4] = [
        RegistrationChannel::Smartphone,
        RegistrationChannel::Atm,
        RegistrationChannel::CardReader,
        RegistrationChannel::MunicipalCounter,
    ];
}

/// Whether a card of `kind` may register through `channel` with identity verified by `method`
/// (`None` at the municipal counter, where the clerk checks identity in person).
pub fn registration_allowed(
    channel: RegistrationChannel,
    kind: CardKind,
    method: Option<IdentityMethod>,
) -> Result<(), DomainError> {
    use RegistrationChannel::*;
    match (channel, kind) {
        (Smartphone | Atm, CardKind::FaceAuth) => Err(DomainError::new(
            ErrorCode::PinRequiredForChannel,
            "a face-auth card cannot register by smartphone or ATM (they need the PIN); register at a clinic or pharmacy card reader, or at the municipal counter",
        )),
        (Smartphone | Atm, CardKind::Standard) => match method {
            Some(IdentityMethod::Pin) => Ok(()),
            _ => Err(DomainError::new(ErrorCode::PinRequiredForChannel, "smartphone and ATM registration needs the card's 4-digit PIN")),
        },
        (CardReader, kind) => match method {
            Some(m) => identity_method_allowed(kind, m),
            None => Err(DomainError::new(ErrorCode::IdentityMethodNotAllowed, "registration at a card reader needs identity verified by face, visual confirmation or PIN")),
        },
        (MunicipalCounter, CardKind::FaceAuth) => Ok(()),
        (MunicipalCounter, CardKind::Standard) => Err(DomainError::new(
            ErrorCode::ChannelNotForStandardCard,
            "the municipal counter registers face-auth cards (at issuance or switch); a standard card registers by smartphone, ATM or a card reader",
        )),
    }
}

/// A service a credential may be used for (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// オンライン資格確認 at a clinic or pharmacy.
    OnlineEligibilityCheck,
    /// Consent-based sharing of medication / checkup / clinical information.
    MedicalInformationSharing,
    /// 本人確認書類 (photo ID).
    PhotoId,
    /// マイナポータル, including the eligibility screen on a phone.
    Mynaportal,
    /// コンビニ交付 and other services that need a PIN or the signature certificate.
    PinServices,
}

impl Service {
    /// All services, for tables and tests.
    pub const ALL: [Service; 5] = [
        Service::OnlineEligibilityCheck,
        Service::MedicalInformationSharing,
        Service::PhotoId,
        Service::Mynaportal,
        Service::PinServices,
    ];
}

/// What the patient presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// A My Number card of this kind.
    Card(CardKind),
    /// 資格確認書.
    EligibilityCertificate,
}

/// The answer of the service matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// Allowed.
    Yes,
    /// Refused, with the reason to show.
    No(DomainError),
    /// The question does not apply (an eligibility certificate is not an ID card).
    NotApplicable,
}

/// Whether `credential` can be used for `service` (SPEC §5).
pub fn service_availability(service: Service, credential: Credential) -> Availability {
    use Service::*;
    match (service, credential) {
        (_, Credential::Card(CardKind::Standard)) => Availability::Yes,
        (OnlineEligibilityCheck | MedicalInformationSharing | PhotoId, Credential::Card(CardKind::FaceAuth)) => Availability::Yes,
        (Mynaportal | PinServices, Credential::Card(CardKind::FaceAuth)) => Availability::No(DomainError::new(
            ErrorCode::ServiceRefused,
            "a face-auth card has no PIN, so Mynaportal, convenience-store certificates and other PIN services cannot be used; switch to a standard card at the municipal counter to use them",
        )),
        (OnlineEligibilityCheck, Credential::EligibilityCertificate) => Availability::Yes,
        (MedicalInformationSharing, Credential::EligibilityCertificate) => Availability::No(DomainError::new(
            ErrorCode::ServiceRefused,
            "medical information cannot be shared on an eligibility certificate; it needs a My Number card and the patient's consent at the reader",
        )),
        (PhotoId | Mynaportal | PinServices, Credential::EligibilityCertificate) => Availability::NotApplicable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CardKind::*;
    use IdentityMethod::*;
    use RegistrationChannel::*;

    #[test]
    fn identity_matrix_every_cell() {
        let table = [
            (Standard, Pin, true),
            (Standard, Face, true),
            (Standard, Visual, true),
            (FaceAuth, Pin, false),
            (FaceAuth, Face, true),
            (FaceAuth, Visual, true),
        ];
        for (kind, method, ok) in table {
            let r = identity_method_allowed(kind, method);
            assert_eq!(r.is_ok(), ok, "{kind:?} {method:?}");
            if !ok {
                assert_eq!(r.unwrap_err().code, ErrorCode::PinNotAllowedOnFaceAuth);
            }
            assert_eq!(identity_methods(kind).contains(&method), ok);
        }
        assert_eq!(
            identity_methods(FaceAuth)[0],
            Face,
            "face recognition is the default"
        );
    }

    #[test]
    fn registration_matrix_every_cell() {
        use ErrorCode as E;
        // (channel, kind, method, expected)
        type Cell = (
            RegistrationChannel,
            CardKind,
            Option<IdentityMethod>,
            Result<(), E>,
        );
        let table: &[Cell] = &[
            (Smartphone, Standard, Some(Pin), Ok(())),
            (
                Smartphone,
                Standard,
                Some(Face),
                Err(E::PinRequiredForChannel),
            ),
            (
                Smartphone,
                FaceAuth,
                Some(Pin),
                Err(E::PinRequiredForChannel),
            ),
            (
                Smartphone,
                FaceAuth,
                Some(Face),
                Err(E::PinRequiredForChannel),
            ),
            (Atm, Standard, Some(Pin), Ok(())),
            (Atm, Standard, None, Err(E::PinRequiredForChannel)),
            (Atm, FaceAuth, Some(Pin), Err(E::PinRequiredForChannel)),
            (CardReader, Standard, Some(Pin), Ok(())),
            (CardReader, Standard, Some(Face), Ok(())),
            (CardReader, Standard, Some(Visual), Ok(())),
            (CardReader, Standard, None, Err(E::IdentityMethodNotAllowed)),
            (
                CardReader,
                FaceAuth,
                Some(Pin),
                Err(E::PinNotAllowedOnFaceAuth),
            ),
            (CardReader, FaceAuth, Some(Face), Ok(())),
            (CardReader, FaceAuth, Some(Visual), Ok(())),
            (MunicipalCounter, FaceAuth, None, Ok(())),
            (
                MunicipalCounter,
                Standard,
                None,
                Err(E::ChannelNotForStandardCard),
            ),
        ];
        for (channel, kind, method, want) in table {
            let got = registration_allowed(*channel, *kind, *method).map_err(|e| e.code);
            assert_eq!(&got, want, "{channel:?} {kind:?} {method:?}");
        }
        // Every channel × kind pair appears.
        for c in RegistrationChannel::ALL {
            for k in [Standard, FaceAuth] {
                assert!(
                    table.iter().any(|(tc, tk, _, _)| *tc == c && *tk == k),
                    "{c:?} {k:?} missing"
                );
            }
        }
    }

    #[test]
    fn service_matrix_every_cell() {
        use Service::*;
        #[derive(Debug, PartialEq)]
        enum A {
            Y,
            N,
            Na,
        }
        let cert = Credential::EligibilityCertificate;
        let std = Credential::Card(Standard);
        let face = Credential::Card(FaceAuth);
        let table = [
            (OnlineEligibilityCheck, std, A::Y),
            (OnlineEligibilityCheck, face, A::Y),
            (OnlineEligibilityCheck, cert, A::Y),
            (MedicalInformationSharing, std, A::Y),
            (MedicalInformationSharing, face, A::Y),
            (MedicalInformationSharing, cert, A::N),
            (PhotoId, std, A::Y),
            (PhotoId, face, A::Y),
            (PhotoId, cert, A::Na),
            (Mynaportal, std, A::Y),
            (Mynaportal, face, A::N),
            (Mynaportal, cert, A::Na),
            (PinServices, std, A::Y),
            (PinServices, face, A::N),
            (PinServices, cert, A::Na),
        ];
        assert_eq!(table.len(), Service::ALL.len() * 3);
        for (s, c, want) in table {
            let got = match service_availability(s, c) {
                Availability::Yes => A::Y,
                Availability::No(e) => {
                    assert_eq!(e.code, ErrorCode::ServiceRefused);
                    A::N
                }
                Availability::NotApplicable => A::Na,
            };
            assert_eq!(got, want, "{s:?} {c:?}");
        }
    }
}
