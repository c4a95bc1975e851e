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
        (img.width as f32 * scale).round() as usize,
        (img.height as f32 * scale).round() as usize,
    );
    for v in 0..h.min(side) {
        for u in 0..w.min(side) {
            let p = img.sample(
                (u as f32 + 0.5) / scale - 0.5,
                (v as f32 + 0.5) / scale - 0.5,
            );
            let o = (v * side + u) * 3;
            for k in 0..3 {
                data[o + k] = f(p[k]);
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
