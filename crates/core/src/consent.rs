//! Consent selection (同意選択, SPEC §6 step 4) and what an institution may see because of it.

use serde::{Deserialize, Serialize};

/// A category of medical information shared on consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InfoCategory {
    /// 薬剤情報.
    Medication,
    /// 特定健診等情報.
    Checkup,
    /// 診療情報 (including surgery).
    Clinical,
}

impl InfoCategory {
    /// All categories.
    pub const ALL: [InfoCategory; 3] = [
        InfoCategory::Medication,
        InfoCategory::Checkup,
        InfoCategory::Clinical,
    ];

    /// Code name.
    pub fn as_str(self) -> &'static str {
        match self {
            InfoCategory::Medication => "medication",
            InfoCategory::Checkup => "checkup",
            InfoCategory::Clinical => "clinical",
        }
    }

    /// Parses the code name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The patient's choices at the reader, scoped to one institution and one visit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsentSelection {
    /// Medication information (薬剤情報) may be shown.
    pub medication: bool,
    /// Specific health checkup results (特定健診情報) may be shown.
    pub checkup: bool,
    /// Clinical information (診療情報) may be shown.
    pub clinical: bool,
    /// 限度額適用区分 may be shown (限度額適用認定証情報の提供に同意).
    pub limit_amount: bool,
}

impl ConsentSelection {
    /// Whether `category` may be viewed.
    pub fn allows(&self, category: InfoCategory) -> bool {
        match category {
            InfoCategory::Medication => self.medication,
            InfoCategory::Checkup => self.checkup,
            InfoCategory::Clinical => self.clinical,
        }
    }

    /// The consented categories.
    pub fn categories(&self) -> Vec<InfoCategory> {
        InfoCategory::ALL
            .into_iter()
            .filter(|c| self.allows(*c))
            .collect()
    }
}

/// Whether institution `viewer` may see `category` of the patient's medical information in a
/// visit, given the consent given there (`given`: the institution it was given to and what was
/// selected; `None` when none was given): only what was consented, only to that institution.
pub fn may_view(
    given: Option<(&str, &ConsentSelection)>,
    viewer: &str,
    category: InfoCategory,
) -> Result<(), crate::DomainError> {
    match given {
        Some((to, selection)) if to == viewer && selection.allows(category) => Ok(()),
        _ => Err(crate::DomainError::new(
            crate::ErrorCode::ConsentMissing,
            format!(
                "the patient did not consent to sharing {} information with this institution in this visit",
                category.as_str()
            ),
        )),
    }
}

/// How long after a visit's consent the institution's clinic software may still fetch the
/// consented information by the patient's insurance numbers (the terminal folder's medication
/// and checkup requests, which carry no visit): the consultation the consent was given for,
/// taken as 24 hours. After that the patient consents again at the next visit. kakunin's rule:
/// the seed scopes consent to the institution and the visit and names no span.
pub const BY_NUMBERS_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// Whether institution `viewer` may fetch `category` by a patient's numbers at `now`, given the
/// patient's latest consent there (`latest`: the institution, what was selected and when;
/// `None` when the patient never consented there): as [`may_view`], and only within
/// [`BY_NUMBERS_WINDOW`] of that consent.
pub fn may_view_by_numbers(
    latest: Option<(&str, &ConsentSelection, chrono::DateTime<chrono::Utc>)>,
    viewer: &str,
    category: InfoCategory,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), crate::DomainError> {
    may_view(latest.map(|(to, s, _)| (to, s)), viewer, category)?;
    match latest {
        Some((_, _, at)) if now - at <= BY_NUMBERS_WINDOW => Ok(()),
        _ => Err(crate::DomainError::new(
            crate::ErrorCode::ConsentMissing,
            format!(
                "the patient's consent to sharing {} information with this institution was given more than 24 hours ago; it is asked again at the card reader on the next visit",
                category.as_str()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_numbers_only_within_a_day_of_the_consent() {
        let s = ConsentSelection {
            medication: true,
            ..ConsentSelection::default()
        };
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let m = InfoCategory::Medication;
        assert!(may_view_by_numbers(Some(("A", &s, at)), "A", m, at).is_ok());
        assert!(may_view_by_numbers(Some(("A", &s, at)), "A", m, at + BY_NUMBERS_WINDOW).is_ok());
        for refused in [
            may_view_by_numbers(
                Some(("A", &s, at)),
                "A",
                m,
                at + BY_NUMBERS_WINDOW + chrono::Duration::seconds(1),
            ),
            may_view_by_numbers(Some(("A", &s, at)), "A", InfoCategory::Checkup, at),
            may_view_by_numbers(Some(("A", &s, at)), "B", m, at),
            may_view_by_numbers(None, "A", m, at),
        ] {
            assert_eq!(refused.unwrap_err().code, crate::ErrorCode::ConsentMissing);
        }
    }

    #[test]
    fn only_what_was_consented_only_to_that_institution() {
        let s = ConsentSelection {
            medication: true,
            ..ConsentSelection::default()
        };
        assert!(may_view(Some(("A", &s)), "A", InfoCategory::Medication).is_ok());
        let refused = [
            may_view(Some(("A", &s)), "A", InfoCategory::Checkup),
            may_view(Some(("A", &s)), "B", InfoCategory::Medication),
            may_view(None, "A", InfoCategory::Medication),
        ];
        for r in refused {
            assert_eq!(r.unwrap_err().code, crate::ErrorCode::ConsentMissing);
        }
    }
}
