//! End to end through the real PC/SC stack: virtual card ⇄ vpcd ⇄ pcscd ⇄ `pcsc` crate ⇄ the
//! client, exactly as with a physical reader. Needs the `pcsc` feature, pcscd running and
//! vsmartcard-vpcd installed (`scripts/setup-pcsc`).
#![cfg(feature = "pcsc")]

use chrono::{Duration, Utc};
use kakunin_card::client::MyNumberCard;
use kakunin_card::pcsc_channel::PcscChannel;
use kakunin_card::virtual_card::{CardFace, VirtualCard};
use kakunin_evidence::ca::DemoCa;
use kakunin_evidence::certificate::TrustAnchor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[test]
fn a_virtual_card_read_through_pcscd() {
    let ca = DemoCa::new().unwrap();
    let now = Utc::now();
    let demo = ca
        .issue_card(
            "C00000000002",
            now - Duration::days(1),
            now + Duration::days(365),
        )
        .unwrap();
    let face = CardFace {
        name_image: b"\x89PNG name".to_vec(),
        address_image: b"\x89PNG address".to_vec(),
        birth_date: "19900401".into(),
        sex: 2,
        expiry: "20300401".into(),
        photo: vec![7; 3000],
        ..CardFace::default()
    };
    let mut vc = VirtualCard::new(demo, ca.certificate_der().to_vec(), true, "", &face, "4321");
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let server = std::thread::spawn(move || {
        // vpcd accepts one card at a time; retry while pcscd brings the driver up.
        for _ in 0..50 {
            match kakunin_card::vpcd::serve(
                &mut vc,
                &format!("127.0.0.1:{}", kakunin_card::vpcd::VPCD_PORT),
                &s2,
            ) {
                Ok(()) => return,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
            }
        }
        panic!(
            "could not reach vpcd on port 35963: is pcscd running with vsmartcard-vpcd installed?"
        );
    });
    let mut channel = None;
    for _ in 0..50 {
        match PcscChannel::connect("Virtual PCD") {
            Ok(c) => {
                channel = Some(c);
                break;
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
    let mut card = MyNumberCard::new(channel.unwrap_or_else(|| {
        panic!(
            "no card in a Virtual PCD reader; readers: {:?}",
            PcscChannel::readers()
        )
    }));
    let t = Instant::now();
    let der = card.read_auth_certificate().unwrap();
    let read_cert = t.elapsed();
    TrustAnchor::from_der(ca.certificate_der().to_vec())
        .unwrap()
        .verify(&der, Utc::now(), |_| false)
        .unwrap();
    let t = Instant::now();
    let f = card.read_card_face("02040120304321").unwrap();
    let read_face = t.elapsed();
    assert_eq!(
        (f.name_image.as_slice(), f.birth_date.as_str()),
        (&b"\x89PNG name"[..], "19900401")
    );
    assert_eq!(f.photo.len(), 3000);
    assert_eq!(
        card.sign_with_pin("1234", b"x", true),
        Err(kakunin_card::CardError::PinNotAvailable)
    );
    eprintln!("over PC/SC: certificate {read_cert:?}, card face with photo {read_face:?}");
    stop.store(true, Ordering::Relaxed);
    drop(card);
    server.join().unwrap();
}
