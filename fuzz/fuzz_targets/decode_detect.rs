//! Any bytes through image decoding and, when it decodes, face detection: no panic, no hang,
//! bounded memory (the pixel limit is checked before decoding).
//! Run: `cargo fuzz run decode_detect` (models from ./scripts/fetch-models).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static ENGINE: OnceLock<Option<kakunin_face::FaceEngine>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let engine = ENGINE.get_or_init(|| kakunin_face::FaceEngine::load(&kakunin_face::models::model_dir(), Default::default()).ok());
    if let Ok(img) = kakunin_face::image::decode(data) {
        if let Some(e) = engine {
            let _ = e.detect(&img);
        }
    }
});
