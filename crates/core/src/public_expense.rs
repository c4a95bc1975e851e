//! 公費負担医療 recipient certificates (受給者証: 難病, 小児慢性特定疾病, local 医療費助成, …), as
//! the reader has offered them since the seed (SPEC §14): the kiosk asks
//! 「医療費助成の各種受給者証を利用しますか」; when the patient says yes, the result carries the
//! certificates recorded for the person that are valid on the day (program, 公費負担者番号,
//! 受給者番号, validity, monthly copay limit). Without the patient's yes, none is given.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One recipient certificate as recorded for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecipientCertificate {
    /// The program (e.g. 難病医療費助成, 小児慢性特定疾病医療費助成).
    pub program: String,
    /// 公費負担者番号 (8 digits: 法別番号, prefecture, payer, check digit).
    pub payer_number: String,
    /// 公費受給者番号 (7 digits).
    pub recipient_number: String,
    /// Valid from.
    pub valid_from: NaiveDate,
    /// Valid to.
    pub valid_to: NaiveDate,
    /// 自己負担上限額 (yen per month), where the program sets one.
    pub copay_limit: Option<i64>,
}

/// The certificates to give with a result: those valid on `day`, and only when the patient
/// chose to use them.
pub fn offered(
    certificates: &[RecipientCertificate],
    chosen: bool,
    day: NaiveDate,
) -> Vec<RecipientCertificate> {
    if !chosen {
        return vec![];
    }
    certificates
        .iter()
        .filter(|c| c.valid_from <= day && day <= c.valid_to)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn only_when_chosen_and_only_those_valid_on_the_day() {
        let cert = |program: &str, to| RecipientCertificate {
            program: program.into(),
            payer_number: "54136015".into(),
            recipient_number: "1234567".into(),
            valid_from: d(2026, 4, 1),
            valid_to: to,
            copay_limit: Some(10_000),
        };
        let held = [
            cert("難病医療費助成", d(2027, 3, 31)),
            cert("小児慢性特定疾病医療費助成", d(2026, 9, 30)),
        ];
        assert!(
            offered(&held, false, d(2026, 12, 1)).is_empty(),
            "not without the patient's yes"
        );
        let given = offered(&held, true, d(2026, 12, 1));
        assert_eq!(given, vec![held[0].clone()], "the expired one is left out");
        assert_eq!(offered(&held, true, d(2026, 9, 30)).len(), 2);
    }
}
