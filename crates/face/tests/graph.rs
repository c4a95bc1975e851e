//! The executor on small hand-made graphs: known answers, quantised weights, and refusals.

use kakunin_face::graph::{Graph, Scratch, Tensor};
use kakunin_face::FaceError;
use serde_json::json;

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn model(nodes: serde_json::Value, weights: serde_json::Value) -> Vec<u8> {
    json!({ "format": "graph-model", "modelTopology": { "node": nodes }, "weightsManifest": [{ "paths": ["w.bin"], "weights": weights }] }).to_string().into_bytes()
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn conv_bias_relu_and_matmul_give_known_answers() {
    // 1×2×2×1 input, 1×1 conv doubling, bias -1, relu; then reshape to [1,4] and matmul by ones.
    let nodes = json!([
        { "name": "x", "op": "Placeholder" },
        { "name": "w", "op": "Const" }, { "name": "b", "op": "Const" }, { "name": "shape", "op": "Const" }, { "name": "m", "op": "Const" },
        { "name": "conv", "op": "_FusedConv2D", "input": ["x", "w", "b"], "attr": {
            "strides": { "list": { "i": ["1", "1", "1", "1"] } }, "padding": { "s": b64("VALID") },
            "fused_ops": { "list": { "s": [b64("BiasAdd"), b64("Relu")] } } } },
        { "name": "flat", "op": "Reshape", "input": ["conv", "shape"] },
        { "name": "out", "op": "MatMul", "input": ["flat", "m"] }
    ]);
    let weights = json!([
        { "name": "w", "shape": [1, 1, 1, 1], "dtype": "float32" },
        { "name": "b", "shape": [1], "dtype": "float32" },
        { "name": "shape", "shape": [2], "dtype": "int32" },
        { "name": "m", "shape": [4, 1], "dtype": "float32", "quantization": { "dtype": "uint8", "scale": 0.5, "min": 0.0 } }
    ]);
    let mut bin = f32s(&[2.0, -1.0]);
    bin.extend_from_slice(&1i32.to_le_bytes());
    bin.extend_from_slice(&4i32.to_le_bytes());
    bin.extend_from_slice(&[2, 2, 2, 2]); // uint8 2 × scale 0.5 = 1.0
    let g = Graph::from_parts("tiny", &model(nodes, weights), &bin).unwrap();
    let out = g
        .run(
            Tensor::new(vec![1, 2, 2, 1], vec![0.0, 1.0, 2.0, 3.0]),
            &["out"],
            &mut Scratch::default(),
        )
        .unwrap();
    // relu(2x - 1) = [0, 1, 3, 5]; sum = 9.
    assert_eq!(out[0].data, vec![9.0]);
}

#[test]
fn unknown_op_is_named_and_bad_weights_are_refused() {
    let nodes = json!([{ "name": "x", "op": "Placeholder" }, { "name": "y", "op": "FancyOp", "input": ["x"] }]);
    match Graph::from_parts("m", &model(nodes, json!([])), &[]) {
        Err(e @ FaceError::UnsupportedOp { .. }) => assert!(
            e.to_string().contains("FancyOp") && e.to_string().contains("node y"),
            "{e}"
        ),
        other => panic!("{:?}", other.err()),
    }
    let nodes = json!([{ "name": "x", "op": "Placeholder" }, { "name": "w", "op": "Const" }, { "name": "y", "op": "Add", "input": ["x", "w"] }]);
    let weights = json!([{ "name": "w", "shape": [4], "dtype": "float32" }]);
    assert!(
        matches!(
            Graph::from_parts("m", &model(nodes.clone(), weights.clone()), &[0; 8]),
            Err(FaceError::ModelCorrupt { .. })
        ),
        "short weights"
    );
    assert!(
        matches!(
            Graph::from_parts("m", &model(nodes, weights), &[0; 20]),
            Err(FaceError::ModelCorrupt { .. })
        ),
        "extra bytes"
    );
    assert!(matches!(
        Graph::from_parts("m", b"{not json", &[]),
        Err(FaceError::ModelCorrupt { .. })
    ));
    let cyclic = json!([{ "name": "a", "op": "Identity", "input": ["b"] }, { "name": "b", "op": "Identity", "input": ["a"] }]);
    assert!(matches!(
        Graph::from_parts("m", &model(cyclic, json!([])), &[]),
        Err(FaceError::ModelCorrupt { .. })
    ));
}

#[test]
fn average_and_max_pooling_give_known_answers() {
    // 1×3×3×1 input 1..9; 2×2 windows, stride 2, VALID: one window over 1,2,4,5.
    let pool = |op: &str| {
        json!({ "name": op, "op": op, "input": ["x"], "attr": {
            "ksize": { "list": { "i": ["1", "2", "2", "1"] } },
            "strides": { "list": { "i": ["1", "2", "2", "1"] } }, "padding": { "s": b64("VALID") } } })
    };
    let nodes = json!([{ "name": "x", "op": "Placeholder" }, pool("AvgPool"), pool("MaxPool")]);
    let g = Graph::from_parts("pools", &model(nodes, json!([])), &[]).unwrap();
    let x = Tensor::new(vec![1, 3, 3, 1], (1..=9).map(|v| v as f32).collect());
    let out = g
        .run(x, &["AvgPool", "MaxPool"], &mut Scratch::default())
        .unwrap();
    assert_eq!(out[0].shape, vec![1, 1, 1, 1]);
    assert_eq!(out[0].data, vec![3.0]);
    assert_eq!(out[1].data, vec![5.0]);
}

#[test]
fn dlib_resnet_manifest_that_is_not_face_apis_is_refused() {
    use kakunin_face::dlib_resnet::{model_json, FACE_API_NORMALISATION};
    for (manifest, says) in [
        (&b"not json"[..], "manifest"),
        (&b"[]"[..], "0 weight groups"),
        (&br#"[{"paths": ["a.bin"], "weights": [{"name": "conv32_down/conv/filters", "shape": [7, 7, 3, 32], "dtype": "float32"}]}]"#[..], "no weights for block conv32_1"),
    ] {
        kakunin_face::testing::assert_model_corrupt(
            model_json(manifest, FACE_API_NORMALISATION),
            says,
        );
    }
}

/// Depthwise convolution computed the plain way, for comparison with the executor's kernels.
fn depthwise_naive(
    x: &[f32],
    (h, w, c): (usize, usize, usize),
    f: &[f32],
    k: usize,
    stride: usize,
    same: bool,
) -> (Vec<f32>, usize, usize) {
    let (oh, ow, pt, pl) = if same {
        let (oh, ow) = (h.div_ceil(stride), w.div_ceil(stride));
        let ph = ((oh - 1) * stride + k).saturating_sub(h);
        let pw = ((ow - 1) * stride + k).saturating_sub(w);
        (oh, ow, ph / 2, pw / 2)
    } else {
        ((h - k) / stride + 1, (w - k) / stride + 1, 0, 0)
    };
    let mut out = vec![0.0; oh * ow * c];
    for oy in 0..oh {
        for ox in 0..ow {
            for ch in 0..c {
                let mut acc = 0.0;
                for ky in 0..k {
                    for kx in 0..k {
                        let (iy, ix) = (
                            (oy * stride + ky) as isize - pt as isize,
                            (ox * stride + kx) as isize - pl as isize,
                        );
                        if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                            acc += x[((iy as usize) * w + ix as usize) * c + ch]
                                * f[(ky * k + kx) * c + ch];
                        }
                    }
                }
                out[(oy * ow + ox) * c + ch] = acc;
            }
        }
    }
    (out, oh, ow)
}

#[test]
fn depthwise_kernels_agree_with_the_plain_computation() {
    // 3×3 (the fused three-tap path), 5×5, stride 1 and 2, SAME and VALID, odd sizes.
    for (k, stride, same, h, w, c) in [
        (3, 1, true, 7, 9, 24),
        (3, 1, false, 6, 5, 8),
        (3, 2, true, 9, 8, 4),
        (5, 1, true, 6, 7, 3),
        (3, 1, true, 2, 2, 5),
    ] {
        let padding = if same { "SAME" } else { "VALID" };
        let nodes = json!([{ "name": "x", "op": "Placeholder" }, { "name": "f", "op": "Const" },
            { "name": "y", "op": "DepthwiseConv2dNative", "input": ["x", "f"], "attr": {
                "strides": { "list": { "i": ["1", stride.to_string(), stride.to_string(), "1"] } },
                "padding": { "s": b64(padding) } } }]);
        let weights = json!([{ "name": "f", "shape": [k, k, c, 1], "dtype": "float32" }]);
        let f: Vec<f32> = (0..k * k * c)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.1)
            .collect();
        let x: Vec<f32> = (0..h * w * c)
            .map(|i| ((i * 13 % 17) as f32 - 8.0) * 0.25)
            .collect();
        let g = Graph::from_parts("dw", &model(nodes, weights), &f32s(&f)).unwrap();
        let got = g
            .run(
                Tensor::new(vec![1, h, w, c], x.clone()),
                &["y"],
                &mut Scratch::default(),
            )
            .unwrap();
        let (want, oh, ow) = depthwise_naive(&x, (h, w, c), &f, k, stride, same);
        assert_eq!(
            got[0].shape,
            vec![1, oh, ow, c],
            "{k}×{k} stride {stride} {padding}"
        );
        for (i, (a, b)) in got[0].data.iter().zip(&want).enumerate() {
            assert!(
                (a - b).abs() < 1e-4,
                "{k}×{k} stride {stride} {padding} {h}×{w}×{c}: at {i} {a} vs {b}"
            );
        }
    }
}
