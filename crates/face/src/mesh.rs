//! Face mesh (MediaPipe's 468-point landmark model, 192×192 input): precise eye, nose and mouth
//! points for alignment, and eyelid distances for the blink check.
//!
//! BlazeFace's six keypoints are coarse (the mouth is one point, eyes are rough centres), which
//! is not enough to align a face to the five-point template a recognition network was trained on.
//! The mesh is run on a crop around the detection, rotated so the eyes are level, and its points
//! are mapped back to image pixels.

use crate::align::Similarity;
use crate::detect::Detection;
use crate::graph::{Graph, Scratch, Tensor};
use crate::image::Rgb;
use crate::FaceError;

/// Input side of the model.
pub const INPUT: usize = 192;
/// The crop around the detection box, as a multiple of the box's larger side (MediaPipe's
/// face-landmark crops are 1.5–1.6× the detector box).
const CROP: f32 = 1.6;

/// Mesh indices (MediaPipe's canonical face mesh; "image-left" is the subject's right side in
/// an unmirrored photo).
mod idx {
    /// Image-left eye: outer corner, inner corner, upper lid, lower lid.
    pub const LEFT_EYE: [usize; 4] = [33, 133, 159, 145];
    /// Image-right eye: inner corner, outer corner, upper lid, lower lid.
    pub const RIGHT_EYE: [usize; 4] = [362, 263, 386, 374];
    pub const NOSE_TIP: usize = 4;
    pub const MOUTH_LEFT: usize = 61;
    pub const MOUTH_RIGHT: usize = 291;
}

/// 468 landmarks of one face, in image pixels (x, y) plus the model's relative depth.
#[derive(Debug, Clone)]
pub struct Mesh {
    /// The landmarks, in image pixels (z relative).
    pub points: Vec<[f32; 3]>,
    /// The model's face-presence score (0–1; the graph applies the sigmoid itself).
    pub presence: f32,
}

impl Mesh {
    fn xy(&self, i: usize) -> [f32; 2] {
        [self.points[i][0], self.points[i][1]]
    }

    fn mean(&self, ids: &[usize]) -> [f32; 2] {
        let n = ids.len() as f32;
        ids.iter().fold([0.0, 0.0], |m, &i| {
            let p = self.xy(i);
            [m[0] + p[0] / n, m[1] + p[1] / n]
        })
    }

    /// The five points of insightface's template: eye centres (image-left first), nose tip,
    /// mouth corners (image-left first).
    pub fn five_points(&self) -> [[f32; 2]; 5] {
        [
            self.mean(&idx::LEFT_EYE),
            self.mean(&idx::RIGHT_EYE),
            self.xy(idx::NOSE_TIP),
            self.xy(idx::MOUTH_LEFT),
            self.xy(idx::MOUTH_RIGHT),
        ]
    }

    /// Distance between the eye centres, in image pixels.
    pub fn eye_distance(&self) -> f32 {
        let (l, r) = (self.mean(&idx::LEFT_EYE), self.mean(&idx::RIGHT_EYE));
        (r[0] - l[0]).hypot(r[1] - l[1])
    }

    /// Eye openness: lid distance over eye width, averaged over both eyes (about 0.25–0.35 open,
    /// under 0.15 closed). The blink check watches it fall and rise over a frame sequence.
    pub fn eye_openness(&self) -> f32 {
        let ratio = |e: [usize; 4]| {
            let d = |a: usize, b: usize| {
                let (p, q) = (self.xy(a), self.xy(b));
                ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()
            };
            d(e[2], e[3]) / d(e[0], e[1]).max(1e-6)
        };
        (ratio(idx::LEFT_EYE) + ratio(idx::RIGHT_EYE)) / 2.0
    }
}

/// The face-mesh network.
pub struct MeshModel {
    graph: Graph,
}

impl MeshModel {
    /// Wraps the loaded facemesh graph.
    pub fn new(graph: Graph) -> Self {
        MeshModel { graph }
    }

    /// The mesh of face `d` in `img`.
    pub fn landmarks(
        &self,
        img: &Rgb,
        d: &Detection,
        scratch: &mut Scratch,
    ) -> Result<Mesh, FaceError> {
        let crop = crop_transform(d);
        let mut data = Vec::with_capacity(INPUT * INPUT * 3);
        for y in 0..INPUT {
            for x in 0..INPUT {
                let p = crop.apply([x as f32 + 0.5, y as f32 + 0.5]);
                data.extend(img.sample(p[0] - 0.5, p[1] - 0.5).map(|v| v / 255.0));
            }
        }
        let input = Tensor::new(vec![1, INPUT, INPUT, 3], data);
        let out = self
            .graph
            .run(input, &["Identity_2", "Identity_1"], scratch)?;
        let (raw, flag) = (&out[0].data, out[1].data[0]);
        if raw.len() != 468 * 3 {
            return Err(FaceError::ModelCorrupt {
                model: "facemesh".into(),
                why: format!("mesh output has {} values, expected 1404", raw.len()),
            });
        }
        // The depth is in crop pixels too; scale it like x and y.
        let scale = (crop.a * crop.a + crop.b * crop.b).sqrt();
        let points = raw
            .chunks_exact(3)
            .map(|p| {
                let q = crop.apply([p[0], p[1]]);
                [q[0], q[1], p[2] * scale]
            })
            .collect();
        Ok(Mesh {
            points,
            presence: flag,
        })
    }
}

/// Crop pixels → image pixels: a square of [`CROP`]× the box's larger side around its centre,
/// rotated so that BlazeFace's eye keypoints are level.
fn crop_transform(d: &Detection) -> Similarity {
    let (cx, cy) = ((d.bbox[0] + d.bbox[2]) / 2.0, (d.bbox[1] + d.bbox[3]) / 2.0);
    let side = (d.bbox[2] - d.bbox[0]).max(d.bbox[3] - d.bbox[1]) * CROP;
    let (l, r) = (d.keypoints[0], d.keypoints[1]);
    let angle = (r[1] - l[1]).atan2(r[0] - l[0]);
    let s = side / INPUT as f32;
    let (a, b) = (s * angle.cos(), s * angle.sin());
    let h = INPUT as f32 / 2.0;
    // p = R·s·(u − h) + c
    Similarity {
        a,
        b,
        tx: cx - (a * h - b * h),
        ty: cy - (b * h + a * h),
    }
}
