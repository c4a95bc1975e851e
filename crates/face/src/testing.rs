//! Helpers for tests that need the models or the development data (`../shared/data`).
//!
//! Such tests call [`models_or_skip`] / [`data_or_skip`]: without the files they print why and
//! pass, unless `KAKUNIN_REQUIRE_MODELS=1` (set by `scripts/test` after fetching), where a
//! missing file fails the test.

use std::path::PathBuf;

fn required() -> bool {
    std::env::var("KAKUNIN_REQUIRE_MODELS").is_ok_and(|v| v == "1")
}

/// The model directory, or `None` (skip) when it is missing and not required.
pub fn models_or_skip() -> Option<PathBuf> {
    let dir = crate::models::model_dir();
    if dir.join("mobilefacenet.json").exists() {
        return Some(dir);
    }
    assert!(
        !required(),
        "models missing in {}; run ./scripts/fetch-models",
        dir.display()
    );
    eprintln!(
        "skipped: models missing in {} (run ./scripts/fetch-models)",
        dir.display()
    );
    None
}

/// The development data directory (`KAKUNIN_DATA`, default `../shared/data` from the repo root).
pub fn data_or_skip() -> Option<PathBuf> {
    let dir = std::env::var_os("KAKUNIN_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if dir.join("pairs.txt").exists() {
        return Some(dir);
    }
    assert!(!required(), "development data missing in {}", dir.display());
    eprintln!("skipped: development data missing in {}", dir.display());
    None
}

/// Asserts that `r` is a [`crate::FaceError::ModelCorrupt`] whose message says `says` and tells
/// the user to run `./scripts/fetch-models`.
pub fn assert_model_corrupt<T>(r: Result<T, crate::FaceError>, says: &str) {
    match r {
        Err(e @ crate::FaceError::ModelCorrupt { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains(says), "{msg}");
            assert!(msg.contains("fetch-models"), "{msg}");
        }
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("accepted a corrupt model (expected: {says})"),
    }
}
