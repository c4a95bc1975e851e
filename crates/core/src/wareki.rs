//! Dates as reception reads them: the Japanese era (和暦) beside the Gregorian date, and ages.

use chrono::{Datelike, NaiveDate};

/// The eras since the calendar reform, newest first: (name, first day).
const ERAS: [(&str, (i32, u32, u32)); 5] = [
    ("令和", (2019, 5, 1)),
    ("平成", (1989, 1, 8)),
    ("昭和", (1926, 12, 25)),
    ("大正", (1912, 7, 30)),
    ("明治", (1873, 1, 1)),
];

/// `date` in the Japanese era: 「昭和26年11月10日」, the first year as 「元年」. `None` before
/// 1873 (the lunar calendar).
pub fn japanese_date(date: NaiveDate) -> Option<String> {
    let (era, (y, m, d)) = ERAS.iter().copied().find(|(_, (y, m, d))| {
        NaiveDate::from_ymd_opt(*y, *m, *d).is_some_and(|start| date >= start)
    })?;
    let _ = (m, d);
    let year = date.year() - y + 1;
    let year = if year == 1 {
        "元".to_owned()
    } else {
        year.to_string()
    };
    Some(format!("{era}{year}年{}月{}日", date.month(), date.day()))
}

/// Age in whole years on `today` (a birthday on 29 February counts from 1 March in other
/// years, as the law on age reckoning has it: the day before the birthday ends the year).
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age.max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn era_boundaries() {
        assert_eq!(japanese_date(d(1951, 11, 10)).unwrap(), "昭和26年11月10日");
        assert_eq!(japanese_date(d(1989, 1, 7)).unwrap(), "昭和64年1月7日");
        assert_eq!(japanese_date(d(1989, 1, 8)).unwrap(), "平成元年1月8日");
        assert_eq!(japanese_date(d(2019, 4, 30)).unwrap(), "平成31年4月30日");
        assert_eq!(japanese_date(d(2019, 5, 1)).unwrap(), "令和元年5月1日");
        assert_eq!(japanese_date(d(2026, 12, 1)).unwrap(), "令和8年12月1日");
        assert_eq!(japanese_date(d(1926, 12, 25)).unwrap(), "昭和元年12月25日");
        assert_eq!(japanese_date(d(1926, 12, 24)).unwrap(), "大正15年12月24日");
        assert_eq!(japanese_date(d(1860, 1, 1)), None);
    }

    #[test]
    fn ages() {
        assert_eq!(age_on(d(1951, 11, 10), d(2026, 12, 1)), 75);
        assert_eq!(age_on(d(1951, 12, 2), d(2026, 12, 1)), 74);
        assert_eq!(age_on(d(2000, 2, 29), d(2026, 2, 28)), 25);
        assert_eq!(age_on(d(2000, 2, 29), d(2026, 3, 1)), 26);
    }
}
