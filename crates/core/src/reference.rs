//! 照会番号 (reference numbers): the number a clinic registers for a patient — its own patient
//! or chart number — so that every eligibility answer and card-reader result about that patient
//! carries it and the clinic software finds its chart without a search.
//!
//! One institution's 照会番号 names one patient there: registering a number held by another
//! patient of the same institution is refused (a chart number reused by mistake would file one
//! patient's results in another's chart); registering again for the same patient replaces the
//! old number (a new insurance, a corrected chart number). Numbers are per institution: two
//! clinics may use the same number for different patients.

use crate::{DomainError, ErrorCode};
use serde::{Deserialize, Serialize};

/// The longest 照会番号 (the terminal interface's field holds 50 characters).
pub const MAX_LEN: usize = 50;

/// A checked 照会番号: 1–50 ASCII letters, digits or `-`, with surrounding spaces removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReferenceNumber(String);

impl ReferenceNumber {
    /// Checks `s`.
    pub fn parse(s: &str) -> Result<ReferenceNumber, DomainError> {
        let t = s.trim();
        let ok = !t.is_empty()
            && t.len() <= MAX_LEN
            && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(ReferenceNumber(t.to_owned()))
        } else {
            Err(DomainError::new(
                ErrorCode::InvalidFormat,
                format!(
                    "a reference number (照会番号) is 1 to {MAX_LEN} letters, digits or '-'; got {} characters",
                    t.chars().count()
                ),
            ))
        }
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ReferenceNumber {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ReferenceNumber::parse(&s)
    }
}

impl From<ReferenceNumber> for String {
    fn from(r: ReferenceNumber) -> String {
        r.0
    }
}

impl std::fmt::Display for ReferenceNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who holds a 照会番号 at an institution now, as far as registering it is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// Nobody: the number is free.
    Nobody,
    /// The patient it is being registered for (registering again changes nothing).
    ThisPatient,
    /// Another patient of the institution.
    AnotherPatient,
}

/// Whether `number` may be registered for a patient, given who holds it at the institution.
pub fn may_register(number: &ReferenceNumber, holder: Holder) -> Result<(), DomainError> {
    match holder {
        Holder::Nobody | Holder::ThisPatient => Ok(()),
        Holder::AnotherPatient => Err(DomainError::new(
            ErrorCode::ReferenceNumberTaken,
            format!("reference number {number} names another patient of this institution already; check the chart number, or register a new number for that patient first"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_number_is_accepted_trimmed() {
        assert_eq!(ReferenceNumber::parse(" 24434 ").unwrap().as_str(), "24434");
        assert_eq!(ReferenceNumber::parse("A-0012").unwrap().as_str(), "A-0012");
        assert_eq!(
            ReferenceNumber::parse(&"9".repeat(50))
                .unwrap()
                .as_str()
                .len(),
            50
        );
    }

    #[test]
    fn empty_long_or_odd_numbers_are_refused() {
        for bad in [
            "",
            "   ",
            &"9".repeat(51),
            "12 34",
            "12/34",
            "１２３",
            "<a>",
        ] {
            let e = ReferenceNumber::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidFormat, "{bad:?}");
        }
    }

    #[test]
    fn a_number_names_one_patient_per_institution() {
        let n = ReferenceNumber::parse("24434").unwrap();
        assert!(may_register(&n, Holder::Nobody).is_ok());
        assert!(may_register(&n, Holder::ThisPatient).is_ok());
        assert_eq!(
            may_register(&n, Holder::AnotherPatient).unwrap_err().code,
            ErrorCode::ReferenceNumberTaken
        );
    }
}
