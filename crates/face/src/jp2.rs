//! JPEG 2000 (how card chips store the face photo), decoded by the pure-Rust `hayro-jpeg2000`;
//! the demo cards' photos are encoded as real chips hold theirs (greyscale, lossy) by the
//! pure-Rust port of OpenJPEG, `openjp2`.

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

/// Encodes `img` as a greyscale JPEG 2000 file (JP2), lossy at about `ratio`:1, as card chips
/// hold the holder's photo. openjp2's safe API writes only to files, so the codestream goes
/// through a temporary file that is removed at once.
pub fn encode_grey(img: &Rgb, ratio: f32) -> Result<Vec<u8>, FaceError> {
    use openjp2::{
        opj_cparameters_t, opj_image, opj_image_comptparm, Codec, Stream, OPJ_CLRSPC_GRAY,
        OPJ_CODEC_JP2,
    };
    let fail = |what: &str| FaceError::Image(format!("JPEG 2000 encoding failed ({what})"));
    let (w, h) = (img.width as u32, img.height as u32);
    check_size(w, h)?;
    // ITU-R BT.601 luma, as the chips' greyscale photos have it.
    let grey: Vec<i32> = img
        .data
        .chunks_exact(3)
        .map(|p| (299 * p[0] as i32 + 587 * p[1] as i32 + 114 * p[2] as i32 + 500) / 1000)
        .collect();
    let component = opj_image_comptparm {
        dx: 1,
        dy: 1,
        w,
        h,
        x0: 0,
        y0: 0,
        prec: 8,
        bpp: 8,
        sgnd: 0,
    };
    let mut image =
        opj_image::create(&[component], OPJ_CLRSPC_GRAY).ok_or_else(|| fail("image"))?;
    image.x1 = w;
    image.y1 = h;
    let comps = image.comps_mut().ok_or_else(|| fail("component"))?;
    if !comps[0].set_data(&grey) {
        return Err(fail("pixels"));
    }
    // One quality layer at `ratio`:1, the irreversible 9/7 wavelet (lossy, as chips hold it).
    let mut params = opj_cparameters_t {
        tcp_numlayers: 1,
        cp_disto_alloc: 1,
        irreversible: 1,
        numresolution: 4,
        ..Default::default()
    };
    params.tcp_rates[0] = ratio;
    let mut codec = Codec::new_encoder(OPJ_CODEC_JP2).ok_or_else(|| fail("codec"))?;
    let file = tempfile::NamedTempFile::new()
        .map_err(|e| FaceError::Image(format!("JPEG 2000: no temporary file: {e}")))?;
    {
        let mut stream = Stream::new_file(file.path(), 1 << 16, false)
            .map_err(|e| FaceError::Image(format!("JPEG 2000: {e}")))?;
        let ok = codec.setup_encoder(&mut params, &mut image) != 0
            && codec.start_compress(&mut image, &mut stream) != 0
            && codec.encode(&mut stream) != 0
            && codec.end_compress(&mut stream) != 0;
        if !ok {
            return Err(fail("codestream"));
        }
    }
    std::fs::read(file.path()).map_err(|e| FaceError::Image(format!("JPEG 2000: {e}")))
}
