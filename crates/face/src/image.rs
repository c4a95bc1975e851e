//! Decoding what a camera or a card gives us into RGB pixels: JPEG and PNG (via `image`), with
//! EXIF orientation honoured, and a pixel limit checked from the header before any decoding.

use crate::FaceError;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use std::io::Cursor;

/// Largest image accepted, in pixels (a 24-megapixel camera frame).
pub const MAX_PIXELS: u64 = 24_000_000;

/// An 8-bit RGB image, row-major.
#[derive(Clone)]
pub struct Rgb {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// RGB bytes, row by row.
    pub data: Vec<u8>,
}

impl Rgb {
    /// Pixel (x, y) as RGB.
    #[inline]
    pub fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// The same image in grey (ITU-R BT.601 luma), kept as three equal channels: the card photo
    /// is grey, so the live frame is compared in grey too.
    pub fn to_grey(&self) -> Rgb {
        let mut data = Vec::with_capacity(self.data.len());
        for p in self.data.chunks_exact(3) {
            let y = (0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]))
                .round() as u8;
            data.extend_from_slice(&[y, y, y]);
        }
        Rgb {
            width: self.width,
            height: self.height,
            data,
        }
    }

    /// Bilinear sample at (x, y) in pixel coordinates (pixel centres at integer + 0.5 are not
    /// used: coordinates address pixel corners like TensorFlow's `align_corners=false`).
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let x = x.clamp(0.0, (self.width - 1) as f32);
        let y = y.clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let mut out = [0.0; 3];
        let (a, b, c, d) = (
            self.at(x0, y0),
            self.at(x1, y0),
            self.at(x0, y1),
            self.at(x1, y1),
        );
        for k in 0..3 {
            let top = f32::from(a[k]) * (1.0 - fx) + f32::from(b[k]) * fx;
            let bottom = f32::from(c[k]) * (1.0 - fx) + f32::from(d[k]) * fx;
            out[k] = top * (1.0 - fy) + bottom * fy;
        }
        out
    }
}

/// Decodes JPEG, PNG or JPEG 2000 bytes to RGB (alpha dropped, grey expanded, 16-bit reduced,
/// CMYK converted), honouring EXIF orientation. Refuses images above [`MAX_PIXELS`] before
/// decoding them.
pub fn decode(bytes: &[u8]) -> Result<Rgb, FaceError> {
    if bytes.is_empty() {
        return Err(FaceError::Image("the file is empty".into()));
    }
    if crate::jp2::is_jpeg2000(bytes) {
        let _held = crate::budget::reserve(crate::budget::jpeg2000(bytes)?, "JPEG 2000")?;
        return crate::jp2::decode(bytes);
    }
    let _held = if bytes.starts_with(&[0xFF, 0xD8]) {
        crate::budget::reserve(crate::budget::jpeg(bytes)?, "JPEG")?
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        crate::budget::reserve(crate::budget::png(bytes)?, "PNG")?
    } else {
        return Err(FaceError::Image(
            "not a JPEG, PNG or JPEG 2000 image; send the camera frame or the card photo as one"
                .into(),
        ));
    };
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| FaceError::Image(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| {
        FaceError::Image(format!(
            "{e}; the file may be truncated or corrupt; send a JPEG, PNG or JPEG 2000 image"
        ))
    })?;
    let (w, h) = decoder.dimensions();
    check_size(w, h)?;
    let orientation = decoder
        .orientation()
        .map_err(|e| FaceError::Image(e.to_string()))?;
    let mut img = DynamicImage::from_decoder(decoder)
        .map_err(|e| FaceError::Image(format!("{e}; the file may be truncated or corrupt")))?;
    img.apply_orientation(orientation);
    let rgb = img.into_rgb8();
    Ok(Rgb {
        width: rgb.width() as usize,
        height: rgb.height() as usize,
        data: rgb.into_raw(),
    })
}

pub use crate::jp2::is_jpeg2000;

/// Encodes an image as a greyscale JPEG 2000 card photo (see [`crate::jp2`]'s `encode_grey`),
/// lossy at about `ratio`:1.
pub fn encode_jp2_grey(img: &Rgb, ratio: f32) -> Result<Vec<u8>, FaceError> {
    crate::jp2::encode_grey(img, ratio)
}

/// Encodes an image as PNG (for showing a JPEG 2000 card photo in a browser, which cannot).
pub fn encode_png(img: &Rgb) -> Result<Vec<u8>, FaceError> {
    let mut out = Cursor::new(Vec::new());
    image::RgbImage::from_raw(img.width as u32, img.height as u32, img.data.clone())
        .ok_or_else(|| FaceError::Image("pixel buffer does not match its size".into()))?
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| FaceError::Image(e.to_string()))?;
    Ok(out.into_inner())
}

/// Refuses zero-sized or too-large images.
pub(crate) fn check_size(w: u32, h: u32) -> Result<(), FaceError> {
    if w == 0 || h == 0 {
        return Err(FaceError::Image("the image has no pixels".into()));
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(FaceError::ImageTooLarge {
            width: w,
            height: h,
            limit: MAX_PIXELS,
        });
    }
    Ok(())
}
