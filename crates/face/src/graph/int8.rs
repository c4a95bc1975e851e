//! 8-bit convolution products with AVX-512 VNNI: weights quantised per output channel at load and
//! packed for `vpdpbusd`, activations quantised per run (one scale and zero point per tensor).
//!
//! A VNNI instruction multiplies 64 unsigned activation bytes by 64 signed weight bytes and adds
//! them in fours into 16 lanes: four times the multiply-adds of a float FMA. The price is the
//! rounding of each activation to one of 256 levels; `docs/face.md` reports what that does to
//! the descriptor and to accuracy. Graphs use it only when asked ([`super::Graph::quantize`]).

/// Columns of the packed weights per kernel step (two 16-lane registers).
const COLS: usize = 32;
/// Output rows per kernel step.
const ROWS: usize = 8;

/// Whether this CPU runs the 8-bit kernel.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        super::cpu::avx512()
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A `[k, n]` weight matrix quantised per column (output channel), packed as
/// `[k/4][n][4]` signed bytes (k and n padded), with the scale and byte sum of each column.
#[derive(Debug, Clone)]
pub(crate) struct QuantizedWeights {
    /// Rows of the original matrix rounded up to a multiple of 4.
    pub k4: usize,
    pub n: usize,
    n_padded: usize,
    packed: Vec<i8>,
    scales: Vec<f32>,
    /// Σₖ w[k][j] of the quantised weights (for the activations' zero point).
    sums: Vec<i32>,
}

impl QuantizedWeights {
    /// Quantises `w` (`[k, n]`, row-major) to signed bytes, one symmetric scale per column.
    pub fn new(w: &[f32], k: usize, n: usize) -> QuantizedWeights {
        let (k4, n_padded) = (k.div_ceil(4) * 4, n.div_ceil(COLS) * COLS);
        // Each column's largest magnitude, in one pass over the rows (w is row-major).
        let mut scales = vec![0.0f32; n];
        for row in w[..k * n].chunks_exact(n) {
            for (s, v) in scales.iter_mut().zip(row) {
                *s = s.max(v.abs());
            }
        }
        for s in &mut scales {
            *s = if *s > 0.0 { *s / 127.0 } else { 1.0 };
        }
        let mut packed = vec![0i8; k4 * n_padded];
        let mut sums = vec![0i32; n];
        for (i, row) in w[..k * n].chunks_exact(n).enumerate() {
            let base = (i / 4) * n_padded * 4 + i % 4;
            for (j, (v, s)) in row.iter().zip(&scales).enumerate() {
                let q = (v / s).round().clamp(-127.0, 127.0) as i8;
                packed[base + j * 4] = q;
                sums[j] += i32::from(q);
            }
        }
        QuantizedWeights {
            k4,
            n,
            n_padded,
            packed,
            scales,
            sums,
        }
    }
}

/// How activations become bytes: `q = round(x / scale) + zero`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quantiser {
    pub scale: f32,
    pub zero: u8,
}

impl Quantiser {
    /// The quantiser covering `x`'s range (and 0, which padding needs exactly).
    pub fn covering(x: &[f32]) -> Quantiser {
        let (lo, hi) = x
            .iter()
            .fold((0.0f32, 0.0f32), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
        Quantiser {
            scale,
            zero: (-lo / scale).round().clamp(0.0, 255.0) as u8,
        }
    }

    /// Quantises `x` into `out`.
    pub fn apply(&self, x: &[f32], out: &mut Vec<u8>) {
        let (inv, zero) = (1.0 / self.scale, f32::from(self.zero));
        out.clear();
        out.extend(
            x.iter()
                .map(|v| (v * inv + zero).round().clamp(0.0, 255.0) as u8),
        );
    }
}

/// C[m×n] = dequantised (A · W): `a` holds `m` rows of `w.k4` activation bytes (rows past `m`
/// up to a multiple of [`ROWS`] must exist too; their results are dropped).
pub(crate) fn gemm(m: usize, a: &[u8], q: Quantiser, w: &QuantizedWeights, c: &mut [f32]) {
    let rows = m.div_ceil(ROWS) * ROWS;
    assert!(a.len() >= rows * w.k4 && c.len() >= m * w.n && available());
    // SAFETY: the CPU features were checked just above, and the asserts bound every access.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        gemm_vnni(m, a, q, w, c)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn gemm_vnni(m: usize, a: &[u8], q: Quantiser, w: &QuantizedWeights, c: &mut [f32]) {
    use std::arch::x86_64::*;
    let (k4, n) = (w.k4, w.n);
    let steps = k4 / 4;
    let mut block = [[0i32; COLS]; ROWS];
    for r0 in (0..m).step_by(ROWS) {
        for j0 in (0..w.n_padded).step_by(COLS) {
            let mut acc = [[_mm512_setzero_si512(); 2]; ROWS];
            let mut b = w.packed.as_ptr().add(j0 * 4);
            let arow = a.as_ptr().add(r0 * k4);
            for s in 0..steps {
                let b0 = _mm512_loadu_si512(b as *const _);
                let b1 = _mm512_loadu_si512(b.add(64) as *const _);
                for (r, acc) in acc.iter_mut().enumerate() {
                    let four = (arow.add(r * k4 + s * 4) as *const i32).read_unaligned();
                    let av = _mm512_set1_epi32(four);
                    acc[0] = _mm512_dpbusd_epi32(acc[0], av, b0);
                    acc[1] = _mm512_dpbusd_epi32(acc[1], av, b1);
                }
                b = b.add(w.n_padded * 4);
            }
            for (dst, acc) in block.iter_mut().zip(&acc) {
                _mm512_storeu_si512(dst.as_mut_ptr() as *mut _, acc[0]);
                _mm512_storeu_si512(dst.as_mut_ptr().add(16) as *mut _, acc[1]);
            }
            let zero = i32::from(q.zero);
            for (r, sums) in block.iter().enumerate().take(m - r0) {
                let out = &mut c[(r0 + r) * n..(r0 + r + 1) * n];
                for j in j0..(j0 + COLS).min(n) {
                    let v = sums[j - j0] - zero * w.sums[j];
                    out[j] = v as f32 * q.scale * w.scales[j];
                }
            }
        }
    }
}

/// Rows of an activation matrix for [`gemm`]: `m` rows rounded up to the kernel's row step.
pub(crate) fn padded_rows(m: usize) -> usize {
    m.div_ceil(ROWS) * ROWS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_8_bit_product_is_close_to_the_float_one() {
        if !available() {
            eprintln!("skipped: no AVX-512 VNNI on this CPU");
            return;
        }
        for (m, k, n) in [(1, 3, 5), (9, 75, 24), (19, 288, 64), (8, 2304, 256)] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7 % 23) as f32 - 4.0) / 9.0)
                .collect();
            let w: Vec<f32> = (0..k * n)
                .map(|i| ((i * 5 % 17) as f32 - 8.0) / 40.0)
                .collect();
            let qw = QuantizedWeights::new(&w, k, n);
            let q = Quantiser::covering(&a);
            let mut bytes = vec![];
            // Row by row, each padded to k4 with the zero point (what im2col does).
            for r in 0..padded_rows(m) {
                let mut row = vec![];
                if r < m {
                    q.apply(&a[r * k..(r + 1) * k], &mut row);
                }
                row.resize(qw.k4, q.zero);
                bytes.extend(row);
            }
            let mut c = vec![f32::NAN; m * n];
            gemm(m, &bytes, q, &qw, &mut c);
            let scale = (0..m * n)
                .map(|i| {
                    let (r, j) = (i / n, i % n);
                    (0..k)
                        .map(|t| (a[r * k + t] * w[t * n + j]).abs())
                        .sum::<f32>()
                })
                .fold(0.0, f32::max);
            for r in 0..m {
                for j in 0..n {
                    let want: f32 = (0..k).map(|t| a[r * k + t] * w[t * n + j]).sum();
                    let got = c[r * n + j];
                    assert!(
                        (got - want).abs() <= 0.02 * scale,
                        "{m}x{k}x{n} [{r},{j}]: {got} vs {want}"
                    );
                }
            }
        }
    }
}
