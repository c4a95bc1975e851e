//! The engine on real faces (development data) and on what must not pass: no face, several
//! faces, a face too small, a corrupted or missing model.

use kakunin_face::image::{decode, Rgb};
use kakunin_face::quality::RetryReason;
use kakunin_face::{DecisionKind, EngineConfig, FaceEngine, FaceError};
use std::path::{Path, PathBuf};

fn lfw(data: &Path, name: &str, n: u32) -> Rgb {
    decode(&std::fs::read(data.join(format!("lfw/{name}/{name}_{n:04}.jpg"))).unwrap()).unwrap()
}

/// Pastes `faces` side by side on a grey canvas, each scaled by `scale`.
fn canvas(faces: &[&Rgb], scale: f32, width: usize, height: usize) -> Rgb {
    let mut out = Rgb {
        width,
        height,
        data: vec![128; width * height * 3],
    };
    for (i, f) in faces.iter().enumerate() {
        let (w, h) = (
            (f.width as f32 * scale) as usize,
            (f.height as f32 * scale) as usize,
        );
        let x0 = i * (width / faces.len().max(1));
        for y in 0..h.min(height) {
            for x in 0..w.min(width - x0) {
                let p = f.sample(x as f32 / scale, y as f32 / scale);
                let o = (y * width + x0 + x) * 3;
                for (dst, v) in out.data[o..o + 3].iter_mut().zip(p) {
                    *dst = v as u8;
                }
            }
        }
    }
    out
}

fn setup() -> Option<(FaceEngine, PathBuf)> {
    let models = kakunin_face::testing::models_or_skip()?;
    let data = kakunin_face::testing::data_or_skip()?;
    Some((
        FaceEngine::load(&models, EngineConfig::default()).unwrap(),
        data,
    ))
}

#[test]
fn same_person_matches_and_different_people_do_not() {
    let Some((e, data)) = setup() else { return };
    let card = lfw(&data, "Abel_Pacheco", 1);
    let same = e.verify(&card, &lfw(&data, "Abel_Pacheco", 4)).unwrap();
    let other = e.verify(&card, &lfw(&data, "Aaron_Sorkin", 1)).unwrap();
    eprintln!("same {:?} other {:?}", same.score, other.score);
    assert!(same.score.unwrap() > other.score.unwrap());
    assert_ne!(other.decision, DecisionKind::Match, "{other:?}");
    assert!(same.timings.total_ms > 0.0);
    let json = serde_json::to_value(&same).unwrap();
    assert!(json["threshold"].is_number() && json["decision"].is_string());
}

#[test]
fn the_face_mesh_finds_eyes_nose_and_mouth_where_the_detector_does() {
    let Some((e, data)) = setup() else { return };
    let img = lfw(&data, "Abel_Pacheco", 1);
    let d = e.detect(&img).unwrap().remove(0);
    let mesh = e.mesh(&img, &d).unwrap();
    assert_eq!(mesh.points.len(), 468);
    assert!(mesh.presence > 0.5, "face presence {}", mesh.presence);
    let five = mesh.five_points();
    let dist = |p: [f32; 2], q: [f32; 2]| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt();
    let eyes = dist(d.keypoints[0], d.keypoints[1]);
    // The mesh is finer than the detector, but must agree with it on where the eyes and nose are.
    for (mesh_point, detector_point) in [
        (five[0], d.keypoints[0]),
        (five[1], d.keypoints[1]),
        (five[2], d.keypoints[2]),
    ] {
        assert!(
            dist(mesh_point, detector_point) < 0.25 * eyes,
            "{five:?} vs {:?}",
            d.keypoints
        );
    }
    // Mouth corners either side of the detector's mouth centre, below the nose.
    assert!(five[3][0] < d.keypoints[3][0] && five[4][0] > d.keypoints[3][0]);
    assert!(five[3][1] > five[2][1] && five[4][1] > five[2][1]);
    let open = mesh.eye_openness();
    assert!((0.1..0.6).contains(&open), "eye openness {open}");
}

#[test]
fn several_people_in_a_photo_the_central_one_is_chosen_for_evaluation() {
    let Some((e, data)) = setup() else { return };
    let a = lfw(&data, "Abel_Pacheco", 1);
    let b = lfw(&data, "Aaron_Sorkin", 1);
    // Two equal faces side by side: the live check refuses the frame, the central pick does not.
    let two = canvas(&[&a, &b], 1.0, 500, 250);
    let dets = e.detect(&two).unwrap();
    assert_eq!(
        kakunin_face::quality::pick_face(&dets).unwrap_err(),
        RetryReason::SeveralFaces
    );
    let centred = kakunin_face::quality::central_face(&dets, (220, 250)).unwrap();
    assert!(
        centred.bbox[2] < 250.0,
        "the face over the centre of the left half: {centred:?}"
    );
    assert!(e
        .face_picked(&two, kakunin_face::quality::central_face)
        .unwrap()
        .is_ok());
}

#[test]
fn no_face_several_faces_and_too_small_ask_for_a_retry() {
    let Some((e, data)) = setup() else { return };
    let card = lfw(&data, "Abel_Pacheco", 1);
    let blank = Rgb {
        width: 320,
        height: 240,
        data: (0..320 * 240 * 3)
            .map(|i| (i % 251) as u8 / 2 + 60)
            .collect(),
    };
    let d = e.verify(&card, &blank).unwrap();
    assert_eq!(
        (d.decision, d.reason),
        (DecisionKind::Retry, Some(RetryReason::NoFace))
    );
    let two = canvas(
        &[
            &lfw(&data, "Abel_Pacheco", 4),
            &lfw(&data, "Aaron_Sorkin", 1),
        ],
        1.0,
        500,
        250,
    );
    let d = e.verify(&card, &two).unwrap();
    assert_eq!(
        (d.decision, d.reason),
        (DecisionKind::Retry, Some(RetryReason::SeveralFaces)),
        "{d:?}"
    );
    let small = canvas(&[&lfw(&data, "Abel_Pacheco", 4)], 0.3, 640, 480);
    let d = e.verify(&card, &small).unwrap();
    assert_eq!(d.decision, DecisionKind::Retry, "{d:?}");
    assert!(
        matches!(d.reason, Some(RetryReason::TooSmall | RetryReason::NoFace)),
        "{d:?}"
    );
    // Attempts are the domain's to count: the engine judges each frame alone.
    assert_eq!(
        e.verify(&card, &blank).unwrap().decision,
        DecisionKind::Retry
    );
    // A card photo without a face cannot be used at all.
    let d = e.verify(&blank, &card).unwrap();
    assert_eq!(
        (d.decision, d.reason),
        (
            DecisionKind::ReferToStaff,
            Some(RetryReason::CardPhotoUnusable)
        )
    );
}

#[test]
fn a_corrupted_or_missing_model_is_refused_at_load() {
    let Some(models) = kakunin_face::testing::models_or_skip() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("kakunin-models-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in std::fs::read_dir(&models).unwrap().flatten() {
        std::fs::copy(f.path(), dir.join(f.file_name())).unwrap();
    }
    let bin = dir.join("blazeface-back.bin");
    let mut bytes = std::fs::read(&bin).unwrap();
    bytes[1000] ^= 1;
    std::fs::write(&bin, bytes).unwrap();
    match FaceEngine::load(&dir, EngineConfig::default()) {
        Err(e @ FaceError::ModelHashMismatch { .. }) => {
            assert!(e.to_string().contains("fetch-models"))
        }
        other => panic!("{:?}", other.err()),
    }
    std::fs::remove_file(&bin).unwrap();
    match FaceEngine::load(&dir, EngineConfig::default()) {
        Err(e @ FaceError::ModelMissing { .. }) => {
            assert!(e.to_string().contains("./scripts/fetch-models"))
        }
        other => panic!("{:?}", other.err()),
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// The active check on NUAA: every hand-held print sequence (bent, tilted and moved) stays under
/// the parallax threshold; live sequences where the head moves pass. The passive models alone
/// accept most print frames, which is why the active check exists.
#[test]
fn printed_photos_show_no_parallax_moving_heads_do() {
    let Some((e, data)) = setup() else { return };
    let r = kakunin_face::pad::evaluate(&e, &data.join("nuaa")).unwrap();
    eprintln!("{}", serde_json::to_string(&r.sequences).unwrap());
    assert_eq!(r.active.attacks, 7);
    assert_eq!(r.active.apcer, 0.0, "a print passed the head-turn check");
    assert_eq!(r.combined.apcer, 0.0);
    let moving: Vec<_> = r
        .sequences
        .iter()
        .filter(|s| s.kind == "live" && s.active.passed)
        .collect();
    assert!(moving.len() >= 5, "live heads that moved: {}", moving.len());
    assert!(
        r.passive.apcer > 0.5,
        "the passive models are fooled by prints"
    );
    let largest_print = r
        .sequences
        .iter()
        .filter(|s| s.kind == "print_attack")
        .map(|s| s.active.parallax)
        .fold(0.0, f64::max);
    assert!(
        largest_print > 0.005,
        "prints still show mesh jitter: {largest_print}"
    );
}

/// The 8-bit embedding (where the CPU has AVX-512 VNNI) stays close to the float32 one: the
/// descriptors of one face agree to a cosine of 0.998 or better, and scores move by thousandths.
#[test]
fn the_8_bit_embedding_agrees_with_float32() {
    let Some((int8, data)) = setup() else { return };
    if !int8.int8() {
        eprintln!("skipped: this CPU has no AVX-512 VNNI; the engine runs float32");
        return;
    }
    let models = kakunin_face::testing::models_or_skip().unwrap();
    let float = FaceEngine::load(&models, EngineConfig::float32()).unwrap();
    assert!(!float.int8());
    let faces = [
        lfw(&data, "Abel_Pacheco", 1),
        lfw(&data, "Abel_Pacheco", 4),
        lfw(&data, "Aaron_Sorkin", 1),
    ];
    let embed = |e: &FaceEngine, img: &Rgb| e.face(img).unwrap().unwrap().embedding;
    let (q, f): (Vec<_>, Vec<_>) = faces
        .iter()
        .map(|img| (embed(&int8, img), embed(&float, img)))
        .unzip();
    for (a, b) in q.iter().zip(&f) {
        let c = kakunin_face::engine::cosine(a, b);
        assert!(c > 0.998, "8-bit vs float32 descriptor cosine {c}");
    }
    for (i, j) in [(0, 1), (0, 2)] {
        let (sq, sf) = (
            kakunin_face::engine::cosine(&q[i], &q[j]),
            kakunin_face::engine::cosine(&f[i], &f[j]),
        );
        assert!(
            (sq - sf).abs() < 0.005,
            "score {sq} (8-bit) vs {sf} (float32)"
        );
    }
}
