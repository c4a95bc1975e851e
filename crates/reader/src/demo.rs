//! The demo cards: virtual cards of the seed's first persons, certified by the demo CA, with one
//! card face (and so one 照合番号B). Never beside a real trust anchor.

use crate::Result;
use kakunin_card::virtual_card::{CardFace, VirtualCard};

/// The demo card face's birth date (昭和55年2月17日).
const BIRTH: (i32, u32, u32) = (1980, 2, 17);
/// The year the demo cards expire.
const EXPIRY_YEAR: i32 = 2034;
/// The demo cards' 4-digit security code (セキュリティコード).
const SECURITY_CODE: &str = "1234";
/// The demo card holder's name and address as printed (and as the chip's images show them).
const NAME: &str = "デモ 太郎";
const ADDRESS: [&str; 2] = ["東京都千代田区霞が関一丁目", "1番1号"];

/// 照合番号B of the demo cards: from their card face (birth date 1980-02-17 = 昭和55年, expiring
/// 2034, security code 1234). A real card's comes from its printed face, which the kiosk reads
/// through its camera (`kiosk::card_face`); the demo kiosk knows this one unless told to read it.
pub fn number_b() -> String {
    let (y, m, d) = BIRTH;
    kakunin_core::card_face::number_b(
        chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a date"),
        EXPIRY_YEAR,
        SECURITY_CODE,
    )
}

/// The card face of the demo cards, with `photo` on the chip: name, address and security code
/// as images, as real cards hold them (drawn in a Japanese font when one is installed —
/// fonts-noto-cjk —, else blank images of the same kind).
pub fn face(photo: Vec<u8>) -> CardFace {
    let photo = chip_photo(photo);
    let (y, m, d) = BIRTH;
    // Found and loaded once per process (the Noto CJK collection is 19 MB).
    static FONTS: std::sync::OnceLock<Option<kakunin_cardface::render::Fonts>> =
        std::sync::OnceLock::new();
    let fonts = FONTS.get_or_init(|| kakunin_cardface::render::Fonts::find().ok());
    let image = |lines: &[&str], px: f32| match fonts {
        Some(f) => f.text_png(lines, px),
        None => kakunin_cardface::render::blank_png(200, px as u32 + 8),
    };
    CardFace {
        name_image: image(&[NAME], 42.0),
        address_image: image(&ADDRESS, 34.0),
        birth_date: format!("{y:04}{m:02}{d:02}"),
        sex: 1,
        expiry: format!("{EXPIRY_YEAR}{m:02}{d:02}"),
        photo,
        security_code_image: image(&[SECURITY_CODE], 40.0),
        ..CardFace::default()
    }
}

/// Card chips hold the holder's photo as a greyscale JPEG 2000 portrait: the demo photo is made
/// one (its centre cut to 3:4, 240×320, about 12:1), so the reader decodes on demo cards what
/// it decodes on real ones. A photo that cannot be read stays as it is (the kiosk then says so).
fn chip_photo(photo: Vec<u8>) -> Vec<u8> {
    if kakunin_face::image::is_jpeg2000(&photo) {
        return photo;
    }
    let converted = kakunin_face::image::decode(&photo).and_then(|rgb| {
        let img = image::RgbImage::from_raw(rgb.width as u32, rgb.height as u32, rgb.data)
            .ok_or_else(|| kakunin_face::FaceError::Image("pixel buffer size".into()))?;
        let (w, h) = img.dimensions();
        let (cw, ch) = if w * 4 > h * 3 {
            (h * 3 / 4, h)
        } else {
            (w, w * 4 / 3)
        };
        let cut = image::imageops::crop_imm(&img, (w - cw) / 2, (h - ch) / 2, cw, ch).to_image();
        let small = image::imageops::resize(&cut, 240, 320, image::imageops::FilterType::Triangle);
        kakunin_face::image::encode_jp2_grey(
            &kakunin_face::image::Rgb {
                width: 240,
                height: 320,
                data: small.into_raw(),
            },
            12.0,
        )
    });
    match converted {
        Ok(jp2) => jp2,
        Err(e) => {
            tracing::warn!("demo card photo kept as given (not JPEG 2000): {e}");
            photo
        }
    }
}

/// What the demo cards' printed face shows, with `photo` (any JPEG or PNG) as the holder's
/// photo; `other` draws another card's face (another birth date and security code: its
/// 照合番号B is not the demo cards').
pub fn printed_face(photo: Option<&[u8]>, other: bool) -> kakunin_cardface::render::CardData {
    let (y, m, d) = if other { (1985, 7, 3) } else { BIRTH };
    let birth = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a date");
    kakunin_cardface::render::CardData {
        name: if other { "別人 花子" } else { NAME }.into(),
        address: ADDRESS.map(String::from).to_vec(),
        birth,
        sex: if other { 2 } else { 1 },
        expiry: chrono::NaiveDate::from_ymd_opt(EXPIRY_YEAR, m, d).expect("a date"),
        security_code: if other { "5678" } else { SECURITY_CODE }.into(),
        photo: photo.and_then(kakunin_cardface::render::photo_from),
    }
}

/// `count` camera frames (640×480 JPEG) of the demo cards' printed face held up to a kiosk
/// camera — slightly turned and tilted, in good light — seeded by `seed`.
pub fn held_up(photo: Option<&[u8]>, count: usize, seed: u64, other: bool) -> Result<Vec<Vec<u8>>> {
    use kakunin_cardface::render;
    use rand::{Rng, SeedableRng};
    let fonts = render::Fonts::find().map_err(|e| crate::ReaderError::Other(e.to_string()))?;
    let front = render::front(&printed_face(photo, other), &fonts)
        .map_err(|e| crate::ReaderError::Other(e.to_string()))?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut frames = vec![];
    for _ in 0..count {
        let shot = render::Shot {
            frame: (640, 480),
            rotation: rng.gen_range(-6.0..6.0),
            tilt: rng.gen_range(0.0..12.0),
            scale: rng.gen_range(0.78..0.86),
            upside_down: false,
            blur: 0.0,
            glare: None,
            light: rng.gen_range(0.9..1.0),
            // Stored once below, as the camera's encoder would.
            jpeg_quality: 100,
            hand: 0,
            seed: rng.gen(),
            centre: None,
        };
        let img = render::photograph(&front, &shot);
        let mut jpeg = vec![];
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&img)
            .map_err(|e| crate::ReaderError::Other(e.to_string()))?;
        frames.push(jpeg);
    }
    Ok(frames)
}

/// The virtual demo card of seed person `person` (PIN [`kakunin_evidence::ca::DEMO_PIN`],
/// 照合番号B [`number_b`]), its certificate from the demo CA, valid for five years.
pub fn card(
    ca: &kakunin_evidence::ca::DemoCa,
    person: i64,
    face_auth: bool,
    face: &CardFace,
) -> Result<VirtualCard> {
    certified_card(ca, person, face_auth, face, false)
}

/// The demo card of seed person `person` whose certificate expired 20 days ago: in its
/// three-month grace period (eligibility only, no medical information) until renewed at the
/// municipal counter.
pub fn card_in_grace(
    ca: &kakunin_evidence::ca::DemoCa,
    person: i64,
    face_auth: bool,
    face: &CardFace,
) -> Result<VirtualCard> {
    certified_card(ca, person, face_auth, face, true)
}

/// A virtual demo card with a certificate valid for five years from a month ago, or (`expired`)
/// one that ended 20 days ago.
fn certified_card(
    ca: &kakunin_evidence::ca::DemoCa,
    person: i64,
    face_auth: bool,
    face: &CardFace,
    expired: bool,
) -> Result<VirtualCard> {
    let now = chrono::Utc::now();
    let days = chrono::Duration::days;
    let (from, to) = if expired {
        (now - days(365 * 5), now - days(20))
    } else {
        (now - days(30), now + days(365 * 5))
    };
    let certified = ca.issue_card(&kakunin_evidence::ca::demo_card_id(person), from, to)?;
    Ok(VirtualCard::new(
        certified,
        ca.certificate_der().to_vec(),
        face_auth,
        kakunin_evidence::ca::DEMO_PIN,
        face,
        SECURITY_CODE,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_chips_hold_a_greyscale_jpeg2000_portrait() {
        let png = include_bytes!("kiosk/placeholder-photo.png").to_vec();
        let face = super::face(png);
        assert!(face
            .photo
            .starts_with(&[0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]));
        let img = kakunin_face::image::decode(&face.photo).unwrap();
        assert_eq!((img.width, img.height), (240, 320));
        assert!(img.data.chunks(3).all(|p| p[0] == p[1] && p[1] == p[2]));
    }

    #[test]
    fn the_demo_number_b_is_that_of_the_demo_card_face() {
        assert_eq!(super::number_b(), "55021720341234");
        let face = super::face(vec![]);
        assert_eq!(face.birth_date, "19800217");
        assert!(face.photo.is_empty(), "an unreadable photo stays as it is");
        assert!(face.expiry.starts_with("2034"));
    }
}
