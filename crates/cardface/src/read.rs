//! Reading the three fields of 照合番号B from a rectified card with Tesseract 5 (Japanese
//! model, each field one line, constrained to the characters it can hold), and judging how
//! sure the read is: each field's own confidence, and a field that does not parse as what it
//! must be (a real day of the era; four digits) is no read at all.

use crate::detect;
use crate::layout::{self, Area};
use crate::{CardFaceError, NumberBRead};
use image::{GrayImage, RgbImage};
use tesseract::Tesseract;

/// One Tesseract engine per field kind, kept between frames (loading the Japanese model takes
/// longer than reading a line).
pub struct Reader {
    engines: Vec<Option<Tesseract>>,
}

/// What each field may contain.
const WHITELISTS: [&str; 3] = [
    "0123456789年月日生昭和平成令元大正明治",
    "0123456789年月日まで有効",
    "0123456789",
];

impl Reader {
    /// Loads the engines (Debian's `tesseract-ocr-jpn`; `TESSDATA_PREFIX` names another place).
    pub fn new() -> Result<Reader, CardFaceError> {
        let mut engines = vec![];
        for whitelist in WHITELISTS {
            let t = Tesseract::new(None, Some("jpn"))
                .map_err(|e| CardFaceError::Ocr(format!("cannot load Tesseract's Japanese model ({e}); install tesseract-ocr-jpn (./scripts/setup-ocr)")))?
                .set_variable("tessedit_char_whitelist", whitelist)
                .and_then(|t| t.set_variable("tessedit_pageseg_mode", "7"))
                .and_then(|t| t.set_variable("debug_file", "/dev/null"))
                .map_err(|e| CardFaceError::Ocr(e.to_string()))?;
            engines.push(Some(t));
        }
        Ok(Reader { engines })
    }

    /// Reads one field: its text and Tesseract's confidence (0–100).
    fn line(&mut self, which: usize, img: &GrayImage) -> Result<(String, i32), CardFaceError> {
        let t = self.engines[which]
            .take()
            .ok_or_else(|| CardFaceError::Ocr("engine lost after an earlier failure".into()))?;
        let t = t
            .set_frame(
                img.as_raw(),
                img.width() as i32,
                img.height() as i32,
                1,
                img.width() as i32,
            )
            .map_err(|e| CardFaceError::Ocr(e.to_string()))?
            .set_source_resolution(300);
        let mut t = t
            .recognize()
            .map_err(|e| CardFaceError::Ocr(e.to_string()))?;
        let text = t
            .get_text()
            .map_err(|e| CardFaceError::Ocr(e.to_string()))?;
        let conf = t.mean_text_conf();
        self.engines[which] = Some(t);
        Ok((text.trim().to_owned(), conf))
    }

    /// Reads 照合番号B from a camera frame: finds the card, straightens it, reads its birth date,
    /// expiry and security code.
    pub fn read(&mut self, frame: &RgbImage) -> Result<NumberBRead, CardFaceError> {
        self.read_outlined(frame).1
    }

    /// Like [`Self::read`], also giving the card's corners in the frame when a card was found
    /// (the kiosk draws its outline over the live picture).
    pub fn read_outlined(&mut self, frame: &RgbImage) -> crate::Outlined {
        let corners = match detect::find_card(frame) {
            Ok(c) => c,
            Err(e) => return (None, Err(e)),
        };
        let read = detect::rectify(frame, corners).and_then(|(card, _)| {
            let grey = image::DynamicImage::ImageRgb8(card).into_luma8();
            if !detect::looks_like_front(&grey) {
                return Err(CardFaceError::BackShown);
            }
            self.read_grey(&grey)
        });
        (Some(corners), read)
    }

    /// One field, decided from its readings ([`decide`]).
    fn field_value<T: Clone + PartialEq + std::fmt::Debug>(
        &mut self,
        which: usize,
        grey: &GrayImage,
        area: Area,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<(T, f32), CardFaceError> {
        decide(&self.readings(which, grey, area, parse)?, what)
    }

    /// A field read three ways — binarised here at two strengths and sizes, and as grey for
    /// Tesseract's own binarisation —: the readings that parse, with Tesseract's confidence, and
    /// the first text seen (for the refusal's message).
    fn readings<T>(
        &mut self,
        which: usize,
        grey: &GrayImage,
        area: Area,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Readings<T>, CardFaceError> {
        let mut found: Vec<(T, i32)> = vec![];
        let mut first = None;
        let views = [
            field(grey, area, 28, 1.5),
            field_grey(grey, area, 1.5),
            field(grey, area, 16, 2.0),
        ];
        for img in views {
            let (text, conf) = self.line(which, &img)?;
            if let Some(v) = parse(&text) {
                found.push((v, conf));
            }
            first.get_or_insert(text);
        }
        Ok(Readings {
            found,
            first: first.unwrap_or_default(),
        })
    }
}

/// The readings of one field that parsed, and the first text seen.
struct Readings<T> {
    found: Vec<(T, i32)>,
    first: String,
}

impl<T: Clone> Readings<T> {
    /// Only the readings `fits` keeps.
    fn only(&self, fits: impl Fn(&T) -> bool) -> Readings<T> {
        Readings {
            found: self
                .found
                .iter()
                .filter(|(v, _)| fits(v))
                .cloned()
                .collect(),
            first: self.first.clone(),
        }
    }
}

/// Readings that parse but disagree mean no read (never a guess). The confidence (0–1) puts
/// agreement first: a single reading stays under 0.5, two that agree reach up to 0.75, three up
/// to 1 (with Tesseract's own confidence).
fn decide<T: Clone + PartialEq + std::fmt::Debug>(
    r: &Readings<T>,
    what: &str,
) -> Result<(T, f32), CardFaceError> {
    let Readings { found, first } = r;
    if found.iter().any(|(v, _)| *v != found[0].0) {
        let values: Vec<&T> = found.iter().map(|(v, _)| v).collect();
        return Err(CardFaceError::Unreadable(format!(
            "{what} (read as {values:?})"
        )));
    }
    let best = found
        .iter()
        .map(|(_, c)| *c)
        .max()
        .unwrap_or(0)
        .clamp(0, 100) as f32
        / 100.0;
    match found.len() {
        0 => Err(CardFaceError::Unreadable(format!("{what} {first:?}"))),
        1 => Ok((found[0].0.clone(), 0.5 * best.min(0.99))),
        n => Ok((
            found[0].0.clone(),
            0.5 + 0.5 * best * (n as f32 - 1.0) / 2.0,
        )),
    }
}

impl Reader {
    /// Reads the fields of a rectified front.
    pub fn read_rectified(&mut self, card: &RgbImage) -> Result<NumberBRead, CardFaceError> {
        self.read_grey(&image::DynamicImage::ImageRgb8(card.clone()).into_luma8())
    }

    /// Reads the fields of a rectified front, in grey.
    fn read_grey(&mut self, grey: &GrayImage) -> Result<NumberBRead, CardFaceError> {
        let births = self.readings(0, grey, layout::BIRTH.grow(1.8, 0.8), layout::parse_birth)?;
        // Inside the expiry box: its lines are not text.
        let expiries = self.readings(
            1,
            grey,
            layout::EXPIRY.grow(-0.6, -0.6),
            layout::parse_expiry,
        )?;
        let (birth, c0, expiry, c1) = cross_checked(births, expiries)?;
        let (security_code, c2) = self.field_value(
            2,
            grey,
            layout::CODE.grow(0.5, 0.5),
            "security code",
            layout::parse_code,
        )?;
        if !layout::plausible(birth, expiry) {
            return Err(CardFaceError::Unreadable(format!(
                "birth date and expiry (read as {birth} and {expiry}; a card expires on a birthday)"
            )));
        }
        Ok(NumberBRead::new(
            birth,
            expiry,
            security_code,
            c0.min(c1).min(c2),
        ))
    }
}

/// A field's box of the card, grey, its contrast stretched to the full range.
fn stretched_crop(grey: &GrayImage, a: Area) -> GrayImage {
    let (x, y, w, h) = a.px();
    let w = w.min(grey.width() - x);
    let h = h.min(grey.height() - y);
    let crop = image::imageops::crop_imm(grey, x, y, w, h).to_image();
    let (lo, hi) = spread_of(&crop);
    imageproc::contrast::stretch_contrast(&crop, lo, hi, 0, 255)
}

/// A field's box, grey, contrast stretched and binarised against its own
/// neighbourhood (glare and dim light differ across the card), on a white border.
pub fn field(grey: &GrayImage, a: Area, darker: i32, enlarge: f32) -> GrayImage {
    let stretched = stretched_crop(grey, a);
    let (w, h) = stretched.dimensions();
    // Ink is clearly darker than its neighbourhood (a plain area's noise is not).
    let mean = imageproc::filter::box_filter(&stretched, 18, 18);
    let bin = GrayImage::from_fn(w, h, |x, y| {
        let (p, m) = (
            stretched.get_pixel(x, y).0[0] as i32,
            mean.get_pixel(x, y).0[0] as i32,
        );
        image::Luma([if p + darker < m { 0 } else { 255 }])
    });
    pad(&bin, enlarge)
}

/// Enlarged `enlarge` times (Tesseract's line model reads text some 50 px high best), on a
/// white border.
fn pad(img: &GrayImage, enlarge: f32) -> GrayImage {
    let (w, h) = (
        (img.width() as f32 * enlarge) as u32,
        (img.height() as f32 * enlarge) as u32,
    );
    let big = image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle);
    let mut out = GrayImage::from_pixel(w + 40, h + 40, image::Luma([255]));
    image::imageops::overlay(&mut out, &big, 20, 20);
    out
}

/// A field's box, grey and contrast stretched, on a white border: Tesseract
/// binarises it itself.
pub fn field_grey(grey: &GrayImage, a: Area, enlarge: f32) -> GrayImage {
    pad(&stretched_crop(grey, a), enlarge)
}

/// The 1st and 99th percentiles of a crop's grey levels (the stretch ignores specks and glints);
/// the upper one at least one above the lower.
fn spread_of(g: &GrayImage) -> (u8, u8) {
    let mut v: Vec<u8> = g.pixels().map(|p| p.0[0]).collect();
    v.sort_unstable();
    let (lo, hi) = (v[v.len() / 100], v[v.len() - 1 - v.len() / 100]);
    (lo, hi.max(lo.saturating_add(1)))
}

/// The birth date and the expiry, each decided from its readings; when one field's readings
/// split but the other's are sure, the card's own rule — a card expires on a birthday — sets
/// aside the readings that cannot be this card's (a 「 6日」 read as 「16日」 has the wrong day
/// for the expiry read three times alike), and what remains must still agree.
fn cross_checked(
    births: Readings<chrono::NaiveDate>,
    expiries: Readings<chrono::NaiveDate>,
) -> Result<(chrono::NaiveDate, f32, chrono::NaiveDate, f32), CardFaceError> {
    match (decide(&births, "birth date"), decide(&expiries, "expiry")) {
        (Ok((birth, c0)), Ok((expiry, c1))) => Ok((birth, c0, expiry, c1)),
        (Ok((birth, c0)), Err(_)) => {
            let fits = expiries.only(|e| layout::plausible(birth, *e));
            let (expiry, c1) = decide(&fits, "expiry")?;
            Ok((birth, c0, expiry, c1))
        }
        (Err(_), Ok((expiry, c1))) => {
            let fits = births.only(|b| layout::plausible(*b, expiry));
            let (birth, c0) = decide(&fits, "birth date")?;
            Ok((birth, c0, expiry, c1))
        }
        (Err(e), Err(_)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn readings(days: &[&str]) -> Readings<NaiveDate> {
        Readings {
            found: days.iter().map(|d| (d.parse().unwrap(), 90)).collect(),
            first: String::new(),
        }
    }

    #[test]
    fn a_split_field_is_settled_only_by_the_other_fields_sure_birthday() {
        // 「 6日」 read once as 「16日」 elsewhere: the expiry, read alike three times, falls on the
        // 16th, so the 6th cannot be this card's birthday.
        let (birth, c0, expiry, _) = cross_checked(
            readings(&["1966-02-06", "1966-02-16", "1966-02-16"]),
            readings(&["2036-02-16", "2036-02-16", "2036-02-16"]),
        )
        .unwrap();
        assert_eq!(
            (birth.to_string(), expiry.to_string()),
            ("1966-02-16".into(), "2036-02-16".into())
        );
        assert!(c0 >= 0.5, "two readings agree: {c0}");
        // A split in the year is no day's matter: never guessed.
        assert!(cross_checked(
            readings(&["1990-03-11", "2010-03-11", "2010-03-11"]),
            readings(&["2030-03-11", "2030-03-11"]),
        )
        .is_err());
        // Both split: nothing to lean on.
        assert!(cross_checked(
            readings(&["1966-02-06", "1966-02-16"]),
            readings(&["2036-02-16", "2036-01-16"]),
        )
        .is_err());
        // One reading left after the filter is not sure enough to be tried.
        let (_, c0, _, _) = cross_checked(
            readings(&["1966-02-06", "1966-02-16"]),
            readings(&["2036-02-16", "2036-02-16", "2036-02-16"]),
        )
        .unwrap();
        assert!(!kakunin_core::card_face::sure_enough(c0), "{c0}");
    }
}
