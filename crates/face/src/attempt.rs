//! One face-recognition attempt at the kiosk: a few seconds of camera frames judged together,
//! not one frame (a score near the threshold or a passive spoof score flips between frames) —
//! and what in them counts as a presentation attack. The kiosk feeds frames and attests what
//! [`FaceAttempts::add`] concludes; how many attempts a visit gets is the domain's rule
//! (`kakunin_core::visit`), counted by the server.

use crate::mesh::Mesh;
use crate::pad::head_turn;
use crate::{Decision, DecisionKind};
use serde::Serialize;

/// Frames of one attempt (about 3 s at the screen's 2.5 frames a second) unless a match that
/// moved ends it sooner.
pub const ATTEMPT_FRAMES: u32 = 8;
/// Frames the head-turn check looks back over.
pub const TURN_WINDOW: usize = 12;

/// What the patient is asked while an attempt goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Instruction {
    /// The face matches but has not moved: turn the head a little (a photo cannot).
    TurnHead,
    /// Keep looking at the camera.
    KeepLooking,
}

impl Instruction {
    /// The code the kiosk screen translates.
    pub fn as_str(self) -> &'static str {
        match self {
            Instruction::TurnHead => "turn_head",
            Instruction::KeepLooking => "keep_looking",
        }
    }
}

/// What a frame amounted to.
#[derive(Debug)]
pub enum Verdict {
    /// A frame of poor quality (no face, too dark, …): not part of the attempt; ask for another.
    Retry(Decision),
    /// The attempt goes on: show `instruction`.
    Continue {
        /// What to ask the patient.
        instruction: Instruction,
        /// The frame's own decision (for the screen).
        frame: Decision,
    },
    /// The attempt is over: attest this (match, no match or suspected presentation attack).
    Done(Decision),
}

/// The face attempts of one card on the reader.
#[derive(Debug, Default)]
pub struct FaceAttempts {
    active_check: bool,
    /// Meshes of the latest frames with a face, for the head-turn check (across attempts).
    turn: Vec<Mesh>,
    frames: u32,
    /// The best-scoring frame of the attempt so far.
    best: Option<Decision>,
    matched_without_turn: bool,
    spoof_frames: u32,
}

impl FaceAttempts {
    /// Attempts that ask for a head turn before a match counts (`active_check`), or not (for
    /// cameras that cannot show movement).
    pub fn new(active_check: bool) -> FaceAttempts {
        FaceAttempts {
            active_check,
            ..FaceAttempts::default()
        }
    }

    /// Adds the engine's decision on one frame. A match ends the attempt at once, provided the
    /// head moved; otherwise the attempt ends after [`ATTEMPT_FRAMES`] frames with its best
    /// frame's score, as a suspected presentation attack when it matched without moving or
    /// most frames looked like one, else as no match.
    pub fn add(&mut self, mut d: Decision) -> Verdict {
        if let Some(m) = d.live_mesh.take() {
            self.turn.push(m);
            if self.turn.len() > TURN_WINDOW {
                self.turn.remove(0);
            }
        }
        if d.decision == DecisionKind::Retry {
            return Verdict::Retry(d);
        }
        let turned = !self.active_check || head_turn(&self.turn).passed;
        self.frames += 1;
        if d.score > self.best.as_ref().and_then(|b| b.score) {
            self.best = Some(d.clone());
        }
        let instruction = match d.decision {
            DecisionKind::Match if turned => None,
            DecisionKind::Match => {
                self.matched_without_turn = true;
                Some(Instruction::TurnHead)
            }
            DecisionKind::SpoofSuspected => {
                self.spoof_frames += 1;
                Some(Instruction::KeepLooking)
            }
            _ => Some(Instruction::KeepLooking),
        };
        let outcome = match instruction {
            None => d,
            Some(instruction) if self.frames < ATTEMPT_FRAMES => {
                return Verdict::Continue {
                    instruction,
                    frame: d,
                }
            }
            Some(_) => {
                let mut outcome = self.best.take().unwrap_or(d);
                outcome.decision = if self.presentation_attack() {
                    DecisionKind::SpoofSuspected
                } else {
                    DecisionKind::NoMatch
                };
                outcome
            }
        };
        self.next_attempt();
        Verdict::Done(outcome)
    }

    /// What counts as a presentation attack over an attempt's frames: a match that never moved
    /// (a still photo of the holder), or passive spoof scores on most frames.
    fn presentation_attack(&self) -> bool {
        self.matched_without_turn || 2 * self.spoof_frames > self.frames
    }

    fn next_attempt(&mut self) {
        self.frames = 0;
        self.best = None;
        self.matched_without_turn = false;
        self.spoof_frames = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Timings;

    fn frame(kind: DecisionKind, score: f32) -> Decision {
        Decision {
            decision: kind,
            reason: None,
            score: Some(score),
            threshold: 0.9,
            antispoof: None,
            liveness: None,
            timings: Timings::default(),
            live_mesh: None,
        }
    }

    #[test]
    fn a_match_ends_the_attempt_at_once_without_the_active_check() {
        let mut a = FaceAttempts::new(false);
        match a.add(frame(DecisionKind::Match, 0.95)) {
            Verdict::Done(d) => assert_eq!(d.decision, DecisionKind::Match),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn a_match_that_never_moves_is_attested_as_a_presentation_attack() {
        let mut a = FaceAttempts::new(true);
        for _ in 1..ATTEMPT_FRAMES {
            assert!(matches!(
                a.add(frame(DecisionKind::Match, 0.95)),
                Verdict::Continue {
                    instruction: Instruction::TurnHead,
                    ..
                }
            ));
        }
        match a.add(frame(DecisionKind::Match, 0.96)) {
            Verdict::Done(d) => {
                assert_eq!(d.decision, DecisionKind::SpoofSuspected);
                assert_eq!(d.score, Some(0.96), "the best frame's score");
            }
            v => panic!("{v:?}"),
        }
        // The next attempt starts afresh.
        assert!(matches!(
            a.add(frame(DecisionKind::NoMatch, 0.5)),
            Verdict::Continue { .. }
        ));
    }

    #[test]
    fn no_match_over_the_attempt_is_no_match_and_poor_frames_do_not_count() {
        let mut a = FaceAttempts::new(true);
        assert!(matches!(
            a.add(frame(DecisionKind::Retry, 0.0)),
            Verdict::Retry(_)
        ));
        for _ in 1..ATTEMPT_FRAMES {
            assert!(matches!(
                a.add(frame(DecisionKind::NoMatch, 0.5)),
                Verdict::Continue { .. }
            ));
        }
        match a.add(frame(DecisionKind::SpoofSuspected, 0.4)) {
            Verdict::Done(d) => assert_eq!(d.decision, DecisionKind::NoMatch),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn most_frames_spoofed_is_a_presentation_attack() {
        let mut a = FaceAttempts::new(false);
        let mut last = None;
        for _ in 0..ATTEMPT_FRAMES {
            last = Some(a.add(frame(DecisionKind::SpoofSuspected, 0.95)));
        }
        match last.unwrap() {
            Verdict::Done(d) => assert_eq!(d.decision, DecisionKind::SpoofSuspected),
            v => panic!("{v:?}"),
        }
    }
}
