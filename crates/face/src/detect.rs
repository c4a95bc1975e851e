//! Face detection with BlazeFace (back-camera model, 256×256 input).
//!
//! Checked against the model itself rather than trusted: the two heads are a 16×16 grid with
//! 2 anchors per cell (stride 16, 512 anchors) and an 8×8 grid with 6 anchors per cell (stride
//! 32, 384 anchors); anchor centres are `stride·(i + 0.5)` pixels. Each anchor regresses the box
//! centre offset and size and six keypoints (two eyes, nose, mouth, two ears) in input pixels;
//! scores are logits. The input is `x / 127.5 − 1`.

use crate::graph::{Graph, Scratch, Tensor};
use crate::image::Rgb;
use crate::FaceError;
use serde::Serialize;

/// Input side of the model.
pub const INPUT: usize = 256;
/// Minimum score (after sigmoid) to report a face.
pub const MIN_SCORE: f32 = 0.5;
const NMS_IOU: f32 = 0.3;

/// A detected face in image pixels.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    /// The detector's confidence, 0–1.
    pub score: f32,
    /// x0, y0, x1, y1.
    pub bbox: [f32; 4],
    /// Eyes (image-left first), nose, mouth, ears (image-left first).
    pub keypoints: [[f32; 2]; 6],
}

impl Detection {
    /// Box width in pixels.
    pub fn width(&self) -> f32 {
        self.bbox[2] - self.bbox[0]
    }

    fn iou(&self, o: &Detection) -> f32 {
        let ix = (self.bbox[2].min(o.bbox[2]) - self.bbox[0].max(o.bbox[0])).max(0.0);
        let iy = (self.bbox[3].min(o.bbox[3]) - self.bbox[1].max(o.bbox[1])).max(0.0);
        let inter = ix * iy;
        let area = |d: &Detection| (d.bbox[2] - d.bbox[0]) * (d.bbox[3] - d.bbox[1]);
        inter / (area(self) + area(o) - inter).max(1e-6)
    }
}

/// The BlazeFace detector.
pub struct Detector {
    graph: Graph,
}

/// Resizes `img` into a `side`×`side` square (letterboxed at the top-left, black padding) and
/// normalises each channel with `f`. Returns the tensor and the scale (model px per image px).
pub(crate) fn letterbox(img: &Rgb, side: usize, f: impl Fn(f32) -> f32) -> (Tensor, f32) {
    let scale = side as f32 / img.width.max(img.height) as f32;
    let mut data = vec![f(0.0); side * side * 3];
    let (w, h) = (
        ((img.width as f32 * scale).round() as usize).min(side),
        ((img.height as f32 * scale).round() as usize).min(side),
    );
    // Bilinear taps per output column and row, computed once (the same as `Rgb::sample` at
    // each pixel, which cost a tenth of the detector's time).
    let taps = |n: usize, len: usize| -> Vec<(usize, usize, f32)> {
        (0..n)
            .map(|u| {
                let x = ((u as f32 + 0.5) / scale - 0.5).clamp(0.0, (len - 1) as f32);
                let x0 = x.floor() as usize;
                (x0, (x0 + 1).min(len - 1), x - x0 as f32)
            })
            .collect()
    };
    let (cols, rows) = (taps(w, img.width), taps(h, img.height));
    for (v, &(y0, y1, fy)) in rows.iter().enumerate() {
        let (top, bottom) = (
            &img.data[y0 * img.width * 3..(y0 + 1) * img.width * 3],
            &img.data[y1 * img.width * 3..(y1 + 1) * img.width * 3],
        );
        let out = &mut data[v * side * 3..(v * side + w) * 3];
        for (px, &(x0, x1, fx)) in out.chunks_exact_mut(3).zip(&cols) {
            for (k, o) in px.iter_mut().enumerate() {
                let at = |row: &[u8], x: usize| f32::from(row[x * 3 + k]);
                let t = at(top, x0) * (1.0 - fx) + at(top, x1) * fx;
                let b = at(bottom, x0) * (1.0 - fx) + at(bottom, x1) * fx;
                *o = f(t * (1.0 - fy) + b * fy);
            }
        }
    }
    (Tensor::new(vec![1, side, side, 3], data), scale)
}

impl Detector {
    /// Wraps the loaded BlazeFace graph.
    pub fn new(graph: Graph) -> Self {
        Detector { graph }
    }

    /// All faces above [`MIN_SCORE`], best first, after non-maximum suppression.
    pub fn detect(&self, img: &Rgb, scratch: &mut Scratch) -> Result<Vec<Detection>, FaceError> {
        let (input, scale) = letterbox(img, INPUT, |v| v / 127.5 - 1.0);
        let outs = self.graph.run(
            input,
            &["Identity", "Identity_2", "Identity_1", "Identity_3"],
            scratch,
        )?;
        let mut found = vec![];
        for (scores, regs, grid, per_cell) in [
            (&outs[0], &outs[1], 16usize, 2usize),
            (&outs[2], &outs[3], 8, 6),
        ] {
            let stride = (INPUT / grid) as f32;
            for (i, logit) in scores.data.iter().enumerate() {
                let score = crate::graph::ops::sigmoid(*logit);
                if score < MIN_SCORE {
                    continue;
                }
                let cell = i / per_cell;
                let (ax, ay) = (
                    ((cell % grid) as f32 + 0.5) * stride,
                    ((cell / grid) as f32 + 0.5) * stride,
                );
                let r = &regs.data[i * 16..(i + 1) * 16];
                let (cx, cy, w, h) = (ax + r[0], ay + r[1], r[2], r[3]);
                let mut keypoints = [[0.0; 2]; 6];
                for (k, kp) in keypoints.iter_mut().enumerate() {
                    *kp = [(ax + r[4 + 2 * k]) / scale, (ay + r[5 + 2 * k]) / scale];
                }
                let bbox = [
                    (cx - w / 2.0) / scale,
                    (cy - h / 2.0) / scale,
                    (cx + w / 2.0) / scale,
                    (cy + h / 2.0) / scale,
                ];
                found.push(Detection {
                    score,
                    bbox,
                    keypoints,
                });
            }
        }
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut kept: Vec<Detection> = vec![];
        for d in found {
            if kept.iter().all(|k| k.iou(&d) <= NMS_IOU) {
                kept.push(d);
            }
        }
        for d in &mut kept {
            // Name eyes and ears by image side, whatever order the model uses.
            if d.keypoints[0][0] > d.keypoints[1][0] {
                d.keypoints.swap(0, 1);
            }
            if d.keypoints[4][0] > d.keypoints[5][0] {
                d.keypoints.swap(4, 5);
            }
        }
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The letterbox's precomputed taps give what bilinear sampling gives at each pixel, for a
    /// wide, a tall and an upscaled image; the rest stays padding.
    #[test]
    fn letterbox_samples_bilinearly_and_pads() {
        for (w, h) in [(300, 170), (90, 260), (250, 250)] {
            let img = Rgb {
                width: w,
                height: h,
                data: (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect(),
            };
            let (t, scale) = letterbox(&img, 64, |v| v / 2.0 - 1.0);
            let (ow, oh) = (
                (w as f32 * scale).round() as usize,
                (h as f32 * scale).round() as usize,
            );
            for v in 0..64 {
                for u in 0..64 {
                    let got = &t.data[(v * 64 + u) * 3..(v * 64 + u) * 3 + 3];
                    if u < ow && v < oh {
                        let p = img.sample(
                            (u as f32 + 0.5) / scale - 0.5,
                            (v as f32 + 0.5) / scale - 0.5,
                        );
                        for (g, want) in got.iter().zip(p) {
                            assert!((g - (want / 2.0 - 1.0)).abs() < 1e-3, "{w}x{h} at {u},{v}");
                        }
                    } else {
                        assert!(got.iter().all(|g| *g == -1.0), "{w}x{h} pad at {u},{v}");
                    }
                }
            }
        }
    }
}
