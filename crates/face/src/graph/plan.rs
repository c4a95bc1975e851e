//! Turning a graph node into the operation that runs it: constants looked up, filters laid out,
//! fused activations read, and an unknown op refused by name.

use super::model::NodeDef;
use super::ops::{Activation, Binary, Conv, Dense, Depthwise, Padding, Pooling, Window};
use super::{Graph, Op, Tensor};
use crate::FaceError;

impl Graph {
    pub(super) fn konst(
        &self,
        id: usize,
        node: &NodeDef,
        what: &str,
    ) -> Result<&Tensor, FaceError> {
        self.consts[id]
            .as_ref()
            .ok_or_else(|| FaceError::ModelCorrupt {
                model: self.name.clone(),
                why: format!("{}: {what} must be a constant", node.name),
            })
    }

    pub(super) fn window(node: &NodeDef, kh: usize, kw: usize) -> Window {
        let strides = node.ints("strides").unwrap_or_default();
        let dil = node.ints("dilations").unwrap_or_default();
        let padding = match node.string("padding").as_deref() {
            Some("VALID") => Padding::Valid,
            Some("EXPLICIT") => {
                let p = node.ints("explicit_paddings").unwrap_or_default();
                let g = |i: usize| p.get(i).copied().unwrap_or(0) as usize;
                Padding::Explicit {
                    top: g(2),
                    bottom: g(3),
                    left: g(4),
                    right: g(5),
                }
            }
            _ => Padding::Same,
        };
        let at = |v: &[i64], i: usize| v.get(i).copied().unwrap_or(1).max(1) as usize;
        Window {
            kh,
            kw,
            stride: (at(&strides, 1), at(&strides, 2)),
            dilation: (at(&dil, 1), at(&dil, 2)),
            padding,
        }
    }

    /// Bias and activation of a fused op, from `fused_ops` and its extra inputs.
    pub(super) fn fused(
        &self,
        node: &NodeDef,
        extra: &[usize],
    ) -> Result<(Option<Vec<f32>>, Activation), FaceError> {
        let ops = node.strings("fused_ops");
        let mut bias = None;
        let mut act = Activation::None;
        let mut next = 0;
        for op in &ops {
            match op.as_str() {
                "BiasAdd" => {
                    bias = Some(self.konst(extra[next], node, "bias")?.data.clone());
                    next += 1;
                }
                "Relu" => act = Activation::Relu,
                "Relu6" => act = Activation::Relu6,
                "Elu" => act = Activation::Elu,
                "Sigmoid" => act = Activation::Sigmoid,
                "LeakyRelu" => {
                    act = Activation::LeakyRelu(
                        node.attr
                            .get("leakyrelu_alpha")
                            .and_then(|a| a.get("f"))
                            .and_then(|f| f.as_f64())
                            .unwrap_or(0.2) as f32,
                    )
                }
                "Prelu" => {
                    act = Activation::Prelu(
                        self.konst(extra[next], node, "prelu alpha")?.data.clone(),
                    );
                    next += 1;
                }
                other => {
                    return Err(FaceError::UnsupportedOp {
                        model: self.name.clone(),
                        op: format!("{} with fused {other}", node.op),
                        node: node.name.clone(),
                    })
                }
            }
        }
        Ok((bias, act))
    }

    pub(super) fn plan(&self, n: &NodeDef, inputs: &[usize]) -> Result<Op, FaceError> {
        Ok(match n.op.as_str() {
            "Placeholder" => Op::Input,
            "Conv2D" | "_FusedConv2D" => {
                let f = self.konst(inputs[1], n, "filter")?;
                let (kh, kw, cin, cout) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3]);
                let (bias, act) = if n.op == "Conv2D" {
                    (None, Activation::None)
                } else {
                    self.fused(n, &inputs[2..])?
                };
                Op::Conv(Conv {
                    win: Self::window(n, kh, kw),
                    cin,
                    cout,
                    filter: f.data.clone(),
                    bias,
                    act,
                    quantized: None,
                })
            }
            "DepthwiseConv2dNative" | "FusedDepthwiseConv2dNative" => {
                let f = self.konst(inputs[1], n, "filter")?;
                let (kh, kw, cin, multiplier) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3]);
                let (bias, act) = if n.op == "DepthwiseConv2dNative" {
                    (None, Activation::None)
                } else {
                    self.fused(n, &inputs[2..])?
                };
                Op::Depthwise(Depthwise {
                    win: Self::window(n, kh, kw),
                    cin,
                    multiplier,
                    filter: f.data.clone(),
                    bias,
                    act,
                })
            }
            "MatMul" | "_FusedMatMul" => {
                let w = self.konst(inputs[1], n, "right operand")?;
                if n.bool("transpose_a") {
                    return Err(FaceError::UnsupportedOp {
                        model: self.name.clone(),
                        op: "MatMul with transpose_a".into(),
                        node: n.name.clone(),
                    });
                }
                let (k, nn, weights) = if n.bool("transpose_b") {
                    let (rows, cols) = (w.shape[0], w.shape[1]);
                    let mut t = vec![0.0; rows * cols];
                    for r in 0..rows {
                        for c in 0..cols {
                            t[c * rows + r] = w.data[r * cols + c];
                        }
                    }
                    (cols, rows, t)
                } else {
                    (w.shape[0], w.shape[1], w.data.clone())
                };
                let (bias, act) = if n.op == "MatMul" {
                    (None, Activation::None)
                } else {
                    self.fused(n, &inputs[2..])?
                };
                Op::Dense(Dense {
                    k,
                    n: nn,
                    weights,
                    bias,
                    act,
                })
            }
            "Add" | "AddV2" => Op::Binary(Binary::Add),
            "Sub" => Op::Binary(Binary::Sub),
            "Mul" => Op::Binary(Binary::Mul),
            "Maximum" => Op::Binary(Binary::Maximum),
            "Minimum" => Op::Binary(Binary::Minimum),
            "Abs" => Op::Abs,
            "Square" => Op::Square,
            "Rsqrt" => Op::Rsqrt,
            "Relu" => Op::Relu,
            "Relu6" => Op::Relu6,
            "Sigmoid" => Op::Sigmoid,
            "Prelu" => Op::Prelu,
            "Softmax" => Op::Softmax,
            "MaxPool" | "AvgPool" => {
                let k = n.ints("ksize").unwrap_or_default();
                let at = |i: usize| k.get(i).copied().unwrap_or(1).max(1) as usize;
                let kind = if n.op == "MaxPool" {
                    Pooling::Max
                } else {
                    Pooling::Avg
                };
                Op::Pool(Self::window(n, at(1), at(2)), kind)
            }
            "Pad" => {
                let p = self.konst(inputs[1], n, "paddings")?.ints();
                Op::Pad(
                    p.chunks(2)
                        .map(|c| (c[0].max(0) as usize, c[1].max(0) as usize))
                        .collect(),
                )
            }
            "Reshape" => Op::Reshape(self.konst(inputs[1], n, "shape")?.ints()),
            "Squeeze" => Op::Squeeze(n.ints("squeeze_dims").unwrap_or_default()),
            "Sum" | "Mean" => Op::Reduce {
                axes: self.konst(inputs[1], n, "axes")?.ints(),
                keep_dims: n.bool("keep_dims"),
                mean: n.op == "Mean",
            },
            "Identity" => Op::Identity,
            other => {
                return Err(FaceError::UnsupportedOp {
                    model: self.name.clone(),
                    op: other.to_owned(),
                    node: n.name.clone(),
                })
            }
        })
    }
}
