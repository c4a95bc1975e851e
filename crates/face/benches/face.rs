//! Face engine timings on one core: model load, BlazeFace, the face mesh, the embedding, a full
//! verify from two JPEG files, and the kiosk's head-turn check. Needs the models
//! (./scripts/fetch-models) and the development images (../shared/data); prints a note and does
//! nothing without them.

use criterion::{criterion_group, criterion_main, Criterion};
use kakunin_face::{EngineConfig, FaceEngine};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let (Some(models), Some(data)) = (
        kakunin_face::testing::models_or_skip(),
        kakunin_face::testing::data_or_skip(),
    ) else {
        return;
    };
    let card_jpeg = std::fs::read(data.join("lfw/Abel_Pacheco/Abel_Pacheco_0001.jpg")).unwrap();
    let live_jpeg = std::fs::read(data.join("lfw/Abel_Pacheco/Abel_Pacheco_0004.jpg")).unwrap();
    let mut g = c.benchmark_group("face");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function("model_load", |b| {
        b.iter(|| FaceEngine::load(&models, EngineConfig::default()).unwrap())
    });
    let engine = FaceEngine::load(&models, EngineConfig::default()).unwrap();
    let live = kakunin_face::image::decode(&live_jpeg).unwrap();
    let face = engine.detect(&live).unwrap().remove(0);
    g.bench_function("blazeface_detect", |b| {
        b.iter(|| engine.detect(&live).unwrap())
    });
    g.bench_function("face_mesh", |b| {
        b.iter(|| engine.mesh(&live, &face).unwrap())
    });
    // The default embedding: face mesh, alignment, dlib's ResNet on the face and its mirror.
    g.bench_function("embed_mesh_aligned_with_mirror", |b| {
        b.iter(|| engine.embed(&live, &face).unwrap())
    });
    let one_view = FaceEngine::load(
        &models,
        EngineConfig {
            flip: false,
            ..EngineConfig::default()
        },
    )
    .unwrap();
    g.bench_function("embed_mesh_aligned_one_view", |b| {
        b.iter(|| one_view.embed(&live, &face).unwrap())
    });
    let card_face = engine
        .face(&kakunin_face::image::decode(&card_jpeg).unwrap())
        .unwrap()
        .unwrap();
    g.bench_function("verify_live_jpeg_against_known_card", |b| {
        b.iter(|| {
            let live = kakunin_face::image::decode(&live_jpeg).unwrap();
            engine.verify_against(&card_face, &live).unwrap()
        })
    });
    g.bench_function("verify_two_jpegs", |b| {
        b.iter(|| {
            let card = kakunin_face::image::decode(&card_jpeg).unwrap();
            let live = kakunin_face::image::decode(&live_jpeg).unwrap();
            engine.verify(&card, &live).unwrap()
        })
    });
    // The same in float32 (what CPUs without AVX-512 VNNI run).
    let float = FaceEngine::load(&models, EngineConfig::float32()).unwrap();
    g.bench_function("verify_two_jpegs_float32", |b| {
        b.iter(|| {
            let card = kakunin_face::image::decode(&card_jpeg).unwrap();
            let live = kakunin_face::image::decode(&live_jpeg).unwrap();
            float.verify(&card, &live).unwrap()
        })
    });
    g.bench_function("embed_mesh_aligned_with_mirror_float32", |b| {
        b.iter(|| float.embed(&live, &face).unwrap())
    });
    // The kiosk's active check: parallax over every pair of its 12-frame window (66 fits).
    let window: Vec<_> = (1..=12)
        .map(|i| {
            let name = format!("nuaa/live/0004/{}", nth_frame(&data, i));
            let img =
                kakunin_face::image::decode(&std::fs::read(data.join(name)).unwrap()).unwrap();
            let d = engine.detect(&img).unwrap().remove(0);
            engine.mesh(&img, &d).unwrap()
        })
        .collect();
    g.bench_function("head_turn_check_12_frames", |b| {
        b.iter(|| kakunin_face::pad::head_turn(&window))
    });
    g.finish();
}

/// The file name of the `i`th frame (name order) of NUAA's live subject 0004.
fn nth_frame(data: &std::path::Path, i: usize) -> String {
    let mut names: Vec<_> = std::fs::read_dir(data.join("nuaa/live/0004"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names[i].clone()
}

criterion_group!(benches, bench);
criterion_main!(benches);
