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

/// The era of `date` and its year in that era (1 for 元年): 昭和26年 → `("昭和", 26)`. `None`
/// before 1873 (the lunar calendar).
pub fn era_of(date: NaiveDate) -> Option<(&'static str, i32)> {
    let (era, (y, _, _)) = ERAS.iter().copied().find(|(_, (y, m, d))| {
        NaiveDate::from_ymd_opt(*y, *m, *d).is_some_and(|start| date >= start)
    })?;
    Some((era, date.year() - y + 1))
}

/// The day named by era `era`, era year `year` (1 for 元年), `month` and `day`; `None` for an
/// unknown era or a day the era did not have (平成32年, 昭和64年1月8日).
pub fn from_era(era: &str, year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    let (_, (y, _, _)) = ERAS.iter().copied().find(|(name, _)| *name == era)?;
    let date = NaiveDate::from_ymd_opt(y + year - 1, month, day)?;
    (year >= 1 && era_of(date).is_some_and(|(e, _)| e == era)).then_some(date)
}

/// `date` in the Japanese era: 「昭和26年11月10日」, the first year as 「元年」. `None` before
/// 1873 (the lunar calendar).
pub fn japanese_date(date: NaiveDate) -> Option<String> {
    let (era, year) = era_of(date)?;
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
    fn era_dates_read_back() {
        assert_eq!(from_era("昭和", 55, 2, 17), Some(d(1980, 2, 17)));
        assert_eq!(from_era("平成", 1, 1, 8), Some(d(1989, 1, 8)));
        assert_eq!(from_era("令和", 8, 12, 1), Some(d(2026, 12, 1)));
        assert_eq!(from_era("昭和", 64, 1, 8), None, "平成 by then");
        assert_eq!(from_era("平成", 32, 1, 1), None, "令和 by then");
        assert_eq!(from_era("平成", 0, 5, 1), None);
        assert_eq!(from_era("天保", 3, 1, 1), None);
        assert_eq!(era_of(d(2019, 5, 1)), Some(("令和", 1)));
    }

    #[test]
    fn ages() {
        assert_eq!(age_on(d(1951, 11, 10), d(2026, 12, 1)), 75);
        assert_eq!(age_on(d(1951, 12, 2), d(2026, 12, 1)), 74);
        assert_eq!(age_on(d(2000, 2, 29), d(2026, 2, 28)), 25);
        assert_eq!(age_on(d(2000, 2, 29), d(2026, 3, 1)), 26);
    }
}
