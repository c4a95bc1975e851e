//! Converts images to PNG for viewing (`cargo run -p kakunin-cardface --example to_png -- IN OUT`).
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let img = image::open(&a[1]).expect("an image");
    let img = if a.len() > 3 {
        img.resize(
            a[3].parse().unwrap(),
            10_000,
            image::imageops::FilterType::Triangle,
        )
    } else {
        img
    };
    img.save(&a[2]).expect("PNG written");
}
