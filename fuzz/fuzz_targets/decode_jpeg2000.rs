//! Any JP2 file, or any bytes behind a codestream's SOC SIZ markers, through image decoding:
//! no panic, no abort, and no allocation past libFuzzer's limit (-malloc_limit_mb), since the header is sized first.
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run decode_jpeg2000 -- -max_total_time=600`.
#![no_main]

use libfuzzer_sys::fuzz_target;

const MAGIC: &[u8] = &[0xFF, 0x4F, 0xFF, 0x51];

fuzz_target!(|data: &[u8]| {
    // JP2 files (the card's photo as a box structure) as they are; anything else as a raw
    // codestream.
    if data.starts_with(b"\0\0\0\x0cjP  ") || data.starts_with(MAGIC) {
        let _ = kakunin_face::image::decode(data);
        return;
    }
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(data);
    let _ = kakunin_face::image::decode(&bytes);
});
