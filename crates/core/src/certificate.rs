//! The user-authentication certificate's grace period (SPEC §14; 厚生労働省 医療機関等向け総合
//! ポータル KB0012286): for three months after the certificate expires the card still yields
//! eligibility at a clinic, but no medical information may be consented to or viewed; the
//! holder renews the certificate at the municipal counter. After that it is refused as expired.

use chrono::{DateTime, Months, NaiveDate, Utc};

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

/// The standing at `now` of a certificate valid to `not_after`. The grace period ends
/// [`GRACE_MONTHS`] calendar months after the expiry day (expired on 31 August → to 30
/// November).
pub fn standing(not_after: DateTime<Utc>, now: DateTime<Utc>) -> Standing {
    if now <= not_after {
        return Standing::Valid;
    }
    let until = not_after
        .date_naive()
        .checked_add_months(Months::new(GRACE_MONTHS))
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
        // Three months and one day past the expiry.
        assert_eq!(standing(expiry, at(2026, 12, 1)), Standing::Expired);
    }

    #[test]
    fn the_grace_period_counts_calendar_months() {
        let until = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            standing(at(2026, 1, 15), at(2026, 2, 1)),
            Standing::Grace {
                until: until(2026, 4, 15)
            }
        );
        assert_eq!(
            standing(at(2026, 11, 30), at(2026, 12, 1)),
            Standing::Grace {
                until: until(2027, 2, 28)
            }
        );
    }
}
