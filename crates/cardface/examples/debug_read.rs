//! Writes what the reader sees of a frame (`--example debug_read --features ocr -- FRAME OUTDIR`):
//! the rectified card and each field as given to the OCR.
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let frame = image::open(&a[1]).expect("an image").into_rgb8();
    let out = std::path::Path::new(&a[2]);
    std::fs::create_dir_all(out).unwrap();
    let corners = kakunin_cardface::detect::find_card(&frame).expect("a card");
    println!("corners {corners:?}");
    let (card, flipped) = kakunin_cardface::detect::rectify(&frame, corners).unwrap();
    println!("upside down: {flipped}");
    card.save(out.join("card.png")).unwrap();
    let grey = image::DynamicImage::ImageRgb8(card).into_luma8();
    use kakunin_cardface::layout::*;
    for (name, area) in [("birth", BIRTH), ("expiry", EXPIRY), ("code", CODE)] {
        kakunin_cardface::read::field(&grey, area, 28, 1.5)
            .save(out.join(format!("{name}.png")))
            .unwrap();
        kakunin_cardface::read::field_grey(&grey, area, 1.5)
            .save(out.join(format!("{name}-grey.png")))
            .unwrap();
    }
}
