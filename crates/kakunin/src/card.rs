//! `kakunin card …`: 照合番号B from a photograph of the card's printed face, and the measured
//! test set of simulated photographs.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

/// The confidence a read must reach before a reader may try it against the card (calibrated on
/// the rendered set: see docs/card-face.md).
pub const THRESHOLD: f32 = kakunin_core::card_face::READ_CONFIDENCE;

/// Card-face commands.
#[derive(Subcommand)]
pub enum Card {
    /// Reads the birth date, expiry and security code from IMAGE (a photograph of the card's
    /// front) and prints them with the 14-digit 照合番号B and the read's confidence.
    ReadFace {
        image: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Writes a seeded test set of simulated photographs of card faces into DIR (with
    /// truth.json): perspective, rotation, blur, glare, dim light, JPEG 50, a thumb on a corner.
    RenderFaces {
        dir: PathBuf,
        #[arg(long, default_value_t = 500)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Face images for the cards' photos (e.g. ../shared/data/lfw); a grey figure without.
        #[arg(long)]
        faces: Option<PathBuf>,
    },
    /// Photographs the demo cards' printed face (in simulation: a slight turn and tilt, as held
    /// up to a kiosk camera) into DIR as COUNT JPEG frames of 640×480, with PHOTO as the
    /// holder's photo: what `kakunin serve --kiosk-read-card-face` reads 照合番号B from. With
    /// --other, the face of another card (its birth date and code differ from the demo cards').
    RenderFace {
        dir: PathBuf,
        /// The holder's photo printed on the card (a grey figure without).
        #[arg(long)]
        photo: Option<PathBuf>,
        #[arg(long, default_value_t = 3)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Another card's face than the demo cards' (its 照合番号B is refused).
        #[arg(long)]
        other: bool,
    },
    /// Reads every frame of a set written by render-faces and prints the share read correctly,
    /// the share refused, and the wrong 照合番号B that would have been sent (target 0).
    EvalFace {
        dir: PathBuf,
        /// Confidence a read must reach (default: the reader's own).
        #[arg(long)]
        threshold: Option<f32>,
        /// Also list each frame not read as it should be.
        #[arg(long)]
        list: bool,
    },
}

/// Runs a card-face command.
pub fn run(c: Card) -> Result<()> {
    match c {
        Card::ReadFace { image, json } => read_face(&image, json),
        Card::RenderFaces {
            dir,
            count,
            seed,
            faces,
        } => {
            let samples = kakunin_cardface::eval::generate(&dir, count, seed, faces.as_deref())?;
            println!(
                "{} frames and truth.json in {}",
                samples.len(),
                dir.display()
            );
            Ok(())
        }
        Card::EvalFace {
            dir,
            threshold,
            list,
        } => eval_face(&dir, threshold.unwrap_or(THRESHOLD), list),
        Card::RenderFace {
            dir,
            photo,
            count,
            seed,
            other,
        } => {
            let photo = photo
                .map(|p| std::fs::read(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display())))
                .transpose()?;
            let frames = kakunin_reader::demo::held_up(photo.as_deref(), count, seed, other)?;
            std::fs::create_dir_all(&dir)?;
            for (i, jpeg) in frames.iter().enumerate() {
                std::fs::write(dir.join(format!("card-{i:03}.jpg")), jpeg)?;
            }
            println!(
                "{} frames of the demo card's face in {}",
                frames.len(),
                dir.display()
            );
            Ok(())
        }
    }
}

#[cfg(feature = "ocr")]
fn read_face(path: &std::path::Path, json: bool) -> Result<()> {
    use anyhow::Context;
    // The file is hostile: its header is judged before it is decoded.
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let rgb = kakunin_face::image::decode(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let frame = image::RgbImage::from_raw(rgb.width as u32, rgb.height as u32, rgb.data)
        .context("decoded image has the wrong size")?;
    let mut reader = kakunin_cardface::read::Reader::new()?;
    let t0 = std::time::Instant::now();
    let read = reader.read(&frame)?;
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    if json {
        println!("{}", serde_json::to_string_pretty(&read)?);
    } else {
        let may = read.confidence >= THRESHOLD;
        println!(
            "birth date     {} ({})",
            read.birth,
            kakunin_core::wareki::japanese_date(read.birth).unwrap_or_default()
        );
        println!("expiry         {}", read.expiry);
        println!("security code  {}", read.security_code);
        println!("照合番号B      {}", read.number_b);
        println!(
            "confidence     {:.2} ({})",
            read.confidence,
            if may {
                "may be tried against the card"
            } else {
                "too low: show the card again"
            }
        );
        eprintln!("read in {ms:.0} ms");
    }
    Ok(())
}

#[cfg(not(feature = "ocr"))]
fn read_face(_: &std::path::Path, _: bool) -> Result<()> {
    Err(kakunin_cardface::CardFaceError::NoOcr.into())
}

#[cfg(feature = "ocr")]
fn eval_face(dir: &std::path::Path, threshold: f32, list: bool) -> Result<()> {
    let r = kakunin_cardface::eval::evaluate(dir, threshold, list)?;
    let pct = |n: usize, of: usize| 100.0 * n as f64 / of.max(1) as f64;
    println!(
        "{} fronts: {:.1} % read correctly, {:.1} % refused, {} wrong 照合番号B would have been sent; {} other frames (no card, two cards, the back): {} refused; frame to 照合番号B p50 {:.0} ms, p99 {:.0} ms (threshold {threshold:.2}; {} refused reads were right)",
        r.fronts,
        pct(r.correct, r.fronts),
        pct(r.refused, r.fronts),
        r.wrong_verifies,
        r.others,
        r.others_refused,
        r.p50_ms,
        r.p99_ms,
        r.right_below_threshold
    );
    Ok(())
}

#[cfg(not(feature = "ocr"))]
fn eval_face(_: &std::path::Path, _: f32, _: bool) -> Result<()> {
    Err(kakunin_cardface::CardFaceError::NoOcr.into())
}
