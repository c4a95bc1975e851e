//! Images whose headers ask the decoder for far more memory than their size: each is refused
//! from its header, before decoding, with a clear error — never an abort.

use kakunin_face::image::decode;
use kakunin_face::FaceError;

/// A JPEG 2000 codestream with no image data: SOC, SIZ, COD, QCD, one empty tile-part, EOC.
/// `cb` is the code-block exponent (2..=10), `precinct` the precinct exponent when set.
fn codestream(
    w: u32,
    h: u32,
    tile: u32,
    comps: u16,
    levels: u8,
    cb: u8,
    precinct: Option<u8>,
) -> Vec<u8> {
    let mut v = vec![0xFF, 0x4F, 0xFF, 0x51];
    v.extend((38 + 3 * comps).to_be_bytes());
    v.extend(0u16.to_be_bytes());
    for n in [w, h, 0, 0, tile, tile, 0, 0] {
        v.extend(n.to_be_bytes());
    }
    v.extend(comps.to_be_bytes());
    for _ in 0..comps {
        v.extend([7, 1, 1]);
    }
    let precincts: Vec<u8> = match precinct {
        Some(p) => vec![p | (p << 4); usize::from(levels) + 1],
        None => vec![],
    };
    v.extend([0xFF, 0x52]);
    v.extend((12 + precincts.len() as u16).to_be_bytes());
    v.push(u8::from(precinct.is_some()));
    v.extend([0, 0, 1, 0, levels, cb - 2, cb - 2, 0, 1]);
    v.extend(&precincts);
    let bands = 3 * usize::from(levels) + 1;
    v.extend([0xFF, 0x5C]);
    v.extend((3 + bands as u16).to_be_bytes());
    v.push(0x40);
    v.extend(std::iter::repeat_n(0x40, bands));
    v.extend([
        0xFF, 0x90, 0, 10, 0, 0, 0, 0, 0, 14, 0, 1, 0xFF, 0x93, 0xFF, 0xD9,
    ]);
    v
}

fn too_costly(r: Result<kakunin_face::image::Rgb, FaceError>) -> String {
    match r {
        Err(e @ FaceError::ImageTooCostly { .. }) => e.to_string(),
        Err(e) => panic!("expected ImageTooCostly, got {e}"),
        Ok(img) => panic!("decoded {}×{}", img.width, img.height),
    }
}

#[test]
fn a_j2k_of_4000_squared_in_one_pixel_tiles_is_refused_from_its_header() {
    // The reproduction: under 100 bytes, 16 million tiles; the decoder wanted ~7 GB and aborted.
    let bomb = codestream(4000, 4000, 1, 1, 0, 6, None);
    assert!(bomb.len() < 100, "{} bytes", bomb.len());
    let msg = too_costly(decode(&bomb));
    assert!(msg.contains("JPEG 2000") && msg.contains("MiB"), "{msg}");
}

#[test]
fn a_j2k_of_1000_squared_in_one_pixel_tiles_is_refused() {
    // 615 MB before the fix.
    too_costly(decode(&codestream(1000, 1000, 1, 1, 0, 6, None)));
}

#[test]
fn tiny_code_blocks_and_precincts_are_counted() {
    // One tile, but 4×4 code-blocks in 2×2 precincts over 16 MP and three components.
    too_costly(decode(&codestream(4000, 4000, 4000, 3, 5, 2, Some(1))));
}

#[test]
fn many_quality_layers_are_counted() {
    let mut cs = codestream(3000, 3000, 3000, 1, 5, 4, None);
    // COD's layer count (bytes 2..4 of Scod SGcod) to 65535.
    let cod = cs.windows(2).position(|w| w == [0xFF, 0x52]).unwrap();
    cs[cod + 6] = 0xFF;
    cs[cod + 7] = 0xFF;
    too_costly(decode(&cs));
}

#[test]
fn a_jp2_box_around_the_bomb_is_refused_too() {
    let cs = codestream(4000, 4000, 1, 1, 0, 6, None);
    let mut jp2 = vec![0, 0, 0, 12, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A];
    jp2.extend([
        0, 0, 0, 20, b'f', b't', b'y', b'p', b'j', b'p', b'2', b' ', 0, 0, 0, 0,
    ]);
    jp2.extend(b"jp2 ");
    jp2.extend(((cs.len() + 8) as u32).to_be_bytes());
    jp2.extend(b"jp2c");
    jp2.extend(&cs);
    too_costly(decode(&jp2));
}

#[test]
fn an_ordinary_tiling_passes_the_budget() {
    // 1024×1024 in 256×256 tiles with the usual 64×64 code-blocks: within budget (the
    // decoder then finds no image data in it, which is an ordinary error).
    match decode(&codestream(1024, 1024, 256, 3, 5, 6, None)) {
        Err(FaceError::ImageTooCostly { .. }) => panic!("an ordinary image was refused"),
        Err(FaceError::Image(_)) | Ok(_) => {}
        Err(e) => panic!("unexpected {e}"),
    }
}

#[test]
fn truncated_j2k_headers_are_clear_errors() {
    let cs = codestream(100, 100, 100, 1, 5, 6, None);
    for cut in [4, 10, 30, 44, 50, 60] {
        match decode(&cs[..cut]) {
            Err(FaceError::Image(m)) => assert!(m.contains("JPEG 2000"), "{m}"),
            other => panic!("cut at {cut}: {:?}", other.map(|_| ())),
        }
    }
}

/// A progressive JPEG header (SOI, SOF2, then `scans` SOS segments with no data).
fn progressive_jpeg(w: u16, h: u16, scans: usize) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xC2, 0, 17, 8];
    v.extend(h.to_be_bytes());
    v.extend(w.to_be_bytes());
    v.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    for _ in 0..scans {
        v.extend([0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0, 0]);
    }
    v.extend([0xFF, 0xD9]);
    v
}

#[test]
fn a_progressive_jpeg_at_the_pixel_limit_is_refused_for_its_coefficients() {
    // 6000×4000 = 24 MP, allowed by the pixel limit, but progressive: every coefficient kept.
    too_costly(decode(&progressive_jpeg(6000, 4000, 1)));
}

#[test]
fn a_jpeg_of_thousands_of_scans_is_refused() {
    match decode(&progressive_jpeg(64, 64, 5000)) {
        Err(FaceError::Image(m)) => assert!(m.contains("scans"), "{m}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn a_png_declaring_sixteen_bit_rgba_at_the_pixel_limit_is_refused() {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    v.extend(6000u32.to_be_bytes());
    v.extend(4000u32.to_be_bytes());
    v.extend([16, 6, 0, 0, 0, 0, 0, 0, 0]);
    too_costly(decode(&v));
}
