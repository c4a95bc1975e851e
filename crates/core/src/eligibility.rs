//! The eligibility result (SPEC §6 step 5): what reception sees, computed from the stored
//! qualification, and filtered by consent.

use crate::consent::ConsentSelection;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A person's qualification as stored (one period under one insurer), with the person's
/// card-face data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualificationRecord {
    /// The insured person.
    pub person_id: i64,
    /// 保険者番号.
    pub insurer_number: String,
    /// The insurer's name.
    pub insurer_name: String,
    /// 加入医療保険種別.
    pub insurance_type: String,
    /// 記号.
    pub symbol: String,
    /// 番号.
    pub number: String,
    /// 枝番.
    pub branch: String,
    /// 1 本人, 2 家族.
    pub personal_family: i64,
    /// Name in kanji.
    pub name: String,
    /// Name in katakana.
    pub name_kana: String,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// 1 male, 2 female.
    pub sex: i64,
    /// Address.
    pub address: String,
    /// Postal code.
    pub post_number: String,
    /// Copayment (一部負担金の割合), percent.
    pub copay_percent: i64,
    /// Qualified from.
    pub valid_from: NaiveDate,
    /// Qualified until (none while it lasts).
    pub valid_to: Option<NaiveDate>,
    /// 限度額適用区分 (A01–A06, B01–B10).
    pub limit_category: Option<String>,
}

/// 資格有効性 (SPEC §13 `QualificationValidity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QualificationValidity {
    /// 1: valid on the day.
    Valid,
    /// 2: the period has ended (or not yet begun).
    Invalid,
    /// 4: no qualification found.
    NotFound,
}

impl QualificationValidity {
    /// The code of the clinic-software interface.
    pub fn code(self) -> u8 {
        match self {
            QualificationValidity::Valid => 1,
            QualificationValidity::Invalid => 2,
            QualificationValidity::NotFound => 4,
        }
    }
}

/// Validity of `q` on `day`.
pub fn validity_on(q: &QualificationRecord, day: NaiveDate) -> QualificationValidity {
    if q.valid_from <= day && q.valid_to.is_none_or(|to| day <= to) {
        QualificationValidity::Valid
    } else {
        QualificationValidity::Invalid
    }
}

/// What reception sees. `limit_category` appears only with consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EligibilityResult {
    /// Valid, not yet valid or lost on the day of the check.
    pub validity: QualificationValidity,
    /// 保険者番号.
    pub insurer_number: String,
    /// The insurer's name.
    pub insurer_name: String,
    /// The insurance type (協会けんぽ, 国保, 後期高齢者, …).
    pub insurance_type: String,
    /// 記号.
    pub symbol: String,
    /// 番号.
    pub number: String,
    /// 枝番.
    pub branch: String,
    /// 1 the insured person (本人), 2 a dependant (家族).
    pub personal_family: i64,
    /// Name in kanji.
    pub name: String,
    /// Name in katakana.
    pub name_kana: String,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// 1 male, 2 female.
    pub sex: i64,
    /// Address.
    pub address: String,
    /// Postal code.
    pub post_number: String,
    /// Copayment, percent.
    pub copay_percent: i64,
    /// Qualified from.
    pub valid_from: NaiveDate,
    /// Qualified until.
    pub valid_to: Option<NaiveDate>,
    /// Present only when the patient consented to limit-amount information.
    pub limit_category: Option<String>,
    /// 高齢受給者証 information, for insured persons aged 70 to 74 on the day.
    pub elderly_recipient: Option<ElderlyRecipient>,
    /// The asking institution's 照会番号 for the patient, when it registered one
    /// ([`crate::reference`]); set by the service for that institution only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_number: Option<String>,
    /// The document whose numbers the check used (a check by numbers that said which), so
    /// reception sees what proved the eligibility; none for a card check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<crate::documents::DocumentKind>,
    /// 医療扶助, for a public-assistance recipient: this month's ticket for the asking
    /// institution, 「未委託」, or another institution's ([`crate::medical_assistance`]); set by
    /// the service for the asking institution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medical_assistance: Option<crate::medical_assistance::MedicalAssistance>,
}

/// 高齢受給者証: persons aged 70–74 outside 後期高齢者医療 pay the ratio it states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ElderlyRecipient {
    /// Applies from.
    pub valid_from: NaiveDate,
    /// Applies until.
    pub valid_to: NaiveDate,
    /// Copayment, percent.
    pub copay_percent: i64,
}

/// When the 高齢受給者証 of a person born on `birth` applies. Age is reached the day before the
/// birthday; the certificate applies from the first of the month after the day 70 is reached (so
/// from the birthday's month for those born on the 1st) to the day before the 75th birthday, when
/// 後期高齢者医療 takes over.
pub fn elderly_recipient_period(birth: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    use chrono::Datelike;
    // Born on 29 February: in common years the birthday is taken as 1 March.
    let birthday = |age: i32| {
        birth
            .with_year(birth.year() + age)
            .or_else(|| NaiveDate::from_ymd_opt(birth.year() + age, 3, 1))
    };
    let reached_70 = birthday(70)?.pred_opt()?;
    let (y, m) = if reached_70.month() == 12 {
        (reached_70.year() + 1, 1)
    } else {
        (reached_70.year(), reached_70.month() + 1)
    };
    Some((NaiveDate::from_ymd_opt(y, m, 1)?, birthday(75)?.pred_opt()?))
}

/// The 高齢受給者証 of `q` on `day`, if one applies.
pub fn elderly_recipient(q: &QualificationRecord, day: NaiveDate) -> Option<ElderlyRecipient> {
    if q.insurance_type.starts_with("後期高齢者") {
        return None;
    }
    let (from, to) = elderly_recipient_period(q.birth_date)?;
    (from <= day && day <= to).then_some(ElderlyRecipient {
        valid_from: from,
        valid_to: to,
        copay_percent: q.copay_percent,
    })
}

impl EligibilityResult {
    /// The result for `q` on `day`, showing only what `consent` allows. Without a consent
    /// (a check by eligibility-certificate numbers) the limit category is withheld.
    pub fn new(
        q: &QualificationRecord,
        day: NaiveDate,
        consent: Option<&ConsentSelection>,
    ) -> Self {
        EligibilityResult {
            validity: validity_on(q, day),
            insurer_number: q.insurer_number.clone(),
            insurer_name: q.insurer_name.clone(),
            insurance_type: q.insurance_type.clone(),
            symbol: q.symbol.clone(),
            number: q.number.clone(),
            branch: q.branch.clone(),
            personal_family: q.personal_family,
            name: q.name.clone(),
            name_kana: q.name_kana.clone(),
            birth_date: q.birth_date,
            sex: q.sex,
            address: q.address.clone(),
            post_number: q.post_number.clone(),
            copay_percent: q.copay_percent,
            valid_from: q.valid_from,
            valid_to: q.valid_to,
            limit_category: if consent.is_some_and(|c| c.limit_amount) {
                q.limit_category.clone()
            } else {
                None
            },
            elderly_recipient: elderly_recipient(q, day),
            reference_number: None,
            document: None,
            medical_assistance: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> QualificationRecord {
        QualificationRecord {
            person_id: 1,
            insurer_number: "01130012".into(),
            insurer_name: "全国健康保険協会東京支部".into(),
            insurance_type: "協会けんぽ".into(),
            symbol: "1234".into(),
            number: "56".into(),
            branch: "00".into(),
            personal_family: 1,
            name: "山田 太郎".into(),
            name_kana: "ヤマダ タロウ".into(),
            birth_date: "1980-02-17".parse().unwrap(),
            sex: 1,
            address: "東京都".into(),
            post_number: "100-0001".into(),
            copay_percent: 30,
            valid_from: "2020-04-01".parse().unwrap(),
            valid_to: Some("2026-03-31".parse().unwrap()),
            limit_category: Some("A03".into()),
        }
    }

    #[test]
    fn elderly_recipient_certificate_from_70_to_74() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        // (birth date, expected period)
        for (birth, from, to) in [
            ("1955-06-15", "2025-07-01", "2030-06-14"),
            ("1955-06-01", "2025-06-01", "2030-05-31"),
            ("1955-12-20", "2026-01-01", "2030-12-19"),
            ("1956-02-29", "2026-03-01", "2031-02-28"),
            ("1956-03-01", "2026-03-01", "2031-02-28"),
        ] {
            assert_eq!(
                elderly_recipient_period(d(birth)),
                Some((d(from), d(to))),
                "{birth}"
            );
        }
        let mut old = q();
        old.birth_date = d("1955-06-15");
        old.copay_percent = 20;
        assert_eq!(
            elderly_recipient(&old, d("2025-06-30")),
            None,
            "69: not yet"
        );
        assert_eq!(
            elderly_recipient(&old, d("2025-07-01")).map(|e| e.copay_percent),
            Some(20)
        );
        assert_eq!(
            elderly_recipient(&old, d("2030-06-15")),
            None,
            "75: 後期高齢者"
        );
        old.insurance_type = "後期高齢者医療".into();
        assert_eq!(elderly_recipient(&old, d("2026-01-01")), None);
        assert_eq!(
            elderly_recipient(&q(), d("2025-01-01")),
            None,
            "45 years old"
        );
    }

    #[test]
    fn validity_and_consent_filter() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            validity_on(&q(), d("2025-01-01")),
            QualificationValidity::Valid
        );
        assert_eq!(
            validity_on(&q(), d("2026-03-31")),
            QualificationValidity::Valid
        );
        assert_eq!(
            validity_on(&q(), d("2026-04-01")),
            QualificationValidity::Invalid
        );
        assert_eq!(
            validity_on(&q(), d("2020-03-31")),
            QualificationValidity::Invalid
        );
        let yes = ConsentSelection {
            limit_amount: true,
            ..Default::default()
        };
        let no = ConsentSelection::default();
        assert_eq!(
            EligibilityResult::new(&q(), d("2025-01-01"), Some(&yes))
                .limit_category
                .as_deref(),
            Some("A03")
        );
        assert_eq!(
            EligibilityResult::new(&q(), d("2025-01-01"), Some(&no)).limit_category,
            None
        );
        assert_eq!(
            EligibilityResult::new(&q(), d("2025-01-01"), None).limit_category,
            None
        );
    }
}
