//! Which face to use and whether the live frame is good enough (the presentation-attack rules
//! are in [`crate::pad`]).

use crate::detect::Detection;
use crate::image::Rgb;
use serde::Serialize;

/// Why the kiosk asks the patient to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryReason {
    /// No face in the frame.
    NoFace,
    /// More than one face and none clearly the patient's.
    SeveralFaces,
    /// The face is too small: come closer.
    TooSmall,
    /// Blurred: hold still.
    Blurred,
    /// Too dark.
    TooDark,
    /// Too bright.
    TooBright,
    /// Turned away: look at the camera.
    TurnedAway,
    /// No usable face in the photo read from the card: staff must confirm visually.
    CardPhotoUnusable,
}

impl RetryReason {
    /// What to ask of the patient, in plain words.
    pub fn describe(self) -> &'static str {
        match self {
            RetryReason::NoFace => "no face was found: ask the patient to face the camera",
            RetryReason::SeveralFaces => {
                "several faces are in view: only the patient should be in front of the camera"
            }
            RetryReason::TooSmall => "the face is too small: ask the patient to come closer",
            RetryReason::Blurred => "the image is blurred: ask the patient to hold still",
            RetryReason::TooDark => {
                "the face is too dark: more light, or move away from the window"
            }
            RetryReason::TooBright => "the face is too bright: less direct light",
            RetryReason::TurnedAway => {
                "the face is turned away: ask the patient to look straight at the camera"
            }
            RetryReason::CardPhotoUnusable => {
                "the card's photo has no usable face: staff confirm visually"
            }
        }
    }
}

/// Smallest face width accepted in the live frame, in pixels.
pub const MIN_FACE_PX: f32 = 64.0;
/// A face counts as the only one when every other face is at most this fraction of its width
/// (people queueing behind the patient are smaller).
const DOMINANCE: f32 = 0.6;

/// Detector score from which a second face counts as a real person in the frame (weaker
/// detections are often parts of the same face or background).
const CONFIDENT: f32 = 0.75;

/// The face to use: the largest confident face (or the best-scored one if none is confident),
/// unless another confident face is about as large.
pub fn pick_face(dets: &[Detection]) -> Result<&Detection, RetryReason> {
    let first = dets
        .iter()
        .filter(|d| d.score >= CONFIDENT)
        .max_by(|a, b| a.width().total_cmp(&b.width()))
        .or_else(|| dets.iter().max_by(|a, b| a.score.total_cmp(&b.score)))
        .ok_or(RetryReason::NoFace)?;
    let crowded = dets
        .iter()
        .filter(|d| !std::ptr::eq(*d, first))
        .any(|d| d.score >= CONFIDENT && d.width() > DOMINANCE * first.width());
    if crowded {
        return Err(RetryReason::SeveralFaces);
    }
    Ok(first)
}

/// The face nearest the centre of a `size` (width, height) image: the subject of a photo framed
/// on one person, whoever else is in it (LFW's convention, used by `face eval`).
pub fn central_face(dets: &[Detection], size: (usize, usize)) -> Result<&Detection, RetryReason> {
    let (cx, cy) = (size.0 as f32 / 2.0, size.1 as f32 / 2.0);
    let dist = |d: &Detection| {
        let (x, y) = ((d.bbox[0] + d.bbox[2]) / 2.0, (d.bbox[1] + d.bbox[3]) / 2.0);
        (x - cx).powi(2) + (y - cy).powi(2)
    };
    dets.iter()
        .min_by(|a, b| dist(a).total_cmp(&dist(b)))
        .ok_or(RetryReason::NoFace)
}

/// Size, exposure, sharpness and pose of the live face.
pub fn check(img: &Rgb, d: &Detection) -> Result<(), RetryReason> {
    if d.width() < MIN_FACE_PX {
        return Err(RetryReason::TooSmall);
    }
    let (x0, y0) = (d.bbox[0].max(0.0) as usize, d.bbox[1].max(0.0) as usize);
    let (x1, y1) = (
        (d.bbox[2] as usize).min(img.width - 1),
        (d.bbox[3] as usize).min(img.height - 1),
    );
    if x1 <= x0 + 2 || y1 <= y0 + 2 {
        return Err(RetryReason::TooSmall);
    }
    let luma = |x: usize, y: usize| f32::from(img.at(x, y)[1]);
    let mut sum = 0.0;
    let mut n = 0.0;
    let mut lap = vec![];
    for y in y0 + 1..y1 {
        for x in x0 + 1..x1 {
            let c = luma(x, y);
            sum += c;
            n += 1.0;
            lap.push(4.0 * c - luma(x - 1, y) - luma(x + 1, y) - luma(x, y - 1) - luma(x, y + 1));
        }
    }
    let mean = sum / n;
    if mean < 45.0 {
        return Err(RetryReason::TooDark);
    }
    if mean > 215.0 {
        return Err(RetryReason::TooBright);
    }
    let lm = lap.iter().sum::<f32>() / lap.len() as f32;
    let var = lap.iter().map(|v| (v - lm) * (v - lm)).sum::<f32>() / lap.len() as f32;
    // Normalise for face size: a larger face spreads the same edges over more pixels.
    if var * (d.width() / 112.0) < BLUR_MIN {
        return Err(RetryReason::Blurred);
    }
    if yaw(d).abs() > MAX_YAW {
        return Err(RetryReason::TurnedAway);
    }
    Ok(())
}

const BLUR_MIN: f32 = 20.0;
const MAX_YAW: f32 = 0.45;

/// Head turn estimate from the keypoints: the nose's offset from the eyes' midpoint, in eye
/// distances (0 frontal, ±0.5 about 45°).
pub fn yaw(d: &Detection) -> f32 {
    let [le, re, nose] = [d.keypoints[0], d.keypoints[1], d.keypoints[2]];
    let eye_dist = (re[0] - le[0]).hypot(re[1] - le[1]).max(1.0);
    (nose[0] - (le[0] + re[0]) / 2.0) / eye_dist
}
