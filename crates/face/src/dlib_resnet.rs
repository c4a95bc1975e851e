//! dlib's face-recognition ResNet (150×150 → 128-d; 99.38 % on LFW as published by dlib), as
//! shipped in the npm package `@vladmandic/face-api`: a weights manifest and one weight file, but
//! no graph, since face-api builds the network in code.
//!
//! This module writes that network as a TensorFlow.js graph so that our executor runs it like
//! every other model: the architecture is the short list below (a 7×7 stem, max pooling, eleven
//! residual blocks of two 3×3 convolutions in four widths, global average, a 256→128 matrix).
//! Each convolution is followed by its bias and dlib's per-channel affine "scale" layer. A block
//! that halves the resolution adds an average-pooled shortcut, zero-padded to the new width, and
//! pads its own output by one row and column where the two sizes differ by one.

use crate::FaceError;
use base64::Engine;
use serde_json::{json, Value};

/// Input side of the network.
pub const INPUT: usize = 150;
/// The node holding the 128-d descriptor.
pub const OUTPUT: &str = "descriptor";
/// How the network's input is made from 0–255 RGB: `(x − mean_rgb) · scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalisation {
    /// Subtracted per channel.
    pub mean_rgb: [f32; 3],
    /// Then multiplied.
    pub scale: f32,
}

/// face-api's normalisation: the training set's mean colour, then 1/255 (dlib's own file stores
/// the same mean and dlib scales by 1/256).
pub const FACE_API_NORMALISATION: Normalisation = Normalisation {
    mean_rgb: [122.782, 117.001, 104.298],
    scale: 1.0 / 255.0,
};

/// The residual blocks: weight prefix and whether the block halves the resolution.
pub const BLOCKS: [(&str, bool); 14] = [
    ("conv32_1", false),
    ("conv32_2", false),
    ("conv32_3", false),
    ("conv64_down", true),
    ("conv64_1", false),
    ("conv64_2", false),
    ("conv64_3", false),
    ("conv128_down", true),
    ("conv128_1", false),
    ("conv128_2", false),
    ("conv256_down", true),
    ("conv256_1", false),
    ("conv256_2", false),
    ("conv256_down_out", true),
];

/// Builds `model.json` for the network from a weights manifest (face-api's, or the one
/// [`crate::dlib_dat`] writes) and the input normalisation, and the bytes of the few constants
/// the graph adds (appended after the weight file's bytes).
pub fn model_json(
    manifest: &[u8],
    normalisation: Normalisation,
) -> Result<(Vec<u8>, Vec<u8>), FaceError> {
    let corrupt = |why: String| FaceError::ModelCorrupt {
        model: "face_recognition_model".into(),
        why,
    };
    let mut groups: Vec<Value> =
        serde_json::from_slice(manifest).map_err(|e| corrupt(format!("manifest: {e}")))?;
    if groups.len() != 1 {
        return Err(corrupt(format!(
            "{} weight groups, expected 1",
            groups.len()
        )));
    }
    let mut net = Net::default();
    let weights = groups[0]["weights"]
        .as_array()
        .ok_or_else(|| corrupt("manifest without weights".into()))?
        .clone();
    for w in &weights {
        let name = w["name"]
            .as_str()
            .ok_or_else(|| corrupt("weight without a name".into()))?;
        net.konst(name);
        // Widths of the blocks, from their filters ([kh, kw, cin, cout]).
        if let Some(prefix) = name.strip_suffix("/conv1/conv/filters") {
            let cout = w["shape"][3].as_u64().unwrap_or(0) as usize;
            net.widths.push((prefix.to_owned(), cout));
        }
    }

    let mut x = net.node("input", "Placeholder", &[], json!({}));
    net.extra_f32("mean_rgb", vec![3], &normalisation.mean_rgb);
    net.extra_f32("input_scale", vec![], &[normalisation.scale]);
    x = net.node("centred", "Sub", &[&x, "mean_rgb"], json!({}));
    x = net.node("scaled", "Mul", &[&x, "input_scale"], json!({}));
    let mut shape = Shape { hw: INPUT, c: 3 };
    x = net.conv(&x, "conv32_down", 2, "VALID", true);
    shape.hw = (shape.hw - 7) / 2 + 1;
    shape.c = 32;
    x = net.node(
        "stem_pool",
        "MaxPool",
        &[&x],
        json!({"ksize": ints(&[1, 3, 3, 1]), "strides": ints(&[1, 2, 2, 1]), "padding": string("VALID")}),
    );
    shape.hw = (shape.hw - 3) / 2 + 1;
    for (prefix, down) in BLOCKS {
        let width = net
            .widths
            .iter()
            .find(|w| w.0 == prefix)
            .map(|w| w.1)
            .ok_or_else(|| corrupt(format!("no weights for block {prefix}")))?;
        x = if down {
            net.residual_down(&x, prefix, &mut shape, width)
        } else {
            net.residual(&x, prefix)
        };
    }
    net.extra_i32("spatial_axes", vec![2], &[1, 2]);
    x = net.node(
        "global_average",
        "Mean",
        &[&x, "spatial_axes"],
        json!({"keep_dims": {"b": false}}),
    );
    net.node(OUTPUT, "MatMul", &[&x, "fc"], json!({}));

    let list = groups[0]["weights"].as_array_mut().expect("checked above");
    list.extend(net.extra_specs);
    let model = json!({
        "format": "graph-model",
        "modelTopology": {"node": net.nodes},
        "weightsManifest": groups,
    });
    Ok((serde_json::to_vec(&model).expect("json"), net.extra_bytes))
}

#[derive(Default)]
struct Net {
    nodes: Vec<Value>,
    extra_specs: Vec<Value>,
    extra_bytes: Vec<u8>,
    /// Output width of each block, by prefix.
    widths: Vec<(String, usize)>,
}

struct Shape {
    hw: usize,
    c: usize,
}

fn ints(v: &[i64]) -> Value {
    json!({"list": {"i": v.iter().map(|i| i.to_string()).collect::<Vec<_>>()}})
}

fn string(s: &str) -> Value {
    json!({"s": base64::engine::general_purpose::STANDARD.encode(s)})
}

impl Net {
    fn node(&mut self, name: &str, op: &str, inputs: &[&str], attr: Value) -> String {
        self.nodes
            .push(json!({"name": name, "op": op, "input": inputs, "attr": attr}));
        name.to_owned()
    }

    fn konst(&mut self, name: &str) {
        self.node(name, "Const", &[], json!({}));
    }

    /// A constant the graph adds: its spec and its little-endian bytes.
    fn extra(&mut self, name: &str, shape: Vec<usize>, dtype: &str, words: Vec<[u8; 4]>) {
        self.konst(name);
        self.extra_specs
            .push(json!({"name": name, "shape": shape, "dtype": dtype}));
        self.extra_bytes.extend(words.concat());
    }

    fn extra_f32(&mut self, name: &str, shape: Vec<usize>, v: &[f32]) {
        let words = v.iter().map(|x| x.to_le_bytes()).collect();
        self.extra(name, shape, "float32", words);
    }

    fn extra_i32(&mut self, name: &str, shape: Vec<usize>, v: &[i32]) {
        let words = v.iter().map(|x| x.to_le_bytes()).collect();
        self.extra(name, shape, "int32", words);
    }

    /// Convolution, its bias, dlib's per-channel scale and shift, and optionally a ReLU.
    fn conv(&mut self, x: &str, prefix: &str, stride: i64, padding: &str, relu: bool) -> String {
        let c = self.node(
            &format!("{prefix}/conv2d"),
            "Conv2D",
            &[x, &format!("{prefix}/conv/filters")],
            json!({"strides": ints(&[1, stride, stride, 1]), "padding": string(padding)}),
        );
        let b = self.node(
            &format!("{prefix}/bias"),
            "Add",
            &[&c, &format!("{prefix}/conv/bias")],
            json!({}),
        );
        let m = self.node(
            &format!("{prefix}/scale"),
            "Mul",
            &[&b, &format!("{prefix}/scale/weights")],
            json!({}),
        );
        let a = self.node(
            &format!("{prefix}/shift"),
            "Add",
            &[&m, &format!("{prefix}/scale/biases")],
            json!({}),
        );
        if relu {
            self.node(&format!("{prefix}/relu"), "Relu", &[&a], json!({}))
        } else {
            a
        }
    }

    fn residual(&mut self, x: &str, prefix: &str) -> String {
        let out = self.conv(x, &format!("{prefix}/conv1"), 1, "SAME", true);
        let out = self.conv(&out, &format!("{prefix}/conv2"), 1, "SAME", false);
        let sum = self.node(&format!("{prefix}/sum"), "Add", &[&out, x], json!({}));
        self.node(&format!("{prefix}/out"), "Relu", &[&sum], json!({}))
    }

    fn residual_down(&mut self, x: &str, prefix: &str, shape: &mut Shape, width: usize) -> String {
        let mut out = self.conv(x, &format!("{prefix}/conv1"), 2, "VALID", true);
        out = self.conv(&out, &format!("{prefix}/conv2"), 1, "SAME", false);
        let out_hw = (shape.hw - 3) / 2 + 1;
        let pooled_hw = shape.hw / 2;
        let mut pooled = self.node(
            &format!("{prefix}/shortcut"),
            "AvgPool",
            &[x],
            json!({"ksize": ints(&[1, 2, 2, 1]), "strides": ints(&[1, 2, 2, 1]), "padding": string("VALID")}),
        );
        if pooled_hw > out_hw {
            let d = (pooled_hw - out_hw) as i32;
            let name = format!("{prefix}/pad_spatial");
            self.extra_i32(&name, vec![4, 2], &[0, 0, 0, d, 0, d, 0, 0]);
            out = self.node(
                &format!("{prefix}/padded"),
                "Pad",
                &[&out, &name],
                json!({}),
            );
        }
        if width > shape.c {
            let name = format!("{prefix}/pad_channels");
            let d = (width - shape.c) as i32;
            self.extra_i32(&name, vec![4, 2], &[0, 0, 0, 0, 0, 0, 0, d]);
            pooled = self.node(
                &format!("{prefix}/shortcut_padded"),
                "Pad",
                &[&pooled, &name],
                json!({}),
            );
        }
        shape.hw = pooled_hw.max(out_hw);
        shape.c = width;
        let sum = self.node(&format!("{prefix}/sum"), "Add", &[&out, &pooled], json!({}));
        self.node(&format!("{prefix}/out"), "Relu", &[&sum], json!({}))
    }
}
