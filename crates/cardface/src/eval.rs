//! The measured test set: card faces drawn with the card's layout and photographed in
//! simulation ([`render`]), seeded, written to a directory with the truth beside them
//! (`truth.json`), never committed; and the figures of reading them — the share read
//! correctly, the share refused, and the reads that would have sent a wrong 照合番号B to the
//! card (the figure that must stay 0).

use crate::render::{self, CardData, Fonts, Shot};
use crate::CardFaceError;
use chrono::{Datelike, NaiveDate};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a frame of the set should give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// This 照合番号B.
    NumberB(String),
    /// No read at all (no card, two cards, the back).
    Refusal(String),
}

/// One frame of the set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    /// Its file name in the set's directory.
    pub file: String,
    /// What it should give.
    pub expect: Expect,
    /// How it was photographed (none for the frames without a front).
    pub shot: Option<String>,
}

const FAMILY: [&str; 12] = [
    "佐藤", "鈴木", "髙橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山﨑",
];
const GIVEN: [&str; 12] = [
    "太郎",
    "花子",
    "一郎",
    "美咲",
    "健",
    "陽菜",
    "翔太",
    "さくら",
    "勇気",
    "恵子",
    "昭",
    "和子",
];
const TOWNS: [&str; 6] = [
    "東京都千代田区霞が関一丁目",
    "大阪府大阪市北区梅田三丁目",
    "北海道札幌市中央区北一条西",
    "福岡県福岡市博多区博多駅前",
    "愛知県名古屋市中区栄二丁目",
    "沖縄県那覇市泉崎一丁目",
];

/// A random holder: born 1930–2020, a card issued 2016–2026 that expires on the tenth birthday
/// after issue (the fifth for those under 18 at issue), a 4-digit security code.
pub fn holder(rng: &mut impl Rng, photo: Option<image::GrayImage>) -> CardData {
    let birth = loop {
        let d = NaiveDate::from_ymd_opt(
            rng.gen_range(1930..=2020),
            rng.gen_range(1..=12),
            rng.gen_range(1..=31),
        );
        if let Some(d) = d {
            break d;
        }
    };
    let issued = rng.gen_range(2016.max(birth.year() + 1)..=2026);
    let years = if issued - birth.year() < 18 { 5 } else { 10 };
    let expiry = NaiveDate::from_ymd_opt(issued + years, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(issued + years, 3, 1))
        .expect("a day");
    CardData {
        name: format!(
            "{} {}",
            FAMILY.choose(rng).unwrap(),
            GIVEN.choose(rng).unwrap()
        ),
        address: vec![
            TOWNS.choose(rng).unwrap().to_string(),
            format!("{}番{}号", rng.gen_range(1..30), rng.gen_range(1..20)),
        ],
        birth,
        sex: rng.gen_range(1..=2),
        expiry,
        security_code: format!("{:04}", rng.gen_range(0..10_000)),
        photo,
    }
}

/// Writes `count` frames into `dir` (seeded by `seed`), with faces from the JPEG/PNG images
/// under `faces` when given (e.g. `../shared/data/lfw`): nine in ten are fronts photographed
/// as [`Shot::random`] draws, the others a frame without a card, two cards, or a card's back.
pub fn generate(
    dir: &Path,
    count: usize,
    seed: u64,
    faces: Option<&Path>,
) -> Result<Vec<Sample>, CardFaceError> {
    let fonts = Fonts::find()?;
    let io = |e: std::io::Error| {
        CardFaceError::Ocr(format!("cannot write the set into {}: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let photos = faces.map(face_files).unwrap_or_default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut samples = vec![];
    for i in 0..count {
        let photo = photos
            .choose(&mut rng)
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| render::photo_from(&b));
        let card = holder(&mut rng, photo);
        let shot = Shot::random(&mut rng);
        let file = format!("face-{i:04}.jpg");
        let kind = rng.gen_range(0..30);
        let (frame, expect, described) = match kind {
            0 => {
                // No card: the empty tray.
                let blank = image::RgbImage::from_pixel(1, 1, image::Rgb([0, 0, 0]));
                (
                    render::photograph(
                        &blank,
                        &Shot {
                            scale: 0.001,
                            ..shot.clone()
                        },
                    ),
                    Expect::Refusal("no_card".into()),
                    None,
                )
            }
            1 => {
                let a = render::front(&card, &fonts)?;
                let b = render::front(&holder(&mut rng, None), &fonts)?;
                (
                    two_cards(&a, &b, &shot),
                    Expect::Refusal("several_cards".into()),
                    None,
                )
            }
            2 => {
                let number: String = (0..12)
                    .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
                    .collect();
                (
                    render::photograph(&render::back(&number, &fonts), &shot),
                    Expect::Refusal("back_shown".into()),
                    Some(format!("{shot:?}")),
                )
            }
            _ => {
                let read = crate::NumberBRead::new(
                    card.birth,
                    card.expiry,
                    card.security_code.clone(),
                    1.0,
                );
                (
                    render::photograph(&render::front(&card, &fonts)?, &shot),
                    Expect::NumberB(read.number_b),
                    Some(format!("{shot:?}")),
                )
            }
        };
        let mut bytes = vec![];
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95);
        image::DynamicImage::ImageRgb8(frame)
            .write_with_encoder(enc)
            .map_err(|e| CardFaceError::Ocr(e.to_string()))?;
        std::fs::write(dir.join(&file), bytes).map_err(io)?;
        samples.push(Sample {
            file,
            expect,
            shot: described,
        });
    }
    let truth = serde_json::to_vec_pretty(&samples).expect("samples serialise");
    std::fs::write(dir.join("truth.json"), truth).map_err(io)?;
    Ok(samples)
}

/// Two cards side by side on the tray.
fn two_cards(a: &image::RgbImage, b: &image::RgbImage, shot: &Shot) -> image::RgbImage {
    let one = Shot {
        scale: 0.36,
        rotation: shot.rotation / 3.0,
        tilt: shot.tilt / 3.0,
        upside_down: false,
        hand: 0,
        glare: None,
        ..shot.clone()
    };
    let left = Shot {
        centre: Some((0.27, 0.5)),
        ..one.clone()
    };
    let right = Shot {
        centre: Some((0.73, 0.5)),
        rotation: -one.rotation,
        ..one.clone()
    };
    render::photograph_all(&[(a, &left), (b, &right)], shot)
}

fn face_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                stack.push(p);
            } else if t.is_file()
                && p.extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("jpg") || x.eq_ignore_ascii_case("png"))
            {
                out.push(p);
            }
            if out.len() >= 2000 {
                return out;
            }
        }
    }
    out.sort();
    out
}

/// The figures of a set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Fronts in the set.
    pub fronts: usize,
    /// Fronts read correctly with a confidence at or above the threshold (would open the card).
    pub correct: usize,
    /// Fronts refused or read below the threshold (the kiosk asks again, then staff).
    pub refused: usize,
    /// Fronts read wrongly at or above the threshold: a wrong VERIFY would have been sent.
    pub wrong_verifies: usize,
    /// Frames without a readable front (no card, two cards, the back) refused as they should be.
    pub others_refused: usize,
    /// Frames without a readable front.
    pub others: usize,
    /// Reads below the threshold that were right (what a lower threshold would gain).
    pub right_below_threshold: usize,
    /// Frame to 照合番号B, milliseconds, median.
    pub p50_ms: f64,
    /// Frame to 照合番号B, milliseconds, 99th percentile.
    pub p99_ms: f64,
}

/// Reads every frame of the set in `dir` and counts, against `threshold` (0–1).
#[cfg(feature = "ocr")]
pub fn evaluate(dir: &Path, threshold: f32, list: bool) -> Result<Report, CardFaceError> {
    let truth: Vec<Sample> = std::fs::read(dir.join("truth.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            CardFaceError::Ocr(format!(
                "no readable truth.json in {}: write the set with `kakunin card render-faces`",
                dir.display()
            ))
        })?;
    let mut reader = crate::read::Reader::new()?;
    let mut report = Report::default();
    let mut times = vec![];
    for s in &truth {
        let Ok(frame) = image::open(dir.join(&s.file)).map(|i| i.into_rgb8()) else {
            continue;
        };
        let t0 = std::time::Instant::now();
        let got = reader.read(&frame);
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        if list {
            let ok = matches!((&s.expect, &got), (Expect::NumberB(w), Ok(r)) if *w == r.number_b && r.confidence >= threshold)
                || matches!((&s.expect, &got), (Expect::Refusal(_), Err(_)));
            if !ok {
                let said = match &got {
                    Ok(r) => format!("{} (confidence {:.2})", r.number_b, r.confidence),
                    Err(e) => e.to_string(),
                };
                println!(
                    "{}\texpected {:?}\tgot {said}\t{}",
                    s.file,
                    s.expect,
                    s.shot.as_deref().unwrap_or("")
                );
            }
        }
        match (&s.expect, got) {
            (Expect::NumberB(want), Ok(r)) if r.confidence >= threshold => {
                report.fronts += 1;
                if &r.number_b == want {
                    report.correct += 1;
                } else {
                    report.wrong_verifies += 1;
                }
            }
            (Expect::NumberB(want), Ok(r)) => {
                report.fronts += 1;
                report.refused += 1;
                if &r.number_b == want {
                    report.right_below_threshold += 1;
                }
            }
            (Expect::NumberB(_), Err(_)) => {
                report.fronts += 1;
                report.refused += 1;
            }
            (Expect::Refusal(_), Ok(r)) if r.confidence >= threshold => {
                report.others += 1;
                report.wrong_verifies += 1;
            }
            (Expect::Refusal(_), _) => {
                report.others += 1;
                report.others_refused += 1;
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    report.p50_ms = pct(0.5);
    report.p99_ms = pct(0.99);
    Ok(report)
}
