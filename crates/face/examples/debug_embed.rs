// Experiment: which output and input scaling separate identities?
use kakunin_face::graph::Scratch;
fn main() {
    let dir = kakunin_face::models::model_dir();
    let e = kakunin_face::FaceEngine::load(&dir, Default::default()).unwrap();
    let name = std::env::var("MODEL").unwrap_or("mobilefacenet".into());
    let md = std::path::Path::new("/tmp/models/package/models");
    let g = kakunin_face::graph::Graph::from_parts(
        &name,
        &std::fs::read(md.join(format!("{name}.json"))).unwrap(),
        &std::fs::read(md.join(format!("{name}.bin"))).unwrap(),
    )
    .unwrap();
    let text = std::fs::read_to_string("/tmp/pairs600.txt").unwrap();
    let pairs =
        kakunin_face::eval::parse_pairs(&text, std::path::Path::new("/work/shared/data")).unwrap();
    let out = std::env::var("OUT").unwrap_or("embeddings".into());
    let outs = [out.as_str()];
    for (sname, f) in [
        ("raw", (|v: f32| v) as fn(f32) -> f32),
        ("centered", |v| (v - 127.5) / 128.0),
        ("unit", |v| v / 255.0),
    ] {
        let mut embs: std::collections::HashMap<std::path::PathBuf, Vec<Vec<f32>>> =
            Default::default();
        for p in pairs.iter().flat_map(|p| [&p.a, &p.b]) {
            if embs.contains_key(p) {
                continue;
            }
            let img = kakunin_face::image::decode(&std::fs::read(p).unwrap()).unwrap();
            let Some(d) = e.detect(&img).unwrap().into_iter().next() else {
                continue;
            };
            let size: usize = std::env::var("SIZE")
                .map(|s| s.parse().unwrap())
                .unwrap_or(112);
            let mut t = if let Ok(m) = std::env::var("BOX") {
                kakunin_face::engine::crop(&img, &d, size, m.parse().unwrap(), f)
            } else {
                kakunin_face::align::warp_to(
                    &img,
                    &d,
                    std::env::var("SIZE")
                        .map(|s| s.parse().unwrap())
                        .unwrap_or(112),
                    f,
                )
            };
            if std::env::var("BGR").is_ok() {
                for px in t.data.chunks_exact_mut(3) {
                    px.swap(0, 2);
                }
            }
            let o = g.run(t, &outs, &mut Scratch::default()).unwrap();
            embs.insert(p.clone(), o.into_iter().map(|t| t.data).collect());
        }
        for (oi, oname) in outs.iter().enumerate() {
            for center in [false, true] {
                let n = embs.len() as f32;
                let dim = embs.values().next().unwrap()[oi].len();
                let mut mean = vec![0.0; dim];
                for v in embs.values() {
                    for (m, x) in mean.iter_mut().zip(&v[oi]) {
                        *m += x / n;
                    }
                }
                let prep = |v: &Vec<f32>| {
                    let mut w: Vec<f32> = v
                        .iter()
                        .zip(&mean)
                        .map(|(x, m)| if center { x - m } else { *x })
                        .collect();
                    let nn = w.iter().map(|x| x * x).sum::<f32>().sqrt();
                    w.iter_mut().for_each(|x| *x /= nn);
                    w
                };
                let s: Vec<(f32, bool)> = pairs
                    .iter()
                    .filter_map(|p| {
                        Some((
                            kakunin_face::engine::cosine(
                                &prep(&embs.get(&p.a)?[oi]),
                                &prep(&embs.get(&p.b)?[oi]),
                            ),
                            p.same,
                        ))
                    })
                    .collect();
                let (eer, tar) = kakunin_face::eval::eer_and_tar(&s, 1e-2);
                println!(
                    "{sname} {oname} center={center}: EER {:.1}% TAR@1e-2 {:.1}%",
                    eer * 100.0,
                    tar * 100.0
                );
            }
        }
    }
}
