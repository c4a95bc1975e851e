//! 照合番号B read from a photograph of a My Number card's printed face, as certified
//! face-authentication readers do: the card found in the frame and straightened
//! ([`detect`]), its birth date (in the Japanese era), expiry and security code read with
//! Tesseract ([`read`], feature `ocr`), each read with a confidence that decides whether the
//! reader may try it against the card-face applet (never guessing against its lock: see
//! `kakunin_core::card_face`). [`render`] draws and photographs card faces in simulation for the
//! measured test set ([`eval`]).

#![deny(missing_docs)]

pub mod detect;
pub mod eval;
pub mod layout;
#[cfg(feature = "ocr")]
pub mod read;
pub mod render;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// Why a frame gave no 照合番号B. Each says what the patient or staff should do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardFaceError {
    /// No card in the picture.
    #[error("no card in view: hold the card's face to the camera, flat and whole")]
    NoCard,
    /// More than one card.
    #[error("more than one card in view: show one card at a time")]
    SeveralCards,
    /// Something card-sized that is not a card's shape.
    #[error(
        "the card's outline cannot be found: hold it flat, away from the edges of the picture"
    )]
    NotACard,
    /// The back of the card.
    #[error("this is the back of the card: turn it over and show the side with the photo")]
    BackShown,
    /// A field could not be read as what it must be.
    #[error("the card's {0} could not be read: hold it still, out of glare")]
    Unreadable(String),
    /// The OCR engine failed or is missing.
    #[error("OCR: {0}")]
    Ocr(String),
    /// Built without OCR.
    #[error(
        "this build reads no card faces: build with `--features ocr` after ./scripts/setup-ocr"
    )]
    NoOcr,
    /// No Japanese font to draw card faces with.
    #[error("no Japanese font found: install fonts-noto-cjk (./scripts/setup-browser) or set KAKUNIN_CARD_FONT to a .ttf/.ttc")]
    NoFont,
    /// A value the card cannot print.
    #[error("cannot print the {0}")]
    Unprintable(&'static str),
}

/// A frame's read, with the card's corners in the frame when a card was found (clockwise).
pub type Outlined = (Option<[(f32, f32); 4]>, Result<NumberBRead, CardFaceError>);

/// What was read from the card's face.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumberBRead {
    /// 生年月日.
    pub birth: NaiveDate,
    /// The expiry printed in the box.
    pub expiry: NaiveDate,
    /// セキュリティコード.
    pub security_code: String,
    /// The 14 digits: era YYMMDD of the birth date, the expiry year, the security code.
    pub number_b: String,
    /// How sure the read is, 0–1 (the least sure field's).
    pub confidence: f32,
}

impl NumberBRead {
    /// A read of these fields.
    pub fn new(
        birth: NaiveDate,
        expiry: NaiveDate,
        security_code: String,
        confidence: f32,
    ) -> NumberBRead {
        let number_b = kakunin_core::card_face::number_b(birth, expiry.year(), &security_code);
        NumberBRead {
            birth,
            expiry,
            security_code,
            number_b,
            confidence,
        }
    }
}
