//! Presentation-attack detection: the passive models (antispoof, liveness) on single frames, the
//! active check over a frame sequence, and their evaluation on live / print-attack sequences.
//!
//! The active check asks for a small head turn and looks for parallax ([`crate::parallax`]): the
//! face mesh of a flat photo, however it is tilted, swung or moved, stays one homography away
//! from its other views, while a turning head's nose and outline move against its cheeks. Over
//! one attempt's frames, [`crate::attempt`] applies both.

use crate::mesh::Mesh;
use crate::parallax;
use crate::FaceEngine;
use crate::FaceError;
use serde::Serialize;
use std::path::Path;

/// Smallest parallax (residual of the best homography between two frames' meshes, in eye
/// distances) that counts as a head turn. NUAA's hand-held, bent and moved prints reach at most
/// 0.033 over any pair of their frames as the kiosk sees them (grey; 0.038 in colour); a head
/// turned by about 12° (or nodded by 10°) reaches 0.045 (docs/face.md).
pub const MIN_PARALLAX: f64 = 0.045;

/// Antispoof below this (1 = real) suggests a presentation attack.
pub const ANTISPOOF_MIN: f32 = 0.5;
/// Liveness P(real) below this suggests a presentation attack.
pub const LIVENESS_MIN: f32 = 0.5;

/// The passive rule on one frame: both models must find the face real.
pub fn spoof_suspected(antispoof: f32, liveness: f32) -> bool {
    antispoof < ANTISPOOF_MIN || liveness < LIVENESS_MIN
}

/// The active check's result for a sequence.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveCheck {
    /// Frames in which a face was found.
    pub frames_with_face: usize,
    /// The largest parallax between any two frames of the sequence.
    pub parallax: f64,
    /// At least MIN_PARALLAX between some two frames.
    pub passed: bool,
}

/// Head-turn check over the meshes of the faces found in consecutive frames (one per frame):
/// passed when some two frames show at least [`MIN_PARALLAX`].
pub fn head_turn(meshes: &[Mesh]) -> ActiveCheck {
    let views: Vec<(Vec<[f64; 2]>, f64)> = meshes
        .iter()
        .map(|m| {
            let pts = m
                .points
                .iter()
                .map(|p| [f64::from(p[0]), f64::from(p[1])])
                .collect();
            (pts, f64::from(m.eye_distance()))
        })
        .collect();
    let mut largest: f64 = 0.0;
    for (i, a) in views.iter().enumerate() {
        for b in &views[i + 1..] {
            if let Some(r) = parallax::residual(&a.0, &b.0, b.1) {
                largest = largest.max(r);
            }
        }
    }
    ActiveCheck {
        frames_with_face: meshes.len(),
        parallax: largest,
        passed: largest >= MIN_PARALLAX,
    }
}

/// Error rates of one rule: APCER (attacks accepted) and BPCER (bona fide refused).
#[derive(Debug, Clone, Serialize)]
pub struct Rates {
    /// Attacks accepted, share.
    pub apcer: f64,
    /// Bona fide presentations refused, share.
    pub bpcer: f64,
    /// Attacks judged.
    pub attacks: usize,
    /// Bona fide presentations judged.
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
    /// Liveness alone, per frame.
    pub liveness: Rates,
    /// Both passive models, per frame.
    pub passive: Rates,
    /// Per sequence: the head-turn check alone, and passive (majority of frames) and active.
    pub active: Rates,
    /// Passive and active together, per sequence.
    pub combined: Rates,
    /// Each sequence: its kind, subject, active check and passive votes.
    pub sequences: Vec<SequenceResult>,
    /// Frames where no face was found (not scored).
    pub frames_without_face: usize,
    /// Mean scores (antispoof, liveness) on live and on attack frames.
    pub mean_live: (f64, f64),
    /// Mean scores (antispoof, liveness) on attack frames.
    pub mean_attack: (f64, f64),
}

/// One evaluated sequence.
#[derive(Debug, Clone, Serialize)]
pub struct SequenceResult {
    /// `live` or `print_attack`.
    pub kind: String,
    /// Whose sequence.
    pub subject: String,
    /// Its head-turn check.
    pub active: ActiveCheck,
    /// Frames the passive rule found real.
    pub passive_real: usize,
}

/// Per-frame and per-sequence outcomes of one kind of sequence (live or print attack): `true`
/// where the rule found the face real.
#[derive(Default)]
struct Outcomes {
    antispoof: Vec<bool>,
    liveness: Vec<bool>,
    passive: Vec<bool>,
    active: Vec<bool>,
    combined: Vec<bool>,
    /// Sums of the antispoof and liveness scores, and the frames summed.
    sums: (f64, f64, usize),
}

impl Outcomes {
    fn mean_scores(&self) -> (f64, f64) {
        let n = self.sums.2.max(1) as f64;
        (self.sums.0 / n, self.sums.1 / n)
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<std::path::PathBuf>, FaceError> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| FaceError::Io {
            path: dir.display().to_string(),
            why: e.to_string(),
        })?
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    Ok(v)
}

/// Evaluates on `root/live/<subject>/*.jpg` and `root/print_attack/<subject>/*.jpg` (frames in
/// name order form one sequence per subject), each frame seen as the kiosk sees it: detection
/// and mesh on the compared (grey) frame, the passive models on the colour frame.
pub fn evaluate(engine: &FaceEngine, root: &Path) -> Result<PadReport, FaceError> {
    let mut missing = 0;
    let mut sequences = vec![];
    let mut outcomes = [Outcomes::default(), Outcomes::default()];
    for (kind, o) in ["live", "print_attack"].into_iter().zip(&mut outcomes) {
        for subject in sorted_entries(&root.join(kind))? {
            let mut meshes = vec![];
            let mut passive_votes = 0;
            for f in sorted_entries(&subject)? {
                let bytes = std::fs::read(&f).map_err(|e| FaceError::Io {
                    path: f.display().to_string(),
                    why: e.to_string(),
                })?;
                let img = crate::image::decode(&bytes)?;
                let compared = engine.compared(&img);
                let Some(d) = engine.detect(&compared)?.into_iter().next() else {
                    missing += 1;
                    continue;
                };
                let (a, l) = engine.spoof_scores(&img, &d)?;
                o.sums = (
                    o.sums.0 + f64::from(a),
                    o.sums.1 + f64::from(l),
                    o.sums.2 + 1,
                );
                o.antispoof.push(a >= crate::pad::ANTISPOOF_MIN);
                o.liveness.push(l >= crate::pad::LIVENESS_MIN);
                let real = !crate::pad::spoof_suspected(a, l);
                o.passive.push(real);
                passive_votes += usize::from(real);
                meshes.push(engine.mesh(&compared, &d)?);
            }
            let act = head_turn(&meshes);
            o.active.push(act.passed);
            o.combined
                .push(act.passed && passive_votes * 2 > meshes.len());
            sequences.push(SequenceResult {
                kind: kind.into(),
                subject: subject
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                active: act,
                passive_real: passive_votes,
            });
        }
    }
    let [l, a] = &outcomes;
    Ok(PadReport {
        antispoof: rates(&l.antispoof, &a.antispoof),
        liveness: rates(&l.liveness, &a.liveness),
        passive: rates(&l.passive, &a.passive),
        active: rates(&l.active, &a.active),
        combined: rates(&l.combined, &a.combined),
        sequences,
        frames_without_face: missing,
        mean_live: l.mean_scores(),
        mean_attack: a.mean_scores(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic face mesh: 468 points on a rounded 3-D face (eye points where the mesh keeps
    /// them), seen by a pinhole camera after a turn of `yaw_deg`; `flat` presses it onto a plane
    /// first (a photo).
    fn view(yaw_deg: f32, flat: bool, shift: f32) -> Mesh {
        let (s, c) = yaw_deg.to_radians().sin_cos();
        let points = (0..468)
            .map(|i| {
                let (u, v) = ((i % 26) as f32 / 12.5 - 1.0, (i / 26) as f32 / 8.5 - 1.0);
                let depth = if flat {
                    0.0
                } else {
                    40.0 * (1.0 - u * u - 0.5 * v * v)
                };
                let (x, y) = (40.0 * u, 50.0 * v);
                let (x, z) = (c * x + s * depth, -s * x + c * depth);
                let d = 500.0 - z;
                [320.0 + shift + 900.0 * x / d, 240.0 + 900.0 * y / d, z]
            })
            .collect();
        Mesh {
            points,
            presence: 1.0,
        }
    }

    #[test]
    fn a_turning_head_passes_a_swung_photo_does_not() {
        let head: Vec<_> = [0.0, -5.0, -12.0, -4.0, 6.0]
            .iter()
            .map(|a| view(*a, false, 0.0))
            .collect();
        let r = head_turn(&head);
        assert!(r.passed, "{r:?}");
        // A photo swung about its vertical axis and moved sideways: one plane in every view.
        let photo: Vec<_> = [0.0, 20.0, 35.0, 10.0, -25.0]
            .iter()
            .enumerate()
            .map(|(i, a)| view(*a, true, 15.0 * i as f32))
            .collect();
        let r = head_turn(&photo);
        assert!(!r.passed && r.parallax < 1e-6, "{r:?}");
        // A head held still does not pass either.
        let still = vec![view(2.0, false, 0.0); 5];
        assert!(!head_turn(&still).passed);
        assert!(
            !head_turn(&head[..1]).passed,
            "one frame cannot show a turn"
        );
        assert_eq!(head_turn(&[]).frames_with_face, 0);
    }
}
