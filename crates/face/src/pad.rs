//! Presentation-attack detection: the passive models (antispoof, liveness) on single frames, the
//! active check over a frame sequence, and their evaluation on live / print-attack sequences.
//!
//! The active check asks for a small head turn. A real head turning moves the nose relative to
//! the eyes; a flat photo, however it is tilted or swung, is mapped by an (almost) affine
//! transform, under which the nose's position between the eyes — [`crate::quality::yaw`] — does
//! not change. So the spread of that ratio over the sequence separates heads from prints.

use crate::detect::Detection;
use crate::quality::yaw;
use crate::FaceEngine;
use crate::FaceError;
use serde::Serialize;
use std::path::Path;

/// Smallest spread of the yaw ratio over a sequence that counts as a head turn.
pub const MIN_YAW_SPREAD: f32 = 0.12;

/// The active check's result for a sequence.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveCheck {
    pub frames_with_face: usize,
    pub yaw_spread: f32,
    pub passed: bool,
}

/// Head-turn check over the faces found in consecutive frames (one detection per frame).
pub fn head_turn(faces: &[Detection]) -> ActiveCheck {
    let yaws: Vec<f32> = faces.iter().map(yaw).collect();
    let spread = yaws.iter().copied().fold(f32::NEG_INFINITY, f32::max)
        - yaws.iter().copied().fold(f32::INFINITY, f32::min);
    let spread = if yaws.len() < 2 { 0.0 } else { spread };
    ActiveCheck {
        frames_with_face: faces.len(),
        yaw_spread: spread,
        passed: yaws.len() >= 3 && spread >= MIN_YAW_SPREAD,
    }
}

/// Error rates of one rule: APCER (attacks accepted) and BPCER (bona fide refused).
#[derive(Debug, Clone, Serialize)]
pub struct Rates {
    pub apcer: f64,
    pub bpcer: f64,
    pub attacks: usize,
    pub bona_fide: usize,
}

fn rates(live_ok: &[bool], attack_ok: &[bool]) -> Rates {
    let frac = |v: &[bool], want: bool| {
        v.iter().filter(|x| **x == want).count() as f64 / v.len().max(1) as f64
    };
    Rates {
        apcer: frac(attack_ok, true),
        bpcer: frac(live_ok, false),
        attacks: attack_ok.len(),
        bona_fide: live_ok.len(),
    }
}

/// The whole presentation-attack report.
#[derive(Debug, Clone, Serialize)]
pub struct PadReport {
    /// Per frame: antispoof alone, liveness alone, both (the engine's passive rule).
    pub antispoof: Rates,
    pub liveness: Rates,
    pub passive: Rates,
    /// Per sequence: the head-turn check alone, and passive (majority of frames) and active.
    pub active: Rates,
    pub combined: Rates,
    /// Frames where no face was found (not scored).
    pub frames_without_face: usize,
    /// Mean scores (antispoof, liveness) on live and on attack frames.
    pub mean_live: (f64, f64),
    pub mean_attack: (f64, f64),
}

/// Evaluates on `root/live/<subject>/*.jpg` and `root/print_attack/<subject>/*.jpg` (frames in
/// name order form one sequence per subject).
pub fn evaluate(engine: &FaceEngine, root: &Path) -> Result<PadReport, FaceError> {
    let mut per_kind: Vec<(
        Vec<bool>,
        Vec<bool>,
        Vec<bool>,
        Vec<bool>,
        Vec<bool>,
        (f64, f64, usize),
    )> = vec![];
    let mut missing = 0;
    for kind in ["live", "print_attack"] {
        let (mut anti, mut live, mut passive, mut active, mut combined, mut sums) =
            (vec![], vec![], vec![], vec![], vec![], (0.0, 0.0, 0usize));
        let mut subjects: Vec<_> = std::fs::read_dir(root.join(kind))
            .map_err(|e| FaceError::Io {
                path: root.join(kind).display().to_string(),
                why: e.to_string(),
            })?
            .flatten()
            .map(|e| e.path())
            .collect();
        subjects.sort();
        for subject in subjects {
            let mut frames: Vec<_> = std::fs::read_dir(&subject)
                .map_err(|e| FaceError::Io {
                    path: subject.display().to_string(),
                    why: e.to_string(),
                })?
                .flatten()
                .map(|e| e.path())
                .collect();
            frames.sort();
            let mut faces = vec![];
            let mut passive_votes = 0;
            for f in &frames {
                let bytes = std::fs::read(f).map_err(|e| FaceError::Io {
                    path: f.display().to_string(),
                    why: e.to_string(),
                })?;
                let img = crate::image::decode(&bytes)?;
                let Some(d) = engine.detect(&img)?.into_iter().next() else {
                    missing += 1;
                    continue;
                };
                let (a, l) = engine.spoof_scores(&img, &d)?;
                sums = (sums.0 + f64::from(a), sums.1 + f64::from(l), sums.2 + 1);
                anti.push(a >= crate::quality::ANTISPOOF_MIN);
                live.push(l >= crate::quality::LIVENESS_MIN);
                let ok = !crate::quality::spoof_suspected(a, l);
                passive.push(ok);
                passive_votes += usize::from(ok);
                faces.push(d);
            }
            let act = head_turn(&faces);
            active.push(act.passed);
            combined.push(act.passed && passive_votes * 2 > faces.len());
        }
        per_kind.push((anti, live, passive, active, combined, sums));
    }
    let (l, a) = (&per_kind[0], &per_kind[1]);
    let mean = |s: (f64, f64, usize)| (s.0 / s.2.max(1) as f64, s.1 / s.2.max(1) as f64);
    Ok(PadReport {
        antispoof: rates(&l.0, &a.0),
        liveness: rates(&l.1, &a.1),
        passive: rates(&l.2, &a.2),
        active: rates(&l.3, &a.3),
        combined: rates(&l.4, &a.4),
        frames_without_face: missing,
        mean_live: mean(l.5),
        mean_attack: mean(a.5),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(nose_x: f32, scale: f32) -> Detection {
        Detection {
            score: 0.9,
            bbox: [0.0, 0.0, 100.0, 100.0],
            keypoints: [
                [30.0 * scale, 40.0],
                [70.0 * scale, 40.0],
                [nose_x * scale, 60.0],
                [50.0 * scale, 80.0],
                [10.0, 50.0],
                [90.0, 50.0],
            ],
        }
    }

    #[test]
    fn a_turning_head_passes_a_swung_photo_does_not() {
        let head: Vec<_> = [50.0, 45.0, 40.0, 47.0, 55.0]
            .iter()
            .map(|x| face(*x, 1.0))
            .collect();
        assert!(head_turn(&head).passed, "{:?}", head_turn(&head));
        // A photo swung about its vertical axis: every x scales together, the ratio stays.
        let photo: Vec<_> = [1.0, 0.9, 0.8, 0.9, 1.0]
            .iter()
            .map(|s| face(50.0, *s))
            .collect();
        let r = head_turn(&photo);
        assert!(!r.passed && r.yaw_spread < 1e-4, "{r:?}");
        assert!(!head_turn(&head[..2]).passed, "too few frames");
    }
}
