/**
 * `hrank export` of a conv network: the kernel as K<l>.npy in PyTorch's Conv2d layout (C_out x
 * C_in x k x k), checked by computing the network's outputs from the exported files with a
 * convolution written out from its definition (stride and same padding included) against
 * hrank's own forward pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src/cli/cli.js';
import { expandSweep, loadStudy } from '../../src/pipeline/index.js';
import { computeDataset, computeNetwork } from '../../src/engine/kinds/values.js';
import { forward } from '../../src/science/network.js';
import { captureIO } from '../cli/helpers.js';
import { tempDir, writePipeline } from '../engine/helpers.js';

/** A float64 .npy file: its shape and values. */
function readNpy(file: string): { shape: number[]; values: Float64Array } {
  const b = readFileSync(file);
  const len = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + len).toString('latin1');
  assert.match(header, /'descr': '<f8'/);
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1]!.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const data = b.subarray(10 + len);
  const values = new Float64Array(data.length / 8);
  for (let i = 0; i < values.length; i++) values[i] = data.readDoubleLE(8 * i);
  return { shape, values };
}

/** out[co][oy][ox] = b[co] + sum over ci, ky, kx of K[co][ci][ky][kx] * in[ci][oy*s + ky - pad][ox*s + kx - pad] (zero outside). */
function conv2d(img: Float64Array, c: number, h: number, w: number, K: Float64Array, cout: number, k: number, stride: number, pad: number, oh: number, ow: number, bias?: Float64Array): Float64Array {
  const out = new Float64Array(cout * oh * ow);
  for (let co = 0; co < cout; co++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = bias ? bias[co]! : 0;
        for (let ci = 0; ci < c; ci++) {
          for (let ky = 0; ky < k; ky++) {
            for (let kx = 0; kx < k; kx++) {
              const y = oy * stride + ky - pad, x = ox * stride + kx - pad;
              if (y < 0 || y >= h || x < 0 || x >= w) continue;
              acc += K[((co * c + ci) * k + ky) * k + kx]! * img[(ci * h + y) * w + x]!;
            }
          }
        }
        out[(co * oh + oy) * ow + ox] = acc;
      }
    }
  }
  return out;
}

test('export: conv kernels as K<l>.npy (C_out x C_in x k x k) and biases; the files compute the network', async () => {
  const dir = tempDir();
  // 7x7 -> conv k3 s2 same: 3 x 4 x 4 -> conv k2 valid: 2 x 3 x 3 -> dense 5 -> 10.
  const file = writePipeline(dir, 'ex', `dataset: {source: mnist, samples: 4, resize: 7}
model:
  layers:
    - conv: {channels: 3, kernel: 3, stride: 2, padding: same}
    - conv: {channels: 2, kernel: 2}
    - dense: 5
  bias: true
train: {lr: 0.5, steps: 2, checkpoints: [2]}   # biases start at zero: two steps make them count
`);
  const out = path.join(dir, 'out');
  const io = captureIO();
  assert.equal(await main(['export', file, '--cache', path.join(dir, 'cache'), '--out', out, '--what', 'weights,data'], io), 0, io.stderr());
  const p = path.join(out, 'main');
  const K1 = readNpy(path.join(p, 'K1.npy')), b1 = readNpy(path.join(p, 'b1.npy'));
  const K2 = readNpy(path.join(p, 'K2.npy')), b2 = readNpy(path.join(p, 'b2.npy'));
  const W3 = readNpy(path.join(p, 'W3.npy')), b3 = readNpy(path.join(p, 'b3.npy'));
  const W4 = readNpy(path.join(p, 'W4.npy')), b4 = readNpy(path.join(p, 'b4.npy'));
  assert.deepEqual([K1.shape, b1.shape, K2.shape, b2.shape, W3.shape, W4.shape], [[3, 1, 3, 3], [3], [2, 3, 2, 2], [2], [5, 18], [10, 5]]);
  const theta = readNpy(path.join(p, 'theta.npy')).values;
  assert.equal(theta.length, 27 + 3 + 24 + 2 + 90 + 5 + 50 + 10);
  const x = readNpy(path.join(p, 'x.npy'));
  assert.deepEqual(x.shape, [4, 49]);
  const manifest = JSON.parse(readFileSync(path.join(p, 'manifest.json'), 'utf8')) as { files: { file: string; description: string }[] };
  assert.match(manifest.files.find((f) => f.file === 'K1.npy')!.description, /C_out x C_in x k x k/);

  // hrank's outputs for the same point.
  const study = await loadStudy(file);
  const cfg = expandSweep(study)[0]!.config;
  // The exported (trained) parameters in hrank's own network of this point.
  const net = { ...computeNetwork(cfg), theta };
  assert.ok(b1.values.some((v) => v !== 0) && b2.values.some((v) => v !== 0), 'trained biases are not zero');
  const data = computeDataset(cfg);
  assert.deepEqual([...data.x], [...x.values]);
  const f = forward(net, data.x, 0, data.n).a.at(-1)!;
  for (let i = 0; i < 4; i++) {
    const img = x.values.subarray(i * 49, (i + 1) * 49);
    // same padding, k3 s2 on 7: 4 outputs, total padding (4-1)*2+3-7 = 2, 1 on top/left.
    const a1 = conv2d(img, 1, 7, 7, K1.values, 3, 3, 2, 1, 4, 4, b1.values);
    const a2 = conv2d(a1, 3, 4, 4, K2.values, 2, 2, 1, 0, 3, 3, b2.values);
    const a3 = Array.from({ length: 5 }, (_, o) => b3.values[o]! + a2.reduce((s, v, j) => s + W3.values[o * 18 + j]! * v, 0));
    for (let o = 0; o < 10; o++) {
      const y = b4.values[o]! + a3.reduce((s, v, j) => s + W4.values[o * 5 + j]! * v, 0);
      assert.ok(Math.abs(y - f[i * 10 + o]!) <= 1e-12 * Math.max(1, Math.abs(y)), `sample ${i} output ${o}: ${y} vs ${f[i * 10 + o]}`);
    }
  }
});
