//! A card face photographed in simulation is read back to its 照合番号B; the back of a card and
//! an unreadable security code give no read. Needs Tesseract (feature `ocr`) and a Japanese
//! font (fonts-noto-cjk): ./scripts/setup-ocr and ./scripts/setup-browser install them.
#![cfg(feature = "ocr")]

use chrono::NaiveDate;
use kakunin_cardface::read::Reader;
use kakunin_cardface::render::{self, CardData, Fonts, Shot};
use kakunin_cardface::CardFaceError;

fn card(birth: (i32, u32, u32), code: &str) -> CardData {
    CardData {
        name: "髙橋 﨑子".into(),
        address: vec!["東京都千代田区霞が関一丁目".into(), "1番1号".into()],
        birth: NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2).unwrap(),
        sex: 2,
        expiry: NaiveDate::from_ymd_opt(2034, birth.1, birth.2).unwrap(),
        security_code: code.into(),
        photo: None,
    }
}

fn shot(rotation: f32, tilt: f32, upside_down: bool) -> Shot {
    Shot {
        frame: (1280, 960),
        rotation,
        tilt,
        scale: 0.65,
        upside_down,
        blur: 0.0,
        glare: None,
        light: 0.9,
        jpeg_quality: 85,
        hand: 0,
        seed: 3,
        centre: None,
    }
}

#[test]
fn a_photographed_front_reads_back_to_its_number_b() {
    let fonts =
        Fonts::find().expect("a Japanese font (./scripts/setup-browser installs fonts-noto-cjk)");
    let mut reader =
        Reader::new().expect("Tesseract with its Japanese model (./scripts/setup-ocr)");
    for (birth, code, s, want) in [
        (
            (1980, 2, 17),
            "1234",
            shot(0.0, 0.0, false),
            "55021720341234",
        ),
        (
            (1989, 1, 8),
            "0907",
            shot(-12.0, 20.0, false),
            "01010820340907",
        ),
        (
            (2019, 5, 1),
            "2468",
            shot(8.0, 10.0, true),
            "01050120342468",
        ),
    ] {
        let frame = render::photograph(&render::front(&card(birth, code), &fonts).unwrap(), &s);
        let read = reader
            .read(&frame)
            .unwrap_or_else(|e| panic!("{birth:?}: {e}"));
        assert_eq!(read.number_b, want, "{read:?}");
        assert!(read.confidence > 0.5, "{read:?}");
    }
}

#[test]
fn the_back_and_a_covered_code_give_no_read() {
    let fonts = Fonts::find().expect("a Japanese font");
    let mut reader = Reader::new().expect("Tesseract");
    let back = render::photograph(
        &render::back("123456789012", &fonts),
        &shot(4.0, 5.0, false),
    );
    assert_eq!(reader.read(&back).unwrap_err(), CardFaceError::BackShown);
    // Three digits where four belong: not a read, never a guess at the fourth.
    let short = render::photograph(
        &render::front(&card((1980, 2, 17), "123"), &fonts).unwrap(),
        &shot(0.0, 0.0, false),
    );
    assert!(matches!(
        reader.read(&short),
        Err(CardFaceError::Unreadable(_))
    ));
}
