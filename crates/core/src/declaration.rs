//! 被保険者資格申立書 (eligibility self-declaration form, SPEC §6): what a patient without a
//! usable card or certificate fills in "as far as they can".

use serde::{Deserialize, Serialize};

/// The form's fields, exactly those of the seed: card-face information (name, birth date, sex,
/// address), contact, insurer items (insurance type, insurer name, employer name), copay ratio.
/// Every field is optional: the form is saved as far as it is filled, and flagged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SelfDeclaration {
    /// Name as the patient wrote it.
    pub name: Option<String>,
    /// yyyy-mm-dd.
    pub birth_date: Option<chrono::NaiveDate>,
    /// "male" / "female".
    pub sex: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// A telephone number or other way to reach the patient.
    pub contact: Option<String>,
    /// 加入医療保険種別, e.g. 協会けんぽ, 国民健康保険, 後期高齢者医療.
    pub insurance_type: Option<String>,
    /// 保険者等名称.
    pub insurer_name: Option<String>,
    /// 事業所名.
    pub employer_name: Option<String>,
    /// 一部負担金の割合, in percent (10, 20, 30).
    pub copay_percent: Option<u8>,
}

impl SelfDeclaration {
    /// Names of the fields left empty, in form order.
    pub fn missing_fields(&self) -> Vec<&'static str> {
        let blank = |s: &Option<String>| s.as_deref().map(str::trim).unwrap_or("").is_empty();
        let mut m = vec![];
        if blank(&self.name) {
            m.push("name")
        }
        if self.birth_date.is_none() {
            m.push("birth_date")
        }
        if blank(&self.sex) {
            m.push("sex")
        }
        if blank(&self.address) {
            m.push("address")
        }
        if blank(&self.contact) {
            m.push("contact")
        }
        if blank(&self.insurance_type) {
            m.push("insurance_type")
        }
        if blank(&self.insurer_name) {
            m.push("insurer_name")
        }
        if blank(&self.employer_name) {
            m.push("employer_name")
        }
        if self.copay_percent.is_none() {
            m.push("copay_percent")
        }
        m
    }

    /// Whether what was filled in can be matched against the insured-person records: name and
    /// birth date are the minimum.
    pub fn matchable(&self) -> bool {
        self.name.as_deref().is_some_and(|n| !n.trim().is_empty()) && self.birth_date.is_some()
    }

    /// The re-check's match among the insured persons born on the declared birth date
    /// (`born_that_day`: id, name, kana): the one whose name is the declared one
    /// ([`declared_name_matches`]). Several or none is no match; a form too empty to match
    /// matches nobody.
    pub fn matching_person<'a>(
        &self,
        born_that_day: impl IntoIterator<Item = (i64, &'a str, &'a str)>,
    ) -> Option<i64> {
        let name = self.name.as_deref().filter(|_| self.matchable())?;
        let mut found = born_that_day
            .into_iter()
            .filter(|(_, n, kana)| declared_name_matches(name, n, kana))
            .map(|(id, ..)| id);
        match (found.next(), found.next()) {
            (Some(id), None) => Some(id),
            _ => None,
        }
    }

    /// The re-check's verdict on the matched person's record (`None`: nobody matched):
    /// confirmed when the birth date and what else was declared (copay, insurer name) agree
    /// with the record, mismatch when they do not.
    pub fn recheck(
        &self,
        record: Option<&crate::eligibility::QualificationRecord>,
    ) -> DeclarationStatus {
        let Some(q) = record else {
            return DeclarationStatus::NotFound;
        };
        let birth_ok = self.birth_date == Some(q.birth_date);
        let copay_ok = self
            .copay_percent
            .is_none_or(|c| i64::from(c) == q.copay_percent);
        let insurer_ok = self
            .insurer_name
            .as_deref()
            .is_none_or(|n| n.trim().is_empty() || q.insurer_name.contains(n.trim()));
        if birth_ok && copay_ok && insurer_ok {
            DeclarationStatus::Confirmed
        } else {
            DeclarationStatus::Mismatch
        }
    }
}

/// Where a stored declaration stands with the automatic re-check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeclarationStatus {
    /// Waiting for the online check to work again.
    Pending,
    /// The re-check found one qualification matching what was declared.
    Confirmed,
    /// The re-check found the person, but the declared copay or insurer differs.
    Mismatch,
    /// Nobody matches (or too little was filled in to match): staff follow up.
    NotFound,
}

impl DeclarationStatus {
    /// Code name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeclarationStatus::Pending => "pending",
            DeclarationStatus::Confirmed => "confirmed",
            DeclarationStatus::Mismatch => "mismatch",
            DeclarationStatus::NotFound => "not_found",
        }
    }
}

/// A name as compared when a self-declaration is re-checked: NFKC (full-width letters and
/// digits to half width, half-width katakana to full width), katakana folded to hiragana, and
/// every space (half or full width) and middle dot dropped. People write 「吉田美咲」, 「吉田　美咲」
/// or 「ﾖｼﾀﾞ ﾐｻｷ」 for the same name.
pub fn comparable_name(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfkc()
        .filter(|c| !c.is_whitespace() && !matches!(c, '・' | '･' | '.'))
        .map(|c| match c {
            // Katakana ァ..ヶ to hiragana ぁ..ゖ.
            'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// A family name as the records hold its kana: NFKC (half-width katakana to full width), hiragana
/// to katakana, no spaces — so 「よしだ」 and 「ﾖｼﾀﾞ」 find 「ヨシダ」.
pub fn katakana(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// Whether a declared name is the insured person's: the same as their name in kanji, or as
/// their name in kana, compared with [`comparable_name`].
pub fn declared_name_matches(declared: &str, name: &str, name_kana: &str) -> bool {
    let d = comparable_name(declared);
    !d.is_empty() && (d == comparable_name(name) || d == comparable_name(name_kana))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recheck_matches_one_person_by_name_as_written_and_compares_the_rest() {
        let form = SelfDeclaration {
            name: Some("吉田美咲".into()),
            birth_date: "1990-04-01".parse().ok(),
            copay_percent: Some(30),
            ..SelfDeclaration::default()
        };
        let people = [
            (7, "吉田　美咲", "ヨシダ ミサキ"),
            (8, "吉田 美佐", "ヨシダ ミサ"),
        ];
        assert_eq!(form.matching_person(people), Some(7));
        let twins = [
            (7, "吉田 美咲", "ヨシダ ミサキ"),
            (9, "吉田美咲", "ヨシダミサキ"),
        ];
        assert_eq!(form.matching_person(twins), None, "two are no match");
        let empty = SelfDeclaration::default();
        assert_eq!(empty.matching_person(people), None);
        assert_eq!(form.recheck(None), DeclarationStatus::NotFound);
    }

    #[test]
    fn missing_fields_listed_in_form_order() {
        let d = SelfDeclaration {
            name: Some("山田 花子".into()),
            copay_percent: Some(30),
            contact: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(
            d.missing_fields(),
            [
                "birth_date",
                "sex",
                "address",
                "contact",
                "insurance_type",
                "insurer_name",
                "employer_name"
            ]
        );
        assert!(!d.matchable());
    }

    #[test]
    fn a_declared_name_matches_with_or_without_spaces_and_in_either_width() {
        for declared in [
            "吉田美咲",
            "吉田　美咲",
            "吉田 美咲",
            " 吉田  美咲 ",
            "ヨシダ ミサキ",
            "ﾖｼﾀﾞ ﾐｻｷ",
            "よしだみさき",
        ] {
            assert!(
                declared_name_matches(declared, "吉田 美咲", "ヨシダ ミサキ"),
                "{declared}"
            );
        }
        for other in ["吉田美紀", "吉田", "", "　", "ヨシダ"] {
            assert!(
                !declared_name_matches(other, "吉田 美咲", "ヨシダ ミサキ"),
                "{other}"
            );
        }
        assert_eq!(comparable_name("ＡＢＣ１２３"), "abc123");
        assert_eq!(katakana("よしだ"), "ヨシダ");
        assert_eq!(katakana("ﾖｼﾀﾞ"), "ヨシダ");
    }
}
