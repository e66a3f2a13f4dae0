import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initNetwork, networkSpec, paramCount } from '../../src/science/network.js';
import { predictRanks } from '../../src/science/predictions.js';
import { numericalRank, EPS } from '../../src/science/rank.js';
import { hessianRanks, inputCovarianceRank } from '../../src/science/ranks.js';
import type { Activation, Bias, LossName } from '../../src/science/types.js';
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

test('predictions: formulas, cross-entropy uses K - 1, nonlinear ones are estimates, bias in every layer has H_O only', () => {
  const p = predictRanks({ inputRank: 64, outputs: 10, hidden: [10, 10], loss: 'mse', activation: 'linear', bias: false });
  assert.ok(p.applicable);
  assert.deepEqual({ kind: p.kind, outer: p.outer, functional: p.functional, loss: p.loss, r: p.inputRank, augmented: p.augmented },
    { kind: 'exact', outer: 640, functional: 2 * 10 * 20 + 200 - 300, loss: 300 + 640 + 10 * (10 - 20), r: 64, augmented: false });
  const ce = predictRanks({ inputRank: 64, outputs: 10, hidden: [10, 10], loss: 'cross-entropy', activation: 'linear', bias: false });
  assert.ok(ce.applicable && ce.outer === 9 * 64);
  const tanh = predictRanks({ inputRank: 5, outputs: 3, hidden: [4], loss: 'mse', activation: 'tanh', bias: false });
  const linear = predictRanks({ inputRank: 5, outputs: 3, hidden: [4], loss: 'mse', activation: 'linear', bias: false });
  assert.ok(tanh.applicable && linear.applicable);
  assert.equal(tanh.kind, 'estimate');
  assert.deepEqual([tanh.loss, tanh.outer, tanh.functional], [linear.loss, linear.outer, linear.functional]);
  // A bias in every layer: H_O = q (r + K' - q) + e only; q = 3, r = 5, K' = 3.
  const all = predictRanks({ inputRank: 5, augmentedInputRank: 6, outputs: 3, hidden: [4], loss: 'mse', activation: 'linear', bias: true });
  assert.ok(all.applicable && all.kind === 'exact');
  assert.deepEqual([all.outer, all.functional, all.loss], [3 * (5 + 3 - 3) + 3, null, null]);
  assert.match(all.missing ?? '', /H_F and H_L/);
  const same = predictRanks({ inputRank: 5, augmentedInputRank: 5, outputs: 3, hidden: [4], loss: 'mse', activation: 'linear', bias: true });
  assert.ok(same.applicable && same.outer === 3 * 5 + (3 - 3));
  const reluAll = predictRanks({ inputRank: 5, augmentedInputRank: 6, outputs: 3, hidden: [4], loss: 'mse', activation: 'relu', bias: true });
  assert.ok(reluAll.applicable && reluAll.kind === 'estimate');
  assert.throws(() => predictRanks({ inputRank: 5, outputs: 3, hidden: [4], loss: 'mse', activation: 'linear', bias: true }), /augmented/);
  // A first-layer bias: the same formulas with the augmented rank.
  const first = predictRanks({ inputRank: 5, augmentedInputRank: 6, outputs: 3, hidden: [4], loss: 'mse', activation: 'linear', bias: 'first' });
  const six = predictRanks({ inputRank: 6, outputs: 3, hidden: [4], loss: 'mse', activation: 'linear', bias: false });
  assert.ok(first.applicable && six.applicable && first.kind === 'exact' && first.augmented && first.inputRank === 6);
  assert.deepEqual([first.loss, first.outer, first.functional], [six.loss, six.outer, six.functional]);
  assert.throws(() => predictRanks({ inputRank: 5, outputs: 3, hidden: [4], loss: 'mse', activation: 'linear', bias: 'first' }), /augmented/);
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

async function routesAgree(act: Activation, loss: LossName, hidden: number[], n: number, d: number, k: number, bias: Bias = false): Promise<void> {
  const data = gaussianData(n, d, k, 21);
  const net = initNetwork(networkSpec(d, hidden, k, act, bias), 'glorot', 8);
  const P = paramCount(net);
  const dense = await hessianRanks(net, data, loss, ['loss', 'outer', 'functional'], { route: 'dense' });
  const fast = await hessianRanks(net, data, loss, ['loss', 'outer', 'functional'], { denseMaxParams: 0 });
  for (const kind of ['loss', 'outer', 'functional'] as const) {
    const f = fast[kind]!, r = dense[kind]!;
    assert.equal(f.rank, r.rank, `${kind}: ${f.method} vs dense`);
    assert.equal(f.positive, r.positive, `${kind} inertia +`);
    assert.equal(f.negative, r.negative, `${kind} inertia -`);
    assert.equal(f.size, P);
    assert.ok(Math.abs(f.smax - r.smax) <= 1e-10 * r.smax, `${kind}: s_max ${f.smax} vs ${r.smax}`);
    // The kept eigenvalues are the Hessian's own, not a compression's.
    for (let i = 0; i < r.rank; i++) assert.ok(Math.abs(f.values[i] - r.values[i]) <= 1e-9 * r.smax, `${kind} value ${i}`);
  }
  if (act === 'linear') assert.match(fast.loss!.method, /^subspace \d+$/);
  else assert.equal(fast.loss!.method, 'dense');
  assert.match(fast.outer!.method, /^(gram|subspace|dense)/);
}

test('Gram and subspace routes give the dense ranks, values and inertia: linear, low rank', async () => {
  await routesAgree('linear', 'mse', [12, 12], 12, 16, 6);
});

test('Gram and subspace routes give the dense ranks, values and inertia: cross-entropy, bias', async () => {
  await routesAgree('linear', 'cross-entropy', [10, 14], 10, 12, 5, true);
});

test('Gram and subspace routes give the dense ranks, values and inertia: mse, first-layer bias', async () => {
  await routesAgree('linear', 'mse', [9, 11], 15, 10, 4, 'first');
});

test('Gram and subspace routes give the dense ranks, values and inertia: cosh, three hidden layers', async () => {
  await routesAgree('linear', 'cosh', [7, 3, 9], 14, 8, 4);
});

test('nonlinear networks have no subspace: dense, and Gram for H_O', async () => {
  await routesAgree('relu', 'mse', [6, 5], 6, 8, 3);
  const data = gaussianData(30, 5, 3, 2);
  const net = initNetwork(networkSpec(5, [6], 3, 'tanh', false), 'glorot', 1);
  const fast = await hessianRanks(net, data, 'mse', ['loss', 'functional'], { denseMaxParams: 0 });
  assert.equal(fast.loss!.method, 'dense');
  assert.equal(fast.loss!.rank, paramCount(net));
});

test('prefix sums over growing samples give the spectra of a direct computation', async () => {
  const { HessianAccumulator } = await import('../../src/science/hessian/accumulate.js');
  const { getLoss } = await import('../../src/science/losses.js');
  const data = gaussianData(24, 6, 4, 5);
  const net = initNetwork(networkSpec(6, [5, 5], 4, 'linear', false), 'glorot', 2);
  const acc = new HessianAccumulator(net, getLoss('cross-entropy'), ['loss', 'outer', 'functional']);
  for (const n of [3, 8, 16, 24]) {
    acc.addUpTo(data, n, 5);
    const sub = { ...data, x: data.x.subarray(0, n * 6), y: data.y.subarray(0, n * 4), labels: data.labels.subarray(0, n), n };
    const direct = await hessianRanks(net, sub, 'cross-entropy', ['loss', 'outer', 'functional'], { route: 'dense' });
    for (const kind of ['loss', 'outer', 'functional'] as const) {
      const prefix = numericalRank(acc.eigenvalues(kind), net.theta.length);
      assert.equal(prefix.rank, direct[kind]!.rank, `N=${n} ${kind}`);
      assert.ok(Math.abs(prefix.smax - direct[kind]!.smax) <= 1e-10 * direct[kind]!.smax);
    }
  }
  assert.throws(() => acc.addUpTo(data, 10), /cannot grow from 24 to 10/);
});

test('subspace results do not depend on how the work is split', async () => {
  const data = gaussianData(12, 16, 6, 21);
  const net = initNetwork(networkSpec(16, [12, 12], 6, 'linear', false), 'glorot', 8);
  const one = await hessianRanks(net, data, 'mse', ['loss', 'outer', 'functional'], { denseMaxParams: 0, parallel: 1 });
  const three = await hessianRanks(net, data, 'mse', ['loss', 'outer', 'functional'], { denseMaxParams: 0, parallel: 3 });
  for (const kind of ['loss', 'outer', 'functional'] as const) {
    assert.equal(three[kind]!.rank, one[kind]!.rank);
    assert.deepEqual(Array.from(three[kind]!.values), Array.from(one[kind]!.values), `${kind} spectra bit-identical`);
  }
});

test('rank controls: rtol and atol as numpy.linalg.matrix_rank, inertia from the signs', () => {
  const vals = [-4, 2, 1e-3, -1e-6, 1e-9, 1e-15];
  const def = numericalRank(vals, 10);
  assert.equal(def.tolerance, 4 * 10 * EPS);
  assert.deepEqual([def.rank, def.positive, def.negative], [5, 3, 2]);
  const r = numericalRank(vals, 10, 'dense', { rtol: 1e-8 });
  assert.equal(r.tolerance, 4e-8);
  assert.deepEqual([r.rank, r.positive, r.negative], [4, 2, 2]);
  assert.equal(r.rtol, 1e-8);
  const a = numericalRank(vals, 10, 'dense', { atol: 0.5 });
  assert.equal(a.tolerance, 0.5, 'atol wins when larger');
  assert.deepEqual([a.rank, a.positive, a.negative], [2, 1, 1]);
  const both = numericalRank(vals, 10, 'dense', { rtol: 1e-2, atol: 1e-5 });
  assert.equal(both.tolerance, 4e-2, 'rtol * s_max wins when larger');
});

test('dropped values at rounding level are not reported: the gap is the spectrum\'s own', () => {
  const smax = 10, n = 1000;
  const tol = smax * n * EPS;
  // Kept 5 tol; dropped: 3 eps s_max (rounding) -> no dropped value, no gap.
  const r = numericalRank([smax, 5 * tol, 3 * EPS * smax], n);
  assert.equal(r.rank, 2);
  assert.equal(r.largestDropped, null);
  assert.equal(r.gap, null);
  assert.equal(r.ambiguous, true, 'kept within 1 decade of the tolerance');
  // A dropped value well above rounding is reported.
  const real = numericalRank([smax, 1e4 * tol, 0.1 * tol], n);
  assert.ok(Math.abs(real.gap! - 5) < 1e-9, `gap ${real.gap}`);
  assert.equal(real.ambiguous, false);
});
