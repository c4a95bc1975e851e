//! `kakunin face …`: the face engine from the command line.

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use kakunin_face::engine::Preparation;
use kakunin_face::{EngineConfig, FaceEngine};
use std::path::{Path, PathBuf};

/// Face engine commands.
#[derive(Subcommand)]
pub enum Face {
    /// Does LIVE_IMAGE show the person of CARD_IMAGE? Prints the decision.
    Verify {
        card_image: PathBuf,
        live_image: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Lists the faces found in IMAGE.
    Detect {
        image: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Presentation-attack detection on live / print-attack frame sequences
    /// (ROOT/live/<subject>/*.jpg, ROOT/print_attack/<subject>/*.jpg): APCER and BPCER.
    Pad {
        #[arg(long)]
        root: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Accuracy on pairs in the LFW pairs.txt format.
    Eval {
        #[arg(long)]
        pairs: PathBuf,
        /// Directory holding the person folders (or a `lfw/` folder with them).
        #[arg(long)]
        root: PathBuf,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        network: Network,
        /// Also write each pair's score to this file, a line each: fold, same (1/0), score.
        #[arg(long)]
        scores: Option<PathBuf>,
        /// Worker threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Writes the face of IMAGE as the embedding network sees it (PNG), to check alignment.
    Crop {
        image: PathBuf,
        out: PathBuf,
        #[command(flatten)]
        network: Network,
    },
}

/// Which network embeds faces and how they are prepared for it.
#[derive(Args)]
pub struct Network {
    /// The embedding network.
    #[arg(long, value_enum, default_value = "dlib-resnet")]
    model: Model,
    /// How faces are prepared for the embedding network.
    #[arg(long, value_enum, default_value = "mesh-aligned")]
    preparation: Prep,
    /// Pixel scaling for the embedding network.
    #[arg(long, value_enum, default_value = "raw")]
    input: Scale,
    /// Compare in colour instead of grey.
    #[arg(long)]
    colour: bool,
    /// Embed the face only as it is (by default the mirrored face's descriptor is added).
    #[arg(long)]
    no_flip: bool,
    /// Run the embedding network in float32 even where the CPU has 8-bit VNNI products.
    #[arg(long)]
    float: bool,
}

impl Network {
    fn config(&self) -> EngineConfig {
        EngineConfig {
            embedding: match self.model {
                Model::Faceres => kakunin_face::engine::EmbeddingModel::Faceres,
                Model::Mobilefacenet => kakunin_face::engine::EmbeddingModel::MobileFaceNet,
                Model::Mobileface => kakunin_face::engine::EmbeddingModel::MobileFace,
                Model::DlibResnet => kakunin_face::engine::EmbeddingModel::DlibResnet,
                Model::DlibResnetFaceApi => kakunin_face::engine::EmbeddingModel::DlibResnetFaceApi,
            },
            preparation: match self.preparation {
                Prep::Aligned => Preparation::Aligned,
                Prep::BoxCrop => Preparation::BoxCrop,
                Prep::MeshAligned => Preparation::MeshAligned,
            },
            grey: !self.colour,
            flip: !self.no_flip,
            int8: !self.float,
            input_scale: match self.input {
                Scale::Raw => kakunin_face::engine::InputScale::Raw,
                Scale::Centered => kakunin_face::engine::InputScale::Centered,
                Scale::Unit => kakunin_face::engine::InputScale::Unit,
            },
            ..EngineConfig::default()
        }
    }
}

/// `--model`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Model {
    /// dlib's ResNet from dlib's own file (float32 weights).
    DlibResnet,
    /// dlib's ResNet with face-api's 8-bit-quantised weights.
    DlibResnetFaceApi,
    Faceres,
    Mobilefacenet,
    Mobileface,
}

/// `--input`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Scale {
    Raw,
    Centered,
    Unit,
}

/// `--preparation`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Prep {
    Aligned,
    BoxCrop,
    MeshAligned,
}

fn engine(config: EngineConfig) -> Result<FaceEngine> {
    Ok(FaceEngine::load(
        &kakunin_face::models::model_dir(),
        config,
    )?)
}

fn read(path: &Path) -> Result<kakunin_face::image::Rgb> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    kakunin_face::image::decode(&bytes).with_context(|| format!("{}", path.display()))
}

/// Runs a face command.
pub fn run(cmd: Face) -> Result<()> {
    match cmd {
        Face::Verify {
            card_image,
            live_image,
            json,
        } => {
            let e = engine(EngineConfig::default())?;
            let d = e.verify(&read(&card_image)?, &read(&live_image)?)?;
            if json {
                println!("{}", serde_json::to_string(&d)?);
            } else {
                println!("{} ({:.1} ms)", d.describe(), d.timings.total_ms);
            }
        }
        Face::Detect { image, json } => {
            let e = engine(EngineConfig::default())?;
            let faces = e.detect(&read(&image)?)?;
            if json {
                println!("{}", serde_json::to_string(&faces)?);
            } else {
                println!("{} face(s)", faces.len());
                for f in &faces {
                    println!("  score {:.3} box {:?}", f.score, f.bbox.map(|v| v.round()));
                }
            }
        }
        Face::Pad { root, json } => {
            let e = engine(EngineConfig::default())?;
            let r = kakunin_face::pad::evaluate(&e, &root)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                for (name, x) in [
                    ("antispoof (frame)", &r.antispoof),
                    ("liveness (frame)", &r.liveness),
                    ("passive (frame)", &r.passive),
                    ("head turn, parallax (sequence)", &r.active),
                    ("passive+active (sequence)", &r.combined),
                ] {
                    println!(
                        "{name:<31} APCER {:>5.1}%  BPCER {:>5.1}%  ({} attacks, {} bona fide)",
                        x.apcer * 100.0,
                        x.bpcer * 100.0,
                        x.attacks,
                        x.bona_fide
                    );
                }
                println!(
                    "mean scores live {:.3?} attack {:.3?}; frames without a face {}",
                    r.mean_live, r.mean_attack, r.frames_without_face
                );
                println!(
                    "head turn: largest parallax between two frames (passes at {}):",
                    kakunin_face::pad::MIN_PARALLAX
                );
                for q in &r.sequences {
                    println!(
                        "  {:<13} {}  {:.4} {}  ({} frames, {} passive-real)",
                        q.kind,
                        q.subject,
                        q.active.parallax,
                        if q.active.passed { "turn" } else { "no turn" },
                        q.active.frames_with_face,
                        q.passive_real
                    );
                }
            }
        }
        Face::Crop {
            image,
            out,
            network,
        } => {
            let e = engine(network.config())?;
            let img = e.compared(&read(&image)?);
            let faces = e.detect(&img)?;
            let face = kakunin_face::quality::pick_face(&faces)
                .map_err(|r| anyhow::anyhow!("no usable face in {}: {r:?}", image.display()))?;
            let t = e.prepare(&img, face, |v| v)?;
            let side = t.shape[1];
            let crop = kakunin_face::image::Rgb {
                width: side,
                height: side,
                data: t
                    .data
                    .iter()
                    .map(|v| v.round().clamp(0.0, 255.0) as u8)
                    .collect(),
            };
            std::fs::write(&out, kakunin_face::image::encode_png(&crop)?)
                .with_context(|| format!("cannot write {}", out.display()))?;
        }
        Face::Eval {
            pairs,
            root,
            json,
            network,
            scores,
            threads,
        } => {
            let config = network.config();
            let e = engine(config)?;
            let text = std::fs::read_to_string(&pairs)
                .with_context(|| format!("cannot read {}", pairs.display()))?;
            let list = kakunin_face::eval::parse_pairs(&text, &root)?;
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} embedding {pos}/{len} images [{bar:40}] {per_sec} eta {eta}",
                )
                .expect("template")
                .progress_chars("=> "),
            );
            let r = kakunin_face::eval::evaluate(&e, &list, threads, &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })?;
            bar.finish_and_clear();
            if let Some(path) = scores {
                let lines: String = list
                    .iter()
                    .zip(&r.scores)
                    .map(|(p, s)| format!("{} {} {s}\n", p.fold, u8::from(p.same)))
                    .collect();
                std::fs::write(&path, lines)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!(
                    "pairs {} ({} folds), failed {} ({:?}, {:?}, {:?}, grey {}, 8-bit {})",
                    r.pairs,
                    r.folds,
                    r.failed_pairs,
                    r.embedding,
                    r.preparation,
                    r.input_scale,
                    r.grey,
                    r.int8
                );
                let accuracy = match (r.accuracy, r.accuracy_std) {
                    (Some(a), Some(sd)) => format!("{:.2}% ± {:.2}", a * 100.0, sd * 100.0),
                    _ => "n/a (one fold: no other folds to choose its threshold on)".into(),
                };
                println!(
                    "accuracy {accuracy}  EER {:.2}%  TAR@FAR1e-3 {:.2}%  threshold {:.3}",
                    r.eer * 100.0,
                    r.tar_at_far_1e_3 * 100.0,
                    r.threshold
                );
                println!(
                    "threshold for FMR 1e-4 {:.3} over {} impostor pairs, TAR there {:.2}%",
                    r.threshold_fmr_1e_4,
                    r.impostor_pairs,
                    r.tar_at_fmr_1e_4 * 100.0
                );
                println!(
                    "{:.1} pairs/s, per pair p50 {:.1} ms p99 {:.1} ms",
                    r.pairs_per_s, r.p50_ms, r.p99_ms
                );
            }
        }
    }
    Ok(())
}
