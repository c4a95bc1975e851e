//! Decisions in plain words, for the CLI and the reader agent's log: the figures they rest on
//! with enough digits, and which presentation-attack check fired.

use crate::engine::{Decision, DecisionKind};

impl Decision {
    /// The decision in plain words, with the figures it rests on (scores with four digits, so a
    /// score just under the threshold is not shown equal to it).
    pub fn describe(&self) -> String {
        let score = self.score.map(|s| format!("{s:.4}"));
        let vs = |op: &str| match &score {
            Some(s) => format!("similarity {s} {op} threshold {:.4}", self.threshold),
            None => "no similarity computed".into(),
        };
        match self.decision {
            DecisionKind::Match => format!("match: {}", vs(">=")),
            DecisionKind::NoMatch => format!("no match: {}", vs("<")),
            DecisionKind::Retry => format!(
                "try again: {}",
                self.reason
                    .map_or("the frame could not be used", |r| r.describe())
            ),
            DecisionKind::SpoofSuspected => {
                let mut fired = vec![];
                if let Some(a) = self.antispoof.filter(|a| *a < crate::pad::ANTISPOOF_MIN) {
                    fired.push(format!(
                        "antispoof {a:.2} < {:.2}",
                        crate::pad::ANTISPOOF_MIN
                    ));
                }
                if let Some(l) = self.liveness.filter(|l| *l < crate::pad::LIVENESS_MIN) {
                    fired.push(format!("liveness {l:.2} < {:.2}", crate::pad::LIVENESS_MIN));
                }
                format!(
                    "presentation attack suspected by the passive check ({}); {}",
                    fired.join(", "),
                    vs(if self.score.unwrap_or(0.0) >= self.threshold {
                        ">="
                    } else {
                        "<"
                    })
                )
            }
            DecisionKind::ReferToStaff => {
                "refer to staff: no usable face in the card photo; staff confirm visually".into()
            }
        }
    }
}

#[cfg(test)]
mod describe_tests {
    use super::*;
    use crate::engine::Timings;
    use crate::quality::RetryReason;

    fn decision(kind: DecisionKind, score: Option<f32>) -> Decision {
        Decision {
            decision: kind,
            reason: None,
            score,
            threshold: 0.944,
            antispoof: None,
            liveness: None,
            timings: Timings::default(),
            live_mesh: None,
        }
    }

    #[test]
    fn a_score_just_under_the_threshold_is_not_shown_equal_to_it() {
        let d = decision(DecisionKind::NoMatch, Some(0.9435));
        assert_eq!(
            d.describe(),
            "no match: similarity 0.9435 < threshold 0.9440"
        );
    }

    #[test]
    fn retries_and_spoofs_are_said_in_plain_words() {
        let mut d = decision(DecisionKind::Retry, None);
        d.reason = Some(RetryReason::TurnedAway);
        let text = d.describe();
        assert!(text.contains("look straight at the camera"), "{text}");
        assert!(!text.contains("TurnedAway"), "{text}");
        let mut d = decision(DecisionKind::SpoofSuspected, Some(0.87));
        d.antispoof = Some(0.31);
        d.liveness = Some(0.9);
        let text = d.describe();
        assert!(
            text.contains("passive check (antispoof 0.31 < 0.50)"),
            "{text}"
        );
        assert!(text.contains("similarity 0.8700 < threshold"), "{text}");
        assert!(!text.contains("Some("), "{text}");
    }
}
