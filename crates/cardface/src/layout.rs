//! Where things are on the card's printed face, and how its dates are written there.
//!
//! The front of a My Number card (85.6 × 54 mm, ID-1) carries the name, the address, the birth
//! date in the Japanese era followed by 生 (「昭和55年 2月17日生」) and the sex, the expiry in a
//! box (「2034年 2月17日まで有効」), the photo on the right and the 4-digit security code. The
//! boxes below are kakunin's model of that layout, in millimetres from the card's top-left
//! corner; [`crate::render`] draws cards with them and [`crate::read`] reads the same boxes of
//! a rectified photograph, with margins for the printing's tolerance.

use chrono::{Datelike, NaiveDate};

/// Pixels per millimetre of a rectified card image.
pub const PX_PER_MM: f32 = 10.0;
/// Width of a rectified card image (85.6 mm).
pub const WIDTH: u32 = 856;
/// Height of a rectified card image (54 mm).
pub const HEIGHT: u32 = 540;

/// A box on the card, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    /// Left.
    pub x0: f32,
    /// Top.
    pub y0: f32,
    /// Right.
    pub x1: f32,
    /// Bottom.
    pub y1: f32,
}

impl Area {
    /// The box with `dx` mm more on the left and right and `dy` mm above and below (less when
    /// negative).
    pub fn grow(self, dx: f32, dy: f32) -> Area {
        Area {
            x0: self.x0 - dx,
            y0: self.y0 - dy,
            x1: self.x1 + dx,
            y1: self.y1 + dy,
        }
    }

    /// The box in pixels of a rectified image: (x, y, width, height).
    pub fn px(&self) -> (u32, u32, u32, u32) {
        let p = |v: f32| (v * PX_PER_MM).round().max(0.0) as u32;
        (
            p(self.x0),
            p(self.y0),
            p(self.x1) - p(self.x0),
            p(self.y1) - p(self.y0),
        )
    }
}

/// 「氏名」 and the name.
pub const NAME: Area = Area {
    x0: 3.0,
    y0: 4.0,
    x1: 58.0,
    y1: 11.0,
};
/// 「住所」 and the address (two lines).
pub const ADDRESS: Area = Area {
    x0: 3.0,
    y0: 12.5,
    x1: 58.0,
    y1: 25.0,
};
/// The birth date line.
pub const BIRTH: Area = Area {
    x0: 3.0,
    y0: 27.0,
    x1: 42.5,
    y1: 33.0,
};
/// 「性別」 and the sex.
pub const SEX: Area = Area {
    x0: 46.0,
    y0: 27.0,
    x1: 58.0,
    y1: 33.0,
};
/// The expiry box.
pub const EXPIRY: Area = Area {
    x0: 3.0,
    y0: 38.0,
    x1: 44.0,
    y1: 44.5,
};
/// The photo.
pub const PHOTO: Area = Area {
    x0: 61.0,
    y0: 6.0,
    x1: 82.6,
    y1: 34.0,
};
/// 「セキュリティコード」 (the label).
pub const CODE_LABEL: Area = Area {
    x0: 56.0,
    y0: 40.0,
    x1: 71.0,
    y1: 44.5,
};
/// The security code's four digits.
pub const CODE: Area = Area {
    x0: 71.5,
    y0: 38.5,
    x1: 83.5,
    y1: 45.0,
};
/// 「個人番号カード」.
pub const TITLE: Area = Area {
    x0: 3.0,
    y0: 47.5,
    x1: 40.0,
    y1: 52.5,
};

/// Digits as the card prints a one-digit month or day: padded with a space to two places.
fn two(v: u32) -> String {
    format!("{v:>2}")
}

/// The birth line as printed: 「昭和55年 2月17日生」 (元年 for the first year).
pub fn birth_text(birth: NaiveDate) -> Option<String> {
    let (era, year) = kakunin_core::wareki::era_of(birth)?;
    let year = if year == 1 {
        "元".to_owned()
    } else {
        two(year as u32)
    };
    Some(format!(
        "{era}{year}年{}月{}日生",
        two(birth.month()),
        two(birth.day())
    ))
}

/// The expiry box as printed: 「2034年 2月17日まで有効」.
pub fn expiry_text(expiry: NaiveDate) -> String {
    format!(
        "{}年{}月{}日まで有効",
        expiry.year(),
        two(expiry.month()),
        two(expiry.day())
    )
}

/// The numbers of a text, in order (spaces ignored).
fn numbers(s: &str) -> Vec<u32> {
    let mut out = vec![];
    let mut cur: Option<u32> = None;
    for c in s.chars() {
        match c.to_digit(10) {
            Some(d) => cur = Some(cur.unwrap_or(0).saturating_mul(10).saturating_add(d)),
            None if c.is_whitespace() => {}
            None => {
                out.extend(cur.take());
            }
        }
    }
    out.extend(cur);
    out
}

/// Reads a birth line back: the era, its year (元 for 1), month and day, each where it belongs
/// (「年」「月」「日」 in order). `None` unless it names a real day of that era.
pub fn parse_birth(text: &str) -> Option<NaiveDate> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let era = ["令和", "平成", "昭和", "大正", "明治"]
        .into_iter()
        .find(|e| t.starts_with(e))?;
    let rest = t[era.len()..].strip_suffix('生').unwrap_or(&t[era.len()..]);
    let (year, rest) = rest.split_once('年')?;
    let (month, rest) = rest.split_once('月')?;
    let day = rest.strip_suffix('日')?;
    let year = if year == "元" {
        1
    } else {
        single(year)? as i32
    };
    kakunin_core::wareki::from_era(era, year, single(month)?, single(day)?)
}

/// A run of 1–4 digits and nothing else.
fn single(s: &str) -> Option<u32> {
    (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| numbers(s).first().copied())
        .flatten()
}

/// Reads an expiry box back (「2034年 2月17日まで有効」).
pub fn parse_expiry(text: &str) -> Option<NaiveDate> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.strip_suffix("まで有効").unwrap_or(&t);
    let (year, rest) = t.split_once('年')?;
    let (month, rest) = rest.split_once('月')?;
    let day = rest.strip_suffix('日')?;
    let year = single(year).filter(|y| *y >= 2000)? as i32;
    NaiveDate::from_ymd_opt(year, single(month)?, single(day)?)
}

/// Whether a birth date and an expiry can be one card's: the card is valid until a birthday
/// (the tenth after issue, the fifth for minors), so both share month and day (29 February
/// falls on the 28th or 1 March in other years), and cards are issued since 2016 to people
/// already born.
pub fn plausible(birth: NaiveDate, expiry: NaiveDate) -> bool {
    let same_day = (birth.month(), birth.day()) == (expiry.month(), expiry.day())
        || ((birth.month(), birth.day()) == (2, 29)
            && matches!((expiry.month(), expiry.day()), (2, 28) | (3, 1)));
    let years = expiry.year() - birth.year();
    same_day && expiry.year() >= 2021 && (5..=130).contains(&years)
}

/// Reads the security code back: exactly four digits.
pub fn parse_code(text: &str) -> Option<String> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit())).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates_are_printed_as_on_the_card_and_read_back() {
        assert_eq!(birth_text(d(1980, 2, 17)).unwrap(), "昭和55年 2月17日生");
        assert_eq!(birth_text(d(1989, 12, 8)).unwrap(), "平成元年12月 8日生");
        assert_eq!(birth_text(d(2025, 1, 5)).unwrap(), "令和 7年 1月 5日生");
        assert_eq!(expiry_text(d(2034, 2, 17)), "2034年 2月17日まで有効");
        for day in [
            d(1980, 2, 17),
            d(1989, 12, 8),
            d(2025, 1, 5),
            d(1926, 12, 25),
            d(1935, 10, 31),
        ] {
            assert_eq!(parse_birth(&birth_text(day).unwrap()), Some(day));
        }
        assert_eq!(parse_expiry("2034年 2月17日まで有効"), Some(d(2034, 2, 17)));
        assert_eq!(parse_code(" 0123 "), Some("0123".into()));
    }

    #[test]
    fn a_card_expires_on_a_birthday() {
        assert!(plausible(d(1980, 2, 17), d(2034, 2, 17)));
        assert!(plausible(d(2000, 2, 29), d(2031, 3, 1)));
        assert!(!plausible(d(1980, 2, 17), d(2034, 2, 7)), "a day misread");
        assert!(
            !plausible(d(1980, 2, 17), d(2034, 12, 17)),
            "a month misread"
        );
        assert!(
            !plausible(d(2030, 2, 17), d(2034, 2, 17)),
            "born after issue"
        );
        assert!(
            !plausible(d(1980, 2, 17), d(2014, 2, 17)),
            "before cards were issued"
        );
    }

    #[test]
    fn a_misread_never_becomes_another_day() {
        for bad in [
            "昭和55年2月",
            "昭和64年 1月 8日生",
            "平成32年 1月 1日生",
            "昭和55年 2月17日生x",
            "和55年 2月17日生",
            "昭和555年 2月17日生",
            "昭和55年 2月17生",
            "",
        ] {
            assert_eq!(parse_birth(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_birth("昭和55年 2月17日"),
            Some(d(1980, 2, 17)),
            "生 may be lost"
        );
        assert_eq!(parse_expiry("2034年 2月30日まで有効"), None);
        assert_eq!(parse_expiry("034年 2月17日まで有効"), None);
        assert_eq!(parse_code("123"), None);
        assert_eq!(parse_code("12a4"), None);
    }
}
