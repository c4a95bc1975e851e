//! Reads dlib's own file of its face-recognition ResNet, `dlib_face_recognition_resnet_model_v1.dat`
//! (float32 weights, from the PyPI package `face_recognition_models`), into the weights that
//! [`crate::dlib_resnet`] names and wires.
//!
//! dlib writes a network as nested layers, each layer writing the network beneath it first: so
//! the file holds the loss layer's settings, then one version number per layer from the top down,
//! then the input layer, then each layer's own part from the bottom up — its details (a name such
//! as `con_4`, then its parameters) and the training state dlib keeps beside it. Tag and skip
//! layers write only their version. The reader walks that order and keeps the parameters of the
//! convolutions, affine layers and the final matrix, in the order the network applies them.

use crate::dlib_resnet::{Normalisation, BLOCKS};
use crate::FaceError;
use serde_json::json;

/// The network's weights as [`crate::dlib_resnet::model_json`] takes them: a weights manifest
/// (names and shapes, float32) and the weight bytes, plus the input normalisation stored in the
/// file.
pub struct DlibWeights {
    /// The weights manifest (JSON).
    pub manifest: Vec<u8>,
    /// The weight bytes.
    pub bytes: Vec<u8>,
    /// The input normalisation.
    pub normalisation: Normalisation,
}

/// One layer of the file, bottom up.
#[derive(Debug)]
enum Layer {
    /// Convolution: filters as dlib stores them (out, in, rows, cols), biases, stride.
    Con {
        dims: [usize; 4],
        stride: usize,
        filters: Vec<f32>,
        biases: Vec<f32>,
    },
    /// Per-channel scale then shift.
    Affine { gamma: Vec<f32>, beta: Vec<f32> },
    /// Fully connected without bias: weights (inputs × outputs).
    Fc {
        inputs: usize,
        outputs: usize,
        weights: Vec<f32>,
    },
    /// A layer without parameters, as its kind and settings (`relu`, `max_pool 3×3 /2`…).
    Other(String),
}

impl Layer {
    /// What the layer is, without its parameters: what [`expected_layers`] lists.
    fn signature(&self) -> String {
        match self {
            Layer::Con { dims, stride, .. } => format!("con {}×{} /{stride}", dims[2], dims[3]),
            Layer::Affine { .. } => "affine".into(),
            Layer::Fc { .. } => "fc".into(),
            Layer::Other(s) => s.clone(),
        }
    }
}

/// The layers of the network [`crate::dlib_resnet`] builds, bottom up, as [`Layer::signature`]
/// writes them.
fn expected_layers() -> Vec<String> {
    let mut l: Vec<&str> = vec!["con 7×7 /2", "affine", "relu", "max_pool 3×3 /2 pad 0"];
    for (_, down) in BLOCKS {
        l.extend(["tag", if down { "con 3×3 /2" } else { "con 3×3 /1" }]);
        l.extend(["affine", "relu", "con 3×3 /1", "affine"]);
        if down {
            // The shortcut: tag the block's output, skip back to its input, pool that.
            l.extend(["tag", "tag", "avg_pool 2×2 /2 pad 0"]);
        }
        l.extend(["add_prev", "relu"]);
    }
    l.extend(["avg_pool everything", "fc"]);
    l.into_iter().map(String::from).collect()
}

/// Reads the file's bytes.
pub fn read(bytes: &[u8]) -> Result<DlibWeights, FaceError> {
    let mut r = Reader { bytes, at: 0 };
    let (normalisation, layers) = r.network()?;
    let weights = name(layers).map_err(corrupt)?;
    let mut specs = vec![];
    let mut out = Vec::new();
    for (name, shape, data) in weights {
        specs.push(json!({"name": name, "shape": shape, "dtype": "float32"}));
        out.extend(data.iter().flat_map(|v| v.to_le_bytes()));
    }
    let manifest =
        json!([{"paths": ["dlib_face_recognition_resnet_model_v1.dat"], "weights": specs}]);
    Ok(DlibWeights {
        manifest: serde_json::to_vec(&manifest).expect("json"),
        bytes: out,
        normalisation,
    })
}

fn corrupt(why: String) -> FaceError {
    FaceError::ModelCorrupt {
        model: "dlib_face_recognition_resnet_model_v1".into(),
        why,
    }
}

/// A named weight: name, TensorFlow shape, values in TensorFlow's layout.
type Named = (String, Vec<usize>, Vec<f32>);

/// Gives the layers' parameters the names [`crate::dlib_resnet`] wires, after checking that the
/// file holds the network it builds ([`expected_layers`]: kinds, filter sizes, strides, pooling).
fn name(layers: Vec<Layer>) -> Result<Vec<Named>, String> {
    let mut convs = vec!["conv32_down".to_owned()];
    for (prefix, _) in BLOCKS {
        convs.push(format!("{prefix}/conv1"));
        convs.push(format!("{prefix}/conv2"));
    }
    let got: Vec<String> = layers.iter().map(Layer::signature).collect();
    let want = expected_layers();
    if let Some(at) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
        return Err(format!(
            "layer {at} is {:?}, expected {:?}",
            got.get(at),
            want.get(at)
        ));
    }
    let mut params = layers.into_iter().filter(|l| !matches!(l, Layer::Other(_)));
    let mut out = vec![];
    for prefix in convs {
        let Some(Layer::Con {
            dims,
            filters,
            biases,
            ..
        }) = params.next()
        else {
            return Err(format!("expected convolution {prefix}"));
        };
        let [o, i, h, w] = dims;
        // dlib keeps filters as (out, in, rows, cols); TensorFlow as (rows, cols, in, out).
        let mut hwio = vec![0.0; filters.len()];
        let mut from = filters.iter();
        for co in 0..o {
            for ci in 0..i {
                for r in 0..h {
                    for c in 0..w {
                        hwio[((r * w + c) * i + ci) * o + co] = *from.next().expect("sized");
                    }
                }
            }
        }
        out.push((format!("{prefix}/conv/filters"), vec![h, w, i, o], hwio));
        out.push((format!("{prefix}/conv/bias"), vec![o], biases));
        let Some(Layer::Affine { gamma, beta }) = params.next() else {
            return Err(format!("expected an affine layer after {prefix}"));
        };
        if gamma.len() != o {
            return Err(format!(
                "{prefix}: affine of {} channels after {o}",
                gamma.len()
            ));
        }
        out.push((format!("{prefix}/scale/weights"), vec![o], gamma));
        out.push((format!("{prefix}/scale/biases"), vec![o], beta));
    }
    match params.next() {
        Some(Layer::Fc {
            inputs,
            outputs,
            weights,
        }) => out.push(("fc".to_owned(), vec![inputs, outputs], weights)),
        _ => return Err("expected the final fully connected layer".into()),
    }
    if params.next().is_some() {
        return Err("layers with parameters after the final matrix".into());
    }
    Ok(out)
}

/// Walks dlib's serialisation.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn fail<T>(&self, why: impl std::fmt::Display) -> Result<T, FaceError> {
        Err(corrupt(format!("{why} at byte {}", self.at)))
    }

    fn take(&mut self, n: usize) -> Result<&[u8], FaceError> {
        if self.bytes.len() - self.at < n {
            return self.fail("file ends early");
        }
        self.at += n;
        Ok(&self.bytes[self.at - n..self.at])
    }

    /// dlib's compact integer: a byte giving the length (low bits) and sign (0x80), then that many
    /// little-endian bytes.
    fn int(&mut self) -> Result<i64, FaceError> {
        let head = self.take(1)?[0];
        let len = (head & 0x0f) as usize;
        if len > 8 {
            return self.fail(format!("integer of {len} bytes"));
        }
        let v = self
            .take(len)?
            .iter()
            .rev()
            .fold(0u64, |v, b| (v << 8) | *b as u64);
        let v = v as i64;
        Ok(if head & 0x80 != 0 { -v } else { v })
    }

    fn size(&mut self) -> Result<usize, FaceError> {
        let v = self.int()?;
        usize::try_from(v).or_else(|_| self.fail(format!("negative size {v}")))
    }

    fn expect_int(&mut self, what: &str, want: i64) -> Result<(), FaceError> {
        let got = self.int()?;
        if got != want {
            return self.fail(format!("{what} is {got}, expected {want}"));
        }
        Ok(())
    }

    fn string(&mut self) -> Result<String, FaceError> {
        let n = self.size()?;
        let s = self.take(n)?;
        Ok(String::from_utf8_lossy(s).into_owned())
    }

    /// A float or double: an integer mantissa and a power-of-two exponent.
    fn real(&mut self) -> Result<f64, FaceError> {
        let mantissa = self.int()?;
        let exponent = self.int()?;
        Ok(mantissa as f64 * 2f64.powi(exponent as i32))
    }

    fn flag(&mut self) -> Result<bool, FaceError> {
        match self.take(1)?[0] {
            b'0' => Ok(false),
            b'1' => Ok(true),
            b => self.fail(format!("boolean byte {b:#x}")),
        }
    }

    /// A tensor: version 2, four dimensions, then its float32 values in little-endian order.
    fn tensor(&mut self) -> Result<([usize; 4], Vec<f32>), FaceError> {
        self.expect_int("tensor version", 2)?;
        let dims = [self.size()?, self.size()?, self.size()?, self.size()?];
        let n = dims
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(*d))
            .filter(|n| *n <= self.bytes.len() / 4);
        let Some(n) = n else {
            return self.fail(format!("tensor of {dims:?} is larger than the file"));
        };
        let data = self
            .take(n * 4)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok((dims, data))
    }

    /// An alias tensor (a view's shape): version 1 and four dimensions.
    fn alias(&mut self) -> Result<[usize; 4], FaceError> {
        self.expect_int("alias tensor version", 1)?;
        Ok([self.size()?, self.size()?, self.size()?, self.size()?])
    }

    fn network(&mut self) -> Result<(Normalisation, Vec<Layer>), FaceError> {
        self.expect_int("loss layer version", 1)?;
        let loss = self.string()?;
        if loss != "loss_metric_2" {
            return self.fail(format!("loss layer {loss:?}, expected loss_metric_2"));
        }
        self.real()?; // margin
        self.real()?; // distance threshold
                      // One version per layer, top down, until the bottom layer's, which is followed by the
                      // input layer's name.
        let mut versions = vec![];
        loop {
            versions.push(self.int()?);
            if versions.len() > 1000 {
                return self.fail("no input layer");
            }
            let at = self.at;
            let next = self.string().ok();
            self.at = at;
            if next.as_deref() == Some("input_rgb_image_sized") {
                break;
            }
        }
        self.string()?;
        let mean = [self.real()?, self.real()?, self.real()?].map(|v| v as f32);
        let side = self.size()?;
        if self.size()? != side || side != crate::dlib_resnet::INPUT {
            return self.fail(format!("input of side {side}, expected 150"));
        }
        let normalisation = Normalisation {
            mean_rgb: mean,
            scale: 1.0 / 256.0,
        };

        let bottom = versions.pop().expect("one version read");
        let mut layers = vec![self.details()?];
        self.training_state(3)?;
        if bottom >= 3 {
            self.int()?; // sample expansion factor
        }
        for version in versions.into_iter().rev() {
            match version {
                // Tag and skip layers write nothing of their own.
                1 => layers.push(Layer::Other("tag".into())),
                2 => {
                    layers.push(self.details()?);
                    self.training_state(3)?;
                }
                v => return self.fail(format!("layer version {v}")),
            }
        }
        if self.at != self.bytes.len() {
            return self.fail("bytes after the network");
        }
        Ok((normalisation, layers))
    }

    /// What dlib keeps beside a layer's details: three flags and `tensors` training tensors.
    fn training_state(&mut self, tensors: usize) -> Result<(), FaceError> {
        for _ in 0..3 {
            self.flag()?;
        }
        for _ in 0..tensors {
            self.tensor()?;
        }
        Ok(())
    }

    fn details(&mut self) -> Result<Layer, FaceError> {
        let kind = self.string()?;
        match kind.as_str() {
            "con_4" => {
                let (_, params) = self.tensor()?;
                let o = self.size()?;
                let (h, w) = (self.size()?, self.size()?);
                let stride = self.size()?;
                if self.size()? != stride {
                    return self.fail("convolution with unequal strides");
                }
                // Padding: half the filter at stride 1, none above, as in our graph.
                let padding = (self.size()?, self.size()?);
                let want = if stride == 1 { (h / 2, w / 2) } else { (0, 0) };
                if padding != want {
                    return self.fail(format!("convolution padded by {padding:?}"));
                }
                let filters = self.alias()?;
                let biases = self.alias()?;
                for _ in 0..4 {
                    self.real()?; // learning-rate and weight-decay multipliers
                }
                let i = filters[1];
                let n = o * i * h * w;
                if filters != [o, i, h, w] || biases[1] != o || params.len() != n + o {
                    return self.fail(format!(
                        "convolution of {filters:?} with {} parameters",
                        params.len()
                    ));
                }
                Ok(Layer::Con {
                    dims: [o, i, h, w],
                    stride,
                    biases: params[n..].to_vec(),
                    filters: params[..n].to_vec(),
                })
            }
            "affine_" => {
                let (_, params) = self.tensor()?;
                let gamma = self.alias()?;
                self.alias()?;
                self.int()?; // mode: per channel
                let c = gamma[1];
                if params.len() != 2 * c {
                    return self.fail(format!(
                        "affine of {c} channels with {} parameters",
                        params.len()
                    ));
                }
                Ok(Layer::Affine {
                    gamma: params[..c].to_vec(),
                    beta: params[c..].to_vec(),
                })
            }
            "fc_2" => {
                let outputs = self.size()?;
                let inputs = self.size()?;
                let (_, weights) = self.tensor()?;
                self.alias()?;
                self.alias()?;
                self.expect_int("fully connected layer's bias mode (1: no bias)", 1)?;
                for _ in 0..4 {
                    self.real()?;
                }
                if weights.len() != inputs * outputs {
                    return self.fail("fully connected layer of the wrong size");
                }
                Ok(Layer::Fc {
                    inputs,
                    outputs,
                    weights,
                })
            }
            "relu_" => Ok(Layer::Other("relu".into())),
            "add_prev_" => Ok(Layer::Other("add_prev".into())),
            "max_pool_2" | "avg_pool_2" => {
                let kind = kind.trim_end_matches("_2");
                let mut v = [0i64; 6];
                for x in &mut v {
                    *x = self.int()?;
                }
                let [h, w, sy, sx, py, px] = v;
                Ok(Layer::Other(
                    if (h, w, sy, sx, py, px) == (0, 0, 1, 1, 0, 0) {
                        format!("{kind} everything")
                    } else if sy == sx && py == px {
                        format!("{kind} {h}×{w} /{sy} pad {py}")
                    } else {
                        format!("{kind} {h}×{w} /{sy},{sx} pad {py},{px}")
                    },
                ))
            }
            other => self.fail(format!("layer {other:?}, which this network does not have")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(bytes: &[u8]) -> Reader<'_> {
        Reader { bytes, at: 0 }
    }

    #[test]
    fn dlibs_compact_numbers_are_read() {
        // 13; -28; 0.04 as dlib writes it (mantissa 0xa3d70a, exponent -28); a string.
        let mut r = reader(&[0x01, 0x0d, 0x81, 0x1c, 0x03, 0x0a, 0xd7, 0xa3, 0x81, 0x1c]);
        assert_eq!(r.int().unwrap(), 13);
        assert_eq!(r.int().unwrap(), -28);
        assert!((r.real().unwrap() - 0.04).abs() < 1e-8);
        let mut r = reader(b"\x01\x05relu_");
        assert_eq!(r.string().unwrap(), "relu_");
        assert_eq!(reader(&[0x00]).int().unwrap(), 0);
    }

    fn refused(bytes: &[u8], says: &str) {
        crate::testing::assert_model_corrupt(read(bytes), says);
    }

    #[test]
    fn files_that_are_not_dlibs_network_are_refused() {
        refused(b"", "file ends early");
        refused(b"\x01\x01\x01\x0bloss_mmod_2", "expected loss_metric_2");
        refused(b"\x01\x02", "loss layer version is 2");
        // An integer claiming more than eight bytes.
        refused(b"\x01\x01\x01\x0dloss_metric_2\x0f", "integer of 15 bytes");
        // The loss layer, then versions that never reach an input layer.
        let mut endless = b"\x01\x01\x01\x0dloss_metric_2\x00\x00\x00\x00".to_vec();
        endless.extend([0x01, 0x02].repeat(2000));
        refused(&endless, "no input layer");
    }

    #[test]
    fn the_expected_layers_are_the_network_dlib_resnet_builds() {
        let l = expected_layers();
        // Stem (4), ten plain blocks (8 each), four down blocks (11 each), average and matrix.
        assert_eq!(l.len(), 4 + 10 * 8 + 4 * 11 + 2);
        assert_eq!(
            l.iter().filter(|s| s.starts_with("con")).count(),
            1 + 2 * BLOCKS.len()
        );
        assert_eq!(l.last().map(String::as_str), Some("fc"));
    }
}
