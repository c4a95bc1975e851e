//! Which wide vector instructions the kernels may use.

use std::sync::OnceLock;

/// Whether the kernels may use AVX-512 (F, and BW + VNNI for the 8-bit products): the CPU has
/// them and `KAKUNIN_NO_AVX512` is not set. The variable exists to measure, on an AVX-512
/// machine, the code paths a CPU with only AVX2 runs (docs/face.md, "Speed"); read once.
pub(crate) fn avx512() -> bool {
    static ALLOWED: OnceLock<bool> = OnceLock::new();
    *ALLOWED.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            std::env::var_os("KAKUNIN_NO_AVX512").is_none()
                && std::arch::is_x86_feature_detected!("avx512f")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}
