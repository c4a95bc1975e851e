//! The documents a patient shows instead of the マイナ保険証, as the rules stand since the seed
//! (SPEC §14; 厚生労働省「マイナ保険証の利用促進等について」, faq.myna.go.jp/faq/show/3505):
//!
//! - no health insurance card (健康保険証) has been issued since 2024-12-02; one issued before
//!   is valid only to its printed expiry and never after 2025-12-01 (the transition's last day,
//!   configurable: [`Transition`]);
//! - people without a マイナ保険証 hold a 資格確認書 (eligibility certificate): numbers like the
//!   card's, valid for at most five years;
//! - マイナ保険証 holders get a 資格情報のお知らせ (notice of qualification): its numbers may be
//!   used together with the card (when the card cannot be read online), never on their own;
//! - for the move itself, 厚生労働省's 事務連絡 of 2025-06-27 and 2025-11-12 let institutions
//!   check an expired health insurance card, or the notice alone, by its numbers online until
//!   2026-03-31 ([`Transition::interim_until`]); that ended before today's rules.
//!
//! A check by numbers says which document was shown, and [`may_check_with`] refuses those that
//! no longer prove anything, with the reason.

use crate::error::{DomainError, ErrorCode};
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The dates of the move from health insurance cards to the マイナ保険証.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The first day no health insurance card is issued (2024-12-02).
    pub no_new_cards_from: NaiveDate,
    /// The last day any health insurance card is valid (2025-12-01).
    pub last_card_day: NaiveDate,
    /// The last day of the interim measure (2026-03-31): an expired health insurance card, or a
    /// 資格情報のお知らせ alone, could still be checked by its numbers online.
    pub interim_until: NaiveDate,
}

impl Default for Transition {
    fn default() -> Self {
        Transition {
            no_new_cards_from: NaiveDate::from_ymd_opt(2024, 12, 2).expect("a date"),
            last_card_day: NaiveDate::from_ymd_opt(2025, 12, 1).expect("a date"),
            interim_until: NaiveDate::from_ymd_opt(2026, 3, 31).expect("a date"),
        }
    }
}

impl Transition {
    /// Whether a health insurance card can still be valid on `day` (else no fallback offers it).
    pub fn cards_valid_on(&self, day: NaiveDate) -> bool {
        day <= self.last_card_day
    }
}

/// The longest a 資格確認書 is valid: five years from its issue.
pub const CERTIFICATE_YEARS: u32 = 5;

/// Which document the numbers of a check were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 資格確認書.
    EligibilityCertificate,
    /// 健康保険証 (issued before 2024-12-02).
    HealthInsuranceCard,
    /// 資格情報のお知らせ (valid only together with the マイナ保険証).
    QualificationNotice,
}

impl DocumentKind {
    /// The document's name on the screens.
    pub fn japanese(self) -> &'static str {
        match self {
            DocumentKind::EligibilityCertificate => "資格確認書",
            DocumentKind::HealthInsuranceCard => "健康保険証",
            DocumentKind::QualificationNotice => "資格情報のお知らせ",
        }
    }
}

/// A document shown at the desk, with what is printed on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShownDocument {
    /// Which document.
    pub kind: DocumentKind,
    /// The printed expiry (有効期限), when it has one.
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    /// The printed issue date (交付年月日), when known.
    #[serde(default)]
    pub issued: Option<NaiveDate>,
    /// The patient's マイナ保険証 was shown with it (the card could not be checked online).
    #[serde(default)]
    pub with_card: bool,
}

/// Whether the numbers of `shown` may be used to check eligibility on `day`; the refusal says
/// what to use instead.
pub fn may_check_with(
    shown: &ShownDocument,
    day: NaiveDate,
    t: &Transition,
) -> Result<(), DomainError> {
    let expired = |what: &str, until: NaiveDate| {
        DomainError::new(
            ErrorCode::DocumentExpired,
            format!("the {what} expired on {until}; ask for a valid 資格確認書 or the マイナ保険証, or use the self-declaration form"),
        )
    };
    match shown.kind {
        DocumentKind::HealthInsuranceCard => {
            if shown.issued.is_some_and(|i| i >= t.no_new_cards_from) {
                return Err(DomainError::new(
                    ErrorCode::DocumentNotGenuine,
                    format!("no health insurance card has been issued since {}; this one cannot be genuine: ask for the マイナ保険証 or a 資格確認書", t.no_new_cards_from),
                ));
            }
            // The interim measure checked any such card's numbers online, expired or not.
            if day <= t.interim_until && day > t.last_card_day {
                return Ok(());
            }
            if day > t.last_card_day {
                return Err(expired("health insurance card (every one ends with the transition)", t.last_card_day));
            }
            match shown.valid_until {
                Some(until) if day > until => Err(expired("health insurance card", until)),
                _ => Ok(()),
            }
        }
        DocumentKind::EligibilityCertificate => {
            if let (Some(issued), Some(until)) = (shown.issued, shown.valid_until) {
                if issued.checked_add_months(Months::new(12 * CERTIFICATE_YEARS)).is_some_and(|last| until > last) {
                    return Err(DomainError::new(
                        ErrorCode::DocumentNotGenuine,
                        format!("a 資格確認書 is valid for at most {CERTIFICATE_YEARS} years; this one (issued {issued}, valid to {until}) cannot be genuine"),
                    ));
                }
            }
            match shown.valid_until {
                Some(until) if day > until => Err(expired("資格確認書", until)),
                _ => Ok(()),
            }
        }
        DocumentKind::QualificationNotice if shown.with_card || day <= t.interim_until => Ok(()),
        DocumentKind::QualificationNotice => Err(DomainError::new(
            ErrorCode::NoticeNotValidAlone,
            "the 資格情報のお知らせ is not valid on its own: its numbers are used only with the patient's マイナ保険証 in hand; without the card, ask for a 資格確認書 or use the self-declaration form",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn shown(kind: DocumentKind, valid_until: Option<NaiveDate>) -> ShownDocument {
        ShownDocument {
            kind,
            valid_until,
            issued: None,
            with_card: false,
        }
    }

    #[test]
    fn a_health_insurance_card_ends_at_its_expiry_and_with_the_transition() {
        let t = Transition::default();
        let card = shown(DocumentKind::HealthInsuranceCard, Some(d(2026, 7, 31)));
        assert_eq!(may_check_with(&card, d(2025, 12, 1), &t), Ok(()));
        // After the interim measure (to 2026-03-31, tested below) nothing is left of them.
        let after = may_check_with(&card, d(2026, 4, 1), &t).unwrap_err();
        assert_eq!(after.code, ErrorCode::DocumentExpired);
        assert!(after.message.contains("2025-12-01"), "{after}");
        let early = shown(DocumentKind::HealthInsuranceCard, Some(d(2025, 7, 31)));
        assert_eq!(
            may_check_with(&early, d(2025, 8, 1), &t).unwrap_err().code,
            ErrorCode::DocumentExpired
        );
        assert!(!t.cards_valid_on(d(2026, 12, 1)));
        assert!(t.cards_valid_on(d(2025, 12, 1)));
    }

    #[test]
    fn no_health_insurance_card_is_issued_after_the_second_of_december_2024() {
        let t = Transition::default();
        let mut card = shown(DocumentKind::HealthInsuranceCard, None);
        card.issued = Some(d(2024, 12, 2));
        assert_eq!(
            may_check_with(&card, d(2025, 1, 10), &t).unwrap_err().code,
            ErrorCode::DocumentNotGenuine
        );
        card.issued = Some(d(2024, 12, 1));
        assert_eq!(may_check_with(&card, d(2025, 1, 10), &t), Ok(()));
    }

    #[test]
    fn an_eligibility_certificate_is_valid_to_its_expiry_and_at_most_five_years() {
        let t = Transition::default();
        let mut c = shown(DocumentKind::EligibilityCertificate, Some(d(2029, 11, 30)));
        assert_eq!(may_check_with(&c, d(2026, 12, 1), &t), Ok(()));
        assert_eq!(may_check_with(&c, d(2029, 11, 30), &t), Ok(()));
        assert_eq!(
            may_check_with(&c, d(2029, 12, 1), &t).unwrap_err().code,
            ErrorCode::DocumentExpired
        );
        c.issued = Some(d(2024, 12, 1));
        assert_eq!(may_check_with(&c, d(2026, 12, 1), &t), Ok(()));
        c.valid_until = Some(d(2029, 12, 2));
        assert_eq!(
            may_check_with(&c, d(2026, 12, 1), &t).unwrap_err().code,
            ErrorCode::DocumentNotGenuine
        );
    }

    #[test]
    fn the_notice_of_qualification_is_valid_only_with_the_card() {
        let t = Transition::default();
        let mut notice = shown(DocumentKind::QualificationNotice, None);
        assert_eq!(
            may_check_with(&notice, d(2026, 12, 1), &t)
                .unwrap_err()
                .code,
            ErrorCode::NoticeNotValidAlone
        );
        notice.with_card = true;
        assert_eq!(may_check_with(&notice, d(2026, 12, 1), &t), Ok(()));
    }

    #[test]
    fn until_the_end_of_march_2026_the_interim_measure_checked_expired_cards_and_lone_notices() {
        let t = Transition::default();
        let card = shown(DocumentKind::HealthInsuranceCard, Some(d(2025, 12, 1)));
        assert_eq!(may_check_with(&card, d(2026, 3, 31), &t), Ok(()));
        assert_eq!(
            may_check_with(&card, d(2026, 4, 1), &t).unwrap_err().code,
            ErrorCode::DocumentExpired
        );
        let notice = shown(DocumentKind::QualificationNotice, None);
        assert_eq!(may_check_with(&notice, d(2026, 3, 31), &t), Ok(()));
        assert_eq!(
            may_check_with(&notice, d(2026, 4, 1), &t).unwrap_err().code,
            ErrorCode::NoticeNotValidAlone
        );
    }
}
