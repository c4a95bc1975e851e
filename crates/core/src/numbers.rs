//! Identification numbers with their check digits: 保険者番号, 医療機関コード, 記号・番号・枝番.
//!
//! Both the insurer number and the medical-institution code end in a 検証番号 computed the same
//! way (厚生労働省告示): multiply the other digits by 2 and 1 alternately starting from the
//! rightmost, add the digits of each product, and take `(10 - sum % 10) % 10`.

use crate::error::{DomainError, ErrorCode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The 検証番号 of `digits` (ASCII digits only; checked by the callers).
pub fn check_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// 保険者番号: 8 digits (法別番号 2 + 都道府県番号 2 + 保険者別番号 3 + 検証番号 1), or 6 digits
/// for 国民健康保険 (no 法別番号).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InsurerNumber(String);

impl InsurerNumber {
    /// Parses and validates an insurer number, check digit included.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        if !(all_digits(s) && (s.len() == 8 || s.len() == 6)) {
            return Err(DomainError::new(
                ErrorCode::InvalidFormat,
                format!("insurer number {s:?} must be 6 or 8 digits; copy it from the insurance card or eligibility certificate"),
            ));
        }
        let (body, last) = s.split_at(s.len() - 1);
        if check_digit(body) != last.as_bytes()[0] - b'0' {
            return Err(DomainError::new(
                ErrorCode::InvalidCheckDigit,
                format!("insurer number {s} has a wrong check digit; check it for a typing error"),
            ));
        }
        Ok(InsurerNumber(s.to_owned()))
    }

    /// Builds a valid insurer number from its first digits (5 or 7), appending the check digit.
    pub fn with_check_digit(body: &str) -> Result<Self, DomainError> {
        let d = check_digit(body);
        Self::parse(&format!("{body}{d}"))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 法別番号 (law number), which names the insurance scheme; `None` for 国保 (6 digits).
    pub fn law_number(&self) -> Option<&str> {
        (self.0.len() == 8).then(|| &self.0[..2])
    }
}

impl TryFrom<String> for InsurerNumber {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}
impl From<InsurerNumber> for String {
    fn from(n: InsurerNumber) -> String {
        n.0
    }
}
impl fmt::Display for InsurerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 医療機関コード, 10 digits: 都道府県番号 2 + 点数表番号 1 + 郡市区番号 2 + 医療機関番号 4 +
/// 検証番号 1. The check digit covers the 郡市区番号 and 医療機関番号 (the 7-digit code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstitutionCode(String);

impl InstitutionCode {
    /// Parses and validates a 10-digit medical-institution code.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let s = s.trim();
        if !(all_digits(s) && s.len() == 10) {
            return Err(DomainError::new(
                ErrorCode::InvalidFormat,
                format!("medical-institution code {s:?} must be 10 digits"),
            ));
        }
        if check_digit(&s[3..9]) != s.as_bytes()[9] - b'0' {
            return Err(DomainError::new(
                ErrorCode::InvalidCheckDigit,
                format!("medical-institution code {s} has a wrong check digit; check it for a typing error"),
            ));
        }
        Ok(InstitutionCode(s.to_owned()))
    }

    /// Builds a valid code from prefecture (2 digits), fee table (1 digit) and the 6-digit
    /// district + institution number.
    pub fn build(prefecture: u8, table: u8, number: u32) -> Result<Self, DomainError> {
        let body = format!("{:06}", number % 1_000_000);
        let d = check_digit(&body);
        Self::parse(&format!(
            "{:02}{}{}{}",
            prefecture % 100,
            table % 10,
            body,
            d
        ))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 点数表番号: 1 medical, 3 dental, 4 pharmacy.
    pub fn fee_table(&self) -> u8 {
        self.0.as_bytes()[2] - b'0'
    }
}

impl TryFrom<String> for InstitutionCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, DomainError> {
        Self::parse(&s)
    }
}
impl From<InstitutionCode> for String {
    fn from(n: InstitutionCode) -> String {
        n.0
    }
}
impl fmt::Display for InstitutionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 記号・番号・枝番 of an insured person, under one insurer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InsuredNumbers {
    /// 保険者番号.
    pub insurer: InsurerNumber,
    /// 記号 (may be empty, e.g. for some 国保).
    pub symbol: String,
    /// 番号.
    pub number: String,
    /// 枝番: two digits.
    pub branch: String,
}

impl InsuredNumbers {
    /// Validates the fields that have a fixed shape (the insurer number is already valid).
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.number.trim().is_empty() || self.number.chars().count() > 20 {
            return Err(DomainError::new(
                ErrorCode::InvalidFormat,
                "insured number (番号) must be 1–20 characters",
            ));
        }
        if self.symbol.chars().count() > 38 {
            return Err(DomainError::new(
                ErrorCode::InvalidFormat,
                "insured symbol (記号) must be at most 38 characters",
            ));
        }
        if !(self.branch.len() == 2 && all_digits(&self.branch)) {
            return Err(DomainError::new(
                ErrorCode::InvalidFormat,
                format!(
                    "branch number (枝番) {:?} must be two digits, e.g. \"00\"",
                    self.branch
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_insurer_numbers() {
        // 06130012: 組合管掌健康保険 (law 06), Tokyo, a published example; 138057: a 国保.
        for s in ["06130012", "138057", "01130012", "39131156"] {
            let body = &s[..s.len() - 1];
            let n = InsurerNumber::with_check_digit(body).unwrap();
            assert_eq!(n.as_str().len(), s.len());
        }
        assert_eq!(check_digit("0113001"), 2); // 全国健康保険協会 東京支部 01130012
        assert!(InsurerNumber::parse("01130012").is_ok());
        assert_eq!(
            InsurerNumber::parse("01130013").unwrap_err().code,
            ErrorCode::InvalidCheckDigit
        );
        assert_eq!(
            InsurerNumber::parse("0113001").unwrap_err().code,
            ErrorCode::InvalidFormat
        );
        assert_eq!(
            InsurerNumber::parse("0113001a").unwrap_err().code,
            ErrorCode::InvalidFormat
        );
    }

    #[test]
    fn institution_codes() {
        let c = InstitutionCode::build(13, 1, 123_456).unwrap();
        assert_eq!(c.fee_table(), 1);
        let mut wrong = c.as_str().to_owned();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '9' {
            '0'
        } else {
            (last as u8 + 1) as char
        });
        assert_eq!(
            InstitutionCode::parse(&wrong).unwrap_err().code,
            ErrorCode::InvalidCheckDigit
        );
        assert_eq!(
            InstitutionCode::parse("12345").unwrap_err().code,
            ErrorCode::InvalidFormat
        );
    }

    #[test]
    fn branch_must_be_two_digits() {
        let n = |b: &str| InsuredNumbers {
            insurer: InsurerNumber::parse("01130012").unwrap(),
            symbol: "1234".into(),
            number: "567".into(),
            branch: b.into(),
        };
        assert!(n("00").validate().is_ok());
        assert_eq!(
            n("0").validate().unwrap_err().code,
            ErrorCode::InvalidFormat
        );
        assert_eq!(
            n("ab").validate().unwrap_err().code,
            ErrorCode::InvalidFormat
        );
    }

    proptest! {
        #[test]
        fn any_single_digit_change_is_caught(body in "[0-9]{7}", pos in 0usize..8, delta in 1u8..10) {
            let good = InsurerNumber::with_check_digit(&body).unwrap();
            let mut bytes = good.as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let bad = String::from_utf8(bytes).unwrap();
            prop_assert!(InsurerNumber::parse(&bad).is_err());
        }
    }
}
