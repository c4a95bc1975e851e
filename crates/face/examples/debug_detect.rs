// Why do faces fail on LFW images?
fn main() {
    let e = kakunin_face::FaceEngine::load(&kakunin_face::models::model_dir(), Default::default())
        .unwrap();
    let text = std::fs::read_to_string("/tmp/pairs600.txt").unwrap();
    let pairs =
        kakunin_face::eval::parse_pairs(&text, std::path::Path::new("/work/shared/data")).unwrap();
    let mut reasons = std::collections::HashMap::new();
    for p in pairs.iter().take(100).flat_map(|p| [&p.a, &p.b]) {
        let img = kakunin_face::image::decode(&std::fs::read(p).unwrap()).unwrap();
        match e.face(&img).unwrap() {
            Ok(_) => *reasons.entry("ok".to_string()).or_insert(0) += 1,
            Err(r) => {
                let d = e.detect(&img.to_grey()).unwrap();
                if reasons.len() < 6 {
                    println!(
                        "{p:?} {r:?} {:?}",
                        d.iter().map(|d| (d.score, d.width())).collect::<Vec<_>>()
                    );
                }
                *reasons.entry(format!("{r:?}")).or_insert(0) += 1
            }
        }
    }
    println!("{reasons:?}");
}
