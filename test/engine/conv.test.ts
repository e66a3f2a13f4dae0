/** Conv networks in the engine: keys, layer sizes and params, the network value through the cache codec, predictions, chains. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandSweep, loadStudy } from '../../src/pipeline/index.js';
import { planStudy, type Plan } from '../../src/engine/kinds/plan.js';
import { chainable, layerSizes, networkSpecOf, paramCountOf } from '../../src/engine/kinds/settings.js';
import { computeInputRank, computeNetwork, computePrediction, computeDataset } from '../../src/engine/kinds/values.js';
import { decode, encode } from '../../src/engine/store/codec.js';
import { CONV_SETTING_REASON } from '../../src/science/predictions.js';
import { convDataRanks } from '../../src/science/conv-predictions.js';
import { forward, hasConv, paramCount } from '../../src/science/network.js';
import type { Network } from '../../src/science/types.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir, writePipeline } from './helpers.js';

async function planOf(body: string): Promise<Plan> {
  const file = writePipeline(tempDir(), 'c', body);
  const study = await loadStudy(file);
  return planStudy(study, expandSweep(study));
}

const MNIST8 = `dataset: {source: mnist, samples: 12, resize: 8}
`;

test('conv points: params count the shared kernel once; sizes are the flattened conv outputs', async () => {
  const plan = await planOf(`${MNIST8}model:
  layers:
    - conv: {channels: 2, kernel: 3}
    - conv: {channels: 3, kernel: 3, stride: 2, padding: same}
    - dense: 5
sweep:
  model.layers[0].conv.channels: [2, 4]
`);
  const [a, b] = plan.points;
  // 8x8 -> valid k3: C x 6 x 6 -> same k3 s2: 3 x 3 x 3 -> dense 5 -> 10 outputs.
  assert.deepEqual(layerSizes(a!.point.config), [64, 2 * 36, 27, 5, 10]);
  const params = (c: number): number => c * 1 * 9 + 3 * c * 9 + 27 * 5 + 5 * 10;
  assert.equal(a!.params, params(2));
  assert.equal(b!.params, params(4));
  assert.equal(a!.inputDim, 64);
});

test('network keys: different channels, kernels or images give different keys; the same settings the same key', async () => {
  const body = (channels: string, kernel = 3, resize = 8): string => `dataset: {source: mnist, samples: 12, resize: ${resize}}
model:
  layers:
    - conv: {channels: 2, kernel: ${kernel}}
sweep:
  model.layers[0].conv.channels: ${channels}
`;
  const a = await planOf(body('[1, 2]'));
  const nets = a.steps.filter((s) => s.kind === 'network');
  assert.deepEqual(nets.map((s) => s.id), ['network[model.layers[0].conv.channels=1]', 'network[model.layers[0].conv.channels=2]']);
  assert.notEqual(nets[0]!.key, nets[1]!.key);
  const params = nets[0]!.parts.params as Record<string, unknown>;
  assert.deepEqual(params['conv'], [{ channels: 1, kernel: 3, stride: 1, padding: 'valid' }]);
  assert.deepEqual(params['image'], { channels: 1, height: 8, width: 8 });
  const again = await planOf(body('[1, 2]'));
  assert.deepEqual(again.steps.map((s) => s.key), a.steps.map((s) => s.key));
  const otherKernel = await planOf(body('[1, 2]', 5));
  assert.notEqual(otherKernel.steps.find((s) => s.kind === 'network')!.key, nets[0]!.key);
  // The prediction of a conv point is its own step too (it says why there is none).
  assert.ok(a.steps.filter((s) => s.kind === 'prediction').every((s) => (s.parts.params as Record<string, unknown>)['conv'] !== undefined));
});

test('a fully connected model keeps its keys: layers of dense entries plan exactly as hidden', async () => {
  const hidden = await planOf(`${MNIST8}model: {hidden: [6, 4]}
sweep:
  seed: [1, 2]
`);
  const layers = await planOf(`${MNIST8}model:
  layers: [{dense: 6}, {dense: 4}]
sweep:
  seed: [1, 2]
`);
  assert.deepEqual(layers.steps.map((s) => [s.id, s.key]), hidden.steps.map((s) => [s.id, s.key]));
  for (const s of hidden.steps.filter((x) => x.kind === 'network' || x.kind === 'prediction')) {
    const p = s.parts.params as Record<string, unknown>;
    assert.equal('conv' in p || 'image' in p, false, `${s.id} params gained a conv key`);
  }
  assert.equal('channels' in (hidden.steps.find((s) => s.kind === 'dataset')!.parts.params as Record<string, unknown>), false);
});

test('the network value keeps its conv layers through the cache codec, and computes the same function', async () => {
  const plan = await planOf(`${MNIST8}model:
  layers: [{conv: {channels: 2, kernel: 3}}, {dense: 4}]
  bias: true
`);
  const cfg = plan.points[0]!.point.config;
  const net = computeNetwork(cfg);
  assert.equal(net.theta.length, paramCountOf(cfg));
  assert.equal(net.theta.length, paramCount(net));
  assert.equal(net.theta.length, 2 * 9 + 2 + 72 * 4 + 4 + 4 * 10 + 10);
  const back = decode(encode(net)) as Network;
  assert.deepEqual(back.conv, net.conv);
  assert.deepEqual([...back.theta], [...net.theta]);
  // The decoded network is a conv network still: its outputs are those of the original's expansion.
  const data = computeDataset(cfg);
  assert.equal(hasConv(back), true);
  const f0 = forward(net, data.x, 0, data.n);
  const f1 = forward(back, data.x, 0, data.n);
  assert.deepEqual([...f1.a.at(-1)!], [...f0.a.at(-1)!]);
  assert.equal(f0.a.at(-1)!.length, data.n * 10);
});

test('a conv point the conv formulas cover gets them from its data ranks; others have no prediction, with the reason', async () => {
  const plan = await planOf(`${MNIST8}model:
  layers: [{conv: {channels: 2, kernel: 3}}]
`);
  const cfg = plan.points[0]!.point.config;
  const data = computeDataset(cfg);
  // The prediction step reads the dataset (the conv layer's data ranks).
  assert.ok(plan.steps.find((s) => s.kind === 'prediction')!.inputs.dataset);
  const pred = computePrediction(cfg, computeInputRank(data), 10, data);
  const ranks = convDataRanks(data, networkSpecOf(cfg).conv!, 'mse');
  assert.ok(pred.applicable);
  assert.equal(pred.functional, 2 * 2 * ranks.gradientPatchRank);
  assert.equal(pred.outer, ranks.featureRank === ranks.coveredRank ? 10 * ranks.coveredRank : null);
  assert.equal(pred.loss, null);
  for (const model of ['layers: [{conv: {channels: 2, kernel: 3}}, {dense: 4}]', 'layers: [{conv: {channels: 2, kernel: 3}}]\n  bias: true']) {
    const other = await planOf(`${MNIST8}model:\n  ${model}\n`);
    const c2 = other.points[0]!.point.config;
    assert.deepEqual(computePrediction(c2, computeInputRank(data), 10, data), { applicable: false, reason: CONV_SETTING_REASON }, model);
  }
});

test('conv points chain sample sizes only on the dense route sizes', async () => {
  // One conv layer over resize x resize digits, dataset.samples 6 and 12.
  const sampleSweep = (resize: number, channels: number) => planOf(`dataset: {source: mnist, samples: 12, resize: ${resize}}
model:
  layers: [{conv: {channels: ${channels}, kernel: 3}}]
sweep:
  dataset.samples: [6, 12]
`);
  const small = await sampleSweep(6, 1);
  assert.ok(small.points[0]!.params <= 1200);
  assert.equal(chainable(small.points[0]!.point.config), true);
  assert.deepEqual(small.steps.filter((s) => s.kind === 'spectrum').map((s) => s.chain?.boundaries), [[6], [6, 12]]);
  // A linear conv network above the dense sizes: no subspace chain (a dense net of that size would chain).
  const big = await sampleSweep(8, 8);
  assert.ok(big.points[0]!.params > 1200);
  assert.equal(chainable(big.points[0]!.point.config), false);
  assert.ok(big.steps.filter((s) => s.kind === 'spectrum').every((s) => s.chain === undefined));
});

/** A CIFAR-10 batch of the given labels with every pixel byte drawn from a small LCG. */
function cifarBytes(labels: number[], seed: number): Uint8Array {
  const b = new Uint8Array(labels.length * 3073);
  let s = seed;
  labels.forEach((l, r) => {
    b[r * 3073] = l;
    for (let i = 1; i < 3073; i++) { s = (s * 1103515245 + 12345) % 2147483648; b[r * 3073 + i] = s % 256; }
  });
  return b;
}

test('cifar10 channels: 3 reads the three planes channel-major; one plane is what it was', async () => {
  const dir = tempDir();
  const bytes = cifarBytes([3, 1, 4], 7);
  writeFileSync(path.join(dir, 'batch.bin'), bytes);
  const studyOf = async (extra: string, model = 'layers: [{conv: {channels: 2, kernel: 3}}]'): Promise<Plan> => {
    const file = writePipeline(dir, 'cifar', `dataset: {source: cifar10, files: [batch.bin], samples: 3, resize: 4${extra}}
model: {${model}}
`);
    const study = await loadStudy(file);
    return planStudy(study, expandSweep(study));
  };
  const three = (await studyOf(', channels: 3')).points[0]!;
  const data3 = computeDataset(three.point.config);
  assert.equal(data3.d, 3 * 16);
  assert.equal(three.inputDim, 48);
  // Kernel 2 x 3 x 3 x 3, output 2 x 2 x 2 -> 10 outputs.
  assert.equal(three.params, 2 * 3 * 9 + 8 * 10);
  const green = (await studyOf(', channel: 1')).points[0]!;
  const data1 = computeDataset(green.point.config);
  assert.equal(data1.d, 16);
  // Nearest-neighbour 32 -> 4 keeps rows and columns 0, 8, 16, 24 (nearestIndices), from each plane.
  for (let j = 0; j < 3; j++) {
    for (let p = 0; p < 3; p++) {
      for (let r = 0; r < 4; r++) {
        for (let c = 0; c < 4; c++) {
          const byte = bytes[j * 3073 + 1 + p * 1024 + r * 8 * 32 + c * 8]!;
          assert.equal(data3.x[j * 48 + p * 16 + r * 4 + c], byte / 255);
          if (p === 1) assert.equal(data1.x[j * 16 + r * 4 + c], byte / 255, 'the one-plane path reads the same plane');
        }
      }
    }
  }
  // The dataset keys: one plane keeps its key (no channels member); three planes differ.
  const key = (p: Plan): string => p.steps.find((s) => s.kind === 'dataset')!.key;
  const one = await studyOf(', channel: 1, channels: 1', 'hidden: [4]');
  assert.equal(key(one), key(await studyOf(', channel: 1', 'hidden: [4]')));
  assert.notEqual(key(await studyOf(', channels: 3', 'hidden: [4]')), key(await studyOf('', 'hidden: [4]')));
});
