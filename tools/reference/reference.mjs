// Usage: node reference.mjs MODEL_DIR OUT.json [DLIB_DIR]
// Runs each model on a fixed pseudo-random input (the same formula as the Rust test) with
// TensorFlow.js's pure-JS CPU backend and writes every output as {shape, data}. DLIB_DIR, when
// given, holds dlib's own ResNet weights as kakunin reads them from dlib's file
// (dlib-weights_manifest.json, dlib.bin, dlib-normalisation.json, written by the Rust test).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import fs from 'node:fs';
import path from 'node:path';

const [dir, out, dlibDir] = process.argv.slice(2);
const models = {
  'blazeface-back': [1, 256, 256, 3],
  mobilefacenet: [1, 112, 112, 3],
  mobileface: [1, 112, 112, 3],
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
// dlib's ResNet: face-api ships weights only, and dlib's file is not a TensorFlow.js model, so
// the network is written here with tf ops, from the architecture (kakunin writes it as a graph
// in crates/face/src/dlib_resnet.rs).
function dlibResnet(manifestPath, binPath, meanRgb, scale) {
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const bin = fs.readFileSync(binPath);
  const w = tf.io.decodeWeights(new Uint8Array(bin).buffer, manifest.flatMap((g) => g.weights));
  const layer = (x, p, stride, pad, relu) => {
    const conv = tf.add(tf.conv2d(x, w[`${p}/conv/filters`], stride, pad), w[`${p}/conv/bias`]);
    const y = tf.add(tf.mul(conv, w[`${p}/scale/weights`]), w[`${p}/scale/biases`]);
    return relu ? tf.relu(y) : y;
  };
  const residual = (x, p) => tf.relu(tf.add(layer(layer(x, `${p}/conv1`, 1, 'same', true), `${p}/conv2`, 1, 'same', false), x));
  const halving = (x, p) => {
    let y = layer(layer(x, `${p}/conv1`, 2, 'valid', true), `${p}/conv2`, 1, 'same', false);
    let s = tf.avgPool(x, 2, 2, 'valid');
    const dh = s.shape[1] - y.shape[1];
    if (dh > 0) y = tf.pad(y, [[0, 0], [0, dh], [0, dh], [0, 0]]);
    const dc = y.shape[3] - s.shape[3];
    if (dc > 0) s = tf.pad(s, [[0, 0], [0, 0], [0, 0], [0, dc]]);
    return tf.relu(tf.add(y, s));
  };
  let y = tf.mul(tf.sub(input([1, 150, 150, 3]), tf.tensor1d(meanRgb)), scale);
  y = tf.maxPool(layer(y, 'conv32_down', 2, 'valid', true), 3, 2, 'valid');
  for (const width of [32, 64, 128, 256]) {
    const names = width === 32 ? ['conv32_1', 'conv32_2', 'conv32_3']
      : width === 64 ? ['conv64_down', 'conv64_1', 'conv64_2', 'conv64_3']
        : width === 128 ? ['conv128_down', 'conv128_1', 'conv128_2']
          : ['conv256_down', 'conv256_1', 'conv256_2', 'conv256_down_out'];
    for (const p of names) y = p.includes('down') ? halving(y, p) : residual(y, p);
  }
  const d = tf.matMul(tf.mean(y, [1, 2]), w.fc);
  return { descriptor: { shape: d.shape, data: Array.from(d.dataSync()) } };
}
result.face_recognition_model = dlibResnet(
  path.join(dir, 'face_recognition_model-weights_manifest.json'),
  path.join(dir, 'face_recognition_model.bin'),
  [122.782, 117.001, 104.298],
  1 / 255,
);
if (dlibDir) {
  const n = JSON.parse(fs.readFileSync(path.join(dlibDir, 'dlib-normalisation.json'), 'utf8'));
  result.dlib_face_recognition_resnet_model_v1 = dlibResnet(
    path.join(dlibDir, 'dlib-weights_manifest.json'),
    path.join(dlibDir, 'dlib.bin'),
    n.mean_rgb,
    n.scale,
  );
}
fs.writeFileSync(out, JSON.stringify(result));
