//! The face engine: load once, verify many times, from many threads.

use crate::align;
use crate::detect::{Detection, Detector};
use crate::graph::{Graph, Scratch, Tensor};
use crate::image::Rgb;
use crate::mesh::{Mesh, MeshModel};
use crate::models;
use crate::quality::{self, RetryReason};
use crate::FaceError;
use serde::Serialize;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

/// Which network turns a face into a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddingModel {
    /// dlib's face-recognition ResNet (dlib's own float32 weights; 150×150 → 128-d), aligned by
    /// face-mesh points to dlib's face chip. The default: the most accurate on the development
    /// set (docs/face.md).
    DlibResnet,
    /// The same network with face-api's 8-bit-quantised weights, kept for measurement.
    DlibResnetFaceApi,
    /// `faceres` (224×224 → 1024-d), the default before dlib's ResNet.
    Faceres,
    /// `mobilefacenet` (112×112 → 192-d). Kept for measurement: with this model file its
    /// descriptors barely depend on the face (docs/face.md).
    MobileFaceNet,
    /// `mobileface` (112×112 → 256-d), kept for measurement (docs/face.md).
    MobileFace,
}

impl EmbeddingModel {
    fn load(self, dir: &Path) -> Result<Graph, FaceError> {
        match self {
            EmbeddingModel::Faceres => models::load(dir, &models::FACERES),
            EmbeddingModel::MobileFaceNet => models::load(dir, &models::MOBILEFACENET),
            EmbeddingModel::MobileFace => models::load(dir, &models::MOBILEFACE),
            EmbeddingModel::DlibResnet => models::load_dlib_resnet(dir),
            EmbeddingModel::DlibResnetFaceApi => models::load_dlib_resnet_face_api(dir),
        }
    }
    fn input(self) -> usize {
        match self {
            EmbeddingModel::Faceres => 224,
            EmbeddingModel::MobileFaceNet | EmbeddingModel::MobileFace => 112,
            _ => crate::dlib_resnet::INPUT,
        }
    }
    /// Where the five points of a face go in the network's input (eyes, nose, mouth corners).
    fn template(self) -> [[f32; 2]; 5] {
        match self {
            EmbeddingModel::DlibResnet | EmbeddingModel::DlibResnetFaceApi => align::DLIB_TEMPLATE,
            _ => {
                let k = self.input() as f32 / align::SIZE as f32;
                align::TEMPLATE.map(|p| [p[0] * k, p[1] * k])
            }
        }
    }
    fn output(self) -> &'static str {
        match self {
            EmbeddingModel::Faceres => "global_pooling/Mean",
            EmbeddingModel::MobileFaceNet => "embeddings",
            EmbeddingModel::MobileFace => "batchnorm0/add_1",
            EmbeddingModel::DlibResnet | EmbeddingModel::DlibResnetFaceApi => {
                crate::dlib_resnet::OUTPUT
            }
        }
    }
}

/// Margin around the detector's box for box crops.
pub const BOX_MARGIN: f32 = 1.3;

/// How a face crop is prepared for the embedding network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Preparation {
    /// Aligned to insightface's five-point template by a similarity transform.
    Aligned,
    /// The detector's box enlarged by [`BOX_MARGIN`], unaligned.
    BoxCrop,
    /// Aligned to insightface's five-point template from face-mesh landmarks (eye centres, nose
    /// tip, mouth corners), which are more precise than the detector's keypoints.
    MeshAligned,
}

/// How pixel values (0–255) are scaled for MobileFaceNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputScale {
    /// 0–255 as is.
    Raw,
    /// `(x − 127.5) / 128`.
    Centered,
    /// `x / 255`.
    Unit,
}

impl InputScale {
    fn apply(self, v: f32) -> f32 {
        match self {
            InputScale::Raw => v,
            InputScale::Centered => (v - 127.5) / 128.0,
            InputScale::Unit => v / 255.0,
        }
    }
}

/// Settings of the engine.
#[derive(Debug, Clone, Serialize)]
pub struct EngineConfig {
    /// Cosine similarity at or above which two faces match (see `docs/face.md` for how it was
    /// calibrated).
    pub threshold: f32,
    /// Compare in grey on both sides (the card photo is grey).
    pub grey: bool,
    /// Which network embeds faces.
    pub embedding: EmbeddingModel,
    /// How the face is cut out and aligned for it.
    pub preparation: Preparation,
    /// The pixel scale the network expects.
    pub input_scale: InputScale,
    /// Also embed the mirrored face and add the two descriptors.
    pub flip: bool,
    /// Run the embedding network's convolutions in 8 bits where the CPU has AVX-512 VNNI (about
    /// 1.6× faster; LFW accuracy and the calibrated threshold unchanged within noise, see
    /// docs/face.md). Other CPUs run float32 whatever this says ([`FaceEngine::int8`]).
    pub int8: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            threshold: DEFAULT_THRESHOLD,
            grey: true,
            embedding: EmbeddingModel::DlibResnet,
            preparation: Preparation::MeshAligned,
            input_scale: InputScale::Raw,
            flip: true,
            int8: true,
        }
    }
}

impl EngineConfig {
    /// The default settings with the embedding network in float32 everywhere (the path proven
    /// against TensorFlow.js), for comparison with the 8-bit one.
    pub fn float32() -> Self {
        EngineConfig {
            int8: false,
            ..EngineConfig::default()
        }
    }
}

/// The calibrated decision threshold (cosine similarity), for a false-match rate of about 1 in
/// 10,000 on the development set's impostor pairs (docs/face.md).
pub const DEFAULT_THRESHOLD: f32 = 0.944;

/// A face found in an image and its embedding.
#[derive(Debug, Clone)]
pub struct Face {
    /// Where the face is.
    pub detection: Detection,
    /// L2-normalised descriptor.
    pub embedding: Vec<f32>,
}

/// Milliseconds spent per stage.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// Decoding the image.
    pub decode_ms: f64,
    /// Finding faces.
    pub detect_ms: f64,
    /// Aligning and embedding.
    pub embed_ms: f64,
    /// The presentation-attack models.
    pub spoof_ms: f64,
    /// All of it.
    pub total_ms: f64,
}

/// The engine's answer for one attempt.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// match | no_match | retry | spoof_suspected | refer_to_staff.
    pub decision: DecisionKind,
    /// Why another frame is wanted (a retry), or why the card photo is unusable.
    pub reason: Option<RetryReason>,
    /// Cosine similarity of the two faces, when compared.
    pub score: Option<f32>,
    /// The threshold it was judged against.
    pub threshold: f32,
    /// Presentation-attack scores, when computed: antispoof (1 = real) and liveness (P(real)).
    pub antispoof: Option<f32>,
    /// The liveness model's P(real).
    pub liveness: Option<f32>,
    /// Time per stage.
    pub timings: Timings,
    /// The mesh of the face found in the live frame (when it passed the quality checks), for the
    /// active check over a frame sequence ([`crate::pad::head_turn`]).
    #[serde(skip)]
    pub live_mesh: Option<Mesh>,
}

/// The decision itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// The same person.
    Match,
    /// Not the same person.
    NoMatch,
    /// The frame is not good enough to judge; another is wanted.
    Retry,
    /// The passive models suspect a presentation attack.
    SpoofSuspected,
    /// The card photo has no usable face: staff confirm visually.
    ReferToStaff,
}

/// The loaded models.
pub struct FaceEngine {
    detector: Detector,
    mesh: MeshModel,
    embedder: Graph,
    antispoof: Graph,
    liveness: Graph,
    /// The settings it runs with.
    pub config: EngineConfig,
    scratch: Mutex<Vec<Scratch>>,
}

impl FaceEngine {
    /// Loads and checks every model from `dir` (see [`models::model_dir`]).
    pub fn load(dir: &Path, config: EngineConfig) -> Result<FaceEngine, FaceError> {
        Ok(FaceEngine {
            detector: Detector::new(models::load(dir, &models::BLAZEFACE)?),
            mesh: MeshModel::new(models::load(dir, &models::FACEMESH)?),
            embedder: {
                let mut g = config.embedding.load(dir)?;
                if config.int8 {
                    g.quantize();
                }
                g
            },
            antispoof: models::load(dir, &models::ANTISPOOF)?,
            liveness: models::load(dir, &models::LIVENESS)?,
            config,
            scratch: Mutex::new(vec![]),
        })
    }

    fn with_scratch<T>(&self, f: impl FnOnce(&mut Scratch) -> T) -> T {
        let mut s = self
            .scratch
            .lock()
            .expect("scratch pool")
            .pop()
            .unwrap_or_default();
        let out = f(&mut s);
        self.scratch.lock().expect("scratch pool").push(s);
        out
    }

    /// `img` as faces are compared: in grey when configured (the card photo is grey).
    pub fn compared(&self, img: &Rgb) -> Rgb {
        if self.config.grey {
            img.to_grey()
        } else {
            img.clone()
        }
    }

    /// Faces in `img`, best first.
    pub fn detect(&self, img: &Rgb) -> Result<Vec<Detection>, FaceError> {
        self.with_scratch(|s| self.detector.detect(img, s))
    }

    /// Face `d` of `img` as the embedding network sees it (cropped or aligned, resized), each
    /// channel value passed through `f`.
    pub fn prepare(
        &self,
        img: &Rgb,
        d: &Detection,
        f: impl Fn(f32) -> f32,
    ) -> Result<Tensor, FaceError> {
        let mesh = self.mesh_for_alignment(img, d)?;
        Ok(self.prepare_with(img, d, mesh.as_ref(), f))
    }

    /// The face's mesh when the preparation aligns by it.
    fn mesh_for_alignment(&self, img: &Rgb, d: &Detection) -> Result<Option<Mesh>, FaceError> {
        match self.config.preparation {
            Preparation::MeshAligned => self.mesh(img, d).map(Some),
            _ => Ok(None),
        }
    }

    /// [`FaceEngine::prepare`] with the face's mesh already computed (required for
    /// [`Preparation::MeshAligned`]; a missing mesh falls back to BlazeFace's keypoints).
    fn prepare_with(
        &self,
        img: &Rgb,
        d: &Detection,
        mesh: Option<&Mesh>,
        f: impl Fn(f32) -> f32,
    ) -> Tensor {
        let size = self.config.embedding.input();
        match (self.config.preparation, mesh) {
            (Preparation::BoxCrop, _) => crop(img, d, size, BOX_MARGIN, f),
            (Preparation::MeshAligned, Some(mesh)) => {
                let t = align::Similarity::estimate(
                    &mesh.five_points(),
                    &self.config.embedding.template(),
                );
                align::warp_by(img, t, size, f)
            }
            (Preparation::Aligned | Preparation::MeshAligned, _) => align::warp_to(img, d, size, f),
        }
    }

    /// Whether the embedding network runs in 8 bits (asked for, and the CPU can).
    pub fn int8(&self) -> bool {
        self.config.int8 && crate::graph::int8::available()
    }

    /// The face mesh of face `d` in `img`.
    pub fn mesh(&self, img: &Rgb, d: &Detection) -> Result<Mesh, FaceError> {
        self.with_scratch(|s| self.mesh.landmarks(img, d, s))
    }

    /// The embedding of face `d` in `img`.
    pub fn embed(&self, img: &Rgb, d: &Detection) -> Result<Vec<f32>, FaceError> {
        let mesh = self.mesh_for_alignment(img, d)?;
        self.embed_with(img, d, mesh.as_ref())
    }

    /// [`FaceEngine::embed`] with the face's mesh already computed.
    fn embed_with(
        &self,
        img: &Rgb,
        d: &Detection,
        mesh: Option<&Mesh>,
    ) -> Result<Vec<f32>, FaceError> {
        let scale = self.config.input_scale;
        let mut input = self.prepare_with(img, d, mesh, |v| scale.apply(v));
        let views = if self.config.flip { 2 } else { 1 };
        if self.config.flip {
            // The mirrored face rides in the same run as a second batch item (the weights are
            // streamed once for both); its descriptor is added: the sum is steadier than either.
            let mirrored = mirror(&input);
            input.shape[0] = 2;
            input.data.extend_from_slice(&mirrored.data);
        }
        let out = self
            .with_scratch(|s| {
                self.embedder
                    .run(input, &[self.config.embedding.output()], s)
            })?
            .into_iter()
            .next()
            .expect("one output")
            .data;
        let dim = out.len() / views;
        let mut e = out[..dim].to_vec();
        for row in out[dim..].chunks_exact(dim) {
            e.iter_mut().zip(row).for_each(|(a, b)| *a += b);
        }
        let norm = e.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        e.iter_mut().for_each(|v| *v /= norm);
        Ok(e)
    }

    /// Detects the single usable face of `img` (prepared in grey if configured) and embeds it.
    pub fn face(&self, img: &Rgb) -> Result<Result<Face, RetryReason>, FaceError> {
        self.face_picked(img, |dets, _| quality::pick_face(dets))
    }

    /// Like [`FaceEngine::face`], with the face chosen by `pick` from the detections and the
    /// image size (e.g. [`quality::central_face`] for a photo centred on its subject).
    pub fn face_picked(
        &self,
        img: &Rgb,
        pick: impl Fn(&[Detection], (usize, usize)) -> Result<&Detection, RetryReason>,
    ) -> Result<Result<Face, RetryReason>, FaceError> {
        let img = self.compared(img);
        let dets = self.detect(&img)?;
        let d = match pick(&dets, (img.width, img.height)) {
            Ok(d) => d.clone(),
            Err(r) => return Ok(Err(r)),
        };
        let embedding = self.embed(&img, &d)?;
        Ok(Ok(Face {
            detection: d,
            embedding,
        }))
    }

    /// Presentation-attack scores of face `d` in the live frame: (antispoof, liveness).
    pub fn spoof_scores(&self, img: &Rgb, d: &Detection) -> Result<(f32, f32), FaceError> {
        let a = crop(img, d, 128, 1.0, |v| v / 255.0);
        let l = crop(img, d, 32, 1.0, |v| v / 255.0);
        self.with_scratch(|s| {
            let anti = self.antispoof.run(a, &["Identity"], s)?[0].data[0];
            // Class 0 is "real": measured on the development set's live and print frames
            // (docs/face.md); the opposite order refuses nearly every live face.
            let live = self.liveness.run(l, &["Identity"], s)?[0].data[0];
            Ok((anti, live))
        })
    }

    /// Decides whether `live` shows the holder of the card whose photo is `card`: one frame,
    /// judged alone. A card photo without a usable face is `refer_to_staff`. How many attempts
    /// a visit gets is the domain's rule, not the engine's.
    pub fn verify(&self, card: &Rgb, live: &Rgb) -> Result<Decision, FaceError> {
        match self.face(card)? {
            Ok(card_face) => self.verify_against(&card_face, live),
            Err(_) => {
                let mut d = self.decision(DecisionKind::ReferToStaff);
                d.reason = Some(RetryReason::CardPhotoUnusable);
                Ok(d)
            }
        }
    }

    fn decision(&self, decision: DecisionKind) -> Decision {
        Decision {
            decision,
            reason: None,
            score: None,
            threshold: self.config.threshold,
            antispoof: None,
            liveness: None,
            timings: Timings::default(),
            live_mesh: None,
        }
    }

    /// Like [`FaceEngine::verify`] with the card photo's face already found and embedded (the
    /// kiosk does that once per visit, not once per attempt; see [`FaceEngine::face`]).
    pub fn verify_against(&self, card_face: &Face, live: &Rgb) -> Result<Decision, FaceError> {
        let start = Instant::now();
        let mut t = Timings::default();
        let mut decision = self.decision(DecisionKind::Retry);
        let finish = |mut d: Decision, mut t: Timings| {
            t.total_ms = ms(start);
            d.timings = t;
            Ok(d)
        };
        let d0 = Instant::now();
        let live_grey = self.compared(live);
        let dets = self.detect(&live_grey)?;
        t.detect_ms = ms(d0);
        let d = match quality::pick_face(&dets)
            .and_then(|d| quality::check(&live_grey, d).map(|_| d))
        {
            Ok(d) => d.clone(),
            Err(r) => {
                decision.reason = Some(r);
                return finish(decision, t);
            }
        };
        let s0 = Instant::now();
        let (anti, liveness) = self.spoof_scores(live, &d)?;
        t.spoof_ms = ms(s0);
        decision.antispoof = Some(anti);
        decision.liveness = Some(liveness);
        let e0 = Instant::now();
        // The mesh serves both the alignment and the active check over the frame sequence.
        let mesh = self.mesh(&live_grey, &d)?;
        let e = self.embed_with(&live_grey, &d, Some(&mesh))?;
        t.embed_ms = ms(e0);
        decision.live_mesh = Some(mesh);
        let score = cosine(&card_face.embedding, &e);
        decision.score = Some(score);
        decision.decision = if crate::pad::spoof_suspected(anti, liveness) {
            DecisionKind::SpoofSuspected
        } else if score >= self.config.threshold {
            DecisionKind::Match
        } else {
            DecisionKind::NoMatch
        };
        finish(decision, t)
    }
}

/// The NHWC batch-1 tensor `t` mirrored left to right.
fn mirror(t: &Tensor) -> Tensor {
    let (h, w, c) = (t.shape[1], t.shape[2], t.shape[3]);
    let mut data = Vec::with_capacity(t.data.len());
    for y in 0..h {
        for x in (0..w).rev() {
            let o = (y * w + x) * c;
            data.extend_from_slice(&t.data[o..o + c]);
        }
    }
    Tensor::new(t.shape.clone(), data)
}

/// Cosine similarity of two L2-normalised vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// The detector's box (enlarged by `margin`), resized to `side`², normalised with `f`.
pub fn crop(img: &Rgb, d: &Detection, side: usize, margin: f32, f: impl Fn(f32) -> f32) -> Tensor {
    let (cx, cy) = ((d.bbox[0] + d.bbox[2]) / 2.0, (d.bbox[1] + d.bbox[3]) / 2.0);
    let half = (d.bbox[2] - d.bbox[0]).max(d.bbox[3] - d.bbox[1]) * margin / 2.0;
    let step = 2.0 * half / side as f32;
    let mut data = Vec::with_capacity(side * side * 3);
    for y in 0..side {
        for x in 0..side {
            let p = img.sample(
                cx - half + (x as f32 + 0.5) * step,
                cy - half + (y as f32 + 0.5) * step,
            );
            data.extend(p.iter().map(|v| f(*v)));
        }
    }
    Tensor::new(vec![1, side, side, 3], data)
}
