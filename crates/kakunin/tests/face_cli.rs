//! `kakunin face crop`: the face as the recognition network sees it, and a clear refusal when
//! the image has no face. Needs the models and the development images (skipped without them).

use std::process::Command;

#[test]
fn crop_writes_the_aligned_face_and_refuses_an_image_without_one() {
    let (Some(_), Some(data)) = (
        kakunin_face::testing::models_or_skip(),
        kakunin_face::testing::data_or_skip(),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("face.png");
    let run = Command::new(env!("CARGO_BIN_EXE_kakunin"))
        .args(["face", "crop"])
        .arg(data.join("lfw/Abel_Pacheco/Abel_Pacheco_0001.jpg"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let png = kakunin_face::image::decode(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!((png.width, png.height), (150, 150), "dlib's face chip");

    // A plain grey picture: no face, said so, nothing written.
    let blank = dir.path().join("blank.png");
    let grey = kakunin_face::image::Rgb {
        width: 200,
        height: 200,
        data: vec![128; 200 * 200 * 3],
    };
    std::fs::write(&blank, kakunin_face::image::encode_png(&grey).unwrap()).unwrap();
    let none = dir.path().join("none.png");
    let run = Command::new(env!("CARGO_BIN_EXE_kakunin"))
        .args(["face", "crop"])
        .arg(&blank)
        .arg(&none)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("no usable face") && err.contains("NoFace"),
        "{err}"
    );
    assert!(!none.exists());
}
