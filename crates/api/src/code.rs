//! The stable codes of every refusal `/api/v1` gives: the domain's ([`ErrorCode`]) and the
//! service's own. Codes never change once published; clients match on this enum, and a code
//! from a newer server reads as [`ApiCode::Unknown`] instead of failing.

use kakunin_core::ErrorCode;
use serde::{Deserialize, Serialize};

/// A stable, machine-readable refusal code (`error.code` of every error body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiCode {
    /// A field has the wrong format (the message says which).
    InvalidFormat,
    /// A number's check digit is wrong: read it again from the card or certificate.
    InvalidCheckDigit,
    /// A face-auth card has no PIN; offer face recognition or visual confirmation.
    PinNotAllowedOnFaceAuth,
    /// A PIN is four digits.
    PinFormat,
    /// Wrong PIN; the card counts it (three lock it).
    PinWrong,
    /// The PIN is locked; only the municipal counter resets it.
    PinLocked,
    /// This registration channel needs the PIN.
    PinRequiredForChannel,
    /// This channel is not open to standard cards.
    ChannelNotForStandardCard,
    /// This identity method is not allowed for the card.
    IdentityMethodNotAllowed,
    /// Offer insurance-use registration before switching to a face-auth card.
    RegisterBeforeSwitch,
    /// The card is that kind already.
    AlreadyThatKind,
    /// The card is registered for insurance use already.
    AlreadyRegistered,
    /// The card is not registered for insurance use.
    NotRegistered,
    /// The online service refused the request.
    ServiceRefused,
    /// The visit is not at a step where this can happen.
    InvalidTransition,
    /// Visual confirmation needs the holder in person; use proxy pickup.
    VisualRequiresPresence,
    /// A proxy pickup needs a document (prescription or eligibility certificate).
    ProxyNeedsDocument,
    /// The patient did not consent to this information for this institution and visit.
    ConsentMissing,
    /// The 照会番号 names another patient of the institution already; choose another or
    /// register it again for that patient.
    ReferenceNumberTaken,
    /// No batch of this institution has this reception number (受付番号); use the one the
    /// upload was answered with.
    UnknownReceptionNumber,
    /// The document shown is past its validity (a health insurance card after its expiry or
    /// after 2025-12-01, a 資格確認書 after its expiry): ask for a valid one, the マイナ保険証, or
    /// use the self-declaration form.
    DocumentExpired,
    /// The document shown cannot be genuine (a health insurance card issued after 2024-12-01, a
    /// 資格確認書 valid for more than five years).
    DocumentNotGenuine,
    /// The 資格情報のお知らせ is valid only together with the マイナ保険証.
    NoticeNotValidAlone,
    /// The patient chooses an electronic or a paper prescription where the institution issues
    /// electronic ones (and nowhere else).
    PrescriptionChoice,
    /// The typed 照合番号B cannot be a card's (not 14 digits, no birth month and day, no expiry
    /// year): it was not sent to the card; type it again from the card's face.
    NumberBFormat,
    /// The certificate is not base64 DER; read it again from the card.
    CertificateMalformed,
    /// The certificate was not issued by the trusted CA.
    CertificateForeignIssuer,
    /// The certificate's signature does not verify.
    CertificateForged,
    /// The certificate has expired; the holder renews the card at the municipal counter.
    CertificateExpired,
    /// The certificate is not valid yet.
    CertificateNotYetValid,
    /// The certificate is revoked (a re-issued or cancelled card).
    CertificateRevoked,
    /// The certificate uses an algorithm the service does not support.
    CertificateUnsupported,
    /// The certificate belongs to another card than the one that started the visit.
    CertificateMismatch,
    /// A certificate could not be built (demo CA).
    CertificateBuildFailed,
    /// The card's signature over the nonce does not verify.
    CardSignatureInvalid,
    /// The reader's attestation cannot be read.
    AttestationMalformed,
    /// The reader's attestation signature does not verify.
    AttestationForged,
    /// The attestation names another reader or visit.
    AttestationMismatch,
    /// The reader's request signature does not verify.
    BadRequestSignature,
    /// The reader's public key is not an Ed25519 key (base64 of 32 bytes).
    BadPublicKey,
    /// The request id header is missing or malformed.
    BadRequestId,
    /// A reader request lacks its signature headers.
    MissingReaderSignature,
    /// No reader is enrolled under this id.
    UnknownReader,
    /// The reader waits for the operator's approval.
    ReaderPending,
    /// The reader is suspended or revoked.
    ReaderDisabled,
    /// A reader with this id is enrolled already.
    ReaderExists,
    /// The reader cannot move to that status from where it is.
    ReaderStatusConflict,
    /// The request's timestamp is too far from the server's clock.
    StaleRequest,
    /// The request id was used before (a replay).
    RequestReplayed,
    /// The nonce is unknown, expired or used (a replay); ask for a new one.
    NonceReplayed,
    /// Staff confirm visually with their own sign-in, never through a reader.
    VisualNeedsStaff,
    /// No bearer token was sent.
    MissingToken,
    /// The bearer token is unknown, revoked or expired.
    InvalidToken,
    /// The sign-in session has ended; sign in again.
    SessionExpired,
    /// The staff id or the password is wrong.
    WrongLogin,
    /// Too many failed sign-ins; wait and try again.
    TooManySignIns,
    /// The password is too short or too long.
    WeakPassword,
    /// The staff member's role may not do this.
    WrongRole,
    /// Not allowed for this caller.
    Forbidden,
    /// This belongs to another institution.
    OtherInstitution,
    /// This card was issued by another municipality.
    OtherMunicipality,
    /// Name the institution.
    InstitutionRequired,
    /// A staff member with this id exists already.
    StaffExists,
    /// No unrevoked API token has this id.
    UnknownToken,
    /// No card is on record for this id or certificate.
    UnknownCard,
    /// No visit has this id.
    UnknownVisit,
    /// No insured person has this id.
    UnknownPerson,
    /// No institution has this code.
    UnknownInstitution,
    /// No self-declaration has this id.
    UnknownDeclaration,
    /// No staff member has this id.
    UnknownStaff,
    /// The insurer number is not known to the service.
    UnknownInsurer,
    /// The category must be medication, checkup or clinical.
    UnknownCategory,
    /// No qualification matches these numbers.
    QualificationNotFound,
    /// The person holds a valid card already: switch or re-issue it.
    AlreadyHoldsCard,
    /// The visit's result is ready after consent selection.
    ResultNotReady,
    /// Give a name, a birth date or a card id.
    SearchTooWide,
    /// This is done at another endpoint (the message says which).
    UseOtherEndpoint,
    /// The photo must be a JPEG or PNG of at most 512 KiB, base64.
    BadPhoto,
    /// No card photo was handed over for this visit.
    NoPhoto,
    /// The card photo is no longer held; the reader hands it over again.
    PhotoEvicted,
    /// Another request changed the same thing at the same time; retry.
    ConcurrentChange,
    /// The body is not valid JSON.
    MalformedJson,
    /// The body must be JSON (content-type application/json).
    JsonRequired,
    /// A field of the body has the wrong type or is missing.
    WrongTypes,
    /// The body is too large.
    BodyTooLarge,
    /// The body could not be read.
    BadBody,
    /// The database cannot be reached now; nothing was changed. Retry.
    StorageUnavailable,
    /// A code this client does not know (a newer server's).
    #[serde(other)]
    Unknown,
}

impl ApiCode {
    /// The code as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiCode::InvalidFormat => "invalid_format",
            ApiCode::InvalidCheckDigit => "invalid_check_digit",
            ApiCode::PinNotAllowedOnFaceAuth => "pin_not_allowed_on_face_auth",
            ApiCode::PinFormat => "pin_format",
            ApiCode::PinWrong => "pin_wrong",
            ApiCode::PinLocked => "pin_locked",
            ApiCode::PinRequiredForChannel => "pin_required_for_channel",
            ApiCode::ChannelNotForStandardCard => "channel_not_for_standard_card",
            ApiCode::IdentityMethodNotAllowed => "identity_method_not_allowed",
            ApiCode::RegisterBeforeSwitch => "register_before_switch",
            ApiCode::AlreadyThatKind => "already_that_kind",
            ApiCode::AlreadyRegistered => "already_registered",
            ApiCode::NotRegistered => "not_registered",
            ApiCode::ServiceRefused => "service_refused",
            ApiCode::InvalidTransition => "invalid_transition",
            ApiCode::VisualRequiresPresence => "visual_requires_presence",
            ApiCode::ProxyNeedsDocument => "proxy_needs_document",
            ApiCode::ConsentMissing => "consent_missing",
            ApiCode::ReferenceNumberTaken => "reference_number_taken",
            ApiCode::UnknownReceptionNumber => "unknown_reception_number",
            ApiCode::NumberBFormat => "number_b_format",
            ApiCode::DocumentExpired => "document_expired",
            ApiCode::DocumentNotGenuine => "document_not_genuine",
            ApiCode::NoticeNotValidAlone => "notice_not_valid_alone",
            ApiCode::PrescriptionChoice => "prescription_choice",
            ApiCode::CertificateMalformed => "certificate_malformed",
            ApiCode::CertificateForeignIssuer => "certificate_foreign_issuer",
            ApiCode::CertificateForged => "certificate_forged",
            ApiCode::CertificateExpired => "certificate_expired",
            ApiCode::CertificateNotYetValid => "certificate_not_yet_valid",
            ApiCode::CertificateRevoked => "certificate_revoked",
            ApiCode::CertificateUnsupported => "certificate_unsupported",
            ApiCode::CertificateMismatch => "certificate_mismatch",
            ApiCode::CertificateBuildFailed => "certificate_build_failed",
            ApiCode::CardSignatureInvalid => "card_signature_invalid",
            ApiCode::AttestationMalformed => "attestation_malformed",
            ApiCode::AttestationForged => "attestation_forged",
            ApiCode::AttestationMismatch => "attestation_mismatch",
            ApiCode::BadRequestSignature => "bad_request_signature",
            ApiCode::BadPublicKey => "bad_public_key",
            ApiCode::BadRequestId => "bad_request_id",
            ApiCode::MissingReaderSignature => "missing_reader_signature",
            ApiCode::UnknownReader => "unknown_reader",
            ApiCode::ReaderPending => "reader_pending",
            ApiCode::ReaderDisabled => "reader_disabled",
            ApiCode::ReaderExists => "reader_exists",
            ApiCode::ReaderStatusConflict => "reader_status_conflict",
            ApiCode::StaleRequest => "stale_request",
            ApiCode::RequestReplayed => "request_replayed",
            ApiCode::NonceReplayed => "nonce_replayed",
            ApiCode::VisualNeedsStaff => "visual_needs_staff",
            ApiCode::MissingToken => "missing_token",
            ApiCode::InvalidToken => "invalid_token",
            ApiCode::SessionExpired => "session_expired",
            ApiCode::WrongLogin => "wrong_login",
            ApiCode::TooManySignIns => "too_many_sign_ins",
            ApiCode::WeakPassword => "weak_password",
            ApiCode::WrongRole => "wrong_role",
            ApiCode::Forbidden => "forbidden",
            ApiCode::OtherInstitution => "other_institution",
            ApiCode::OtherMunicipality => "other_municipality",
            ApiCode::InstitutionRequired => "institution_required",
            ApiCode::StaffExists => "staff_exists",
            ApiCode::UnknownToken => "unknown_token",
            ApiCode::UnknownCard => "unknown_card",
            ApiCode::UnknownVisit => "unknown_visit",
            ApiCode::UnknownPerson => "unknown_person",
            ApiCode::UnknownInstitution => "unknown_institution",
            ApiCode::UnknownDeclaration => "unknown_declaration",
            ApiCode::UnknownStaff => "unknown_staff",
            ApiCode::UnknownInsurer => "unknown_insurer",
            ApiCode::UnknownCategory => "unknown_category",
            ApiCode::QualificationNotFound => "qualification_not_found",
            ApiCode::AlreadyHoldsCard => "already_holds_card",
            ApiCode::ResultNotReady => "result_not_ready",
            ApiCode::SearchTooWide => "search_too_wide",
            ApiCode::UseOtherEndpoint => "use_other_endpoint",
            ApiCode::BadPhoto => "bad_photo",
            ApiCode::NoPhoto => "no_photo",
            ApiCode::PhotoEvicted => "photo_evicted",
            ApiCode::ConcurrentChange => "concurrent_change",
            ApiCode::MalformedJson => "malformed_json",
            ApiCode::JsonRequired => "json_required",
            ApiCode::WrongTypes => "wrong_types",
            ApiCode::BodyTooLarge => "body_too_large",
            ApiCode::BadBody => "bad_body",
            ApiCode::StorageUnavailable => "storage_unavailable",
            ApiCode::Unknown => "unknown",
        }
    }

    /// Every code, for documentation and tests.
    pub const ALL: &'static [ApiCode] = &[
        ApiCode::InvalidFormat,
        ApiCode::InvalidCheckDigit,
        ApiCode::PinNotAllowedOnFaceAuth,
        ApiCode::PinFormat,
        ApiCode::PinWrong,
        ApiCode::PinLocked,
        ApiCode::PinRequiredForChannel,
        ApiCode::ChannelNotForStandardCard,
        ApiCode::IdentityMethodNotAllowed,
        ApiCode::RegisterBeforeSwitch,
        ApiCode::AlreadyThatKind,
        ApiCode::AlreadyRegistered,
        ApiCode::NotRegistered,
        ApiCode::ServiceRefused,
        ApiCode::InvalidTransition,
        ApiCode::VisualRequiresPresence,
        ApiCode::ProxyNeedsDocument,
        ApiCode::ConsentMissing,
        ApiCode::ReferenceNumberTaken,
        ApiCode::UnknownReceptionNumber,
        ApiCode::NumberBFormat,
        ApiCode::DocumentExpired,
        ApiCode::DocumentNotGenuine,
        ApiCode::NoticeNotValidAlone,
        ApiCode::PrescriptionChoice,
        ApiCode::CertificateMalformed,
        ApiCode::CertificateForeignIssuer,
        ApiCode::CertificateForged,
        ApiCode::CertificateExpired,
        ApiCode::CertificateNotYetValid,
        ApiCode::CertificateRevoked,
        ApiCode::CertificateUnsupported,
        ApiCode::CertificateMismatch,
        ApiCode::CertificateBuildFailed,
        ApiCode::CardSignatureInvalid,
        ApiCode::AttestationMalformed,
        ApiCode::AttestationForged,
        ApiCode::AttestationMismatch,
        ApiCode::BadRequestSignature,
        ApiCode::BadPublicKey,
        ApiCode::BadRequestId,
        ApiCode::MissingReaderSignature,
        ApiCode::UnknownReader,
        ApiCode::ReaderPending,
        ApiCode::ReaderDisabled,
        ApiCode::ReaderExists,
        ApiCode::ReaderStatusConflict,
        ApiCode::StaleRequest,
        ApiCode::RequestReplayed,
        ApiCode::NonceReplayed,
        ApiCode::VisualNeedsStaff,
        ApiCode::MissingToken,
        ApiCode::InvalidToken,
        ApiCode::SessionExpired,
        ApiCode::WrongLogin,
        ApiCode::TooManySignIns,
        ApiCode::WeakPassword,
        ApiCode::WrongRole,
        ApiCode::Forbidden,
        ApiCode::OtherInstitution,
        ApiCode::OtherMunicipality,
        ApiCode::InstitutionRequired,
        ApiCode::StaffExists,
        ApiCode::UnknownToken,
        ApiCode::UnknownCard,
        ApiCode::UnknownVisit,
        ApiCode::UnknownPerson,
        ApiCode::UnknownInstitution,
        ApiCode::UnknownDeclaration,
        ApiCode::UnknownStaff,
        ApiCode::UnknownInsurer,
        ApiCode::UnknownCategory,
        ApiCode::QualificationNotFound,
        ApiCode::AlreadyHoldsCard,
        ApiCode::ResultNotReady,
        ApiCode::SearchTooWide,
        ApiCode::UseOtherEndpoint,
        ApiCode::BadPhoto,
        ApiCode::NoPhoto,
        ApiCode::PhotoEvicted,
        ApiCode::ConcurrentChange,
        ApiCode::MalformedJson,
        ApiCode::JsonRequired,
        ApiCode::WrongTypes,
        ApiCode::BodyTooLarge,
        ApiCode::BadBody,
        ApiCode::StorageUnavailable,
    ];
}

impl std::fmt::Display for ApiCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ErrorCode> for ApiCode {
    fn from(c: ErrorCode) -> ApiCode {
        match c {
            ErrorCode::InvalidFormat => ApiCode::InvalidFormat,
            ErrorCode::InvalidCheckDigit => ApiCode::InvalidCheckDigit,
            ErrorCode::PinNotAllowedOnFaceAuth => ApiCode::PinNotAllowedOnFaceAuth,
            ErrorCode::PinFormat => ApiCode::PinFormat,
            ErrorCode::PinWrong => ApiCode::PinWrong,
            ErrorCode::PinLocked => ApiCode::PinLocked,
            ErrorCode::PinRequiredForChannel => ApiCode::PinRequiredForChannel,
            ErrorCode::ChannelNotForStandardCard => ApiCode::ChannelNotForStandardCard,
            ErrorCode::IdentityMethodNotAllowed => ApiCode::IdentityMethodNotAllowed,
            ErrorCode::RegisterBeforeSwitch => ApiCode::RegisterBeforeSwitch,
            ErrorCode::AlreadyThatKind => ApiCode::AlreadyThatKind,
            ErrorCode::AlreadyRegistered => ApiCode::AlreadyRegistered,
            ErrorCode::NotRegistered => ApiCode::NotRegistered,
            ErrorCode::ServiceRefused => ApiCode::ServiceRefused,
            ErrorCode::InvalidTransition => ApiCode::InvalidTransition,
            ErrorCode::VisualRequiresPresence => ApiCode::VisualRequiresPresence,
            ErrorCode::ProxyNeedsDocument => ApiCode::ProxyNeedsDocument,
            ErrorCode::ConsentMissing => ApiCode::ConsentMissing,
            ErrorCode::ReferenceNumberTaken => ApiCode::ReferenceNumberTaken,
            ErrorCode::DocumentExpired => ApiCode::DocumentExpired,
            ErrorCode::DocumentNotGenuine => ApiCode::DocumentNotGenuine,
            ErrorCode::NoticeNotValidAlone => ApiCode::NoticeNotValidAlone,
            ErrorCode::PrescriptionChoice => ApiCode::PrescriptionChoice,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_json_under_its_name() {
        for &c in ApiCode::ALL {
            let json = serde_json::to_value(c).unwrap();
            assert_eq!(json, c.as_str());
            assert_eq!(serde_json::from_value::<ApiCode>(json).unwrap(), c);
        }
    }

    #[test]
    fn a_code_from_a_newer_server_reads_as_unknown() {
        let c: ApiCode = serde_json::from_value(serde_json::json!("invented_later")).unwrap();
        assert_eq!(c, ApiCode::Unknown);
    }

    #[test]
    fn every_domain_code_keeps_its_name() {
        for c in [
            ErrorCode::PinWrong,
            ErrorCode::ConsentMissing,
            ErrorCode::InvalidCheckDigit,
        ] {
            assert_eq!(ApiCode::from(c).as_str(), c.as_str());
        }
    }
}
