//! Alignment to the 112×112 template MobileFaceNet was trained on (insightface's five points),
//! by a least-squares similarity transform (Umeyama) from the detected eyes, nose and mouth, and
//! a bilinear warp.

use crate::detect::Detection;
use crate::graph::Tensor;
use crate::image::Rgb;

/// Output side.
pub const SIZE: usize = 112;

/// insightface's template for 112×112: left eye, right eye, nose, mouth left, mouth right
/// (image coordinates).
pub const TEMPLATE: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// A similarity transform `p' = s·R·p + t`, stored as `[a, -b, tx; b, a, ty]`.
#[derive(Debug, Clone, Copy)]
pub struct Similarity {
    /// s·cos θ.
    pub a: f32,
    /// s·sin θ.
    pub b: f32,
    /// Translation x.
    pub tx: f32,
    /// Translation y.
    pub ty: f32,
}

impl Similarity {
    /// Least-squares similarity mapping `src` onto `dst` (Umeyama, no reflection).
    pub fn estimate(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Similarity {
        let n = src.len() as f32;
        let mean = |p: &[[f32; 2]]| {
            p.iter()
                .fold([0.0, 0.0], |m, q| [m[0] + q[0] / n, m[1] + q[1] / n])
        };
        let (ms, md) = (mean(src), mean(dst));
        let (mut sxx, mut sxy, mut var) = (0.0, 0.0, 0.0);
        for (s, d) in src.iter().zip(dst) {
            let (x, y) = (s[0] - ms[0], s[1] - ms[1]);
            let (u, v) = (d[0] - md[0], d[1] - md[1]);
            sxx += x * u + y * v;
            sxy += x * v - y * u;
            var += x * x + y * y;
        }
        let (a, b) = (sxx / var.max(1e-9), sxy / var.max(1e-9));
        Similarity {
            a,
            b,
            tx: md[0] - (a * ms[0] - b * ms[1]),
            ty: md[1] - (b * ms[0] + a * ms[1]),
        }
    }

    /// Applies the transform.
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a * p[0] - self.b * p[1] + self.tx,
            self.b * p[0] + self.a * p[1] + self.ty,
        ]
    }

    /// The inverse transform.
    pub fn inverse(&self) -> Similarity {
        let d = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / d, -self.b / d);
        Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }
}

/// The transform from image to the template scaled to `size`² for a detection.
pub fn to_template(d: &Detection, size: usize) -> Similarity {
    let src = [
        d.keypoints[0],
        d.keypoints[1],
        d.keypoints[2],
        d.keypoints[3],
    ];
    // BlazeFace gives the mouth centre, so the template's two mouth corners are averaged.
    let t = TEMPLATE;
    let mouth = [(t[3][0] + t[4][0]) / 2.0, (t[3][1] + t[4][1]) / 2.0];
    let k = size as f32 / SIZE as f32;
    let dst = [t[0], t[1], t[2], mouth].map(|p| [p[0] * k, p[1] * k]);
    Similarity::estimate(&src, &dst)
}

/// dlib's face chip for its ResNet: 150×150 with 25 % padding around dlib's mean face shape,
/// whose eye centres (means of the six eye-contour points), nose tip and mouth corners land here
/// (same order as [`TEMPLATE`]).
pub const DLIB_TEMPLATE: [[f32; 2]; 5] = [
    [47.55, 46.60],
    [100.48, 46.60],
    [74.01, 76.56],
    [50.41, 103.02],
    [97.61, 103.02],
];

/// Warps the face to 112×112 and normalises each channel with `f` (NHWC tensor, batch 1).
pub fn warp(img: &Rgb, d: &Detection, f: impl Fn(f32) -> f32) -> Tensor {
    warp_to(img, d, SIZE, f)
}

/// Warps the face to the template scaled to `size`×`size`.
pub fn warp_to(img: &Rgb, d: &Detection, size: usize, f: impl Fn(f32) -> f32) -> Tensor {
    warp_by(img, to_template(d, size), size, f)
}

/// Warps `img` by `to_template` (image → output pixels) into a `size`×`size` tensor, each channel
/// normalised with `f`; outside the image is black.
pub fn warp_by(img: &Rgb, to_template: Similarity, size: usize, f: impl Fn(f32) -> f32) -> Tensor {
    let inv = to_template.inverse();
    let mut data = Vec::with_capacity(size * size * 3);
    for y in 0..size {
        for x in 0..size {
            let p = inv.apply([x as f32, y as f32]);
            let inside = p[0] >= 0.0
                && p[1] >= 0.0
                && p[0] <= (img.width - 1) as f32
                && p[1] <= (img.height - 1) as f32;
            let px = if inside {
                img.sample(p[0], p[1])
            } else {
                [0.0; 3]
            };
            data.extend(px.iter().map(|v| f(*v)));
        }
    }
    Tensor::new(vec![1, size, size, 3], data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_recovers_a_known_transform() {
        let t = Similarity {
            a: 0.8,
            b: 0.3,
            tx: 5.0,
            ty: -7.0,
        };
        let src = [[10.0, 20.0], [60.0, 22.0], [35.0, 50.0], [36.0, 80.0]];
        let dst: Vec<[f32; 2]> = src.iter().map(|p| t.apply(*p)).collect();
        let e = Similarity::estimate(&src, &dst);
        for (p, q) in src.iter().zip(&dst) {
            let r = e.apply(*p);
            assert!((r[0] - q[0]).abs() < 1e-3 && (r[1] - q[1]).abs() < 1e-3);
            let back = e.inverse().apply(r);
            assert!((back[0] - p[0]).abs() < 1e-3 && (back[1] - p[1]).abs() < 1e-3);
        }
    }
}
