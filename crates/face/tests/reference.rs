//! Numerics against the reference implementation: TensorFlow.js's pure-JS CPU backend runs every
//! model on a fixed input (tools/reference/reference.mjs), and our executor must agree within
//! 1e-4 (absolute, or relative to the output's magnitude for large-valued outputs).

use kakunin_face::graph::{Graph, Scratch, Tensor};
use kakunin_face::models::{self, ModelFiles};
use std::process::Command;

fn input(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let data = (0..n as u64)
        .map(|i| {
            (((i * 2_654_435_761) % 4_294_967_296) as f64 / 4_294_967_296.0 * 2.0 - 1.0) as f32
        })
        .collect();
    Tensor::new(shape.to_vec(), data)
}

#[test]
fn every_model_matches_tensorflow_js() {
    let Some(dir) = kakunin_face::testing::models_or_skip() else {
        return;
    };
    let tools = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/reference");
    if !tools.join("node_modules/@tensorflow/tfjs-core").exists() {
        assert!(
            std::env::var("KAKUNIN_REQUIRE_MODELS").is_err(),
            "run `npm ci` in tools/reference"
        );
        eprintln!("skipped: run `npm ci` in tools/reference");
        return;
    }
    let out = std::env::temp_dir().join(format!("kakunin-reference-{}.json", std::process::id()));
    // dlib's own ResNet as our reader makes it of dlib's file, for the script to run with tf ops.
    let dlib_dir =
        std::env::temp_dir().join(format!("kakunin-reference-dlib-{}", std::process::id()));
    std::fs::create_dir_all(&dlib_dir).unwrap();
    let dlib =
        kakunin_face::dlib_dat::read(&std::fs::read(dir.join(models::DLIB_RESNET.name)).unwrap())
            .unwrap();
    std::fs::write(dlib_dir.join("dlib-weights_manifest.json"), &dlib.manifest).unwrap();
    std::fs::write(dlib_dir.join("dlib.bin"), &dlib.bytes).unwrap();
    let n = dlib.normalisation;
    let normalisation = serde_json::json!({"mean_rgb": n.mean_rgb, "scale": n.scale});
    std::fs::write(
        dlib_dir.join("dlib-normalisation.json"),
        normalisation.to_string(),
    )
    .unwrap();
    let status = Command::new("node")
        .arg(tools.join("reference.mjs"))
        .arg(&dir)
        .arg(&out)
        .arg(&dlib_dir)
        .status()
        .expect("node runs");
    std::fs::remove_dir_all(&dlib_dir).ok();
    assert!(status.success(), "reference script failed");
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).ok();

    let face_api = models::load_dlib_resnet_face_api(&dir).unwrap();
    agrees(
        models::DLIB_RESNET_FACE_API.name,
        &face_api,
        &[1, 150, 150, 3],
        &reference,
    );
    let cases: [(&ModelFiles, [usize; 4]); 7] = [
        (&models::FACERES, [1, 224, 224, 3]),
        (&models::BLAZEFACE, [1, 256, 256, 3]),
        (&models::MOBILEFACENET, [1, 112, 112, 3]),
        (&models::MOBILEFACE, [1, 112, 112, 3]),
        (&models::ANTISPOOF, [1, 128, 128, 3]),
        (&models::LIVENESS, [1, 32, 32, 3]),
        (&models::FACEMESH, [1, 192, 192, 3]),
    ];
    for (files, shape) in cases {
        let graph = models::load(&dir, files).unwrap();
        agrees(files.name, &graph, &shape, &reference);
    }
    let graph = models::load_dlib_resnet(&dir).unwrap();
    agrees(
        "dlib_face_recognition_resnet_model_v1",
        &graph,
        &[1, 150, 150, 3],
        &reference,
    );
}

/// The numbers of a JSON array.
fn numbers(v: &serde_json::Value) -> impl Iterator<Item = f64> + '_ {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap())
}

/// `graph` on the fixed input gives what TensorFlow.js gave for `model`, output by output.
fn agrees(model: &str, graph: &Graph, shape: &[usize], reference: &serde_json::Value) {
    let expected = reference[model].as_object().unwrap();
    let names: Vec<&str> = expected.keys().map(String::as_str).collect();
    let mut scratch = Scratch::default();
    // Twice: the second run reuses pooled buffers and must give the same numbers.
    let first = graph.run(input(shape), &names, &mut scratch).unwrap();
    let outs = graph.run(input(shape), &names, &mut scratch).unwrap();
    assert_eq!(first, outs, "{model}: reused buffers change nothing");
    for (name, got) in names.iter().zip(&outs) {
        let want: Vec<f32> = numbers(&expected[*name]["data"])
            .map(|v| v as f32)
            .collect();
        let want_shape: Vec<usize> = numbers(&expected[*name]["shape"])
            .map(|v| v as usize)
            .collect();
        assert_eq!(got.shape, want_shape, "{}/{name} shape", model);
        let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        let max_diff = got
            .data
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        eprintln!(
            "{}/{name}: max |diff| {max_diff:.2e} (output scale {scale:.1})",
            model
        );
        assert!(
            max_diff <= 1e-4 * scale,
            "{}/{name}: max |diff| {max_diff} > 1e-4 × {scale}",
            model
        );
    }
}

/// A batch of two runs as two single runs do, for every embedding network (the engine runs a
/// face and its mirror as one batch).
#[test]
fn a_batch_of_two_equals_two_single_runs() {
    let Some(dir) = kakunin_face::testing::models_or_skip() else {
        return;
    };
    let load = |f: &ModelFiles| (f.name, models::load(&dir, f).unwrap());
    let cases: [((&str, Graph), usize, &str); 4] = [
        (
            (
                models::DLIB_RESNET_FACE_API.name,
                models::load_dlib_resnet_face_api(&dir).unwrap(),
            ),
            150,
            kakunin_face::dlib_resnet::OUTPUT,
        ),
        (load(&models::FACERES), 224, "global_pooling/Mean"),
        (load(&models::MOBILEFACENET), 112, "embeddings"),
        (load(&models::MOBILEFACE), 112, "batchnorm0/add_1"),
    ];
    for ((name, graph), side, output) in cases {
        let mut scratch = Scratch::default();
        let a = input(&[1, side, side, 3]);
        let mut b = input(&[1, side, side, 3]);
        b.data.reverse();
        let mut both = a.clone();
        both.shape[0] = 2;
        both.data.extend_from_slice(&b.data);
        let mut run = |t: Tensor| graph.run(t, &[output], &mut scratch).unwrap().remove(0);
        let (one, two, pair) = (run(a), run(b), run(both));
        assert_eq!(
            pair.len(),
            one.len() + two.len(),
            "{name}: {:?}",
            pair.shape
        );
        let singles = one.data.iter().chain(&two.data);
        let worst = pair
            .data
            .iter()
            .zip(singles)
            .map(|(p, s)| (p - s).abs() / s.abs().max(1.0))
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "{name}: batch differs by {worst}");
    }
}
