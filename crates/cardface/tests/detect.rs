//! The card is found where it was photographed, whatever the angle; an empty tray, two cards
//! and a thumb on a corner are told apart. (Plain cards: no font needed.)

use kakunin_cardface::detect::{find_card, rectify};
use kakunin_cardface::layout::{HEIGHT, WIDTH};
use kakunin_cardface::render::{corners, photograph, photograph_all, Shot};
use kakunin_cardface::CardFaceError;

/// A plain card: pale, with a dark photo on the right (so it has a right way up).
fn plain_card() -> image::RgbImage {
    let (px, py, pw, ph) = kakunin_cardface::layout::PHOTO.px();
    image::RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        if (px..px + pw).contains(&x) && (py..py + ph).contains(&y) {
            image::Rgb([70, 70, 70])
        } else {
            image::Rgb([240, 238, 242])
        }
    })
}

fn shot(rotation: f32, tilt: f32, hand: u8, upside_down: bool) -> Shot {
    Shot {
        frame: (1280, 960),
        rotation,
        tilt,
        scale: 0.6,
        upside_down,
        blur: 0.8,
        glare: None,
        light: 0.8,
        jpeg_quality: 50,
        hand,
        seed: 7,
        centre: None,
    }
}

fn distance(a: (f32, f32), b: (f32, f32)) -> f32 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

#[test]
fn the_corners_are_found_within_a_millimetre() {
    for (rotation, tilt, hand, flipped) in [
        (0.0, 0.0, 0, false),
        (-18.0, 25.0, 0, false),
        (12.0, 10.0, 1, false),
        (5.0, 28.0, 3, true),
        (-10.0, 15.0, 4, false),
    ] {
        let s = shot(rotation, tilt, hand, flipped);
        let found =
            find_card(&photograph(&plain_card(), &s)).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        let truth = corners(&s);
        // The same four points, in some rotation of the order.
        let best = (0..4)
            .map(|k| {
                (0..4)
                    .map(|i| distance(found[(i + k) % 4], truth[i]))
                    .fold(0.0, f32::max)
            })
            .fold(f32::MAX, f32::min);
        let mm = 1280.0 * 0.6 / 85.6;
        assert!(
            best < mm * 1.0,
            "{s:?}: off by {:.1} px ({:.2} mm)",
            best,
            best / mm
        );
        let (_, upside_down) = rectify(&photograph(&plain_card(), &s), found).unwrap();
        let _ = upside_down;
    }
}

#[test]
fn upside_down_is_turned_the_right_way() {
    let card = plain_card();
    for flipped in [false, true] {
        let s = shot(3.0, 5.0, 0, flipped);
        let frame = photograph(&card, &s);
        let (straight, _) = rectify(&frame, find_card(&frame).unwrap()).unwrap();
        let (px, py, pw, ph) = kakunin_cardface::layout::PHOTO.px();
        let centre = straight.get_pixel(px + pw / 2, py + ph / 2).0[0];
        assert!(
            centre < 120,
            "the photo is on the right (flipped {flipped}): {centre}"
        );
    }
}

#[test]
fn an_empty_tray_and_two_cards_are_refused() {
    let s = shot(0.0, 0.0, 0, false);
    let empty = photograph(
        &image::RgbImage::new(1, 1),
        &Shot {
            scale: 0.001,
            ..s.clone()
        },
    );
    assert_eq!(find_card(&empty), Err(CardFaceError::NoCard));
    // One tone all over (a covered lens, a wall): nothing stands out, so no card.
    for tone in [40u8, 128, 230] {
        let flat = image::RgbImage::from_pixel(640, 480, image::Rgb([tone, tone, tone + 5]));
        assert_eq!(find_card(&flat), Err(CardFaceError::NoCard), "tone {tone}");
    }
    let one = Shot {
        scale: 0.36,
        ..s.clone()
    };
    let card = plain_card();
    let two = photograph_all(
        &[
            (
                &card,
                &Shot {
                    centre: Some((0.27, 0.5)),
                    ..one.clone()
                },
            ),
            (
                &card,
                &Shot {
                    centre: Some((0.73, 0.5)),
                    ..one.clone()
                },
            ),
        ],
        &s,
    );
    assert_eq!(find_card(&two), Err(CardFaceError::SeveralCards));
}
