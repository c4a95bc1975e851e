//! Any bytes behind the PNG signature through image decoding: no panic, no abort, and no
//! allocation past libFuzzer's limit (-malloc_limit_mb), since the header is sized first.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode_png -- -max_total_time=600`.
#![no_main]

use libfuzzer_sys::fuzz_target;

const MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

fuzz_target!(|data: &[u8]| {
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(data.strip_prefix(MAGIC).unwrap_or(data));
    let _ = kakunin_face::image::decode(&bytes);
});
