// How many LFW images have no face above various scores?
fn main() {
    let e = kakunin_face::FaceEngine::load(&kakunin_face::models::model_dir(), Default::default())
        .unwrap();
    let root = std::path::Path::new("/work/shared/data/lfw");
    let mut n = 0;
    let mut best = vec![];
    for person in std::fs::read_dir(root).unwrap().flatten().take(400) {
        for f in std::fs::read_dir(person.path()).unwrap().flatten().take(1) {
            let img = kakunin_face::image::decode(&std::fs::read(f.path()).unwrap())
                .unwrap()
                .to_grey();
            let d = e.detect(&img).unwrap();
            best.push(d.first().map(|d| d.score).unwrap_or(0.0));
            n += 1;
        }
    }
    for t in [0.75, 0.6, 0.5, 0.4] {
        println!(
            "min score {t}: {} of {n} without a face",
            best.iter().filter(|s| **s < t).count()
        );
    }
}
