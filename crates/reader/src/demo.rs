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

/// 照合番号B of the demo cards: from their card face (birth date 1980-02-17 = 昭和55年, expiring
/// 2034, security code 1234). A real card's 照合番号B comes from its printed face, which the
/// kiosk does not read yet: it never guesses one (wrong tries count towards the card-face
/// applet's lock), so with real cards the photo is not read and staff confirm visually.
pub fn number_b() -> String {
    let (y, m, d) = BIRTH;
    kakunin_card::mynumber::verify_number_b(
        chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a date"),
        EXPIRY_YEAR,
        SECURITY_CODE,
    )
}

/// The card face of the demo cards, with `photo` on the chip: name, address and security code
/// as images, as real cards hold them (drawn in a Japanese font when one is installed —
/// fonts-noto-cjk —, else blank images of the same kind).
pub fn face(photo: Vec<u8>) -> CardFace {
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
        name_image: image(&["デモ 太郎"], 42.0),
        address_image: image(&["東京都千代田区霞が関一丁目", "1番1号"], 34.0),
        birth_date: format!("{y:04}{m:02}{d:02}"),
        sex: 1,
        expiry: format!("{EXPIRY_YEAR}{m:02}{d:02}"),
        photo,
        security_code_image: image(&[SECURITY_CODE], 40.0),
        ..CardFace::default()
    }
}

/// The virtual demo card of seed person `person` (PIN [`kakunin_evidence::ca::DEMO_PIN`],
/// 照合番号B [`number_b`]), its certificate from the demo CA, valid for five years.
pub fn card(
    ca: &kakunin_evidence::ca::DemoCa,
    person: i64,
    face_auth: bool,
    face: &CardFace,
) -> Result<VirtualCard> {
    let now = chrono::Utc::now();
    let certified = ca.issue_card(
        &kakunin_evidence::ca::demo_card_id(person),
        now - chrono::Duration::days(30),
        now + chrono::Duration::days(365 * 5),
    )?;
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
    fn the_demo_number_b_is_that_of_the_demo_card_face() {
        assert_eq!(super::number_b(), "55021720341234");
        let face = super::face(vec![]);
        assert_eq!(face.birth_date, "19800217");
        assert!(face.expiry.starts_with("2034"));
    }
}
