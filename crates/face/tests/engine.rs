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
                for k in 0..3 {
                    out.data[o + k] = p[k] as u8;
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
    let same = e.verify(&card, &lfw(&data, "Abel_Pacheco", 4), 1).unwrap();
    let other = e.verify(&card, &lfw(&data, "Aaron_Sorkin", 1), 1).unwrap();
    eprintln!("same {:?} other {:?}", same.score, other.score);
    assert!(same.score.unwrap() > other.score.unwrap());
    assert_ne!(other.decision, DecisionKind::Match, "{other:?}");
    assert!(same.timings.total_ms > 0.0);
    let json = serde_json::to_value(&same).unwrap();
    assert!(json["threshold"].is_number() && json["decision"].is_string());
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
    let d = e.verify(&card, &blank, 1).unwrap();
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
    let d = e.verify(&card, &two, 1).unwrap();
    assert_eq!(
        (d.decision, d.reason),
        (DecisionKind::Retry, Some(RetryReason::SeveralFaces)),
        "{d:?}"
    );
    let small = canvas(&[&lfw(&data, "Abel_Pacheco", 4)], 0.3, 640, 480);
    let d = e.verify(&card, &small, 1).unwrap();
    assert_eq!(d.decision, DecisionKind::Retry, "{d:?}");
    assert!(
        matches!(d.reason, Some(RetryReason::TooSmall | RetryReason::NoFace)),
        "{d:?}"
    );
    // The last attempt turns a retry into a referral to staff.
    let d = e.verify(&card, &blank, 3).unwrap();
    assert_eq!(d.decision, DecisionKind::ReferToStaff);
    // A card photo without a face cannot be used at all.
    let d = e.verify(&blank, &card, 1).unwrap();
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
