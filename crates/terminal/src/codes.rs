//! Code tables of the clinic-software interface (SPEC §13).

/// `SegmentOfResult`: 1 processed, 9 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentOfResult {
    /// 1: the request was processed.
    Ok,
    /// 9: it was not (an error code and message follow).
    Error,
}

impl SegmentOfResult {
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            SegmentOfResult::Ok => "1",
            SegmentOfResult::Error => "9",
        }
    }
}

/// `QualificationValidity` (資格有効性).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualificationValidity {
    /// 1 有効.
    Valid,
    /// 2 無効.
    Invalid,
    /// 3 有効（新しい資格あり）.
    NewerExists,
    /// 4 該当資格なし.
    NotFound,
    /// 5 複数該当.
    Several,
}

impl QualificationValidity {
    /// All values.
    pub const ALL: [QualificationValidity; 5] = [
        Self::Valid,
        Self::Invalid,
        Self::NewerExists,
        Self::NotFound,
        Self::Several,
    ];

    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Valid => "1",
            Self::Invalid => "2",
            Self::NewerExists => "3",
            Self::NotFound => "4",
            Self::Several => "5",
        }
    }
}

impl From<kakunin_core::eligibility::QualificationValidity> for QualificationValidity {
    fn from(v: kakunin_core::eligibility::QualificationValidity) -> Self {
        use kakunin_core::eligibility::QualificationValidity as V;
        match v {
            V::Valid => Self::Valid,
            V::Invalid => Self::Invalid,
            V::NotFound => Self::NotFound,
        }
    }
}

/// `ReferenceClassification`: how the check was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceClassification {
    /// 1: by card (a reader visit).
    Card,
    /// 2: by insurance numbers.
    Numbers,
}

impl ReferenceClassification {
    /// The code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Card => "1",
            Self::Numbers => "2",
        }
    }
}

/// `LimitApplicationCertificateRelatedInfo` classification (限度額適用認定証区分): A01–A06, B01–B10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitClassification(&'static str);

impl LimitClassification {
    /// Every valid code.
    pub const ALL: [&'static str; 16] = [
        "A01", "A02", "A03", "A04", "A05", "A06", "B01", "B02", "B03", "B04", "B05", "B06", "B07",
        "B08", "B09", "B10",
    ];

    /// `LimitApplicationCertificateClassification`, the kind of certificate this category is
    /// shown on: 02 限度額適用・標準負担額減額認定証 for the low-income categories (住民税非課税:
    /// オ, オ（境）, 低所得Ⅱ, 低所得Ⅰ and its variants), else 01 限度額適用認定証.
    pub fn certificate_kind(&self) -> &'static str {
        match self.0 {
            "A05" | "A06" | "B05" | "B06" | "B07" | "B08" => "02",
            _ => "01",
        }
    }

    /// Parses a code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|c| **c == s)
            .map(|c| LimitClassification(c))
    }

    /// The code.
    pub fn code(self) -> &'static str {
        self.0
    }
}

/// Consent status per information type: 0 not consented, 1 consented.
pub fn consent_flag(consented: bool) -> &'static str {
    if consented {
        "1"
    } else {
        "0"
    }
}

/// Copay ratio as the three-digit percent the interface uses (30 % → `030`).
pub fn copay_code(percent: i64) -> String {
    format!("{:03}", percent.clamp(0, 100))
}

/// A date as `yyyyMMdd`.
pub fn date_code(d: chrono::NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_value() {
        assert_eq!(
            QualificationValidity::ALL.map(|v| v.code()),
            ["1", "2", "3", "4", "5"]
        );
        assert_eq!(
            (SegmentOfResult::Ok.code(), SegmentOfResult::Error.code()),
            ("1", "9")
        );
        assert_eq!(
            (
                ReferenceClassification::Card.code(),
                ReferenceClassification::Numbers.code()
            ),
            ("1", "2")
        );
        for c in LimitClassification::ALL {
            assert_eq!(LimitClassification::parse(c).unwrap().code(), c);
        }
        assert!(
            LimitClassification::parse("A07").is_none()
                && LimitClassification::parse("B11").is_none()
        );
        assert_eq!(
            (
                copay_code(10),
                copay_code(20),
                copay_code(30),
                copay_code(0)
            ),
            ("010".into(), "020".into(), "030".into(), "000".into())
        );
        assert_eq!(date_code("2024-02-01".parse().unwrap()), "20240201");
        assert_eq!((consent_flag(true), consent_flag(false)), ("1", "0"));
    }
}
