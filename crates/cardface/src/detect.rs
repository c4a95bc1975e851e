//! Finding the card in a camera frame and straightening it: the card is the large bright
//! quadrilateral on the darker tray. Its outline's convex hull, simplified to its four longest
//! sides, gives the corners even when a thumb covers one; the picture between them is warped
//! to the layout's [`WIDTH`] × [`HEIGHT`], and turned the right way up by where the photo is.

use crate::layout::{self, HEIGHT, WIDTH};
use crate::CardFaceError;
use image::{GrayImage, Luma, RgbImage};
use imageproc::geometric_transformations::{warp_into, Interpolation, Projection};
use imageproc::point::Point;
use imageproc::region_labelling::{connected_components, Connectivity};

/// Width the frame is analysed at (the corners are scaled back).
const WORK_WIDTH: u32 = 640;

/// The card's corners in the frame, clockwise from the first corner of a long side (not yet
/// known to be the printed top-left: [`rectify`] turns it upright).
pub fn find_card(frame: &RgbImage) -> Result<[(f32, f32); 4], CardFaceError> {
    let grey = image::DynamicImage::ImageRgb8(frame.clone()).into_luma8();
    let k = WORK_WIDTH as f32 / grey.width().max(1) as f32;
    let small = image::imageops::resize(
        &grey,
        WORK_WIDTH,
        ((grey.height() as f32 * k).round() as u32).max(1),
        image::imageops::FilterType::Triangle,
    );
    let colour = image::imageops::resize(
        frame,
        small.width(),
        small.height(),
        image::imageops::FilterType::Triangle,
    );
    let level = imageproc::contrast::otsu_level(&small);
    // The card is bright and nearly colourless; a thumb or a coloured tray is not.
    let mask = GrayImage::from_fn(small.width(), small.height(), |x, y| {
        let [r, g, b] = colour.get_pixel(x, y).0;
        let spread = r.max(g).max(b) - r.min(g).min(b);
        let warm = r as i16 - b as i16 > 20;
        Luma([
            if small.get_pixel(x, y).0[0] > level && spread < 40 && !warm {
                255
            } else {
                0
            },
        ])
    });
    let labels = connected_components(&mask, Connectivity::Four, Luma([0u8]));
    let mut sizes: std::collections::HashMap<u32, usize> = Default::default();
    for p in labels.pixels() {
        if p.0[0] != 0 {
            *sizes.entry(p.0[0]).or_default() += 1;
        }
    }
    let mut by_size: Vec<(u32, usize)> = sizes.into_iter().collect();
    by_size.sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    let area = (small.width() * small.height()) as usize;
    let Some(&(label, size)) = by_size.first().filter(|(_, s)| *s * 25 >= area) else {
        return Err(CardFaceError::NoCard);
    };
    if by_size.get(1).is_some_and(|(_, s)| *s * 3 >= size) {
        return Err(CardFaceError::SeveralCards);
    }
    // A card stands out from the tray; an unevenly lit empty tray only splits in two.
    let (mut inside, mut n_in, mut outside, mut n_out) = (0u64, 0u64, 0u64, 0u64);
    for (p, l) in small.pixels().zip(labels.pixels()) {
        if l.0[0] == label {
            inside += p.0[0] as u64;
            n_in += 1;
        } else {
            outside += p.0[0] as u64;
            n_out += 1;
        }
    }
    // A frame of one tone (a covered lens, a wall) is all "region" with nothing around it.
    if n_out * 20 < area as u64 || inside / n_in.max(1) < outside / n_out.max(1) + 30 {
        return Err(CardFaceError::NoCard);
    }
    // The region's outer boundary (not the edges of the print inside it): the pixels of the
    // region next to the outside, which is flooded from the frame's border.
    let (w, h) = labels.dimensions();
    let inside = |x: u32, y: u32| labels.get_pixel(x, y).0[0] == label;
    let mut outside = vec![false; (w * h) as usize];
    let mut queue: std::collections::VecDeque<(u32, u32)> = Default::default();
    for x in 0..w {
        queue.extend([(x, 0), (x, h - 1)]);
    }
    for y in 0..h {
        queue.extend([(0, y), (w - 1, y)]);
    }
    while let Some((x, y)) = queue.pop_front() {
        let i = (y * w + x) as usize;
        if outside[i] || inside(x, y) {
            continue;
        }
        outside[i] = true;
        if x > 0 {
            queue.push_back((x - 1, y));
        }
        if y > 0 {
            queue.push_back((x, y - 1));
        }
        if x + 1 < w {
            queue.push_back((x + 1, y));
        }
        if y + 1 < h {
            queue.push_back((x, y + 1));
        }
    }
    let mut edge = vec![];
    for y in 0..h {
        for x in 0..w {
            if !inside(x, y) {
                continue;
            }
            let out = |nx: i64, ny: i64| {
                nx < 0
                    || ny < 0
                    || nx >= w as i64
                    || ny >= h as i64
                    || outside[(ny as u32 * w + nx as u32) as usize]
            };
            let (xi, yi) = (x as i64, y as i64);
            if out(xi + 1, yi) || out(xi - 1, yi) || out(xi, yi + 1) || out(xi, yi - 1) {
                edge.push(Point::new(x as i32, y as i32));
            }
        }
    }
    let hull = imageproc::geometry::convex_hull(edge.clone());
    let rough = four_sides(&hull).ok_or(CardFaceError::NotACard)?;
    let quad = refine(rough, &edge);
    if std::env::var_os("KAKUNIN_CARDFACE_DEBUG").is_some() {
        eprintln!(
            "hull {} points, rough {rough:?}, refined {quad:?}",
            hull.len()
        );
    }
    let scaled = quad.map(|(x, y)| (x / k, y / k));
    // A card is 85.6 × 54 mm: refuse what is far from that (seen at up to 30° of tilt).
    let side = |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let (l0, l1) = (
        side(scaled[0], scaled[1]) + side(scaled[2], scaled[3]),
        side(scaled[1], scaled[2]) + side(scaled[3], scaled[0]),
    );
    let ratio = l0.max(l1) / l0.min(l1).max(1.0);
    if !(1.2..=2.2).contains(&ratio) {
        return Err(CardFaceError::NotACard);
    }
    // Start on a long side.
    Ok(if l0 >= l1 {
        scaled
    } else {
        [scaled[1], scaled[2], scaled[3], scaled[0]]
    })
}

/// The quadrilateral of a convex polygon's four longest sides (a thumb cutting a corner adds a
/// short side, which is dropped; the two sides it cut are extended to meet again).
fn four_sides(hull: &[Point<i32>]) -> Option<[(f32, f32); 4]> {
    if hull.len() < 4 {
        return None;
    }
    let perimeter: f64 = (0..hull.len())
        .map(|i| {
            let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
            (((a.x - b.x).pow(2) + (a.y - b.y).pow(2)) as f64).sqrt()
        })
        .sum();
    // Douglas–Peucker on a closed outline: split it at the point farthest from the first and
    // simplify the two open halves.
    let far = (0..hull.len())
        .max_by_key(|&i| (hull[i].x - hull[0].x).pow(2) + (hull[i].y - hull[0].y).pow(2))
        .expect("points");
    let eps = perimeter * 0.01;
    let first = imageproc::geometry::approximate_polygon_dp(&hull[..=far], eps, false);
    let back: Vec<Point<i32>> = hull[far..].iter().chain(hull.first()).copied().collect();
    let second = imageproc::geometry::approximate_polygon_dp(&back, eps, false);
    let mut poly: Vec<Point<i32>> = first[..first.len() - 1]
        .iter()
        .chain(&second[..second.len() - 1])
        .copied()
        .collect();
    // One side may come out as two nearly straight pieces (a blurred or glared edge): drop the
    // vertices where the outline hardly turns.
    loop {
        let n = poly.len();
        if n <= 4 {
            break;
        }
        let turn = |i: usize| {
            let (a, b, c) = (poly[(i + n - 1) % n], poly[i], poly[(i + 1) % n]);
            let (u, v) = (
                ((b.x - a.x) as f32, (b.y - a.y) as f32),
                ((c.x - b.x) as f32, (c.y - b.y) as f32),
            );
            let cos = (u.0 * v.0 + u.1 * v.1) / ((u.0.hypot(u.1) * v.0.hypot(v.1)).max(1e-6));
            cos.clamp(-1.0, 1.0).acos().to_degrees()
        };
        let (i, t) = (0..n)
            .map(|i| (i, turn(i)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("vertices");
        if t > 15.0 {
            break;
        }
        poly.remove(i);
    }
    if poly.len() < 4 {
        return None;
    }
    let n = poly.len();
    let len = |i: usize| {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        (((a.x - b.x).pow(2) + (a.y - b.y).pow(2)) as f32).sqrt()
    };
    let mut sides: Vec<usize> = (0..n).collect();
    sides.sort_by(|a, b| len(*b).total_cmp(&len(*a)));
    let mut keep: Vec<usize> = sides[..4].to_vec();
    keep.sort();
    let line = |i: usize| {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        ((a.x as f32, a.y as f32), (b.x as f32, b.y as f32))
    };
    let mut out = [(0.0, 0.0); 4];
    for j in 0..4 {
        out[j] = meet(line(keep[j]), line(keep[(j + 1) % 4]))?;
    }
    Some(out)
}

/// Each side fitted to the outline's points along its middle (least squares, away from the
/// corners, where a thumb or a rounded corner bends the outline), the corners where the fitted
/// sides meet. Falls back to the rough corners where a side has too few points.
fn refine(rough: [(f32, f32); 4], edge: &[Point<i32>]) -> [(f32, f32); 4] {
    let pts: Vec<(f32, f32)> = edge.iter().map(|p| (p.x as f32, p.y as f32)).collect();
    let mut lines = vec![];
    for j in 0..4 {
        let (a, b) = (rough[j], rough[(j + 1) % 4]);
        let len = (b.0 - a.0).hypot(b.1 - a.1).max(1.0);
        // Start from the rough side, with a wide band over its middle; then refit to the points
        // close to the fitted line, twice, so that a bridged notch near one end drops out.
        let mut line = (a, b);
        for band in [12.0, 4.0, 2.0] {
            let (p0, p1) = line;
            let (ux, uy) = ((p1.0 - p0.0), (p1.1 - p0.1));
            let l = ux.hypot(uy).max(1e-3);
            let (ux, uy) = (ux / l, uy / l);
            let near: Vec<(f32, f32)> = pts
                .iter()
                .copied()
                .filter(|&(x, y)| {
                    let (rx, ry) = (x - a.0, y - a.1);
                    let along = rx * (b.0 - a.0) / len + ry * (b.1 - a.1) / len;
                    let (qx, qy) = (x - p0.0, y - p0.1);
                    (qx * uy - qy * ux).abs() <= band && along > 0.2 * len && along < 0.8 * len
                })
                .collect();
            match fit(&near) {
                Some(l) => line = l,
                None => break,
            }
        }
        lines.push(line);
    }
    let mut out = rough;
    for j in 0..4 {
        if let Some(p) = meet(lines[(j + 3) % 4], lines[j]) {
            out[j] = p;
        }
    }
    out
}

/// The total-least-squares line through `pts` (as two points), if there are enough.
fn fit(pts: &[(f32, f32)]) -> Option<((f32, f32), (f32, f32))> {
    if pts.len() < 10 {
        return None;
    }
    let n = pts.len() as f32;
    let (mx, my) = pts
        .iter()
        .fold((0.0, 0.0), |s, p| (s.0 + p.0 / n, s.1 + p.1 / n));
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pts {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
        syy += (y - my) * (y - my);
    }
    let angle = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    Some((
        (mx, my),
        (mx + angle.cos() * 100.0, my + angle.sin() * 100.0),
    ))
}

/// Where two lines (each through two points) cross.
fn meet(a: ((f32, f32), (f32, f32)), b: ((f32, f32), (f32, f32))) -> Option<(f32, f32)> {
    let (p, r) = (a.0, (a.1 .0 - a.0 .0, a.1 .1 - a.0 .1));
    let (q, s) = (b.0, (b.1 .0 - b.0 .0, b.1 .1 - b.0 .1));
    let den = r.0 * s.1 - r.1 * s.0;
    if den.abs() < 1e-3 {
        return None;
    }
    let t = ((q.0 - p.0) * s.1 - (q.1 - p.1) * s.0) / den;
    Some((p.0 + t * r.0, p.1 + t * r.1))
}

/// The card between `corners`, straightened to [`WIDTH`] × [`HEIGHT`] and turned upright (the
/// photo on the right). Answers the card and whether it had to be turned from the order of
/// `corners`.
pub fn rectify(
    frame: &RgbImage,
    corners: [(f32, f32); 4],
) -> Result<(RgbImage, bool), CardFaceError> {
    // Clockwise in the image from corners[0]; make sure of it (a mirrored order would flip).
    let c = corners;
    let cross = (c[1].0 - c[0].0) * (c[2].1 - c[1].1) - (c[1].1 - c[0].1) * (c[2].0 - c[1].0);
    let c = if cross < 0.0 {
        [c[1], c[0], c[3], c[2]]
    } else {
        c
    };
    let to = [
        (0.0, 0.0),
        (WIDTH as f32, 0.0),
        (WIDTH as f32, HEIGHT as f32),
        (0.0, HEIGHT as f32),
    ];
    let p = Projection::from_control_points(c, to).ok_or(CardFaceError::NotACard)?;
    let mut out = RgbImage::new(WIDTH, HEIGHT);
    warp_into(
        frame,
        &p,
        Interpolation::Bilinear,
        image::Rgb([0, 0, 0]),
        &mut out,
    );
    let grey = image::DynamicImage::ImageRgb8(out.clone()).into_luma8();
    let flipped = photo_side_darkness(&grey, false) < photo_side_darkness(&grey, true);
    if flipped {
        image::imageops::rotate180_in_place(&mut out);
    }
    Ok((out, flipped))
}

/// How much darker than the card the photo's place is (`mirrored`: the place it would be if
/// the card were upside down). A printed face has text on white there.
fn photo_side_darkness(grey: &GrayImage, mirrored: bool) -> f32 {
    let (x, y, w, h) = layout::PHOTO.px();
    let (x, y) = if mirrored {
        (WIDTH - x - w, HEIGHT - y - h)
    } else {
        (x, y)
    };
    let mut sum = 0u64;
    for yy in y..y + h {
        for xx in x..x + w {
            sum += 255 - grey.get_pixel(xx, yy).0[0] as u64;
        }
    }
    sum as f32 / (w * h) as f32
}

/// Whether a rectified card (in grey) shows a face side: a photo-like region on the right,
/// darker than the text area (the back has none there).
pub fn looks_like_front(grey: &GrayImage) -> bool {
    photo_side_darkness(grey, false) > 40.0
}
