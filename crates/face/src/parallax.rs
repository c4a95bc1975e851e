//! Parallax between two views of a face: how far its landmarks are from lying on one plane.
//!
//! Every view of a flat photo — held still, tilted, swung or moved — is a homography of every
//! other view, so the face mesh's points in one frame map onto those of another by a single
//! 3×3 projective transform, up to the mesh's own jitter. A real head that turns shows parallax:
//! the nose tip and the face's outline move against the cheeks and eyes in a way no homography
//! reproduces. The residual of the best homography, in units of the eye distance, measures that.
//! A print bent by hand is not quite a plane either, which is why the threshold is measured on
//! NUAA's hand-held prints rather than assumed.

/// A 3×3 projective transform (row-major, the last entry fixed at 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    /// Maps a point.
    pub fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        let h = &self.0;
        let w = h[6] * p[0] + h[7] * p[1] + h[8];
        [
            (h[0] * p[0] + h[1] * p[1] + h[2]) / w,
            (h[3] * p[0] + h[4] * p[1] + h[5]) / w,
        ]
    }

    /// The least-squares homography taking `from[i]` to `to[i]` (direct linear transform on
    /// normalised coordinates, so that pixel scale does not skew the fit). `None` when fewer than
    /// four points are given or they are degenerate (all on a line).
    pub fn fit(from: &[[f64; 2]], to: &[[f64; 2]]) -> Option<Homography> {
        if from.len() != to.len() || from.len() < 4 {
            return None;
        }
        let (nf, nt) = (Normaliser::of(from)?, Normaliser::of(to)?);
        // Normal equations of the 8 unknowns (h33 = 1): two rows per correspondence.
        let mut ata = [[0.0f64; 8]; 8];
        let mut atb = [0.0f64; 8];
        for (p, q) in from.iter().zip(to) {
            let ([x, y], [u, v]) = (nf.apply(*p), nt.apply(*q));
            for (row, rhs) in [
                ([x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u], u),
                ([0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v], v),
            ] {
                for i in 0..8 {
                    atb[i] += row[i] * rhs;
                    for j in 0..8 {
                        ata[i][j] += row[i] * row[j];
                    }
                }
            }
        }
        let h = solve8(ata, atb)?;
        let normalised = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0];
        // Undo the normalisations: H = Tt⁻¹ · Hn · Tf.
        let m = mul3(&mul3(&nt.inverse(), &normalised), &nf.matrix());
        (m[8].abs() > 1e-12).then(|| Homography(m.map(|v| v / m[8])))
    }
}

/// Translation and isotropic scale that put a point set's centroid at the origin with mean
/// distance √2 (Hartley's normalisation).
struct Normaliser {
    centre: [f64; 2],
    scale: f64,
}

impl Normaliser {
    fn of(points: &[[f64; 2]]) -> Option<Normaliser> {
        let n = points.len() as f64;
        let centre = points
            .iter()
            .fold([0.0, 0.0], |c, p| [c[0] + p[0] / n, c[1] + p[1] / n]);
        let mean_dist = points
            .iter()
            .map(|p| (p[0] - centre[0]).hypot(p[1] - centre[1]))
            .sum::<f64>()
            / n;
        (mean_dist > 1e-9).then(|| Normaliser {
            centre,
            scale: std::f64::consts::SQRT_2 / mean_dist,
        })
    }

    fn apply(&self, p: [f64; 2]) -> [f64; 2] {
        [
            (p[0] - self.centre[0]) * self.scale,
            (p[1] - self.centre[1]) * self.scale,
        ]
    }

    fn matrix(&self) -> [f64; 9] {
        let s = self.scale;
        [
            s,
            0.0,
            -s * self.centre[0],
            0.0,
            s,
            -s * self.centre[1],
            0.0,
            0.0,
            1.0,
        ]
    }

    fn inverse(&self) -> [f64; 9] {
        let s = 1.0 / self.scale;
        [
            s,
            0.0,
            self.centre[0],
            0.0,
            s,
            self.centre[1],
            0.0,
            0.0,
            1.0,
        ]
    }
}

fn mul3(a: &[f64; 9], b: &[f64; 9]) -> [f64; 9] {
    let mut m = [0.0; 9];
    for r in 0..3 {
        for c in 0..3 {
            m[r * 3 + c] = (0..3).map(|k| a[r * 3 + k] * b[k * 3 + c]).sum();
        }
    }
    m
}

/// Gaussian elimination with partial pivoting; `None` for a singular system.
fn solve8(mut a: [[f64; 8]; 8], mut b: [f64; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..8 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 8];
    for row in (0..8).rev() {
        let s: f64 = (row + 1..8).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// How far two views of a face are from being views of one plane: the root-mean-square distance
/// between the second view's points and the first's mapped by the best homography, over the
/// second view's eye distance. `None` when the fit fails (degenerate points).
pub fn residual(first: &[[f64; 2]], second: &[[f64; 2]], eye_distance: f64) -> Option<f64> {
    let h = Homography::fit(first, second)?;
    let sum: f64 = first
        .iter()
        .zip(second)
        .map(|(p, q)| {
            let m = h.apply(*p);
            (m[0] - q[0]).powi(2) + (m[1] - q[1]).powi(2)
        })
        .sum();
    Some((sum / first.len() as f64).sqrt() / eye_distance.max(1e-9))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small 3-D "face": a plane of points with a nose sticking out.
    fn head() -> Vec<[f64; 3]> {
        let mut pts = vec![];
        for i in -3..=3 {
            for j in -3..=3 {
                pts.push([f64::from(i) * 10.0, f64::from(j) * 10.0, 0.0]);
            }
        }
        pts.extend([
            [0.0, 0.0, 25.0],
            [0.0, 8.0, 20.0],
            [-30.0, 0.0, -20.0],
            [30.0, 0.0, -20.0],
        ]);
        pts
    }

    /// Pinhole projection after a rotation about the vertical axis.
    fn view(pts: &[[f64; 3]], yaw_deg: f64, distance: f64) -> Vec<[f64; 2]> {
        let (s, c) = yaw_deg.to_radians().sin_cos();
        pts.iter()
            .map(|p| {
                let (x, z) = (c * p[0] + s * p[2], -s * p[0] + c * p[2]);
                let depth = distance - z;
                [320.0 + 800.0 * x / depth, 240.0 + 800.0 * p[1] / depth]
            })
            .collect()
    }

    #[test]
    fn fit_recovers_a_known_homography() {
        let h = Homography([1.1, 0.05, 12.0, -0.03, 0.95, -7.0, 1e-4, -2e-4, 1.0]);
        let from: Vec<[f64; 2]> = (0..20)
            .map(|i| [f64::from(i % 5) * 30.0, f64::from(i / 5) * 25.0])
            .collect();
        let to: Vec<_> = from.iter().map(|p| h.apply(*p)).collect();
        let fitted = Homography::fit(&from, &to).unwrap();
        for (a, b) in fitted.0.iter().zip(h.0) {
            assert!((a - b).abs() < 1e-9, "{:?} vs {:?}", fitted.0, h.0);
        }
        assert!(residual(&from, &to, 60.0).unwrap() < 1e-9);
    }

    #[test]
    fn a_flat_photo_turned_has_no_parallax_a_head_does() {
        let mut photo = head();
        for p in &mut photo {
            p[2] = 0.0;
        }
        let still = view(&photo, 0.0, 400.0);
        let turned = view(&photo, 25.0, 400.0);
        assert!(residual(&still, &turned, 60.0).unwrap() < 1e-9);
        let h = head();
        let r = residual(&view(&h, 0.0, 400.0), &view(&h, 15.0, 400.0), 60.0).unwrap();
        assert!(r > 0.02, "a turned head shows parallax: {r}");
    }

    #[test]
    fn degenerate_points_give_no_fit() {
        let line: Vec<[f64; 2]> = (0..6).map(|i| [f64::from(i), 2.0 * f64::from(i)]).collect();
        assert!(Homography::fit(&line, &line).is_none());
        assert!(Homography::fit(&line[..3], &line[..3]).is_none());
    }
}
