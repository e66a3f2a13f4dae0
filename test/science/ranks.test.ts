import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initNetwork, networkSpec, paramCount } from '../../src/science/network.js';
import { predictRanks } from '../../src/science/predictions.js';
import { numericalRank, EPS } from '../../src/science/rank.js';
import { hessianRanks, inputCovarianceRank } from '../../src/science/ranks.js';
import type { Activation, LossName } from '../../src/science/types.js';
import { gaussianData } from './helpers.js';

test('numericalRank follows numpy: values > s_max * n * eps, with gap and margins', () => {
  const n = 100;
  const tol = 10 * n * EPS;
  const r = numericalRank([10, 1, 1e-3, tol * 50, tol * 0.5, 1e-30, 0, -3], n);
  assert.equal(r.rank, 5); // 10, |-3|, 1, 1e-3, 50 tol
  assert.equal(r.tolerance, tol);
  assert.ok(Math.abs(r.keptMargin! - Math.log10(50)) < 1e-12);
  assert.ok(Math.abs(r.droppedMargin! - Math.log10(2)) < 1e-12);
  assert.ok(Math.abs(r.gap! - 2) < 1e-12);
  assert.equal(r.ambiguous, true); // 0.3 decades below the tolerance
  const clean = numericalRank([5, 4, 1e-20], 3);
  assert.equal(clean.rank, 2);
  assert.equal(clean.ambiguous, false);
  assert.equal(numericalRank([0, 0], 2).rank, 0);
  assert.equal(numericalRank([3, 2], 2).largestDropped, null);
});

test('predictions: formulas, cross-entropy uses K - 1, nonlinear and bias are not applicable', () => {
  const p = predictRanks({ inputRank: 64, outputs: 10, hidden: [10, 10], loss: 'mse', activation: 'linear', bias: false });
  assert.deepEqual(p, { applicable: true, outer: 640, functional: 2 * 10 * 20 + 200 - 300, loss: 300 + 640 + 10 * (10 - 20) });
  const ce = predictRanks({ inputRank: 64, outputs: 10, hidden: [10, 10], loss: 'cross-entropy', activation: 'linear', bias: false });
  assert.ok(ce.applicable && ce.outer === 9 * 64);
  assert.equal(predictRanks({ inputRank: 5, outputs: 3, hidden: [4], loss: 'mse', activation: 'tanh', bias: false }).applicable, false);
  assert.equal(predictRanks({ inputRank: 5, outputs: 3, hidden: [4], loss: 'mse', activation: 'linear', bias: true }).applicable, false);
});

interface Case { name: string; n: number; d: number; k: number; hidden: number[]; loss: LossName; inputRank?: number }
// Each regime of q = min(r, K', m_1..m_{L-1}) and s = min(r, K'), N below and above d.
const grid: Case[] = [
  { name: 'q = r (N < d)', n: 3, d: 8, k: 5, hidden: [6, 7], loss: 'mse' },
  { name: 'q = r (rank-deficient inputs, N > d)', n: 30, d: 10, k: 6, hidden: [8], loss: 'mse', inputRank: 3 },
  { name: "q = K'", n: 25, d: 9, k: 3, hidden: [6, 5], loss: 'mse' },
  { name: 'q = narrowest layer', n: 25, d: 8, k: 6, hidden: [7, 2, 5], loss: 'mse' },
  { name: "cross-entropy K' = K - 1", n: 25, d: 8, k: 4, hidden: [6, 6], loss: 'cross-entropy' },
  { name: 'cross-entropy, q = r', n: 2, d: 7, k: 5, hidden: [6], loss: 'cross-entropy' },
  { name: 'cosh, N > d', n: 20, d: 6, k: 4, hidden: [5, 7], loss: 'cosh' },
  { name: 'one hidden layer, N = d', n: 8, d: 8, k: 3, hidden: [4], loss: 'mse' },
];

for (const c of grid) {
  test(`linear networks on Gaussian data meet the predictions: ${c.name}`, async () => {
    const data = gaussianData(c.n, c.d, c.k, 11, { inputRank: c.inputRank });
    const net = initNetwork(networkSpec(c.d, c.hidden, c.k, 'linear', false), 'glorot', 5);
    const r = inputCovarianceRank(data).rank;
    assert.equal(r, Math.min(c.n, c.d, c.inputRank ?? Infinity));
    const pred = predictRanks({ inputRank: r, outputs: c.k, hidden: c.hidden, loss: c.loss, activation: 'linear', bias: false });
    assert.ok(pred.applicable);
    const ranks = await hessianRanks(net, data, c.loss, ['loss', 'outer', 'functional'], { route: 'dense' });
    assert.deepEqual(
      { loss: ranks.loss!.rank, outer: ranks.outer!.rank, functional: ranks.functional!.rank },
      { loss: pred.loss, outer: pred.outer, functional: pred.functional },
    );
    for (const kind of ['loss', 'outer', 'functional'] as const) assert.equal(ranks[kind]!.ambiguous, false, `${kind} ambiguous`);
  });
}

async function routesAgree(act: Activation, loss: LossName, hidden: number[], n: number, d: number, k: number): void {
  const data = gaussianData(n, d, k, 21);
  const net = initNetwork(networkSpec(d, hidden, k, act, false), 'glorot', 8);
  const P = paramCount(net);
  const dense = await hessianRanks(net, data, loss, ['loss', 'outer', 'functional'], { route: 'dense' });
  const fast = await hessianRanks(net, data, loss, ['loss', 'outer', 'functional'], { denseMaxParams: 0 });
  for (const kind of ['loss', 'outer', 'functional'] as const) {
    assert.equal(fast[kind]!.rank, dense[kind]!.rank, `${kind}: ${fast[kind]!.method} vs dense`);
    assert.equal(fast[kind]!.size, P);
  }
  assert.match(fast.outer!.method, n * k < P ? /^gram/ : /^dense/);
}

test('Gram and sketch routes give the dense ranks: linear, low rank', async () => {
  await routesAgree('linear', 'mse', [12, 12], 12, 16, 6);
});

test('Gram and sketch routes give the dense ranks: cross-entropy, linear', async () => {
  await routesAgree('linear', 'cross-entropy', [10, 14], 10, 12, 5);
});

test('a full-rank Hessian (tanh) falls back to dense and still agrees', async () => {
  const data = gaussianData(30, 5, 3, 2);
  const net = initNetwork(networkSpec(5, [6], 3, 'tanh', false), 'glorot', 1);
  const fast = await hessianRanks(net, data, 'mse', ['loss', 'functional'], { denseMaxParams: 0 });
  assert.equal(fast.loss!.method, 'dense');
  assert.equal(fast.loss!.rank, paramCount(net));
});

test('prefix sums over growing samples give the ranks of a direct computation', async () => {
  const { HessianAccumulator } = await import('../../src/science/hessian/accumulate.js');
  const { getLoss } = await import('../../src/science/losses.js');
  const data = gaussianData(24, 6, 4, 5);
  const net = initNetwork(networkSpec(6, [5, 5], 4, 'linear', false), 'glorot', 2);
  const acc = new HessianAccumulator(net, getLoss('cross-entropy'), ['loss', 'outer', 'functional']);
  for (const n of [3, 8, 16, 24]) {
    acc.addUpTo(data, n, 5);
    const prefix = acc.ranks();
    const sub = { ...data, x: data.x.subarray(0, n * 6), y: data.y.subarray(0, n * 4), labels: data.labels.subarray(0, n), n };
    const direct = await hessianRanks(net, sub, 'cross-entropy', ['loss', 'outer', 'functional'], { route: 'dense' });
    for (const kind of ['loss', 'outer', 'functional'] as const) {
      assert.equal(prefix[kind]!.rank, direct[kind]!.rank, `N=${n} ${kind}`);
      assert.ok(Math.abs(prefix[kind]!.smax - direct[kind]!.smax) <= 1e-10 * direct[kind]!.smax);
    }
  }
  assert.throws(() => acc.addUpTo(data, 10), /cannot grow from 24 to 10/);
});

test('a sketch of a dense matrix gives its rank, whatever the hint', async () => {
  const { denseSketchRank } = await import('../../src/science/hessian/sketch.js');
  const { symmetricEigenvalues } = await import('../../src/science/linalg/eigen.js');
  const { Rng } = await import('../../src/science/random.js');
  const rng = new Rng(4, 'lowrank');
  const P = 300, r = 71;
  const B = Float64Array.from({ length: P * r }, () => rng.normal());
  const H = new Float64Array(P * P);
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) { let s = 0; for (let t = 0; t < r; t++) s += B[i * r + t] * B[j * r + t] * (t % 2 ? 1 : -1); H[i * P + j] = s; }
  const eigen = (a: Float64Array, n: number) => symmetricEigenvalues(a, n, { overwrite: true });
  for (const initial of [undefined, 10, 90, 150]) {
    const res = denseSketchRank(H, P, eigen, { initial });
    assert.equal(res.rank, r, `initial ${initial}: ${res.method}`);
    assert.match(res.method, /^dense sketch/);
  }
  // Full rank: the sketch cannot stop below k - margin and falls back to the full eigensolve.
  const I = new Float64Array(P * P);
  for (let i = 0; i < P; i++) I[i * P + i] = 1 + i;
  const full = denseSketchRank(I, P, eigen, { initial: 50 });
  assert.equal(full.rank, P);
  assert.equal(full.method, 'dense');
});

test('sketch results do not depend on how the work is split', async () => {
  const data = gaussianData(12, 16, 6, 21);
  const net = initNetwork(networkSpec(16, [12, 12], 6, 'linear', false), 'glorot', 8);
  const one = await hessianRanks(net, data, 'mse', ['loss', 'outer', 'functional'], { denseMaxParams: 0, parallel: 1 });
  const three = await hessianRanks(net, data, 'mse', ['loss', 'outer', 'functional'], { denseMaxParams: 0, parallel: 3 });
  for (const kind of ['loss', 'functional'] as const) {
    assert.equal(three[kind]!.rank, one[kind]!.rank);
    assert.deepEqual(Array.from(three[kind]!.values), Array.from(one[kind]!.values), `${kind} spectra bit-identical`);
  }
});
