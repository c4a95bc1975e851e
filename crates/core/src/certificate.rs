//! The user-authentication certificate's grace period (SPEC §14; 厚生労働省 医療機関等向け総合
//! ポータル KB0012286): for three months after the certificate expires the card still yields
//! eligibility at a clinic, but no medical information may be consented to or viewed; the
//! holder renews the certificate at the municipal counter. After that it is refused as expired.
//!
//! The three months run from the end of the month the certificate expired in (insurers' own
//! notices: 「有効期限満了日が属する月の末日から3か月間」 — 西日本プラスチック工業健康保険組合
//! 2025-04-16, and 協会けんぽ as quoted by its members' advisers), not from the expiry day as some
//! summaries have it: a certificate that expired on 1 August yields eligibility to 30 November.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

/// Months after the certificate's expiry during which the card still yields eligibility.
pub const GRACE_MONTHS: u32 = 3;

/// Where a certificate stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Within its validity.
    Valid,
    /// Expired, in the grace period to `until` (inclusive): eligibility only.
    Grace {
        /// The last day of the grace period.
        until: NaiveDate,
    },
    /// Expired past the grace period: refused.
    Expired,
}

/// The standing at `now` of a certificate valid to `not_after`. The grace period ends on the
/// last day of the [`GRACE_MONTHS`]th month after the month of expiry (expired on 1 or 31
/// August → to 30 November).
pub fn standing(not_after: DateTime<Utc>, now: DateTime<Utc>) -> Standing {
    if now <= not_after {
        return Standing::Valid;
    }
    let until = not_after
        .date_naive()
        .with_day(1)
        .and_then(|first| first.checked_add_months(Months::new(GRACE_MONTHS + 1)))
        .and_then(|next| next.pred_opt())
        .unwrap_or(NaiveDate::MAX);
    if now.date_naive() <= until {
        Standing::Grace { until }
    } else {
        Standing::Expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn valid_to_its_expiry_then_three_months_of_grace_then_refused() {
        let expiry = at(2026, 8, 31);
        assert_eq!(standing(expiry, at(2026, 8, 31)), Standing::Valid);
        let until = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(standing(expiry, at(2026, 9, 1)), Standing::Grace { until });
        assert_eq!(
            standing(expiry, at(2026, 11, 30)),
            Standing::Grace { until }
        );
        // Three months and one day past the end of the month it expired in.
        assert_eq!(standing(expiry, at(2026, 12, 1)), Standing::Expired);
    }

    #[test]
    fn the_three_months_run_from_the_end_of_the_month_of_expiry() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let grace = |until| Standing::Grace { until };
        assert_eq!(
            standing(at(2026, 8, 1), at(2026, 11, 30)),
            grace(day(2026, 11, 30))
        );
        assert_eq!(standing(at(2026, 8, 1), at(2026, 12, 1)), Standing::Expired);
        assert_eq!(
            standing(at(2026, 1, 15), at(2026, 2, 1)),
            grace(day(2026, 4, 30))
        );
        assert_eq!(
            standing(at(2026, 11, 30), at(2026, 12, 1)),
            grace(day(2027, 2, 28))
        );
    }
}
