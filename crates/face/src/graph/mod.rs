//! A TensorFlow.js graph-model executor: the graph is parsed once, topologically ordered, its
//! constants folded into the operations that use them (convolution filters laid out for GEMM),
//! and run as a readable list of steps. Intermediate buffers go back to a pool as soon as their
//! last reader has run, and the pool is kept between runs.

mod cpu;
mod depthwise;
mod fold;
mod gemm;
pub mod int8;
mod model;
pub(crate) mod ops;
mod plan;
mod tensor;

pub use model::shard_paths;
pub use tensor::Tensor;

use crate::FaceError;
use model::ModelJson;
use ops::{Binary, Conv, Dense, Depthwise, Pooling, Window};
use std::collections::HashMap;

/// One operation of the plan.
#[derive(Debug)]
enum Op {
    Input,
    Conv(Conv),
    Depthwise(Depthwise),
    Dense(Dense),
    Binary(Binary),
    Abs,
    Square,
    Rsqrt,
    Relu,
    Relu6,
    Sigmoid,
    Prelu,
    Softmax,
    Pool(Window, Pooling),
    Pad(Vec<(usize, usize)>),
    Reshape(Vec<i64>),
    Squeeze(Vec<i64>),
    Reduce {
        axes: Vec<i64>,
        keep_dims: bool,
        mean: bool,
    },
    Identity,
}

impl Op {
    /// The op's kind, for the profile (`KAKUNIN_PROFILE`).
    fn kind(&self) -> &'static str {
        match self {
            Op::Input => "Input",
            Op::Conv(_) => "Conv",
            Op::Depthwise(_) => "Depthwise",
            Op::Dense(_) => "Dense",
            Op::Binary(_) => "Binary",
            Op::Abs | Op::Square | Op::Rsqrt => "Elementwise",
            Op::Relu | Op::Relu6 | Op::Sigmoid | Op::Prelu | Op::Softmax => "Activation",
            Op::Pool(..) => "Pool",
            Op::Pad(_) => "Pad",
            Op::Reshape(_) | Op::Squeeze(_) | Op::Identity => "Copy",
            Op::Reduce { .. } => "Reduce",
        }
    }
}

#[derive(Debug)]
struct Step {
    name: String,
    op: Op,
    inputs: Vec<usize>,
    output: usize,
}

/// A loaded model, ready to run many times from many threads.
pub struct Graph {
    name: String,
    steps: Vec<Step>,
    /// Constant values by value id (those not folded into an op).
    consts: Vec<Option<Tensor>>,
    outputs: HashMap<String, usize>,
    /// Every node by name (intermediate values can be read too).
    names: HashMap<String, usize>,
    /// Index of the last step reading each value (to free it after).
    last_use: Vec<usize>,
}

/// Per-run buffers, reused between runs.
#[derive(Default)]
pub struct Scratch {
    values: Vec<Option<Tensor>>,
    pool: Vec<Vec<f32>>,
    cols: Vec<f32>,
    bytes: ops::ByteScratch,
}

/// `KAKUNIN_PROFILE`, read once: `1` prints the milliseconds each run spends per kind of op,
/// `steps` also each step with its input's shape.
fn profile_mode() -> Option<&'static str> {
    static MODE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    MODE.get_or_init(|| std::env::var("KAKUNIN_PROFILE").ok())
        .as_deref()
}

/// The smallest pooled buffer that holds `len` values, or a new one.
fn take(pool: &mut Vec<Vec<f32>>, len: usize) -> Vec<f32> {
    match pool
        .iter()
        .enumerate()
        .filter(|(_, b)| b.capacity() >= len)
        .min_by_key(|(_, b)| b.capacity())
        .map(|(i, _)| i)
    {
        Some(i) => pool.swap_remove(i),
        None => Vec::with_capacity(len),
    }
}

fn clean(input: &str) -> &str {
    let s = input.trim_start_matches('^');
    match s.rsplit_once(':') {
        Some((name, idx)) if idx.chars().all(|c| c.is_ascii_digit()) => name,
        _ => s,
    }
}

impl Graph {
    /// Parses `model.json` and its weight bytes (all shards concatenated, in manifest order).
    pub fn from_parts(name: &str, json: &[u8], weights: &[u8]) -> Result<Graph, FaceError> {
        let corrupt = |why: String| FaceError::ModelCorrupt {
            model: name.to_owned(),
            why,
        };
        let model: ModelJson =
            serde_json::from_slice(json).map_err(|e| corrupt(format!("model.json: {e}")))?;
        let mut weights = model::decode_weights(&model.weights_manifest, weights, name)?;
        let nodes = model.topology.node;
        let index: HashMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.as_str(), i))
            .collect();

        // Kahn's algorithm over data inputs.
        let mut indegree = vec![0usize; nodes.len()];
        let mut readers: Vec<Vec<usize>> = vec![vec![]; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            for inp in &n.input {
                let &j = index
                    .get(clean(inp))
                    .ok_or_else(|| corrupt(format!("node {} reads unknown {inp}", n.name)))?;
                indegree[i] += 1;
                readers[j].push(i);
            }
        }
        let mut ready: Vec<usize> = (0..nodes.len())
            .filter(|&i| indegree[i] == 0)
            .rev()
            .collect();
        let mut order = Vec::with_capacity(nodes.len());
        while let Some(i) = ready.pop() {
            order.push(i);
            for &r in readers[i].iter().rev() {
                indegree[r] -= 1;
                if indegree[r] == 0 {
                    ready.push(r);
                }
            }
        }
        if order.len() != nodes.len() {
            return Err(corrupt("the graph has a cycle".into()));
        }

        let mut consts: Vec<Option<Tensor>> = vec![None; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            if n.op == "Const" {
                consts[i] = Some(
                    weights
                        .remove(&n.name)
                        .ok_or_else(|| corrupt(format!("no weights for constant {}", n.name)))?,
                );
            }
        }
        let mut g = Graph {
            name: name.to_owned(),
            steps: vec![],
            consts,
            outputs: HashMap::new(),
            names: nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.op != "Const")
                .map(|(i, n)| (n.name.clone(), i))
                .collect(),
            last_use: vec![],
        };
        for &i in &order {
            let n = &nodes[i];
            if n.op == "Const" {
                continue;
            }
            let inputs: Vec<usize> = n
                .input
                .iter()
                .filter(|s| !s.starts_with('^'))
                .map(|s| index[clean(s)])
                .collect();
            let op = g.plan(n, &inputs)?;
            g.steps.push(Step {
                name: n.name.clone(),
                op,
                inputs,
                output: i,
            });
        }
        for (i, r) in readers.iter().enumerate() {
            if r.is_empty() && nodes[i].op != "Const" {
                g.outputs.insert(nodes[i].name.clone(), i);
            }
        }
        g.fold_into_convs(&readers);
        g.last_use = vec![usize::MAX; nodes.len()];
        for (s, step) in g.steps.iter().enumerate() {
            for &v in &step.inputs {
                g.last_use[v] = s;
            }
        }
        Ok(g)
    }

    /// The model's name (for messages).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Names of the graph's outputs (nodes nobody reads).
    pub fn output_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.outputs.keys().map(String::as_str).collect();
        v.sort();
        v
    }

    /// Switches the convolutions to 8-bit products ([`int8`]) where this CPU has AVX-512 VNNI
    /// (other CPUs keep the float path). The float filters are dropped: they are not read again.
    pub fn quantize(&mut self) {
        if !int8::available() {
            return;
        }
        for step in &mut self.steps {
            if let Op::Conv(c) = &mut step.op {
                let k = c.win.kh * c.win.kw * c.cin;
                let filter = std::mem::take(&mut c.filter);
                c.quantized = Some(int8::QuantizedWeights::new(&filter, k, c.cout));
            }
        }
    }

    /// Runs with `input` fed to the (single) placeholder; returns the named outputs in order.
    pub fn run(
        &self,
        input: Tensor,
        outputs: &[&str],
        scratch: &mut Scratch,
    ) -> Result<Vec<Tensor>, FaceError> {
        let out_ids: Vec<usize> = outputs
            .iter()
            .map(|o| {
                self.outputs
                    .get(*o)
                    .or_else(|| self.names.get(*o))
                    .copied()
                    .ok_or_else(|| FaceError::ModelCorrupt {
                        model: self.name.clone(),
                        why: format!("no output {o}"),
                    })
            })
            .collect::<Result<_, _>>()?;
        let Scratch {
            values,
            pool,
            cols,
            bytes,
        } = scratch;
        values.clear();
        values.resize(self.consts.len(), None);
        let mut input = Some(input);
        let profile = profile_mode();
        let mut spent: std::collections::BTreeMap<&str, f64> = Default::default();
        for (s, step) in self.steps.iter().enumerate() {
            let t0 = profile.map(|_| std::time::Instant::now());
            let result = {
                let get = |i: usize| -> &Tensor {
                    values[i]
                        .as_ref()
                        .or(self.consts[i].as_ref())
                        .expect("inputs run before readers")
                };
                let x = step.inputs.first().map(|&i| get(i));
                let len = x.map(|t| t.len()).unwrap_or(0);
                let unary = |f: fn(f32) -> f32, buf: Vec<f32>| {
                    let x = x.expect("unary op has an input");
                    let mut b = buf;
                    b.clear();
                    b.extend(x.data.iter().map(|v| f(*v)));
                    Tensor::new(x.shape.clone(), b)
                };
                match &step.op {
                    Op::Input => input.take().ok_or_else(|| FaceError::ModelCorrupt {
                        model: self.name.clone(),
                        why: "more than one input".into(),
                    })?,
                    Op::Conv(c) => {
                        let buf = take(pool, 0);
                        c.run(get(step.inputs[0]), buf, cols, bytes)
                    }
                    Op::Depthwise(d) => d.run(get(step.inputs[0]), take(pool, len)),
                    Op::Dense(d) => d.run(get(step.inputs[0]), take(pool, 0)),
                    Op::Binary(b) => {
                        let (a, bb) = (get(step.inputs[0]), get(step.inputs[1]));
                        let shape = ops::broadcast_shape(&a.shape, &bb.shape).ok_or_else(|| {
                            FaceError::ModelCorrupt {
                                model: self.name.clone(),
                                why: format!(
                                    "{}: shapes {:?} and {:?} do not broadcast",
                                    step.name, a.shape, bb.shape
                                ),
                            }
                        })?;
                        ops::binary(*b, a, bb, shape, take(pool, len))
                    }
                    Op::Abs => unary(f32::abs, take(pool, len)),
                    Op::Square => unary(|v| v * v, take(pool, len)),
                    Op::Rsqrt => unary(|v| 1.0 / v.sqrt(), take(pool, len)),
                    Op::Relu => unary(|v| v.max(0.0), take(pool, len)),
                    Op::Relu6 => unary(|v| v.clamp(0.0, 6.0), take(pool, len)),
                    Op::Sigmoid => unary(ops::sigmoid, take(pool, len)),
                    Op::Prelu => {
                        let (x, alpha) = (get(step.inputs[0]), get(step.inputs[1]));
                        let relu = |v: f32| v.max(0.0);
                        let neg = ops::binary(
                            Binary::Minimum,
                            x,
                            &Tensor::new(vec![], vec![0.0]),
                            x.shape.clone(),
                            take(pool, len),
                        );
                        let scaled =
                            ops::binary(Binary::Mul, &neg, alpha, x.shape.clone(), take(pool, len));
                        let mut out = take(pool, len);
                        out.clear();
                        out.extend(x.data.iter().zip(&scaled.data).map(|(v, s)| relu(*v) + s));
                        pool.push(neg.data);
                        pool.push(scaled.data);
                        Tensor::new(x.shape.clone(), out)
                    }
                    Op::Softmax => ops::softmax(get(step.inputs[0]), take(pool, len)),
                    Op::Pool(w, kind) => ops::pool(get(step.inputs[0]), w, *kind, take(pool, 0)),
                    Op::Pad(p) => ops::pad(get(step.inputs[0]), p, take(pool, 0)),
                    Op::Reshape(shape) => {
                        let x = get(step.inputs[0]);
                        let known: i64 = shape.iter().filter(|d| **d > 0).product();
                        let dims: Vec<usize> = shape
                            .iter()
                            .map(|&d| {
                                if d < 0 {
                                    (x.len() as i64 / known.max(1)) as usize
                                } else {
                                    d as usize
                                }
                            })
                            .collect();
                        if dims.iter().product::<usize>() != x.len() {
                            return Err(FaceError::ModelCorrupt {
                                model: self.name.clone(),
                                why: format!(
                                    "{}: cannot reshape {:?} to {shape:?}",
                                    step.name, x.shape
                                ),
                            });
                        }
                        let mut b = take(pool, len);
                        b.clear();
                        b.extend_from_slice(&x.data);
                        Tensor::new(dims, b)
                    }
                    Op::Squeeze(dims) => {
                        let x = get(step.inputs[0]);
                        let rank = x.shape.len() as i64;
                        let drop: Vec<usize> =
                            dims.iter().map(|d| ((d + rank) % rank) as usize).collect();
                        let shape = x
                            .shape
                            .iter()
                            .enumerate()
                            .filter(|(i, d)| {
                                if drop.is_empty() {
                                    **d != 1
                                } else {
                                    !drop.contains(i)
                                }
                            })
                            .map(|(_, d)| *d)
                            .collect();
                        let mut b = take(pool, len);
                        b.clear();
                        b.extend_from_slice(&x.data);
                        Tensor::new(shape, b)
                    }
                    Op::Reduce {
                        axes,
                        keep_dims,
                        mean,
                    } => {
                        let x = get(step.inputs[0]);
                        let rank = x.shape.len() as i64;
                        let axes: Vec<usize> =
                            axes.iter().map(|a| ((a + rank) % rank) as usize).collect();
                        ops::reduce(x, &axes, *keep_dims, *mean)
                    }
                    Op::Identity => {
                        let x = get(step.inputs[0]);
                        let mut b = take(pool, len);
                        b.clear();
                        b.extend_from_slice(&x.data);
                        Tensor::new(x.shape.clone(), b)
                    }
                }
            };
            if let (Some(mode), Some(t0)) = (profile, t0) {
                let ms = t0.elapsed().as_secs_f64() * 1e3;
                *spent.entry(step.op.kind()).or_default() += ms;
                if mode == "steps" {
                    let shape = step.inputs.first().and_then(|&i| {
                        values[i]
                            .as_ref()
                            .or(self.consts[i].as_ref())
                            .map(|t| &t.shape)
                    });
                    eprintln!("  {ms:>7.3} ms {} {} {shape:?}", step.op.kind(), step.name);
                }
            }
            values[step.output] = Some(result);
            for &i in &step.inputs {
                if self.last_use[i] == s && !out_ids.contains(&i) {
                    if let Some(t) = values[i].take() {
                        pool.push(t.data);
                    }
                }
            }
        }
        if profile.is_some() {
            let total: f64 = spent.values().sum();
            let parts: Vec<String> = spent.iter().map(|(k, v)| format!("{k} {v:.2}")).collect();
            eprintln!(
                "profile {}: {total:.2} ms ({})",
                self.name,
                parts.join(", ")
            );
        }
        let outs = out_ids
            .iter()
            .map(|&i| values[i].take().expect("outputs are computed"))
            .collect();
        for v in values.iter_mut() {
            if let Some(t) = v.take() {
                pool.push(t.data);
            }
        }
        Ok(outs)
    }
}
