//! Depthwise convolution (BlazeFace's and the face mesh's main operation): its own loops, with an
//! AVX2 path, since a GEMM would multiply mostly zeros.

use super::ops::{bias_and_activation, Activation, Window};
use super::tensor::Tensor;

/// Depthwise convolution: filter `[kh, kw, cin, multiplier]`.
#[derive(Debug, Clone)]
pub(crate) struct Depthwise {
    pub win: Window,
    pub cin: usize,
    pub multiplier: usize,
    pub filter: Vec<f32>,
    pub bias: Option<Vec<f32>>,
    pub act: Activation,
}

impl Depthwise {
    /// Runs on `x` into `out`, with AVX2 where the CPU has it (the channel loops are short and
    /// many; with SSE2's four lanes this op took a third of BlazeFace's time).
    pub fn run(&self, x: &Tensor, out: Vec<f32>) -> Tensor {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            return unsafe { self.run_avx2(x, out) };
        }
        self.run_portable(x, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2(&self, x: &Tensor, out: Vec<f32>) -> Tensor {
        self.run_portable(x, out)
    }

    #[inline(always)]
    fn run_portable(&self, x: &Tensor, mut out: Vec<f32>) -> Tensor {
        let g = self.win.geometry(&x.shape);
        let (c, mult) = (self.cin, self.multiplier);
        let cout = c * mult;
        out.clear();
        out.resize(g.n * g.oh * g.ow * cout, 0.0);
        let (sx, dx) = (self.win.stride.1, self.win.dilation.1);
        // With stride 1 and one filter per channel, a tap's work over an output row is one flat
        // multiply-add of three contiguous runs: the input, the output, and the tap's weights
        // repeated once per pixel (built here, a row long).
        let flat = sx == 1 && mult == 1;
        let taps = self.win.kh * self.win.kw;
        let tiled: Vec<f32> = if flat {
            (0..taps)
                .flat_map(|t| {
                    let f = &self.filter[t * cout..(t + 1) * cout];
                    f.iter().copied().cycle().take(g.ow * cout)
                })
                .collect()
        } else {
            vec![]
        };
        for b in 0..g.n {
            let input = &x.data[b * g.h * g.w * c..(b + 1) * g.h * g.w * c];
            let dst = &mut out[b * g.oh * g.ow * cout..(b + 1) * g.oh * g.ow * cout];
            for oy in 0..g.oh {
                let row = &mut dst[oy * g.ow * cout..(oy + 1) * g.ow * cout];
                for ky in 0..self.win.kh {
                    let iy = (oy * self.win.stride.0 + ky * self.win.dilation.0) as isize
                        - g.pt as isize;
                    if iy < 0 || iy >= g.h as isize {
                        continue;
                    }
                    let in_row = &input[iy as usize * g.w * c..(iy as usize + 1) * g.w * c];
                    if flat && self.win.kw == 3 && dx == 1 && g.pl <= 1 && g.w >= 3 {
                        // The usual 3×3 kernel: the three taps of this kernel row in one pass
                        // where all three fall inside the image (the output is read and written
                        // once instead of three times), the edge columns tap by tap.
                        let f = &tiled[ky * 3 * g.ow * c..(ky * 3 + 3) * g.ow * c];
                        three_taps(row, in_row, f, g.ow, g.w, g.pl, c);
                        continue;
                    }
                    for kx in 0..self.win.kw {
                        // The output columns whose input column lies inside the image, computed
                        // once per tap instead of tested per pixel.
                        let off = (kx * dx) as isize - g.pl as isize;
                        let lo = if off >= 0 {
                            0
                        } else {
                            ((-off) as usize).div_ceil(sx)
                        };
                        let hi = if (g.w as isize) > off {
                            ((g.w as isize - off) as usize).div_ceil(sx).min(g.ow)
                        } else {
                            0
                        };
                        let tap = ky * self.win.kw + kx;
                        if flat {
                            if hi > lo {
                                let span = (hi - lo) * c;
                                let start = (lo as isize + off) as usize * c;
                                let src = &in_row[start..start + span];
                                let o = &mut row[lo * c..lo * c + span];
                                let f = &tiled[tap * g.ow * c..tap * g.ow * c + span];
                                for ((ov, sv), fv) in o.iter_mut().zip(src).zip(f) {
                                    *ov += sv * fv;
                                }
                            }
                            continue;
                        }
                        let f = &self.filter[tap * cout..(tap + 1) * cout];
                        for ox in lo..hi {
                            let ix = (ox * sx) as isize + off;
                            let src = &in_row[ix as usize * c..(ix as usize + 1) * c];
                            let o = &mut row[ox * cout..(ox + 1) * cout];
                            if mult == 1 {
                                for ((ov, sv), fv) in o.iter_mut().zip(src).zip(f) {
                                    *ov += sv * fv;
                                }
                            } else {
                                for (ci, sv) in src.iter().enumerate() {
                                    for m in 0..mult {
                                        o[ci * mult + m] += sv * f[ci * mult + m];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        bias_and_activation(&mut out, self.bias.as_deref(), &self.act, cout);
        Tensor::new(vec![g.n, g.oh, g.ow, cout], out)
    }
}

/// One kernel row of a stride-1, 3-wide depthwise convolution: `row[ox] += Σ_kx in[ox + kx −
/// pl] · f_kx` per channel, for `pl` ≤ 1 (`f`: the three taps' weights, each repeated along the
/// row, `ow·c` long).
#[inline(always)]
fn three_taps(row: &mut [f32], input: &[f32], f: &[f32], ow: usize, w: usize, pl: usize, c: usize) {
    let (f0, rest) = f.split_at(ow * c);
    let (f1, f2) = rest.split_at(ow * c);
    // Output columns whose three inputs (ox − pl … ox + 2 − pl) all lie inside the image.
    let lo = pl;
    let hi = (w + pl).saturating_sub(2).min(ow);
    let tap = |row: &mut [f32], ox: usize, kx: usize, fk: &[f32]| {
        let ix = ox as isize + kx as isize - pl as isize;
        if ix >= 0 && (ix as usize) < w {
            let src = &input[ix as usize * c..(ix as usize + 1) * c];
            let o = &mut row[ox * c..(ox + 1) * c];
            for ((ov, sv), fv) in o.iter_mut().zip(src).zip(&fk[ox * c..(ox + 1) * c]) {
                *ov += sv * fv;
            }
        }
    };
    for ox in (0..lo.min(ow)).chain(hi.max(lo)..ow) {
        for (kx, fk) in [f0, f1, f2].into_iter().enumerate() {
            tap(row, ox, kx, fk);
        }
    }
    if hi > lo {
        let span = (hi - lo) * c;
        let start = (lo - pl) * c;
        let o = &mut row[lo * c..lo * c + span];
        let (s0, s1, s2) = (
            &input[start..start + span],
            &input[start + c..start + c + span],
            &input[start + 2 * c..start + 2 * c + span],
        );
        let (g0, g1, g2) = (
            &f0[lo * c..lo * c + span],
            &f1[lo * c..lo * c + span],
            &f2[lo * c..lo * c + span],
        );
        for i in 0..span {
            o[i] += s0[i] * g0[i] + s1[i] * g1[i] + s2[i] * g2[i];
        }
    }
}
