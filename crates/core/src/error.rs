use serde::Serialize;

/// A stable, machine-readable code for every refusal the domain can give.
///
/// The API returns it as `error.code`; screens map it to Japanese text. Codes never change once
/// published, so clients may match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A field has the wrong format.
    InvalidFormat,
    /// A number's check digit is wrong.
    InvalidCheckDigit,
    /// A face-auth card has no PIN.
    PinNotAllowedOnFaceAuth,
    /// A PIN is four digits.
    PinFormat,
    /// Wrong PIN (counted; three lock it).
    PinWrong,
    /// The PIN is locked; the municipal counter resets it.
    PinLocked,
    /// The channel needs the PIN.
    PinRequiredForChannel,
    /// The channel is not open to standard cards.
    ChannelNotForStandardCard,
    /// The identity method is not allowed for the card.
    IdentityMethodNotAllowed,
    /// Offer registration before switching to face-auth.
    RegisterBeforeSwitch,
    /// The card is that kind already.
    AlreadyThatKind,
    /// The card is registered already.
    AlreadyRegistered,
    /// The card is not registered for insurance use.
    NotRegistered,
    /// The online service refused.
    ServiceRefused,
    /// Not possible at the visit's present step.
    InvalidTransition,
    /// Visual confirmation needs the holder in person.
    VisualRequiresPresence,
    /// A proxy pickup needs a document.
    ProxyNeedsDocument,
    /// No consent for this information, institution and visit.
    ConsentMissing,
    /// The 照会番号 names another patient of the institution already.
    ReferenceNumberTaken,
    /// The document shown (health insurance card, 資格確認書) is past its validity.
    DocumentExpired,
    /// The document shown cannot be genuine (a health insurance card issued after the
    /// transition, a 資格確認書 valid for more than five years).
    DocumentNotGenuine,
    /// The 資格情報のお知らせ was shown without the マイナ保険証.
    NoticeNotValidAlone,
    /// The electronic/paper prescription choice is missing where asked, or given where not.
    PrescriptionChoice,
}

impl ErrorCode {
    /// The code as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidFormat => "invalid_format",
            ErrorCode::InvalidCheckDigit => "invalid_check_digit",
            ErrorCode::PinNotAllowedOnFaceAuth => "pin_not_allowed_on_face_auth",
            ErrorCode::PinFormat => "pin_format",
            ErrorCode::PinWrong => "pin_wrong",
            ErrorCode::PinLocked => "pin_locked",
            ErrorCode::PinRequiredForChannel => "pin_required_for_channel",
            ErrorCode::ChannelNotForStandardCard => "channel_not_for_standard_card",
            ErrorCode::IdentityMethodNotAllowed => "identity_method_not_allowed",
            ErrorCode::RegisterBeforeSwitch => "register_before_switch",
            ErrorCode::AlreadyThatKind => "already_that_kind",
            ErrorCode::AlreadyRegistered => "already_registered",
            ErrorCode::NotRegistered => "not_registered",
            ErrorCode::ServiceRefused => "service_refused",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::VisualRequiresPresence => "visual_requires_presence",
            ErrorCode::ProxyNeedsDocument => "proxy_needs_document",
            ErrorCode::ConsentMissing => "consent_missing",
            ErrorCode::ReferenceNumberTaken => "reference_number_taken",
            ErrorCode::DocumentExpired => "document_expired",
            ErrorCode::DocumentNotGenuine => "document_not_genuine",
            ErrorCode::NoticeNotValidAlone => "notice_not_valid_alone",
            ErrorCode::PrescriptionChoice => "prescription_choice",
        }
    }
}

/// A refusal by a domain rule: what happened and what the person should do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DomainError {
    /// Stable code (see [`ErrorCode`]).
    pub code: ErrorCode,
    /// English sentence for logs and API clients: what happened, what to do.
    pub message: String,
}

impl DomainError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        DomainError {
            code,
            message: message.into(),
        }
    }
}
