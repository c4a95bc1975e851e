//! `face eval`: accuracy on pairs in the LFW `pairs.txt` format, with the threshold chosen on the
//! other folds, EER, TAR at FAR 10⁻³, throughput and latency, and the threshold for a false-match
//! rate of 10⁻⁴ estimated on every cross-identity pair of the images seen.

use crate::engine::{cosine, FaceEngine};
use crate::FaceError;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// One pair to compare.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The fold (LFW's ten).
    pub fold: usize,
    /// One image.
    pub a: PathBuf,
    /// The other.
    pub b: PathBuf,
    /// The same person.
    pub same: bool,
}

/// Parses `pairs.txt`: a header `FOLDS<TAB>N`, then per fold N same-person lines
/// (`name n1 n2`) and N different-person lines (`name1 n1 name2 n2`). Images are
/// `ROOT/name/name_NNNN.jpg` (or `ROOT/lfw/name/…`).
pub fn parse_pairs(text: &str, root: &Path) -> Result<Vec<Pair>, FaceError> {
    let bad = |n: usize, why: &str| FaceError::Image(format!("pairs file line {n}: {why}"));
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| bad(1, "empty file"))?;
    let h: Vec<usize> = header
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    let per_fold = match h[..] {
        [_, n] if n > 0 => 2 * n,
        _ => return Err(bad(1, "the header must be `FOLDS<TAB>PAIRS_PER_HALF_FOLD`")),
    };
    let base = if root.join("lfw").is_dir() {
        root.join("lfw")
    } else {
        root.to_path_buf()
    };
    let path = |name: &str, n: &str, line: usize| -> Result<PathBuf, FaceError> {
        let n: u32 = n
            .parse()
            .map_err(|_| bad(line, "image number is not a number"))?;
        Ok(base.join(name).join(format!("{name}_{n:04}.jpg")))
    };
    let mut pairs = vec![];
    for (i, (ln, line)) in lines.enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (a, b, same) = match f[..] {
            [name, n1, n2] => (path(name, n1, ln + 1)?, path(name, n2, ln + 1)?, true),
            [a, n1, b, n2] => (path(a, n1, ln + 1)?, path(b, n2, ln + 1)?, false),
            _ => {
                return Err(bad(
                    ln + 1,
                    "expected 3 fields (same person) or 4 (different people)",
                ))
            }
        };
        pairs.push(Pair {
            fold: i / per_fold,
            a,
            b,
            same,
        });
    }
    Ok(pairs)
}

/// What `face eval` reports.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Pairs compared.
    pub pairs: usize,
    /// Folds.
    pub folds: usize,
    /// Mean accuracy over the folds, each fold judged at the threshold best on the others
    /// (`None` with a single fold: there are no others to choose the threshold on).
    pub accuracy: Option<f64>,
    /// Standard deviation of the folds' accuracies.
    pub accuracy_std: Option<f64>,
    /// Equal error rate.
    pub eer: f64,
    #[serde(rename = "tar_at_far_1e-3")]
    /// True accepts at a false-accept rate of 10⁻³ (over the pairs).
    pub tar_at_far_1e_3: f64,
    /// The threshold of best accuracy over all pairs.
    pub threshold: f32,
    /// Pairs where a face was not found in one of the images (scored as different).
    pub failed_pairs: usize,
    /// Each pair's score, in the file's order (-1 for a failed pair).
    #[serde(skip)]
    pub scores: Vec<f32>,
    /// Throughput.
    pub pairs_per_s: f64,
    /// Median time per pair.
    pub p50_ms: f64,
    /// 99th percentile time per pair.
    pub p99_ms: f64,
    /// Cosine threshold giving a false-match rate of 10⁻⁴ over all cross-identity image pairs.
    #[serde(rename = "threshold_fmr_1e-4")]
    pub threshold_fmr_1e_4: f32,
    /// Cross-identity image pairs behind the 10⁻⁴ threshold.
    pub impostor_pairs: usize,
    /// Share of the file's same-person pairs accepted at `threshold_fmr_1e-4`.
    #[serde(rename = "tar_at_fmr_1e-4")]
    pub tar_at_fmr_1e_4: f64,
    /// The embedding network.
    pub embedding: crate::engine::EmbeddingModel,
    /// The face preparation.
    pub preparation: crate::engine::Preparation,
    /// The input scale.
    pub input_scale: crate::engine::InputScale,
    /// Compared in grey.
    pub grey: bool,
    /// Whether the embedding network ran in 8 bits.
    pub int8: bool,
}

/// Embeds every image once (on `threads` threads) and computes the report.
pub fn evaluate(
    engine: &FaceEngine,
    pairs: &[Pair],
    threads: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<EvalReport, FaceError> {
    let mut images: Vec<&PathBuf> = pairs.iter().flat_map(|p| [&p.a, &p.b]).collect();
    images.sort();
    images.dedup();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let start = Instant::now();
    type Out = (usize, Result<Option<Vec<f32>>, FaceError>, f64);
    let results: Vec<Out> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut out = vec![];
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= images.len() {
                            return out;
                        }
                        let t = Instant::now();
                        let r = std::fs::read(images[i])
                            .map_err(|e| FaceError::Io {
                                path: images[i].display().to_string(),
                                why: e.to_string(),
                            })
                            .and_then(|b| crate::image::decode(&b))
                            .and_then(|img| {
                                // LFW's images are centred on the named person; others
                                // in the picture are not refused as "several faces".
                                engine
                                    .face_picked(&img, crate::quality::central_face)
                                    .map(|f| f.ok().map(|f| f.embedding))
                            });
                        out.push((i, r, t.elapsed().as_secs_f64() * 1000.0));
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, images.len());
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("eval worker"))
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let mut emb: HashMap<&PathBuf, Option<Vec<f32>>> = HashMap::new();
    let mut ms: HashMap<&PathBuf, f64> = HashMap::new();
    for (i, r, t) in results {
        emb.insert(images[i], r?);
        ms.insert(images[i], t);
    }
    let mut failed = 0;
    let scored: Vec<(usize, f32, bool)> = pairs
        .iter()
        .map(|p| match (&emb[&p.a], &emb[&p.b]) {
            (Some(a), Some(b)) => (p.fold, cosine(a, b), p.same),
            _ => {
                failed += 1;
                (p.fold, -1.0, p.same)
            }
        })
        .collect();
    let mut lat: Vec<f64> = pairs.iter().map(|p| ms[&p.a] + ms[&p.b]).collect();
    lat.sort_by(f64::total_cmp);
    let pct = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    let folds = scored.iter().map(|s| s.0).max().map_or(0, |m| m + 1);
    let accuracy = cross_validated(&scored, folds);
    let all: Vec<(f32, bool)> = scored.iter().map(|s| (s.1, s.2)).collect();
    let (eer, tar3) = eer_and_tar(&all, 1e-3);

    // Cross-identity impostor scores over every image pair (identity = the image's folder).
    let ident: Vec<(&str, &Vec<f32>)> = emb
        .iter()
        .filter_map(|(p, e)| {
            e.as_ref().map(|e| {
                (
                    p.parent()
                        .and_then(|d| d.file_name())
                        .and_then(|n| n.to_str())
                        .unwrap_or(""),
                    e,
                )
            })
        })
        .collect();
    let mut impostors = Vec::with_capacity(ident.len() * ident.len() / 2);
    for i in 0..ident.len() {
        for j in i + 1..ident.len() {
            if ident[i].0 != ident[j].0 {
                impostors.push(cosine(ident[i].1, ident[j].1));
            }
        }
    }
    impostors.sort_by(f32::total_cmp);
    let t4 = impostors
        .get(((impostors.len() as f64) * (1.0 - 1e-4)) as usize)
        .copied()
        .unwrap_or(1.0);
    let genuine: Vec<f32> = all.iter().filter(|s| s.1).map(|s| s.0).collect();
    let tar4 = genuine.iter().filter(|s| **s >= t4).count() as f64 / genuine.len().max(1) as f64;
    Ok(EvalReport {
        pairs: pairs.len(),
        folds,
        accuracy: accuracy.map(|a| a.0),
        accuracy_std: accuracy.map(|a| a.1),
        eer,
        tar_at_far_1e_3: tar3,
        threshold: best_threshold(&all),
        failed_pairs: failed,
        scores: scored.iter().map(|s| s.1).collect(),
        pairs_per_s: pairs.len() as f64 / elapsed,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        threshold_fmr_1e_4: t4,
        impostor_pairs: impostors.len(),
        tar_at_fmr_1e_4: tar4,
        embedding: engine.config.embedding,
        preparation: engine.config.preparation,
        input_scale: engine.config.input_scale,
        grey: engine.config.grey,
        int8: engine.int8(),
    })
}

fn accuracy_at(s: &[(f32, bool)], t: f32) -> f64 {
    s.iter()
        .filter(|(score, same)| (*score >= t) == *same)
        .count() as f64
        / s.len().max(1) as f64
}

/// Mean and standard deviation of the folds' accuracies, each fold judged at the threshold best
/// on the other folds; `None` below two folds. `scored` holds (fold, score, same person).
pub fn cross_validated(scored: &[(usize, f32, bool)], folds: usize) -> Option<(f64, f64)> {
    if folds < 2 {
        return None;
    }
    let accs: Vec<f64> = (0..folds)
        .map(|k| {
            let pick = |in_fold: bool| -> Vec<(f32, bool)> {
                scored
                    .iter()
                    .filter(|s| (s.0 == k) == in_fold)
                    .map(|s| (s.1, s.2))
                    .collect()
            };
            accuracy_at(&pick(true), best_threshold(&pick(false)))
        })
        .collect();
    let mean = accs.iter().sum::<f64>() / accs.len() as f64;
    let var = accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / accs.len() as f64;
    Some((mean, var.sqrt()))
}

/// The threshold (midpoint between adjacent scores) with the best accuracy.
pub fn best_threshold(s: &[(f32, bool)]) -> f32 {
    let mut v = s.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Threshold below v[i]: accepted = v[i..]. Correct = negatives below + positives at/above.
    let positives = v.iter().filter(|x| x.1).count();
    let (mut best, mut best_t) = (positives, v.first().map_or(0.0, |x| x.0 - 1e-3));
    let mut neg_below = 0;
    let mut pos_below = 0;
    for i in 0..v.len() {
        if v[i].1 {
            pos_below += 1
        } else {
            neg_below += 1
        }
        let correct = neg_below + (positives - pos_below);
        let t = if i + 1 < v.len() {
            (v[i].0 + v[i + 1].0) / 2.0
        } else {
            v[i].0 + 1e-3
        };
        if correct > best {
            best = correct;
            best_t = t;
        }
    }
    best_t
}

/// Equal error rate, and the true-accept rate at the highest threshold whose false-accept rate
/// does not exceed `far`.
pub fn eer_and_tar(s: &[(f32, bool)], far: f64) -> (f64, f64) {
    let gen: Vec<f32> = s.iter().filter(|x| x.1).map(|x| x.0).collect();
    let mut imp: Vec<f32> = s.iter().filter(|x| !x.1).map(|x| x.0).collect();
    imp.sort_by(|a, b| b.total_cmp(a));
    let rate = |t: f32| {
        let fa = imp.iter().filter(|x| **x >= t).count() as f64 / imp.len().max(1) as f64;
        let fr = gen.iter().filter(|x| **x < t).count() as f64 / gen.len().max(1) as f64;
        (fa, fr)
    };
    let mut cands: Vec<f32> = s.iter().map(|x| x.0).collect();
    cands.sort_by(f32::total_cmp);
    let mut eer = 1.0;
    let mut gap = f64::MAX;
    for t in &cands {
        let (fa, fr) = rate(*t);
        if (fa - fr).abs() < gap {
            gap = (fa - fr).abs();
            eer = (fa + fr) / 2.0;
        }
    }
    let allowed = (far * imp.len() as f64).floor() as usize;
    let t = imp.get(allowed).map_or(f32::NEG_INFINITY, |x| x + 1e-6);
    let tar = gen.iter().filter(|x| **x >= t).count() as f64 / gen.len().max(1) as f64;
    (eer, tar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_needs_other_folds_to_choose_each_folds_threshold() {
        // Fold 0 separates at 0.5, fold 1 at 0.7: each is judged at the other's threshold.
        let scored = [
            (0, 0.6, true),
            (0, 0.4, false),
            (1, 0.8, true),
            (1, 0.55, false),
        ];
        let (mean, std) = cross_validated(&scored, 2).unwrap();
        // Fold 0 at fold 1's threshold (0.675) misses its genuine 0.6: 1 of 2; fold 1 at fold
        // 0's (0.5) accepts its impostor 0.55: 1 of 2.
        assert_eq!((mean, std), (0.5, 0.0));
        let separable = [
            (0, 0.9, true),
            (0, 0.1, false),
            (1, 0.8, true),
            (1, 0.2, false),
        ];
        assert_eq!(cross_validated(&separable, 2), Some((1.0, 0.0)));
        // One fold: no threshold chosen elsewhere, so no accuracy rather than a made-up one.
        assert_eq!(cross_validated(&scored[..2], 1), None);
    }

    #[test]
    fn parses_both_line_kinds_and_folds() {
        let text = "2\t1\nAlice\t1\t2\nBob\t1\tCarol\t3\nDan\t2\t4\nEve\t1\tFay\t1\n";
        let p = parse_pairs(text, Path::new("/x")).unwrap();
        assert_eq!(p.len(), 4);
        assert!(p[0].same && !p[1].same);
        assert_eq!(p[0].a, Path::new("/x/Alice/Alice_0001.jpg"));
        assert_eq!(p[1].b, Path::new("/x/Carol/Carol_0003.jpg"));
        assert_eq!((p[1].fold, p[2].fold), (0, 1));
        assert!(parse_pairs("", Path::new("/x")).is_err());
        assert!(parse_pairs("5\t300\nA\t1\n", Path::new("/x")).is_err());
        assert!(parse_pairs("5\t300\nA\tx\t2\n", Path::new("/x")).is_err());
    }

    #[test]
    fn metrics_on_separable_and_overlapping_scores() {
        let s = [(0.9, true), (0.8, true), (0.3, false), (0.1, false)];
        let t = best_threshold(&s);
        assert!(t > 0.3 && t < 0.8);
        assert_eq!(accuracy_at(&s, t), 1.0);
        assert_eq!(eer_and_tar(&s, 1e-3), (0.0, 1.0));
        let o = [(0.9, true), (0.4, true), (0.5, false), (0.1, false)];
        let (eer, _) = eer_and_tar(&o, 0.5);
        assert!(
            (eer - 0.5).abs() < 1e-9 || (eer - 0.25).abs() < 1e-9,
            "{eer}"
        );
    }
}
