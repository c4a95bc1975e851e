//! JPEG 2000 (how card chips store the face photo), decoded by the pure-Rust `hayro-jpeg2000`.

use crate::image::{check_size, Rgb};
use crate::FaceError;

/// Whether `bytes` start like a JP2 file or a raw J2K codestream.
pub fn is_jpeg2000(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20])
        || bytes.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
}

/// Decodes a JPEG 2000 image to RGB.
pub(crate) fn decode(bytes: &[u8]) -> Result<Rgb, FaceError> {
    let settings = hayro_jpeg2000::DecodeSettings::default();
    let image = hayro_jpeg2000::Image::new(bytes, &settings).map_err(|e| {
        FaceError::Image(format!(
            "JPEG 2000: {e:?}; the file may be truncated or corrupt"
        ))
    })?;
    let (w, h) = (image.width(), image.height());
    check_size(w, h)?;
    let channels = image.color_space().num_channels() as usize + usize::from(image.has_alpha());
    let pixels = image.decode().map_err(|e| {
        FaceError::Image(format!(
            "JPEG 2000: {e:?}; the file may be truncated or corrupt"
        ))
    })?;
    let (w, h) = (w as usize, h as usize);
    if pixels.len() < w * h * channels || channels == 0 {
        return Err(FaceError::Image(
            "JPEG 2000: decoded data is shorter than the image".into(),
        ));
    }
    let mut data = Vec::with_capacity(w * h * 3);
    for p in pixels.chunks_exact(channels).take(w * h) {
        match channels {
            1 | 2 => data.extend_from_slice(&[p[0], p[0], p[0]]),
            _ => data.extend_from_slice(&p[..3]),
        }
    }
    Ok(Rgb {
        width: w,
        height: h,
        data,
    })
}
