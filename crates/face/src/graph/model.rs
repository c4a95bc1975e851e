//! The TensorFlow.js graph-model format: `model.json` (topology + weights manifest) and its
//! binary weight shards. Weights may be float32, int32, or quantised (float16, uint8, uint16).

use super::tensor::Tensor;
use crate::FaceError;
use base64::Engine;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
pub(crate) struct ModelJson {
    #[serde(rename = "modelTopology")]
    pub topology: Topology,
    #[serde(rename = "weightsManifest")]
    pub weights_manifest: Vec<WeightGroup>,
}

#[derive(Deserialize)]
pub(crate) struct Topology {
    pub node: Vec<NodeDef>,
}

#[derive(Deserialize, Clone)]
pub(crate) struct NodeDef {
    pub name: String,
    pub op: String,
    #[serde(default)]
    pub input: Vec<String>,
    #[serde(default)]
    pub attr: HashMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
pub(crate) struct WeightGroup {
    pub paths: Vec<String>,
    pub weights: Vec<WeightSpec>,
}

#[derive(Deserialize)]
pub(crate) struct WeightSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: String,
    pub quantization: Option<Quantization>,
}

#[derive(Deserialize)]
pub(crate) struct Quantization {
    pub dtype: String,
    pub scale: Option<f32>,
    pub min: Option<f32>,
}

impl NodeDef {
    /// An integer-list attribute (`{"list": {"i": ["1", "2"]}}`).
    pub fn ints(&self, key: &str) -> Option<Vec<i64>> {
        let list = self.attr.get(key)?.get("list")?;
        let Some(items) = list.get("i") else {
            return Some(vec![]);
        };
        items
            .as_array()?
            .iter()
            .map(|v| {
                v.as_str()
                    .and_then(|s| s.parse().ok())
                    .or_else(|| v.as_i64())
            })
            .collect()
    }

    /// A string attribute (base64 in the JSON).
    pub fn string(&self, key: &str) -> Option<String> {
        let s = self.attr.get(key)?.get("s")?.as_str()?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    }

    /// A list-of-strings attribute.
    pub fn strings(&self, key: &str) -> Vec<String> {
        let Some(items) = self
            .attr
            .get(key)
            .and_then(|a| a.get("list"))
            .and_then(|l| l.get("s"))
            .and_then(|s| s.as_array())
        else {
            return vec![];
        };
        items
            .iter()
            .filter_map(|v| v.as_str())
            .filter_map(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
            .filter_map(|b| String::from_utf8(b).ok())
            .collect()
    }

    /// A boolean attribute.
    pub fn bool(&self, key: &str) -> bool {
        self.attr
            .get(key)
            .and_then(|a| a.get("b"))
            .and_then(|b| b.as_bool())
            .unwrap_or(false)
    }
}

/// The weight shard file names of a `model.json`, in manifest order.
pub fn shard_paths(json: &[u8]) -> Result<Vec<String>, FaceError> {
    #[derive(Deserialize)]
    struct Manifest {
        #[serde(rename = "weightsManifest")]
        weights_manifest: Vec<WeightGroup>,
    }
    let m: Manifest = serde_json::from_slice(json).map_err(|e| FaceError::ModelCorrupt {
        model: "model.json".into(),
        why: e.to_string(),
    })?;
    Ok(m.weights_manifest
        .into_iter()
        .flat_map(|g| g.paths)
        .collect())
}

/// Decodes every weight in the manifest from the concatenated shard bytes.
pub(crate) fn decode_weights(
    groups: &[WeightGroup],
    shards: &[u8],
    model: &str,
) -> Result<HashMap<String, Tensor>, FaceError> {
    let mut out = HashMap::new();
    let mut offset = 0usize;
    let corrupt = |why: String| FaceError::ModelCorrupt {
        model: model.to_owned(),
        why,
    };
    for spec in groups.iter().flat_map(|g| &g.weights) {
        let count: usize = spec.shape.iter().product();
        let (bytes_per, dtype) = match &spec.quantization {
            Some(q) => (
                match q.dtype.as_str() {
                    "float16" | "uint16" => 2,
                    "uint8" => 1,
                    other => return Err(corrupt(format!("quantisation {other}"))),
                },
                q.dtype.as_str(),
            ),
            None => (4, spec.dtype.as_str()),
        };
        let len = count * bytes_per;
        let raw = shards.get(offset..offset + len).ok_or_else(|| {
            corrupt(format!(
                "weight {} runs past the end of the shards",
                spec.name
            ))
        })?;
        offset += len;
        let data: Vec<f32> = match (dtype, &spec.quantization) {
            ("float32", None) => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            ("int32", None) => raw
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)
                .collect(),
            ("float16", Some(_)) => raw
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            ("uint8", Some(q)) => raw
                .iter()
                .map(|&v| q.min.unwrap_or(0.0) + q.scale.unwrap_or(1.0) * f32::from(v))
                .collect(),
            ("uint16", Some(q)) => raw
                .chunks_exact(2)
                .map(|b| {
                    q.min.unwrap_or(0.0)
                        + q.scale.unwrap_or(1.0) * f32::from(u16::from_le_bytes([b[0], b[1]]))
                })
                .collect(),
            (other, _) => return Err(corrupt(format!("weight dtype {other}"))),
        };
        out.insert(spec.name.clone(), Tensor::new(spec.shape.clone(), data));
    }
    if offset != shards.len() {
        return Err(corrupt(format!(
            "{} bytes of weights, manifest describes {offset}",
            shards.len()
        )));
    }
    Ok(out)
}
