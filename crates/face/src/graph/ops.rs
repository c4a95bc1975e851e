//! Kernels. NHWC throughout; batch is the leading dimension. Convolutions run as im2col + packed
//! GEMM (`matrixmultiply`), pooling has its own loops; depthwise convolutions are in
//! [`super::depthwise`].

use super::gemm::gemm;
use super::int8::{self, Quantiser, QuantizedWeights};
use super::tensor::Tensor;

pub(crate) use super::depthwise::Depthwise;

/// Activation fused after a convolution or matrix product.
#[derive(Debug, Clone)]
pub(crate) enum Activation {
    None,
    Relu,
    Relu6,
    Elu,
    Sigmoid,
    LeakyRelu(f32),
    /// Per-channel slopes.
    Prelu(Vec<f32>),
}

impl Activation {
    /// Applies to `out`, laid out with `channels` innermost.
    fn apply(&self, out: &mut [f32], channels: usize) {
        match self {
            Activation::None => {}
            Activation::Relu => out.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Relu6 => out.iter_mut().for_each(|v| *v = v.clamp(0.0, 6.0)),
            Activation::Elu => out
                .iter_mut()
                .for_each(|v| *v = if *v > 0.0 { *v } else { v.exp() - 1.0 }),
            Activation::Sigmoid => out.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::LeakyRelu(a) => out
                .iter_mut()
                .for_each(|v| *v = if *v > 0.0 { *v } else { *v * a }),
            Activation::Prelu(alpha) => {
                for row in out.chunks_exact_mut(channels) {
                    for (v, a) in row.iter_mut().zip(alpha) {
                        if *v < 0.0 {
                            *v *= a;
                        }
                    }
                }
            }
        }
    }
}

pub(crate) fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// Spatial padding of a window op.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Padding {
    Same,
    Valid,
    Explicit {
        top: usize,
        bottom: usize,
        left: usize,
        right: usize,
    },
}

/// Output size and leading padding of one spatial dimension.
fn window(
    input: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    pad: Padding,
    vertical: bool,
) -> (usize, usize) {
    let eff = (k - 1) * dilation + 1;
    match pad {
        Padding::Same => {
            let out = input.div_ceil(stride);
            let total = ((out - 1) * stride + eff).saturating_sub(input);
            (out, total / 2)
        }
        Padding::Valid => ((input.saturating_sub(eff)) / stride + 1, 0),
        Padding::Explicit {
            top,
            bottom,
            left,
            right,
        } => {
            let (a, b) = if vertical {
                (top, bottom)
            } else {
                (left, right)
            };
            ((input + a + b - eff) / stride + 1, a)
        }
    }
}

/// Geometry shared by convolution, depthwise convolution and pooling.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub kh: usize,
    pub kw: usize,
    pub stride: (usize, usize),
    pub dilation: (usize, usize),
    pub padding: Padding,
}

/// A window's placement over one input: its sizes, output sizes and top/left padding.
pub(super) struct Geometry {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub oh: usize,
    pub ow: usize,
    pub pt: usize,
    pub pl: usize,
}

impl Window {
    pub(super) fn geometry(&self, shape: &[usize]) -> Geometry {
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3]);
        let (oh, pt) = window(
            h,
            self.kh,
            self.stride.0,
            self.dilation.0,
            self.padding,
            true,
        );
        let (ow, pl) = window(
            w,
            self.kw,
            self.stride.1,
            self.dilation.1,
            self.padding,
            false,
        );
        Geometry {
            n,
            h,
            w,
            c,
            oh,
            ow,
            pt,
            pl,
        }
    }
}

/// A 2-D convolution with its weights laid out for GEMM: `[kh·kw·cin, cout]` (TensorFlow's HWIO
/// order is exactly that), plus optional bias and activation.
#[derive(Debug, Clone)]
pub(crate) struct Conv {
    pub win: Window,
    pub cin: usize,
    pub cout: usize,
    pub filter: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub act: Activation,
    /// The filter in 8 bits, when the graph was quantised ([`super::Graph::quantize`]).
    pub quantized: Option<QuantizedWeights>,
}

/// Byte buffers of an 8-bit convolution, reused between runs.
#[derive(Default)]
pub(crate) struct ByteScratch {
    input: Vec<u8>,
    cols: Vec<u8>,
}

pub(super) fn bias_and_activation(
    out: &mut [f32],
    bias: Option<&[f32]>,
    act: &Activation,
    channels: usize,
) {
    if let Some(b) = bias {
        for row in out.chunks_exact_mut(channels) {
            for (v, bb) in row.iter_mut().zip(b) {
                *v += bb;
            }
        }
    }
    act.apply(out, channels);
}

impl Conv {
    /// Runs on `x` into `out` (resized), using `cols` as the im2col buffer.
    pub fn run(
        &self,
        x: &Tensor,
        mut out: Vec<f32>,
        cols: &mut Vec<f32>,
        bytes: &mut ByteScratch,
    ) -> Tensor {
        let g = self.win.geometry(&x.shape);
        let k = self.win.kh * self.win.kw * self.cin;
        let m = g.oh * g.ow;
        out.clear();
        out.resize(g.n * m * self.cout, 0.0);
        if let Some(qw) = &self.quantized {
            let q = Quantiser::covering(&x.data);
            q.apply(&x.data, &mut bytes.input);
            bytes.cols.clear();
            bytes
                .cols
                .resize(int8::padded_rows(g.n * m) * qw.k4, q.zero);
            self.im2col(&g, &bytes.input, &mut bytes.cols, qw.k4);
            int8::gemm(g.n * m, &bytes.cols, q, qw, &mut out);
            bias_and_activation(&mut out, self.bias.as_deref(), &self.act, self.cout);
            return Tensor::new(vec![g.n, g.oh, g.ow, self.cout], out);
        }
        let direct = self.win.kh == 1
            && self.win.kw == 1
            && self.win.stride == (1, 1)
            && g.oh == g.h
            && g.ow == g.w;
        // One GEMM for the whole batch: its rows are every output pixel of every image, so a
        // batch of two (a face and its mirror) streams the weights once, not twice.
        if direct {
            gemm(g.n * m, k, self.cout, &x.data, &self.filter, &mut out);
        } else {
            cols.clear();
            cols.resize(g.n * m * k, 0.0);
            self.im2col(&g, &x.data, cols, k);
            gemm(g.n * m, k, self.cout, cols, &self.filter, &mut out);
        }
        bias_and_activation(&mut out, self.bias.as_deref(), &self.act, self.cout);
        Tensor::new(vec![g.n, g.oh, g.ow, self.cout], out)
    }

    /// Lays out the batch's receptive fields as rows of `cols` (`[n·oh·ow, k]`, `k` at least
    /// kh·kw·cin); taps outside the image keep the value `cols` was filled with.
    fn im2col<T: Copy>(&self, g: &Geometry, batch: &[T], cols: &mut [T], k: usize) {
        let (image, fields) = (g.h * g.w * g.c, g.oh * g.ow * k);
        for (input, cols) in batch.chunks_exact(image).zip(cols.chunks_exact_mut(fields)) {
            self.im2col_image(g, input, cols, k);
        }
    }

    /// [`Conv::im2col`] for one image.
    fn im2col_image<T: Copy>(&self, g: &Geometry, input: &[T], cols: &mut [T], k: usize) {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let row = &mut cols[(oy * g.ow + ox) * k..(oy * g.ow + ox + 1) * k];
                for ky in 0..self.win.kh {
                    let iy = (oy * self.win.stride.0 + ky * self.win.dilation.0) as isize
                        - g.pt as isize;
                    if iy < 0 || iy >= g.h as isize {
                        continue;
                    }
                    let ix0 = (ox * self.win.stride.1) as isize - g.pl as isize;
                    let last = ix0 + ((self.win.kw - 1) * self.win.dilation.1) as isize;
                    if self.win.dilation.1 == 1 && ix0 >= 0 && last < g.w as isize {
                        // The whole kernel row lies inside the image: one contiguous copy
                        // (a stem with 3 input channels would otherwise copy 3 floats at a time).
                        let src = ((iy as usize) * g.w + ix0 as usize) * g.c;
                        let at = ky * self.win.kw * self.cin;
                        let len = self.win.kw * self.cin;
                        row[at..at + len].copy_from_slice(&input[src..src + len]);
                        continue;
                    }
                    for kx in 0..self.win.kw {
                        let ix = ix0 + (kx * self.win.dilation.1) as isize;
                        if ix < 0 || ix >= g.w as isize {
                            continue;
                        }
                        let src = ((iy as usize) * g.w + ix as usize) * g.c;
                        let at = (ky * self.win.kw + kx) * self.cin;
                        row[at..at + self.cin].copy_from_slice(&input[src..src + self.cin]);
                    }
                }
            }
        }
    }
}

/// Which reduction a pooling window applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pooling {
    Max,
    /// The mean of the window's elements inside the input (padding is not counted, as in
    /// TensorFlow).
    Avg,
}

/// Max or average pooling over NHWC.
pub(crate) fn pool(x: &Tensor, win: &Window, kind: Pooling, mut out: Vec<f32>) -> Tensor {
    let g = win.geometry(&x.shape);
    let init = match kind {
        Pooling::Max => f32::NEG_INFINITY,
        Pooling::Avg => 0.0,
    };
    out.clear();
    out.resize(g.n * g.oh * g.ow * g.c, init);
    for b in 0..g.n {
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let o = &mut out
                    [((b * g.oh + oy) * g.ow + ox) * g.c..((b * g.oh + oy) * g.ow + ox + 1) * g.c];
                let mut count = 0usize;
                for ky in 0..win.kh {
                    let iy = (oy * win.stride.0 + ky) as isize - g.pt as isize;
                    if iy < 0 || iy >= g.h as isize {
                        continue;
                    }
                    for kx in 0..win.kw {
                        let ix = (ox * win.stride.1 + kx) as isize - g.pl as isize;
                        if ix < 0 || ix >= g.w as isize {
                            continue;
                        }
                        count += 1;
                        let s = ((b * g.h + iy as usize) * g.w + ix as usize) * g.c;
                        let src = &x.data[s..s + g.c];
                        match kind {
                            Pooling::Max => {
                                o.iter_mut().zip(src).for_each(|(ov, sv)| *ov = ov.max(*sv))
                            }
                            Pooling::Avg => o.iter_mut().zip(src).for_each(|(ov, sv)| *ov += sv),
                        }
                    }
                }
                if kind == Pooling::Avg && count > 0 {
                    let k = 1.0 / count as f32;
                    o.iter_mut().for_each(|v| *v *= k);
                }
            }
        }
    }
    Tensor::new(vec![g.n, g.oh, g.ow, g.c], out)
}

/// A matrix product with constant right operand `[k, n]`, bias and activation.
#[derive(Debug, Clone)]
pub(crate) struct Dense {
    pub k: usize,
    pub n: usize,
    pub weights: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub act: Activation,
}

impl Dense {
    /// Runs on `x` (`[m, k]`).
    pub fn run(&self, x: &Tensor, mut out: Vec<f32>) -> Tensor {
        let m = x.len() / self.k;
        out.clear();
        out.resize(m * self.n, 0.0);
        gemm(m, self.k, self.n, &x.data, &self.weights, &mut out);
        bias_and_activation(&mut out, self.bias.as_deref(), &self.act, self.n);
        Tensor::new(vec![m, self.n], out)
    }
}

/// Element-wise binary operators.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Binary {
    Add,
    Sub,
    Mul,
    Maximum,
    Minimum,
}

impl Binary {
    fn f(self, a: f32, b: f32) -> f32 {
        match self {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            Binary::Maximum => a.max(b),
            Binary::Minimum => a.min(b),
        }
    }
}

/// Broadcast shape of two shapes (numpy rules), or `None` if incompatible.
pub(crate) fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            a[i + a.len() - rank]
        } else {
            1
        };
        let db = if i + b.len() >= rank {
            b[i + b.len() - rank]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

/// `op(a, b)` with broadcasting into `out`. Fast paths for equal shapes, scalars and
/// per-channel vectors; a general strided loop otherwise.
pub(crate) fn binary(
    op: Binary,
    a: &Tensor,
    b: &Tensor,
    shape: Vec<usize>,
    mut out: Vec<f32>,
) -> Tensor {
    let total: usize = shape.iter().product();
    out.clear();
    let last = *shape.last().unwrap_or(&1);
    let is_channel = |t: &Tensor| t.len() == last && t.shape.last() == Some(&last);
    if a.len() == total && b.len() == total {
        // One loop per operator, so each vectorises (a match per element would not).
        let (x, y) = (&a.data, &b.data);
        match op {
            Binary::Add => out.extend(x.iter().zip(y).map(|(p, q)| p + q)),
            Binary::Sub => out.extend(x.iter().zip(y).map(|(p, q)| p - q)),
            Binary::Mul => out.extend(x.iter().zip(y).map(|(p, q)| p * q)),
            Binary::Maximum => out.extend(x.iter().zip(y).map(|(p, q)| p.max(*q))),
            Binary::Minimum => out.extend(x.iter().zip(y).map(|(p, q)| p.min(*q))),
        }
    } else if b.len() == 1 {
        let y = b.data[0];
        out.extend(a.data.iter().map(|x| op.f(*x, y)));
    } else if a.len() == 1 {
        let x = a.data[0];
        out.extend(b.data.iter().map(|y| op.f(x, *y)));
    } else if a.len() == total && is_channel(b) {
        for row in a.data.chunks_exact(last) {
            out.extend(row.iter().zip(&b.data).map(|(x, y)| op.f(*x, *y)));
        }
    } else if b.len() == total && is_channel(a) {
        for row in b.data.chunks_exact(last) {
            out.extend(a.data.iter().zip(row).map(|(x, y)| op.f(*x, *y)));
        }
    } else {
        let strides = |t: &Tensor| {
            let rank = shape.len();
            let mut s = vec![0usize; rank];
            let mut acc = 1;
            for i in (0..t.shape.len()).rev() {
                let d = rank - t.shape.len() + i;
                s[d] = if t.shape[i] == 1 { 0 } else { acc };
                acc *= t.shape[i];
            }
            s
        };
        let (sa, sb) = (strides(a), strides(b));
        let mut idx = vec![0usize; shape.len()];
        for _ in 0..total {
            let ia: usize = idx.iter().zip(&sa).map(|(i, s)| i * s).sum();
            let ib: usize = idx.iter().zip(&sb).map(|(i, s)| i * s).sum();
            out.push(op.f(a.data[ia], b.data[ib]));
            for d in (0..shape.len()).rev() {
                idx[d] += 1;
                if idx[d] < shape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
    Tensor::new(shape, out)
}

/// Sum or mean over `axes`.
pub(crate) fn reduce(x: &Tensor, axes: &[usize], keep_dims: bool, mean: bool) -> Tensor {
    let rank = x.shape.len();
    let mut out_shape_keep = x.shape.clone();
    for &a in axes {
        out_shape_keep[a] = 1;
    }
    let total: usize = out_shape_keep.iter().product();
    let mut out = vec![0.0f32; total];
    let mut idx = vec![0usize; rank];
    for v in &x.data {
        let mut o = 0;
        for d in 0..rank {
            o = o * out_shape_keep[d] + if out_shape_keep[d] == 1 { 0 } else { idx[d] };
        }
        out[o] += v;
        for d in (0..rank).rev() {
            idx[d] += 1;
            if idx[d] < x.shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    if mean {
        let n = (x.len() / total.max(1)) as f32;
        out.iter_mut().for_each(|v| *v /= n);
    }
    let shape = if keep_dims {
        out_shape_keep
    } else {
        x.shape
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, d)| *d)
            .collect()
    };
    Tensor::new(shape, out)
}

/// Zero padding; `pads[d] = (before, after)`.
pub(crate) fn pad(x: &Tensor, pads: &[(usize, usize)], mut out: Vec<f32>) -> Tensor {
    let shape: Vec<usize> = x
        .shape
        .iter()
        .zip(pads)
        .map(|(d, (a, b))| d + a + b)
        .collect();
    out.clear();
    out.resize(shape.iter().product(), 0.0);
    let rank = shape.len();
    // Copy rows along the last axis.
    let row = x.shape[rank - 1];
    let rows = x.len() / row.max(1);
    let mut idx = vec![0usize; rank - 1];
    for r in 0..rows {
        let mut o = 0;
        for d in 0..rank - 1 {
            o = o * shape[d] + idx[d] + pads[d].0;
        }
        o = o * shape[rank - 1] + pads[rank - 1].0;
        out[o..o + row].copy_from_slice(&x.data[r * row..(r + 1) * row]);
        for d in (0..rank - 1).rev() {
            idx[d] += 1;
            if idx[d] < x.shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Tensor::new(shape, out)
}

/// Softmax over the last axis.
pub(crate) fn softmax(x: &Tensor, mut out: Vec<f32>) -> Tensor {
    let last = *x.shape.last().unwrap_or(&1);
    out.clear();
    out.extend_from_slice(&x.data);
    for row in out.chunks_exact_mut(last) {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for v in row.iter_mut() {
            *v = (*v - max).exp();
            sum += *v;
        }
        row.iter_mut().for_each(|v| *v /= sum);
    }
    Tensor::new(x.shape.clone(), out)
}
