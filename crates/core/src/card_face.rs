//! The card-face applet's 照合番号B (SPEC §9): how it is formed, and when a reader may try one
//! read from the card's printed face. The applet locks after consecutive wrong entries, and
//! switching to visual confirmation does not reset its count; a locked card needs the
//! municipal counter. So a read is tried only when it is sure, once, never again
//! automatically after a failure, and never when few tries are left.

use chrono::{Datelike, NaiveDate};

/// The least confidence (0–1) a read of the card's face must have to be tried against the card:
/// every field read alike at least two ways (the reader's confidence is 0.5 and more only
/// then). Calibrated on the rendered test set, where no wrong read reached it and single
/// readings did (docs/card-face.md).
pub const READ_CONFIDENCE: f32 = 0.5;

/// With this many tries left or fewer, the reader never tries a read by itself; staff type the
/// 14 digits from the card, or confirm visually.
pub const KEEP_TRIES: u8 = 3;

/// 照合番号B: birth date as era YYMMDD + the Gregorian year the card expires + the 4-digit
/// security code (14 digits). 昭和55年2月17日 → `550217`.
pub fn number_b(birth: NaiveDate, expiry_year: i32, security_code: &str) -> String {
    let (_, era_year) = crate::wareki::era_of(birth).unwrap_or(("", 0));
    format!(
        "{:02}{:02}{:02}{:04}{}",
        era_year % 100,
        birth.month(),
        birth.day(),
        expiry_year,
        security_code
    )
}

/// Whether a camera read of this confidence is sure enough to be tried (with tries to spare:
/// [`may_try`] decides).
pub fn sure_enough(confidence: f32) -> bool {
    confidence >= READ_CONFIDENCE
}

/// Who offers a 照合番号B.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    /// Read by the kiosk's camera from the card's face, with this confidence.
    Camera {
        /// 0–1.
        confidence: f32,
    },
    /// Typed by staff from the card in their hand, or known for the card (kakunin's demo cards,
    /// whose numbers the demo issuer keeps).
    Staff,
}

/// Whether a 照合番号B may be sent to the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send it (once).
    Try,
    /// Do not: ask the patient to show the card again (the read was not sure).
    ReadAgain,
    /// Do not: hand over to staff (few tries left, or a try failed already in this visit).
    ToStaff(String),
}

/// Whether `source`'s 照合番号B may be sent, with `tries_left` on the card (read from its
/// status word before any VERIFY) and `failed_before` tries that failed in this visit.
pub fn may_try(source: Source, tries_left: u8, failed_before: u32) -> Decision {
    if tries_left == 0 {
        return Decision::ToStaff("the card-face applet is locked; the holder has it reset at the municipal counter; confirm visually".into());
    }
    match source {
        Source::Staff if tries_left > 1 || failed_before == 0 => Decision::Try,
        Source::Staff => Decision::ToStaff(format!("only {tries_left} try is left; confirm visually instead of typing again")),
        Source::Camera { .. } if failed_before > 0 => Decision::ToStaff("the number read from the card was refused; staff type it or confirm visually (no second automatic try)".into()),
        Source::Camera { .. } if tries_left <= KEEP_TRIES => Decision::ToStaff(format!("only {tries_left} tries are left on the card; staff type the number or confirm visually")),
        Source::Camera { confidence } if !sure_enough(confidence) => Decision::ReadAgain,
        Source::Camera { .. } => Decision::Try,
    }
}

/// Why a typed 照合番号B cannot be a card's. Each says what to check on the card.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypedNumberError {
    /// Not fourteen digits.
    #[error("照合番号B is 14 digits (birth date YYMMDD in the era, the expiry year, the security code); {0} digits were typed")]
    Length(usize),
    /// A character that is not a digit.
    #[error("照合番号B holds digits only")]
    NotDigits,
    /// Digits 3–6 are no month and day.
    #[error("digits 3–6 must be the birth month and day (MMDD); check the birth date on the card")]
    BirthDate,
    /// Digits 7–10 are no year a card expires in.
    #[error("digits 7–10 must be the year printed in the expiry box (2016–2099)")]
    ExpiryYear,
}

/// A 照合番号B typed by staff from the card in their hand, checked before it is sent to the
/// card (a mistyped number would spend one of the applet's tries): full-width digits (an IME's)
/// are taken as digits, spaces and hyphens are dropped; the birth month and day must be a
/// day of the calendar and the expiry year one a card can expire in.
pub fn typed(entry: &str) -> Result<String, TypedNumberError> {
    let mut digits = String::with_capacity(14);
    for c in entry.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            ' ' | '\u{3000}' | '-' | 'ー' | '－' => {}
            _ => return Err(TypedNumberError::NotDigits),
        }
    }
    if digits.len() != 14 {
        return Err(TypedNumberError::Length(digits.len()));
    }
    let n = |r: std::ops::Range<usize>| digits[r].parse::<u32>().unwrap_or(0);
    // Any leap year will do: the era year is not known without the era.
    if NaiveDate::from_ymd_opt(2000, n(2..4), n(4..6)).is_none() {
        return Err(TypedNumberError::BirthDate);
    }
    if !(2016..=2099).contains(&n(6..10)) {
        return Err(TypedNumberError::ExpiryYear);
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_b_from_the_era_date() {
        let d = NaiveDate::from_ymd_opt(1980, 2, 17).unwrap();
        assert_eq!(number_b(d, 2034, "1234"), "55021720341234");
        let reiwa = NaiveDate::from_ymd_opt(2019, 5, 1).unwrap();
        assert_eq!(number_b(reiwa, 2029, "0007"), "01050120290007");
        // The era boundaries (formerly the card crate's own arithmetic, now this one rule).
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(&number_b(d("1989-01-07"), 2030, "0000")[..6], "640107"); // 昭和64年
        assert_eq!(&number_b(d("1989-01-08"), 2030, "0000")[..6], "010108"); // 平成元年
        assert_eq!(&number_b(d("2019-04-30"), 2030, "0000")[..6], "310430"); // 平成31年
        assert_eq!(&number_b(d("2019-05-01"), 2030, "0000")[..6], "010501"); // 令和元年
        assert_eq!(&number_b(d("1926-12-24"), 2030, "0000")[..6], "151224"); // 大正15年
        assert_eq!(number_b(d("1980-02-17"), 2034, "1234").len(), 14);
    }

    #[test]
    fn a_sure_read_is_tried_once_with_tries_to_spare() {
        let sure = Source::Camera { confidence: 0.95 };
        assert_eq!(may_try(sure, 10, 0), Decision::Try);
        assert_eq!(may_try(sure, KEEP_TRIES + 1, 0), Decision::Try);
        assert!(matches!(may_try(sure, KEEP_TRIES, 0), Decision::ToStaff(_)));
        assert!(
            matches!(may_try(sure, 10, 1), Decision::ToStaff(_)),
            "never a second automatic try"
        );
        assert_eq!(
            may_try(
                Source::Camera {
                    confidence: READ_CONFIDENCE - 0.01
                },
                10,
                0
            ),
            Decision::ReadAgain
        );
        assert!(matches!(may_try(sure, 0, 0), Decision::ToStaff(_)));
    }

    #[test]
    fn staff_may_type_but_not_spend_the_last_try_after_a_failure() {
        assert_eq!(may_try(Source::Staff, 2, 1), Decision::Try);
        assert_eq!(may_try(Source::Staff, 1, 0), Decision::Try);
        assert!(matches!(may_try(Source::Staff, 1, 1), Decision::ToStaff(_)));
        assert!(matches!(may_try(Source::Staff, 0, 0), Decision::ToStaff(_)));
    }

    #[test]
    fn a_typed_number_is_checked_before_it_can_spend_a_try() {
        assert_eq!(typed("55021720341234").unwrap(), "55021720341234");
        assert_eq!(typed("５５０２１７ 2034-1234").unwrap(), "55021720341234");
        assert_eq!(typed("5502172034123"), Err(TypedNumberError::Length(13)));
        assert_eq!(typed("55021720341234x"), Err(TypedNumberError::NotDigits));
        assert_eq!(typed("55133120341234"), Err(TypedNumberError::BirthDate));
        assert_eq!(typed("55023020341234"), Err(TypedNumberError::BirthDate));
        assert_eq!(typed("64022920341234").unwrap(), "64022920341234");
        assert_eq!(typed("55021719991234"), Err(TypedNumberError::ExpiryYear));
    }
}
