//! The kiosk's card-face step, for a face-auth card whose 照合番号B the kiosk does not know (every
//! real card): the patient holds the card's printed face to the camera; each frame is searched
//! for the card (its outline goes back to the screen, which draws it over the live picture),
//! and the birth date, expiry and security code are read from it. A sure read is offered to the
//! card once, under the lock-safe rule (`kakunin_core::card_face::may_try`); an unsure one asks
//! for another frame, and after a few the patient goes to staff, who type the number or
//! confirm visually. A refused number is never tried again automatically.

use super::error::{err, no_card, KioskCode};
use super::{open_card_face, Kiosk, KioskResult, MAX_FRAME};
use crate::agent::Offer;
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use kakunin_card::CardError;
use serde::Serialize;
use std::sync::Arc;

/// Unsure reads of a card in view (fields that could not be read, or read without agreement)
/// before the patient is sent to staff.
pub(super) const MAX_UNSURE_READS: u32 = 8;
/// Frames without a readable card (none in view, the back, two cards…) before the patient is
/// sent to staff: about half a minute at the screen's pace.
pub(super) const MAX_FRAMES: u32 = 60;

/// What the kiosk saw in one frame, for the screen to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Seen {
    /// No card in the picture.
    NoCard,
    /// More than one card.
    SeveralCards,
    /// Something that is not a card's shape (held at an angle, cut off by the edge).
    NotACard,
    /// The back of the card.
    BackShown,
    /// A card, but not read surely: hold it still, out of glare.
    ReadAgain,
    /// Read and opened: the card photo is read; next, the face.
    Opened,
    /// The card refused the number read (the face of another card?): not tried again; staff.
    Wrong,
    /// The card-face applet is locked: staff confirm visually; the municipal counter resets it.
    Locked,
    /// Not tried (few tries left on the card, or an earlier refusal), or too many frames
    /// without a sure read: staff type the number or confirm visually.
    ToStaff,
}

/// The kiosk's answer to one card-face frame.
#[derive(Debug, Serialize)]
pub(super) struct CardFaceStep {
    /// What was seen, and so what the screen says next.
    pub seen: Seen,
    /// The card's corners in the frame (pixels, clockwise), when a card was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outline: Option<[[f32; 2]; 4]>,
    /// The frame's width and height (the screen scales the outline to its video).
    pub frame: [u32; 2],
    /// The tries the card has left after a refused number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tries_left: Option<u8>,
}

/// The OCR engines, loaded on first use and kept (loading the model takes longer than a read).
#[derive(Default)]
pub(super) struct CardFaceReader {
    #[cfg(feature = "ocr")]
    engines: std::sync::Mutex<Option<kakunin_cardface::read::Reader>>,
}

impl CardFaceReader {
    /// Whether this build reads card faces at all (else face-auth cards without a known
    /// 照合番号B go to staff).
    pub(super) fn available() -> bool {
        cfg!(feature = "ocr")
    }

    /// Reads one frame: the card's corners if found, and the read.
    #[cfg(feature = "ocr")]
    fn read(&self, frame: &image::RgbImage) -> kakunin_cardface::Outlined {
        use kakunin_cardface::CardFaceError;
        let Ok(mut engines) = self.engines.lock() else {
            return (None, Err(CardFaceError::Ocr("OCR engine poisoned".into())));
        };
        if engines.is_none() {
            match kakunin_cardface::read::Reader::new() {
                Ok(r) => *engines = Some(r),
                Err(e) => return (None, Err(e)),
            }
        }
        engines.as_mut().expect("loaded").read_outlined(frame)
    }

    #[cfg(not(feature = "ocr"))]
    fn read(&self, _: &image::RgbImage) -> kakunin_cardface::Outlined {
        (None, Err(kakunin_cardface::CardFaceError::NoOcr))
    }
}

/// One camera frame of the card's printed face.
pub(super) async fn card_face_frame(
    State(k): State<Arc<Kiosk>>,
    frame: Bytes,
) -> KioskResult<Json<CardFaceStep>> {
    if frame.len() > MAX_FRAME {
        return Err(err(
            KioskCode::FrameTooLarge,
            "camera frame larger than 4 MiB",
        ));
    }
    let mut slot = k.slot.lock().await;
    let s = slot.as_mut().ok_or_else(no_card)?;
    let step = |seen, outline, frame, tries_left| {
        Ok(Json(CardFaceStep {
            seen,
            outline,
            frame,
            tries_left,
        }))
    };
    if s.photo.is_some() {
        return step(Seen::Opened, None, [0, 0], None);
    }
    if !s.face_auth {
        return Err(err(
            KioskCode::CardFaceNotNeeded,
            "a standard card is confirmed by PIN or face without reading its printed face",
        ));
    }
    if s.number_b_failures > 0 {
        return step(Seen::ToStaff, None, [0, 0], None);
    }
    // Judged before decoding, like every face frame (kakunin_face::image's bounds).
    let rgb = kakunin_face::image::decode(&frame)
        .map_err(|e| err(KioskCode::BadFrame, format!("camera frame: {e}")))?;
    let size = [rgb.width as u32, rgb.height as u32];
    let image = image::RgbImage::from_raw(size[0], size[1], rgb.data)
        .ok_or_else(|| err(KioskCode::BadFrame, "camera frame of the wrong size"))?;
    let k2 = k.clone();
    let (corners, read) = tokio::task::spawn_blocking(move || k2.card_faces.read(&image))
        .await
        .map_err(|e| err(KioskCode::EngineFailed, e.to_string()))?;
    let outline = corners.map(|c| c.map(|(x, y)| [x, y]));
    s.card_face_frames += 1;
    use kakunin_cardface::CardFaceError as E;
    let unsure = |s: &mut super::Session| {
        s.card_face_reads += 1;
        if s.card_face_reads >= MAX_UNSURE_READS {
            Seen::ToStaff
        } else {
            Seen::ReadAgain
        }
    };
    let seen = match read {
        Ok(r) if kakunin_core::card_face::sure_enough(r.confidence) => {
            let offered = open_card_face(&k, s, &r.number_b, Offer::Camera(r.confidence)).await;
            return match offered {
                Ok(photo) => {
                    s.photo = Some(photo);
                    step(Seen::Opened, outline, size, None)
                }
                Err(CardError::VerifyNumberBWrong { tries_left }) => {
                    step(Seen::Wrong, outline, size, Some(tries_left))
                }
                Err(CardError::NumberBLocked) => step(Seen::Locked, outline, size, Some(0)),
                Err(CardError::NumberBNotTried(why)) => {
                    tracing::info!(visit = %s.visit, %why, "card-face read held back");
                    step(Seen::ToStaff, outline, size, None)
                }
                Err(e) => Err(e.into()),
            };
        }
        Ok(_) | Err(E::Unreadable(_)) => unsure(s),
        Err(E::NoCard) => Seen::NoCard,
        Err(E::SeveralCards) => Seen::SeveralCards,
        Err(E::NotACard) => Seen::NotACard,
        Err(E::BackShown) => Seen::BackShown,
        Err(e @ (E::Ocr(_) | E::NoOcr | E::NoFont | E::Unprintable(_))) => {
            return Err(err(KioskCode::CardFaceUnreadable, e.to_string()))
        }
    };
    let seen = if seen != Seen::ToStaff && s.card_face_frames >= MAX_FRAMES {
        Seen::ToStaff
    } else {
        seen
    };
    step(seen, outline, size, None)
}
