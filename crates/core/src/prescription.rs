//! The patient's choice of an electronic or a paper prescription (電子処方箋, SPEC §14): asked at
//! the reader where the institution issues electronic prescriptions, recorded with the visit and
//! passed to the clinic software with the result (`PrescriptionIssueSelect`: 1 electronic,
//! 2 paper, as myclinic-ts's `onshi-result` reads it). Where electronic prescriptions are not
//! issued the question is not asked, and no answer is taken.

use crate::error::{DomainError, ErrorCode};
use serde::{Deserialize, Serialize};

/// How the patient wants the prescription issued (処方箋発行形態).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrescriptionForm {
    /// 電子処方箋: registered with the electronic prescription service; the pharmacy reads it.
    Electronic,
    /// 紙の処方箋 (with its 引換番号 when the institution registers it electronically too).
    Paper,
}

impl PrescriptionForm {
    /// `PrescriptionIssueSelect` of the clinic-software interface.
    pub fn code(self) -> u8 {
        match self {
            PrescriptionForm::Electronic => 1,
            PrescriptionForm::Paper => 2,
        }
    }
}

/// The choice to record: one is required where the question is `asked` (the institution issues
/// electronic prescriptions), none is taken where it is not.
pub fn choice(
    asked: bool,
    chosen: Option<PrescriptionForm>,
) -> Result<Option<PrescriptionForm>, DomainError> {
    match (asked, chosen) {
        (true, Some(c)) => Ok(Some(c)),
        (true, None) => Err(DomainError::new(
            ErrorCode::PrescriptionChoice,
            "this institution issues electronic prescriptions: the patient chooses electronic or paper before going on",
        )),
        (false, None) => Ok(None),
        (false, Some(_)) => Err(DomainError::new(
            ErrorCode::PrescriptionChoice,
            "this institution does not issue electronic prescriptions, so the choice is not asked",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asked_where_electronic_prescriptions_are_issued_and_only_there() {
        use PrescriptionForm::*;
        assert_eq!(choice(true, Some(Electronic)), Ok(Some(Electronic)));
        assert_eq!(choice(true, Some(Paper)), Ok(Some(Paper)));
        assert_eq!(
            choice(true, None).unwrap_err().code,
            ErrorCode::PrescriptionChoice
        );
        assert_eq!(choice(false, None), Ok(None));
        assert_eq!(
            choice(false, Some(Paper)).unwrap_err().code,
            ErrorCode::PrescriptionChoice
        );
        assert_eq!((Electronic.code(), Paper.code()), (1, 2));
    }
}
