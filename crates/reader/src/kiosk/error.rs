//! The kiosk's refusals to its screen: a stable code the screen translates (the server's own
//! codes pass through), the HTTP status it is answered with, and details for the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kakunin_api::client::ClientError;
use kakunin_api::ApiCode;
use kakunin_card::CardError;
use serde::Serialize;

/// What stopped a kiosk step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KioskCode {
    /// The server refused; its code is shown as it is.
    Server(ApiCode),
    /// The server cannot be reached: the screen offers the fallbacks.
    ServerUnreachable,
    /// The server answered something the kiosk cannot read.
    ServerError,
    /// No card is on the reader.
    NoCard,
    /// A card is on the reader already.
    CardPresent,
    /// The card was taken off mid-step.
    CardRemoved,
    /// The card cannot be read.
    CardUnreadable,
    /// The PC/SC reader is not there.
    ReaderUnavailable,
    /// Wrong PIN.
    PinWrong,
    /// The PIN is locked.
    PinLocked,
    /// A face-auth card has no PIN.
    PinNotAvailable,
    /// Wrong 照合番号B.
    NumberBWrong,
    /// The face engine is not loaded.
    NoEngine,
    /// The face engine failed on a frame.
    EngineFailed,
    /// The card photo has no usable face (or cannot be read).
    CardPhotoUnusable,
    /// The camera frame is not an image.
    BadFrame,
    /// The camera frame is larger than allowed.
    FrameTooLarge,
    /// A standard card's printed face is not read.
    CardFaceNotNeeded,
    /// This kiosk cannot read card faces (no OCR engine): staff type 照合番号B or confirm
    /// visually.
    CardFaceUnreadable,
}

impl KioskCode {
    /// The code the screen translates.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            KioskCode::Server(code) => code.as_str(),
            KioskCode::ServerUnreachable => "server_unreachable",
            KioskCode::ServerError => "server_error",
            KioskCode::NoCard => "no_card",
            KioskCode::CardPresent => "card_present",
            KioskCode::CardRemoved => "card_removed",
            KioskCode::CardUnreadable => "card_unreadable",
            KioskCode::ReaderUnavailable => "reader_unavailable",
            KioskCode::PinWrong => "pin_wrong",
            KioskCode::PinLocked => "pin_locked",
            KioskCode::PinNotAvailable => "pin_not_available",
            KioskCode::NumberBWrong => "number_b_wrong",
            KioskCode::NoEngine => "no_engine",
            KioskCode::EngineFailed => "engine_failed",
            KioskCode::CardPhotoUnusable => "card_photo_unusable",
            KioskCode::BadFrame => "bad_frame",
            KioskCode::FrameTooLarge => "frame_too_large",
            KioskCode::CardFaceNotNeeded => "card_face_not_needed",
            KioskCode::CardFaceUnreadable => "card_face_unreadable",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            KioskCode::ServerUnreachable | KioskCode::ServerError => StatusCode::BAD_GATEWAY,
            KioskCode::NoCard | KioskCode::CardPresent => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl Serialize for KioskCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An error for the screen: a stable code it translates, and details for the log.
#[derive(Debug, Serialize)]
pub(super) struct KioskError {
    code: KioskCode,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tries_left: Option<u8>,
}

impl IntoResponse for KioskError {
    fn into_response(self) -> Response {
        tracing::info!(code = self.code.as_str(), message = %self.message, "kiosk step refused");
        let status = self.code.status();
        (status, Json(serde_json::json!({ "error": self }))).into_response()
    }
}

/// A refusal with `code`.
pub(super) fn err(code: KioskCode, message: impl Into<String>) -> KioskError {
    KioskError {
        code,
        message: message.into(),
        tries_left: None,
    }
}

/// No card is on the reader.
pub(super) fn no_card() -> KioskError {
    err(
        KioskCode::NoCard,
        "no card is on the reader; place the card first",
    )
}

impl From<CardError> for KioskError {
    fn from(e: CardError) -> Self {
        let (code, tries_left) = match &e {
            CardError::PinWrong { tries_left } => (KioskCode::PinWrong, Some(*tries_left)),
            CardError::PinLocked => (KioskCode::PinLocked, None),
            CardError::PinNotAvailable => (KioskCode::PinNotAvailable, None),
            CardError::Removed => (KioskCode::CardRemoved, None),
            CardError::VerifyNumberBWrong { tries_left } => {
                (KioskCode::NumberBWrong, Some(*tries_left))
            }
            // The card-face applet stays shut (locked, or not tried by the lock-safe rule): the
            // photo cannot be compared; staff confirm visually.
            CardError::NumberBLocked | CardError::NumberBNotTried(_) => {
                (KioskCode::CardPhotoUnusable, None)
            }
            _ => (KioskCode::CardUnreadable, None),
        };
        KioskError {
            code,
            message: e.to_string(),
            tries_left,
        }
    }
}

/// The server's refusals keep their code; an unreachable server becomes `server_unreachable`
/// (the screen then offers the fallbacks of SPEC §6).
impl From<ClientError> for KioskError {
    fn from(e: ClientError) -> Self {
        let code = match &e {
            ClientError::Unreachable { .. } => KioskCode::ServerUnreachable,
            ClientError::Refused { code, .. } => KioskCode::Server(*code),
            ClientError::Answer { .. } => KioskCode::ServerError,
        };
        err(code, e.to_string())
    }
}
