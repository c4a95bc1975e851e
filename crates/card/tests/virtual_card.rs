//! The virtual card through the client, as the reader agent will use it, and every refusal.

use chrono::{Duration, Utc};
use kakunin_card::client::MyNumberCard;
use kakunin_card::virtual_card::{CardFace, VirtualCard};
use kakunin_card::{CardChannel, CardError};
use kakunin_evidence::ca::DemoCa;
use kakunin_evidence::certificate::TrustAnchor;

fn face() -> CardFace {
    CardFace {
        name_image: b"\x89PNG name".to_vec(),
        address_image: b"\x89PNG address".to_vec(),
        birth_date: "19800217".into(),
        sex: 1,
        expiry: "20340217".into(),
        photo: [0xFF, 0x4F, 0xFF, 0x51, 1, 2, 3].repeat(100),
        security_code_image: b"\x89PNG 5678".to_vec(),
        ..CardFace::default()
    }
}

fn card(face_auth: bool) -> (VirtualCard, TrustAnchor) {
    let ca = DemoCa::new().unwrap();
    let now = Utc::now();
    let demo = ca
        .issue_card(
            "C00000000001",
            now - Duration::days(1),
            now + Duration::days(365),
        )
        .unwrap();
    let anchor = TrustAnchor::from_der(ca.certificate_der().to_vec()).unwrap();
    (
        VirtualCard::new(
            demo,
            ca.certificate_der().to_vec(),
            face_auth,
            "1234",
            &face(),
            "5678",
        ),
        anchor,
    )
}

const NUMBER_B: &str = "55021720345678";

#[test]
fn certificate_pin_signature_and_card_face() {
    let (vc, anchor) = card(false);
    let mut c = MyNumberCard::new(vc);
    let der = c.read_auth_certificate().unwrap();
    let cert = anchor.verify(&der, Utc::now(), |_| false).unwrap();
    assert_eq!(c.pin_tries_left().unwrap(), 3);
    let sig = c.sign_with_pin("1234", b"server-challenge", false).unwrap();
    kakunin_evidence::challenge::verify_card_signature(&cert, b"server-challenge", &sig).unwrap();
    assert_eq!(
        kakunin_core::card_face::number_b("1980-02-17".parse().unwrap(), 2034, "5678"),
        NUMBER_B
    );
    let f = c.read_card_face(NUMBER_B).unwrap();
    assert_eq!(f, face());
}

#[test]
fn wrong_pin_to_lock_and_pin_on_face_auth() {
    let (vc, _) = card(false);
    let mut c = MyNumberCard::new(vc);
    assert_eq!(
        c.sign_with_pin("0000", b"x", false),
        Err(CardError::PinWrong { tries_left: 2 })
    );
    assert_eq!(
        c.sign_with_pin("1111", b"x", false),
        Err(CardError::PinWrong { tries_left: 1 })
    );
    assert_eq!(
        c.sign_with_pin("2222", b"x", false),
        Err(CardError::PinLocked)
    );
    assert_eq!(
        c.sign_with_pin("1234", b"x", false),
        Err(CardError::PinLocked),
        "the right PIN after the lock"
    );
    assert_eq!(c.pin_tries_left(), Err(CardError::PinLocked));

    let (vc, anchor) = card(true);
    let mut f = MyNumberCard::new(vc);
    assert_eq!(
        f.sign_with_pin("1234", b"x", true),
        Err(CardError::PinNotAvailable)
    );
    // The certificate and the card face are still readable.
    anchor
        .verify(&f.read_auth_certificate().unwrap(), Utc::now(), |_| false)
        .unwrap();
    assert_eq!(
        f.read_card_face(NUMBER_B).unwrap(),
        face(),
        "the whole card face, in the real layout"
    );
}

#[test]
fn wrong_number_b_and_card_removed_mid_flow() {
    let (vc, _) = card(true);
    let mut c = MyNumberCard::new(vc);
    assert_eq!(
        c.read_card_face("55021720340000"),
        Err(CardError::VerifyNumberBWrong { tries_left: 9 })
    );
    assert_eq!(
        c.read_card_face("short"),
        Err(CardError::VerifyNumberBWrong { tries_left: 8 })
    );
    c.read_auth_certificate().unwrap();
    let mut vc = c.into_inner();
    vc.remove();
    let mut c = MyNumberCard::new(vc);
    assert_eq!(c.read_card_face(NUMBER_B), Err(CardError::Removed));
}

#[test]
fn the_card_answers_garbage_with_status_words() {
    let (mut vc, _) = card(false);
    let sw = |r: Vec<u8>| u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]);
    assert_eq!(
        sw(vc.transmit(&[0x00]).unwrap()),
        0x6700,
        "truncated header"
    );
    assert_eq!(
        sw(vc.transmit(&[0x00, 0xA4, 0x04, 0x0C, 0x05, 1, 2]).unwrap()),
        0x6700,
        "Lc longer than data"
    );
    assert_eq!(
        sw(vc
            .transmit(&[0x00, 0xA4, 0x04, 0x0C, 0x02, 0xAA, 0xBB])
            .unwrap()),
        0x6A82,
        "unknown applet"
    );
    assert_eq!(
        sw(vc.transmit(&[0x00, 0xFF, 0x00, 0x00]).unwrap()),
        0x6D00,
        "unknown instruction"
    );
    assert_eq!(
        sw(vc.transmit(&[0x42, 0xA4, 0x00, 0x00]).unwrap()),
        0x6E00,
        "unknown class"
    );
    assert_eq!(
        sw(vc.transmit(&[0x00, 0xB0, 0x00, 0x00, 0x10]).unwrap()),
        0x6985,
        "read before select"
    );
    assert_eq!(
        sw(vc
            .transmit(&[0x80, 0x2A, 0x00, 0x80, 0x01, 0x01, 0x00])
            .unwrap()),
        0x6985,
        "sign without key selected"
    );
}

/// A reader that garbles responses.
struct Truncating(VirtualCard);

impl CardChannel for Truncating {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        let mut r = self.0.transmit(command)?;
        r.truncate(1);
        Ok(r)
    }
}

#[test]
fn truncated_responses_are_refused() {
    let (vc, _) = card(false);
    let mut c = MyNumberCard::new(Truncating(vc));
    assert!(matches!(
        c.read_auth_certificate(),
        Err(CardError::MalformedResponse(_))
    ));
}

#[test]
fn the_card_face_applet_is_never_guessed_against_its_lock() {
    use kakunin_core::card_face::{Source, KEEP_TRIES};
    let (vc, _) = card(true);
    let mut c = MyNumberCard::new(vc);
    // Asking the tries spends none.
    assert_eq!(c.number_b_tries_left(), Ok(10));
    assert_eq!(c.number_b_tries_left(), Ok(10));
    let sure = Source::Camera { confidence: 0.95 };
    // A sure read that is wrong is sent once…
    let (tries, got) = c.open_card_face("55021720340000", sure, 0);
    assert_eq!(
        (tries, got),
        (
            Some(10),
            Err(CardError::VerifyNumberBWrong { tries_left: 9 })
        )
    );
    // …and never again automatically in the same visit, even the right number.
    let (_, again) = c.open_card_face(NUMBER_B, sure, 1);
    assert!(
        matches!(again, Err(CardError::NumberBNotTried(_))),
        "{again:?}"
    );
    assert_eq!(c.number_b_tries_left(), Ok(9), "nothing was sent");
    // An unsure read is not sent: the kiosk asks again.
    let (_, unsure) = c.open_card_face(NUMBER_B, Source::Camera { confidence: 0.1 }, 0);
    assert!(matches!(unsure, Err(CardError::NumberBNotTried(_))));
    // Down to the last few tries, the camera's number is not tried; staff may type one.
    for _ in 0..(9 - KEEP_TRIES) {
        let _ = c.read_card_face("00000000000000");
    }
    assert_eq!(c.number_b_tries_left(), Ok(KEEP_TRIES));
    let (_, kept) = c.open_card_face(NUMBER_B, sure, 0);
    assert!(matches!(kept, Err(CardError::NumberBNotTried(_))));
    let (_, typed) = c.open_card_face(NUMBER_B, Source::Staff, 0);
    assert_eq!(typed.unwrap().birth_date, "19800217");
    // A locked applet says so and is not tried.
    for _ in 0..10 {
        let _ = c.read_card_face("00000000000000");
    }
    assert_eq!(c.number_b_tries_left(), Ok(0));
    assert_eq!(
        c.open_card_face(NUMBER_B, Source::Staff, 0).1,
        Err(CardError::NumberBLocked)
    );
}
