//! Matrix products for convolution and dense layers: a packed GEMM (`matrixmultiply`) in
//! general, and a streaming product for the few-row case it handles poorly.

/// Row counts up to this take [`few_rows`] instead of the packed GEMM.
const FEW_ROWS: usize = 4;

/// C[m×n] = A[m×k] · B[k×n] (row-major).
pub(crate) fn gemm(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    if m <= FEW_ROWS {
        return few_rows(m, k, n, a, b, c);
    }
    #[cfg(target_arch = "x86_64")]
    if n <= 64 && k <= 256 && super::cpu::avx512() {
        // SAFETY: the CPU has AVX-512F, checked just above; the assert bounds the slices.
        return unsafe { narrow_avx512(m, k, n, a, b, c) };
    }
    packed(m, k, n, a, b, c)
}

/// The general case: `matrixmultiply`'s packed GEMM (also what CPUs without AVX-512 run for
/// narrow products).
fn packed(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    // SAFETY: the asserts above bound every access sgemm makes with these strides.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

/// GEMM for a few rows (the late, small layers of a network, where the output is a handful of
/// pixels and the weights are megabytes): packing the weights, as a general GEMM does on every
/// call, would cost more than the product, so B is read in place, 16 columns at a time.
fn few_rows(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if super::cpu::avx512() {
            // SAFETY: the CPU has AVX-512F, checked just above.
            return unsafe { few_rows_avx512(m, k, n, a, b, c) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            return unsafe { few_rows_avx2(m, k, n, a, b, c) };
        }
    }
    few_rows_portable(m, k, n, a, b, c)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn few_rows_avx512(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    few_rows_portable(m, k, n, a, b, c)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn few_rows_avx2(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    few_rows_portable(m, k, n, a, b, c)
}

/// B is streamed row by row, in order (its rows are contiguous, so the prefetcher keeps up),
/// four rows at a time; C's few rows stay in L1 and take each four-row step in one pass.
#[inline(always)]
fn few_rows_portable(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    let c = &mut c[..m * n];
    c.fill(0.0);
    let mut kk = 0;
    while kk + 4 <= k {
        let (b0, b1, b2, b3) = (
            &b[kk * n..(kk + 1) * n],
            &b[(kk + 1) * n..(kk + 2) * n],
            &b[(kk + 2) * n..(kk + 3) * n],
            &b[(kk + 3) * n..(kk + 4) * n],
        );
        for (r, row) in c.chunks_exact_mut(n).enumerate() {
            let w = &a[r * k + kk..r * k + kk + 4];
            for ((((x, v0), v1), v2), v3) in row.iter_mut().zip(b0).zip(b1).zip(b2).zip(b3) {
                *x = w[3].mul_add(
                    *v3,
                    w[2].mul_add(*v2, w[1].mul_add(*v1, w[0].mul_add(*v0, *x))),
                );
            }
        }
        kk += 4;
    }
    for kk in kk..k {
        let bk = &b[kk * n..(kk + 1) * n];
        for (r, row) in c.chunks_exact_mut(n).enumerate() {
            let w = a[r * k + kk];
            for (x, v) in row.iter_mut().zip(bk) {
                *x = w.mul_add(*v, *x);
            }
        }
    }
}

/// GEMM with at most 64 output columns (BlazeFace's 1×1 convolutions over 128×128 and 64×64
/// pixels with 24–64 channels): a general GEMM packs A — megabytes of activations — for every
/// call, which cost as much as the product. Here B, padded to whole 16-lane registers, stays in
/// L1 and A is read once, a few rows at a time, each row's outputs held in registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn narrow_avx512(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    match n.div_ceil(16) {
        1 => narrow_rows::<1, 8>(m, k, n, a, b, c),
        2 => narrow_rows::<2, 8>(m, k, n, a, b, c),
        3 => narrow_rows::<3, 6>(m, k, n, a, b, c),
        _ => narrow_rows::<4, 4>(m, k, n, a, b, c),
    }
}

/// [`narrow_avx512`] with `H` registers (16 columns each) per row, `R` rows at a time.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn narrow_rows<const H: usize, const R: usize>(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
) {
    use std::arch::x86_64::*;
    let width = H * 16;
    let mut padded = vec![0.0f32; k * width];
    for (dst, src) in padded.chunks_exact_mut(width).zip(b.chunks_exact(n)) {
        dst[..n].copy_from_slice(src);
    }
    // The store mask of each register: the columns of C it covers.
    let masks: [__mmask16; H] = std::array::from_fn(|h| {
        let cols = n.saturating_sub(h * 16).min(16);
        ((1u32 << cols) - 1) as __mmask16
    });
    let block = |r: usize, rows: usize, c: &mut [f32]| {
        let mut acc = [[_mm512_setzero_ps(); H]; R];
        let a = a.as_ptr().add(r * k);
        let mut bp = padded.as_ptr();
        for kk in 0..k {
            let bv: [__m512; H] = std::array::from_fn(|h| _mm512_loadu_ps(bp.add(h * 16)));
            for (i, acc) in acc.iter_mut().enumerate().take(rows) {
                let av = _mm512_set1_ps(*a.add(i * k + kk));
                for h in 0..H {
                    acc[h] = _mm512_fmadd_ps(av, bv[h], acc[h]);
                }
            }
            bp = bp.add(width);
        }
        let out = c.as_mut_ptr().add(r * n);
        for (i, acc) in acc.iter().enumerate().take(rows) {
            for h in 0..H {
                _mm512_mask_storeu_ps(out.add(i * n + h * 16), masks[h], acc[h]);
            }
        }
    };
    let mut r = 0;
    while r + R <= m {
        block(r, R, c);
        r += R;
    }
    for r in r..m {
        block(r, 1, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Product = fn(usize, usize, usize, &[f32], &[f32], &mut [f32]);

    fn naive(m: usize, k: usize, n: usize, a: &[f32], b: &[f32]) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for r in 0..m {
            for j in 0..n {
                c[r * n + j] = (0..k).map(|i| a[r * k + i] * b[i * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn few_rows_and_packed_agree_with_the_definition() {
        // Row counts on both sides of FEW_ROWS; k not a multiple of 4; n not a multiple of 16.
        for (m, k, n) in [
            (1, 7, 5),
            (2, 2304, 256),
            (3, 9, 33),
            (4, 13, 1),
            (5, 11, 17),
            (40, 6, 3),
            (67, 24, 24),
            (9, 96, 32),
            (17, 40, 16),
            (12, 7, 9),
            (13, 50, 48),
            (30, 64, 64),
            (11, 33, 41),
        ] {
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7 % 13) as f32 - 6.0) / 5.0)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 5 % 11) as f32 - 5.0) / 3.0)
                .collect();
            let want = naive(m, k, n, &a, &b);
            // The dispatcher, and each path on its own (the dispatcher picks one per shape and
            // CPU; the others must be right too).
            let paths: [(&str, Product); 3] =
                [("gemm", gemm), ("packed", packed), ("few_rows", few_rows)];
            for (name, f) in paths {
                let mut c = vec![f32::NAN; m * n];
                f(m, k, n, &a, &b, &mut c);
                for (x, y) in c.iter().zip(&want) {
                    assert!(
                        (x - y).abs() <= 1e-3 * y.abs().max(1.0),
                        "{name} {m}x{k}x{n}: {x} vs {y}"
                    );
                }
            }
        }
    }
}
