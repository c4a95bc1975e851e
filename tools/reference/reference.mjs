// Usage: node reference.mjs MODEL_DIR OUT.json
// Runs each model on a fixed pseudo-random input (the same formula as the Rust test) with
// TensorFlow.js's pure-JS CPU backend and writes every output as {shape, data}.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import fs from 'node:fs';
import path from 'node:path';

const [dir, out] = process.argv.slice(2);
const models = {
  'blazeface-back': [1, 256, 256, 3],
  mobilefacenet: [1, 112, 112, 3],
  faceres: [1, 224, 224, 3],
  antispoof: [1, 128, 128, 3],
  liveness: [1, 32, 32, 3],
  facemesh: [1, 192, 192, 3],
};

// Intermediate nodes kakunin reads, checked as well.
const extra = { faceres: ['global_pooling/Mean'] };

// x[i] = frac(i * 2654435761 / 2^32) * 2 - 1, exact in doubles for these sizes.
function input(shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 2654435761) % 4294967296) / 4294967296 * 2 - 1;
  return tf.tensor(data, shape);
}

await tf.setBackend('cpu');
const result = {};
for (const [name, shape] of Object.entries(models)) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
  const bins = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const weightData = new Uint8Array(Buffer.concat(bins)).buffer;
  const model = await loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData,
    format: 'graph-model',
  }));
  const names = model.outputs.map((o) => o.name.replace(/:0$/, '')).concat(extra[name] || []);
  let outs = model.execute(input(shape), names);
  if (!Array.isArray(outs)) outs = [outs];
  result[name] = {};
  names.forEach((n, i) => { result[name][n] = { shape: outs[i].shape, data: Array.from(outs[i].dataSync()) }; });
}
fs.writeFileSync(out, JSON.stringify(result));
