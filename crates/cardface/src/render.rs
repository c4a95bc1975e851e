//! Card faces drawn with the card's layout ([`crate::layout`]) in a Japanese font from Debian,
//! and photographed in simulation (perspective, rotation, blur, glare, dim light, JPEG, a hand
//! over a corner) — the measured test set, and the demo cards' images. Seeded: the same seed
//! draws the same picture.

use crate::layout::{self, Area, HEIGHT, PX_PER_MM, WIDTH};
use crate::CardFaceError;
use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use chrono::NaiveDate;
use image::{GrayImage, Rgb, RgbImage, Rgba, RgbaImage};
use imageproc::geometric_transformations::{warp_into, Interpolation, Projection};
use rand::{Rng, SeedableRng};

/// Where Japanese fonts are found: Debian's Noto CJK (`fonts-noto-cjk`, installed by
/// `./scripts/setup-browser`) or IPAex (`fonts-ipaexfont`); `KAKUNIN_CARD_FONT` names another.
const FONT_PATHS: [&str; 3] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
];

/// A Japanese font to draw card faces with.
pub struct Fonts {
    font: FontVec,
}

impl Fonts {
    /// The first Japanese font found.
    pub fn find() -> Result<Fonts, CardFaceError> {
        let wanted = std::env::var("KAKUNIN_CARD_FONT").ok();
        for path in wanted.iter().map(String::as_str).chain(FONT_PATHS) {
            let Ok(bytes) = std::fs::read(path) else {
                continue;
            };
            // A .ttc holds several faces; the first of Noto CJK's is Japanese.
            if let Ok(font) = FontVec::try_from_vec_and_index(bytes, 0) {
                return Ok(Fonts { font });
            }
        }
        Err(CardFaceError::NoFont)
    }

    /// Draws `text` at (`x`, `baseline`) in pixels, `px` high, darkening `img` by the glyphs.
    pub fn draw(
        &self,
        img: &mut RgbImage,
        text: &str,
        x: f32,
        baseline: f32,
        px: f32,
        ink: Rgb<u8>,
    ) {
        let scaled = self.font.as_scaled(PxScale::from(px));
        let mut pen = x;
        for c in text.chars() {
            let id = self.font.glyph_id(c);
            let glyph = id.with_scale_and_position(px, ab_glyph::point(pen, baseline));
            pen += scaled.h_advance(id);
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue;
            };
            let b = outline.px_bounds();
            outline.draw(|gx, gy, cover| {
                let (px_, py) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
                if px_ < 0 || py < 0 || px_ >= img.width() as i64 || py >= img.height() as i64 {
                    return;
                }
                let p = img.get_pixel_mut(px_ as u32, py as u32);
                for k in 0..3 {
                    let v = p.0[k] as f32 * (1.0 - cover) + ink.0[k] as f32 * cover;
                    p.0[k] = v.round() as u8;
                }
            });
        }
    }

    /// The width of `text` at `px`.
    pub fn width(&self, text: &str, px: f32) -> f32 {
        let scaled = self.font.as_scaled(PxScale::from(px));
        text.chars()
            .map(|c| scaled.h_advance(self.font.glyph_id(c)))
            .sum()
    }

    /// `text` as a PNG of black text on white, `px` high — how the card-face applet holds the
    /// name and the address.
    pub fn text_png(&self, lines: &[&str], px: f32) -> Vec<u8> {
        let w = lines.iter().map(|l| self.width(l, px)).fold(1.0, f32::max);
        let mut img = RgbImage::from_pixel(
            w.ceil() as u32 + 8,
            (px * 1.3 * lines.len() as f32).ceil() as u32 + 8,
            Rgb([255, 255, 255]),
        );
        for (i, line) in lines.iter().enumerate() {
            self.draw(
                &mut img,
                line,
                4.0,
                4.0 + px * (1.0 + 1.3 * i as f32),
                px,
                Rgb([0, 0, 0]),
            );
        }
        let grey = image::DynamicImage::ImageRgb8(img).into_luma8();
        let mut out = std::io::Cursor::new(vec![]);
        grey.write_to(&mut out, image::ImageFormat::Png)
            .expect("PNG encodes in memory");
        out.into_inner()
    }
}

/// A white PNG of `w` × `h` (a card-face image where no font can draw the text).
pub fn blank_png(w: u32, h: u32) -> Vec<u8> {
    let img = GrayImage::from_pixel(w.max(1), h.max(1), image::Luma([255]));
    let mut out = std::io::Cursor::new(vec![]);
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("PNG encodes in memory");
    out.into_inner()
}

/// What a card's face shows.
#[derive(Debug, Clone)]
pub struct CardData {
    /// 氏名.
    pub name: String,
    /// 住所 (one or two lines).
    pub address: Vec<String>,
    /// 生年月日.
    pub birth: NaiveDate,
    /// 1 male, 2 female.
    pub sex: u8,
    /// The last day it is valid.
    pub expiry: NaiveDate,
    /// The 4-digit security code.
    pub security_code: String,
    /// The holder's photo (greyscale), when there is one.
    pub photo: Option<GrayImage>,
}

fn fill(img: &mut RgbImage, a: Area, colour: Rgb<u8>) {
    let (x, y, w, h) = a.px();
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, colour);
        }
    }
}

const INK: Rgb<u8> = Rgb([20, 20, 30]);
const LABEL: Rgb<u8> = Rgb([90, 90, 110]);

/// The card's front, rectified: [`WIDTH`] × [`HEIGHT`] pixels.
pub fn front(card: &CardData, fonts: &Fonts) -> Result<RgbImage, CardFaceError> {
    let mm = PX_PER_MM;
    // The pale printed background (real cards have a fine pattern; a gentle gradient here).
    let mut img = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let t = (x as f32 / WIDTH as f32 + y as f32 / HEIGHT as f32) / 2.0;
        Rgb([
            (246.0 - 8.0 * t) as u8,
            (240.0 - 4.0 * t) as u8,
            (242.0 + 6.0 * t) as u8,
        ])
    });
    let text = |img: &mut RgbImage, s: &str, a: Area, px: f32, ink| {
        fonts.draw(img, s, a.x0 * mm, a.y0 * mm + px * 0.95, px, ink)
    };
    text(&mut img, "氏名", layout::NAME, 2.2 * mm, LABEL);
    text(
        &mut img,
        &card.name,
        Area {
            x0: layout::NAME.x0 + 7.0,
            ..layout::NAME
        },
        4.2 * mm,
        INK,
    );
    text(&mut img, "住所", layout::ADDRESS, 2.2 * mm, LABEL);
    for (i, line) in card.address.iter().take(2).enumerate() {
        let y0 = layout::ADDRESS.y0 + 0.2 + 5.6 * i as f32;
        text(
            &mut img,
            line,
            Area {
                x0: layout::ADDRESS.x0 + 7.0,
                y0,
                ..layout::ADDRESS
            },
            3.4 * mm,
            INK,
        );
    }
    let birth = layout::birth_text(card.birth)
        .ok_or(CardFaceError::Unprintable("birth date before 1873"))?;
    text(
        &mut img,
        &birth,
        Area {
            y0: layout::BIRTH.y0 + 0.8,
            ..layout::BIRTH
        },
        3.6 * mm,
        INK,
    );
    let sex = if card.sex == 2 {
        "性別 女"
    } else {
        "性別 男"
    };
    text(
        &mut img,
        sex,
        Area {
            y0: layout::SEX.y0 + 0.8,
            ..layout::SEX
        },
        3.6 * mm,
        INK,
    );
    // The expiry box, outlined.
    let e = layout::EXPIRY;
    fill(
        &mut img,
        Area {
            y1: e.y0 + 0.3,
            ..e
        },
        LABEL,
    );
    fill(
        &mut img,
        Area {
            y0: e.y1 - 0.3,
            ..e
        },
        LABEL,
    );
    fill(
        &mut img,
        Area {
            x1: e.x0 + 0.3,
            ..e
        },
        LABEL,
    );
    fill(
        &mut img,
        Area {
            x0: e.x1 - 0.3,
            ..e
        },
        LABEL,
    );
    text(
        &mut img,
        &layout::expiry_text(card.expiry),
        Area {
            x0: e.x0 + 1.5,
            y0: e.y0 + 1.2,
            ..e
        },
        3.6 * mm,
        INK,
    );
    text(
        &mut img,
        "セキュリティコード",
        Area {
            y0: layout::CODE_LABEL.y0 + 0.6,
            ..layout::CODE_LABEL
        },
        1.9 * mm,
        LABEL,
    );
    text(
        &mut img,
        &card.security_code,
        Area {
            x0: layout::CODE.x0 + 1.0,
            y0: layout::CODE.y0 + 1.0,
            ..layout::CODE
        },
        4.0 * mm,
        INK,
    );
    text(
        &mut img,
        "個人番号カード",
        layout::TITLE,
        3.6 * mm,
        Rgb([60, 60, 140]),
    );
    // The photo, greyscale as the chip holds it; a plain grey figure without one.
    let (px, py, pw, ph) = layout::PHOTO.px();
    match &card.photo {
        Some(photo) => {
            let fitted =
                image::imageops::resize(photo, pw, ph, image::imageops::FilterType::Triangle);
            for (x, y, p) in fitted.enumerate_pixels() {
                img.put_pixel(px + x, py + y, Rgb([p.0[0]; 3]));
            }
        }
        None => fill(&mut img, layout::PHOTO, Rgb([150, 150, 150])),
    }
    Ok(img)
}

/// The card's back (the 12-digit My Number and a printed code block): shown by mistake.
pub fn back(my_number: &str, fonts: &Fonts) -> RgbImage {
    let mm = PX_PER_MM;
    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, Rgb([240, 242, 246]));
    fonts.draw(&mut img, "個人番号", 4.0 * mm, 10.0 * mm, 3.0 * mm, LABEL);
    fonts.draw(&mut img, my_number, 4.0 * mm, 18.0 * mm, 5.0 * mm, INK);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(my_number.len() as u64);
    for by in 0..25 {
        for bx in 0..25 {
            if rng.gen_bool(0.5) {
                fill(
                    &mut img,
                    Area {
                        x0: 60.0 + bx as f32 * 0.9,
                        y0: 36.0 + by as f32 * 0.6,
                        x1: 60.9 + bx as f32 * 0.9,
                        y1: 36.6 + by as f32 * 0.6,
                    },
                    INK,
                );
            }
        }
    }
    img
}

/// How a card is photographed.
#[derive(Debug, Clone, PartialEq)]
pub struct Shot {
    /// The frame's size.
    pub frame: (u32, u32),
    /// Rotation in the image plane, degrees.
    pub rotation: f32,
    /// Tilt out of the image plane (perspective), degrees, up to 30.
    pub tilt: f32,
    /// Card width as a share of the frame's width.
    pub scale: f32,
    /// Upside down.
    pub upside_down: bool,
    /// Gaussian blur sigma, pixels.
    pub blur: f32,
    /// A glare spot: its centre on the card (0–1, 0–1) and radius (mm).
    pub glare: Option<(f32, f32, f32)>,
    /// Light level (1 full, 0.35 dim).
    pub light: f32,
    /// JPEG quality the frame is stored at (100: PNG-like, no loss).
    pub jpeg_quality: u8,
    /// A thumb over one corner (0 none, 1–4 the corners clockwise from the top-left).
    pub hand: u8,
    /// Seed of the background and the noise.
    pub seed: u64,
    /// Where the card's centre is in the frame (0–1, 0–1); near the middle when `None`.
    pub centre: Option<(f32, f32)>,
}

impl Shot {
    /// A random shot within the ranges of the measured test set.
    pub fn random(rng: &mut impl Rng) -> Shot {
        Shot {
            frame: (1280, 960),
            rotation: rng.gen_range(-20.0..20.0),
            tilt: rng.gen_range(0.0..30.0),
            scale: rng.gen_range(0.5..0.75),
            upside_down: rng.gen_bool(0.1),
            blur: if rng.gen_bool(0.3) {
                rng.gen_range(0.5..2.0)
            } else {
                0.0
            },
            glare: rng.gen_bool(0.25).then(|| {
                (
                    rng.gen_range(0.1..0.9),
                    rng.gen_range(0.1..0.9),
                    rng.gen_range(3.0..9.0),
                )
            }),
            light: if rng.gen_bool(0.25) {
                rng.gen_range(0.35..0.7)
            } else {
                rng.gen_range(0.8..1.0)
            },
            jpeg_quality: if rng.gen_bool(0.3) { 50 } else { 85 },
            hand: if rng.gen_bool(0.2) {
                rng.gen_range(1..=4)
            } else {
                0
            },
            seed: rng.gen(),
            centre: None,
        }
    }
}

/// The corners of the card in the frame (top-left, top-right, bottom-right, bottom-left of the
/// card as printed).
pub fn corners(shot: &Shot) -> [(f32, f32); 4] {
    let (fw, fh) = (shot.frame.0 as f32, shot.frame.1 as f32);
    let w = fw * shot.scale;
    let h = w * HEIGHT as f32 / WIDTH as f32;
    // Tilt about the card's vertical axis: the far side shrinks and recedes.
    let t = shot.tilt.to_radians();
    let near = 1.0;
    let far = 1.0 / (1.0 + t.sin() * 0.6);
    let half = |s: f32| h / 2.0 * s;
    let xs = w / 2.0 * t.cos();
    let mut pts = [
        (-xs, -half(near)),
        (xs, -half(far)),
        (xs, half(far)),
        (-xs, half(near)),
    ];
    if shot.upside_down {
        pts.rotate_left(2);
    }
    let (s, c) = shot.rotation.to_radians().sin_cos();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(shot.seed);
    let (cx, cy) = match shot.centre {
        Some((x, y)) => (x * fw, y * fh),
        None => (
            fw / 2.0 + rng.gen_range(-0.08..0.08) * fw,
            fh / 2.0 + rng.gen_range(-0.08..0.08) * fh,
        ),
    };
    pts.map(|(x, y)| (cx + x * c - y * s, cy + x * s + y * c))
}

/// Photographs the rectified `card` (a front or a back) as `shot` says.
pub fn photograph(card: &RgbImage, shot: &Shot) -> RgbImage {
    photograph_all(&[(card, shot)], shot)
}

/// Photographs several cards on one tray, each placed as its shot says; the frame, light,
/// blur and JPEG are `look`'s.
pub fn photograph_all(cards: &[(&RgbImage, &Shot)], look: &Shot) -> RgbImage {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(look.seed ^ 0x5EED);
    let (fw, fh) = look.frame;
    // The tray: a dark, uneven background.
    let base: f32 = rng.gen_range(25.0..85.0);
    let tint: [f32; 3] = [
        rng.gen_range(0.8..1.2),
        rng.gen_range(0.8..1.2),
        rng.gen_range(0.8..1.2),
    ];
    let mut frame = RgbaImage::from_fn(fw, fh, |x, y| {
        let g = base * (0.8 + 0.4 * (x as f32 / fw as f32)) * (0.9 + 0.2 * (y as f32 / fh as f32));
        Rgba([
            (g * tint[0]).min(255.0) as u8,
            (g * tint[1]).min(255.0) as u8,
            (g * tint[2]).min(255.0) as u8,
            255,
        ])
    });
    for (card, shot) in cards {
        place(&mut frame, card, shot, &mut rng);
    }
    let mut rgb = RgbImage::from_fn(fw, fh, |x, y| {
        let p = frame.get_pixel(x, y).0;
        Rgb([p[0], p[1], p[2]])
    });
    if look.blur > 0.0 {
        rgb = imageproc::filter::gaussian_blur_f32(&rgb, look.blur);
    }
    for p in rgb.pixels_mut() {
        let n: f32 = rng.gen_range(-6.0..6.0);
        for v in &mut p.0 {
            *v = (*v as f32 * look.light + n).clamp(0.0, 255.0) as u8;
        }
    }
    if look.jpeg_quality < 100 {
        let mut bytes = vec![];
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, look.jpeg_quality);
        if image::DynamicImage::ImageRgb8(rgb.clone())
            .write_with_encoder(enc)
            .is_ok()
        {
            if let Ok(back) = image::load_from_memory(&bytes) {
                rgb = back.into_rgb8();
            }
        }
    }
    rgb
}

/// Draws one card (its glare, then warped into place, then a thumb) onto the tray.
fn place(frame: &mut RgbaImage, card: &RgbImage, shot: &Shot, rng: &mut impl Rng) {
    let (fw, fh) = frame.dimensions();
    let mut card = RgbaImage::from_fn(card.width(), card.height(), |x, y| {
        let p = card.get_pixel(x, y).0;
        Rgba([p[0], p[1], p[2], 255])
    });
    if let Some((gx, gy, r)) = shot.glare {
        let (cx, cy, r) = (gx * WIDTH as f32, gy * HEIGHT as f32, r * PX_PER_MM);
        for (x, y, p) in card.enumerate_pixels_mut() {
            let d2 = (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2);
            let k = (-d2 / (r * r)).exp() * 0.85;
            for v in &mut p.0[..3] {
                *v = (*v as f32 + (255.0 - *v as f32) * k) as u8;
            }
        }
    }
    let from = [
        (0.0, 0.0),
        (WIDTH as f32, 0.0),
        (WIDTH as f32, HEIGHT as f32),
        (0.0, HEIGHT as f32),
    ];
    if let Some(p) = Projection::from_control_points(from, corners(shot)) {
        let mut warped = RgbaImage::new(fw, fh);
        warp_into(
            &card,
            &p,
            Interpolation::Bilinear,
            Rgba([0, 0, 0, 0]),
            &mut warped,
        );
        for (x, y, w) in warped.enumerate_pixels() {
            let a = w.0[3] as f32 / 255.0;
            if a > 0.0 {
                let f = frame.get_pixel_mut(x, y);
                for k in 0..3 {
                    f.0[k] = (f.0[k] as f32 * (1.0 - a) + w.0[k] as f32 * a) as u8;
                }
            }
        }
    }
    if shot.hand > 0 {
        // A thumb holding the card by a corner (about 6 × 4 mm of it covered).
        let c = corners(shot);
        let (ax, ay) = c[(shot.hand as usize - 1) % 4];
        let (r1, r2) = (fw as f32 * shot.scale * 0.07, fw as f32 * shot.scale * 0.05);
        let r: f32 = rng.gen_range(170.0..225.0);
        let skin = [
            r,
            r * rng.gen_range(0.65..0.8),
            r * rng.gen_range(0.5..0.65),
        ];
        for y in 0..fh {
            for x in 0..fw {
                let (dx, dy) = (x as f32 - ax, y as f32 - ay);
                if (dx / r1).powi(2) + (dy / r2).powi(2) <= 1.0 {
                    frame.put_pixel(
                        x,
                        y,
                        Rgba([skin[0] as u8, skin[1] as u8, skin[2] as u8, 255]),
                    );
                }
            }
        }
    }
}

/// A grey photo stand-in from `bytes` (any JPEG or PNG), or `None` when it cannot be read.
pub fn photo_from(bytes: &[u8]) -> Option<GrayImage> {
    let img = image::load_from_memory(bytes).ok()?;
    // Card photos are portrait, 3:4: the centre of a square portrait.
    let g = img.into_luma8();
    let (w, h) = g.dimensions();
    let cw = (h * 3 / 4).min(w);
    Some(image::imageops::crop_imm(&g, (w - cw) / 2, 0, cw, h).to_image())
}
