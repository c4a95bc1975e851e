//! Bad and unusual images: each gives a clear error or decodes correctly, never a panic.

use image::{ImageBuffer, ImageEncoder};
use kakunin_face::image::{decode, MAX_PIXELS};
use kakunin_face::FaceError;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn png<P: image::PixelWithColorType>(img: &ImageBuffer<P, Vec<P::Subpixel>>) -> Vec<u8>
where
    [P::Subpixel]: image::EncodableLayout,
{
    let mut out = vec![];
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            image::EncodableLayout::as_bytes(img.as_raw().as_slice()),
            img.width(),
            img.height(),
            P::COLOR_TYPE,
        )
        .unwrap();
    out
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = ImageBuffer::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 90]));
    let mut out = vec![];
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

fn image_error(r: Result<kakunin_face::image::Rgb, FaceError>) -> String {
    match r {
        Err(e @ (FaceError::Image(_) | FaceError::ImageTooLarge { .. })) => e.to_string(),
        Err(e) => panic!("unexpected error kind: {e}"),
        Ok(_) => panic!("bad image accepted"),
    }
}

#[test]
fn zero_byte_truncated_and_corrupt_files_are_refused() {
    assert!(image_error(decode(&[])).contains("empty"));
    let j = jpeg(64, 48);
    assert!(image_error(decode(&j[..j.len() / 3])).contains("truncated or corrupt"));
    let mut corrupt = j.clone();
    for b in corrupt.iter_mut().skip(200).take(200) {
        *b = 0xFF;
    }
    let _ = decode(&corrupt); // may decode with garbage or refuse; must not panic
    let p = png(&ImageBuffer::from_fn(32, 32, |x, _| {
        image::Rgb([x as u8, 0, 0])
    }));
    image_error(decode(&p[..p.len() - 20]));
    let jp2 = fixture("gradient.jp2");
    assert!(image_error(decode(&jp2[..jp2.len() / 2])).contains("JPEG 2000"));
    let mut bad = jp2.clone();
    for b in bad.iter_mut().skip(60) {
        *b ^= 0x5A;
    }
    let _ = decode(&bad);
    assert!(image_error(decode(b"not an image at all")).contains("JPEG, PNG or JPEG 2000"));
}

/// A PNG whose header claims 100,000 × 100,000 pixels, in a few dozen bytes.
fn png_bomb() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    v.extend_from_slice(&13u32.to_be_bytes());
    v.extend_from_slice(&ihdr);
    v.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    // A few bytes of "compressed" pixels and the end marker, like a real bomb.
    for (kind, data) in [
        (&b"IDAT"[..], &[0x78u8, 0x9c, 0x63, 0x60, 0x00, 0x00][..]),
        (&b"IEND"[..], &[][..]),
    ] {
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(data);
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        v.extend_from_slice(&chunk);
        v.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    v
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[test]
fn decompression_bomb_is_refused_before_decoding() {
    let bomb = png_bomb();
    assert!(bomb.len() < 100);
    match decode(&bomb) {
        Err(FaceError::ImageTooLarge {
            width,
            height,
            limit,
        }) => assert_eq!((width, height, limit), (100_000, 100_000, MAX_PIXELS)),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn grey_sixteen_bit_alpha_cmyk_jpeg2000_and_exif_rotation() {
    let grey = decode(&png(&ImageBuffer::from_fn(8, 4, |x, _| {
        image::Luma([x as u8 * 30])
    })))
    .unwrap();
    assert_eq!((grey.width, grey.height), (8, 4));
    assert_eq!(grey.at(3, 0), [90, 90, 90]);
    let deep = decode(&png(&ImageBuffer::from_fn(8, 4, |_, _| {
        image::Rgb([65535u16, 0, 32768])
    })))
    .unwrap();
    assert_eq!(deep.at(0, 0), [255, 0, 128]);
    let alpha = decode(&png(&ImageBuffer::from_fn(8, 4, |_, _| {
        image::Rgba([10u8, 20, 30, 0])
    })))
    .unwrap();
    assert_eq!(alpha.at(1, 1), [10, 20, 30]);
    let cmyk = decode(&fixture("cmyk.jpg")).unwrap();
    assert_eq!((cmyk.width, cmyk.height), (40, 30));
    let jp2 = decode(&fixture("gradient.jp2")).unwrap();
    assert_eq!((jp2.width, jp2.height), (40, 30));
    let right = jp2.at(39, 0);
    assert!(
        right[0] > 200 && right[1] < 40,
        "top-right is red: {right:?}"
    );
    // A JPEG 2000 card photo re-encoded as PNG for a browser keeps its pixels.
    let png = kakunin_face::image::encode_png(&jp2).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let back = decode(&png).unwrap();
    assert_eq!(
        (back.width, back.height, back.data == jp2.data),
        (40, 30, true)
    );
    let gj = decode(&fixture("grey.jp2")).unwrap();
    let p = gj.at(20, 15);
    assert!(p[0] == p[1] && p[1] == p[2], "grey stays grey");
    let rotated = decode(&fixture("exif-rotated.jpg")).unwrap();
    assert_eq!(
        (rotated.width, rotated.height),
        (20, 40),
        "EXIF orientation 6 is applied"
    );
}

#[test]
fn a_card_photo_encodes_as_greyscale_jpeg2000_and_decodes_back() {
    // A portrait with a gradient and a dark disc, like a face on a pale background.
    let (w, h) = (240usize, 320usize);
    let mut data = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as f32 - 120.0, y as f32 - 140.0);
            let v = if dx * dx + dy * dy < 60.0 * 60.0 {
                70
            } else {
                150 + (x * 100 / w) as u8
            };
            data.extend_from_slice(&[v, v.saturating_sub(10), v]);
        }
    }
    let img = kakunin_face::image::Rgb {
        width: w,
        height: h,
        data,
    };
    let jp2 = kakunin_face::image::encode_jp2_grey(&img, 12.0).unwrap();
    assert!(
        jp2.starts_with(&[0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]),
        "a JP2 file"
    );
    assert!(jp2.len() < w * h / 6, "lossy: {} bytes", jp2.len());
    let back = decode(&jp2).unwrap();
    assert_eq!((back.width, back.height), (w, h));
    let grey = |p: &[u8]| (299 * p[0] as i32 + 587 * p[1] as i32 + 114 * p[2] as i32) / 1000;
    let err: i64 = img
        .data
        .chunks(3)
        .zip(back.data.chunks(3))
        .map(|(a, b)| (grey(a) - b[0] as i32).abs() as i64)
        .sum::<i64>()
        / (w * h) as i64;
    assert!(err <= 3, "mean error {err}");
    assert!(
        back.data.chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]),
        "greyscale"
    );
}
