/**
 * Biases and the rank formulas.
 * - A bias in the first layer only is the no-bias network on the augmented input [x; 1]: checked
 *   Hessian for Hessian (H_L, H_O, H_F, entry for entry after the parameter permutation), then
 *   the predictions with r = rank of the augmented covariance against computed ranks on random
 *   cases (linear networks, every loss, N below and above d, bottlenecks).
 * - Layouts: a first-layer bias adds M_1 parameters, and only to layer 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getLoss } from '../../src/science/losses.js';
import { initNetwork, layerLayout, networkSpec, paramCount } from '../../src/science/network.js';
import { denseHessians } from '../../src/science/hessian/dense.js';
import { HessianOperator } from '../../src/science/hessian/operator.js';
import { predictRanks } from '../../src/science/predictions.js';
import { augmentedInputCovarianceRank, hessianRanks, inputCovarianceRank } from '../../src/science/ranks.js';
import { Rng } from '../../src/science/random.js';
import type { Activation, Dataset, HessianKind, LossName, Network } from '../../src/science/types.js';
import { gaussianData, maxAbs, maxAbsDiff } from './helpers.js';

const KINDS: readonly HessianKind[] = ['loss', 'outer', 'functional'];

/** The dataset with a column of ones appended: [x; 1] per sample. */
function augment(data: Dataset): Dataset {
  const { n, d } = data;
  const x = new Float64Array(n * (d + 1));
  for (let i = 0; i < n; i++) {
    x.set(data.x.subarray(i * d, (i + 1) * d), i * (d + 1));
    x[i * (d + 1) + d] = 1;
  }
  return { ...data, x, d: d + 1, description: `${data.description} + ones` };
}

/**
 * The no-bias network on [x; 1] equal to `net` (bias in layer 1 only), and the map from its
 * parameter index to `net`'s: W'_1 row i = [W_1 row i, b_1[i]].
 */
function augmentedTwin(net: Network): { twin: Network; index: Int32Array } {
  const sizes = [net.sizes[0]! + 1, ...net.sizes.slice(1)];
  const spec = networkSpec(sizes[0]!, sizes.slice(1, -1), sizes[sizes.length - 1]!, net.activation, false);
  const theta = new Float64Array(paramCount(spec));
  const index = new Int32Array(theta.length);
  const src = layerLayout(net), dst = layerLayout(spec);
  for (let l = 0; l < src.length; l++) {
    const s = src[l]!, t = dst[l]!;
    for (let i = 0; i < t.rows; i++) {
      for (let j = 0; j < t.cols; j++) {
        const from = j < s.cols ? s.w + i * s.cols + j : s.b + i;
        if (j >= s.cols) assert.ok(s.b >= 0, 'layer 1 has a bias');
        index[t.w + i * t.cols + j] = from;
        theta[t.w + i * t.cols + j] = net.theta[from]!;
      }
    }
    if (l > 0) assert.equal(s.b, -1, `layer ${l + 1} has no bias`);
  }
  return { twin: { ...spec, theta }, index };
}

test('a first-layer bias adds M_1 parameters to layer 1 only', () => {
  const spec = networkSpec(5, [4, 3], 2, 'linear', 'first');
  assert.equal(paramCount(spec), 5 * 4 + 4 + 4 * 3 + 3 * 2);
  const layout = layerLayout(spec);
  assert.deepEqual(layout.map((l) => l.b >= 0), [true, false, false]);
  assert.equal(paramCount(networkSpec(5, [4, 3], 2, 'linear', true)), 5 * 4 + 4 + 4 * 3 + 3 + 3 * 2 + 2);
});

const equivalence: { loss: LossName; act: Activation; hidden: number[]; n: number; d: number; k: number }[] = [
  { loss: 'mse', act: 'linear', hidden: [4, 3], n: 6, d: 3, k: 3 },
  { loss: 'cross-entropy', act: 'linear', hidden: [5], n: 4, d: 6, k: 3 },
  { loss: 'cosh', act: 'linear', hidden: [3, 4, 2], n: 7, d: 4, k: 2 },
  { loss: 'mse', act: 'tanh', hidden: [4, 3], n: 5, d: 3, k: 3 },
  { loss: 'cross-entropy', act: 'relu', hidden: [5, 4], n: 6, d: 4, k: 3 },
];

for (const c of equivalence) {
  test(`bias: first is the no-bias network on [x; 1], Hessian for Hessian: ${c.loss}, ${c.act}, [${c.hidden}]`, () => {
    const data = gaussianData(c.n, c.d, c.k, 3);
    const net = initNetwork(networkSpec(c.d, c.hidden, c.k, c.act, 'first'), 'glorot', 4);
    // Nonzero biases, so the equivalence is not the trivial one at b = 0.
    const rng = new Rng(2, 'bias');
    const b = layerLayout(net)[0]!;
    for (let i = 0; i < b.rows; i++) net.theta[b.b + i] = 0.5 * rng.normal();
    const { twin, index } = augmentedTwin(net);
    const loss = getLoss(c.loss);
    const H = denseHessians(new HessianOperator(net, data, loss), KINDS);
    const T = denseHessians(new HessianOperator(twin, augment(data), loss), KINDS);
    const P = net.theta.length;
    assert.equal(twin.theta.length, P);
    for (const k of KINDS) {
      const permuted = new Float64Array(P * P);
      for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) permuted[index[i]! * P + index[j]!] = T[k]![i * P + j]!;
      const err = maxAbsDiff(H[k]!, permuted) / Math.max(maxAbs(H[k]!), 1e-300);
      assert.ok(err <= 1e-13, `${k}: relative difference ${err}`);
      assert.ok(maxAbs(H[k]!) > 0, `${k} is not zero`);
    }
  });
}

test('the augmented input rank is r + 1, or r when the ones vector lies in the span of the features', () => {
  const data = gaussianData(20, 6, 3, 5);
  assert.equal(inputCovarianceRank(data).rank, 6);
  assert.equal(augmentedInputCovarianceRank(data).rank, 7);
  // Feature 0 constant: the ones vector is in the span already.
  const x = new Float64Array(data.x);
  for (let i = 0; i < data.n; i++) x[i * 6] = 2.5;
  const constant = { ...data, x };
  assert.equal(inputCovarianceRank(constant).rank, 6);
  assert.equal(augmentedInputCovarianceRank(constant).rank, 6);
  // N < d: r = N, and r + 1 would exceed N: the augmented rank is N as well.
  const few = gaussianData(4, 9, 3, 6);
  assert.equal(inputCovarianceRank(few).rank, 4);
  assert.equal(augmentedInputCovarianceRank(few).rank, 4);
});

/** Random linear architectures with a first-layer bias: the exact predictions hold at every unambiguous point. */
test('bias: first predictions equal computed ranks on random linear cases (every loss, bottlenecks, N below and above d)', async () => {
  const rng = new Rng(15, 'bias-first-cases');
  const losses: LossName[] = ['mse', 'cross-entropy', 'cosh'];
  let checked = 0, ambiguous = 0;
  const seen = { below: 0, above: 0, constant: 0 };
  for (let t = 0; t < 30; t++) {
    const loss = losses[t % 3]!;
    const d = 2 + Math.floor(rng.uniform() * 6);
    const k = 2 + Math.floor(rng.uniform() * 3);
    const depth = 1 + Math.floor(rng.uniform() * 3);
    const hidden = Array.from({ length: depth }, () => 1 + Math.floor(rng.uniform() * 6));
    const n = 1 + Math.floor(rng.uniform() * 2 * d + 1);
    const data = gaussianData(n, d, k, 100 + t);
    // Every fifth case: a constant feature, so the ones vector is in the span (r1 = r).
    if (t % 5 === 4) { seen.constant++; for (let i = 0; i < n; i++) data.x[i * d] = 1.5; }
    if (n < d) seen.below++; else seen.above++;
    const net = initNetwork(networkSpec(d, hidden, k, 'linear', 'first'), 'glorot', 200 + t);
    const b = layerLayout(net)[0]!;
    for (let i = 0; i < b.rows; i++) net.theta[b.b + i] = 0.3 * rng.normal();
    const r = inputCovarianceRank(data).rank, r1 = augmentedInputCovarianceRank(data).rank;
    const pred = predictRanks({ inputRank: r, augmentedInputRank: r1, outputs: k, hidden, loss, activation: 'linear', bias: 'first' });
    assert.ok(pred.applicable && pred.kind === 'exact');
    const ranks = await hessianRanks(net, data, loss, KINDS, { route: 'dense' });
    for (const kind of KINDS) {
      if (ranks[kind]!.ambiguous) { ambiguous++; continue; }
      checked++;
      assert.equal(ranks[kind]!.rank, pred[kind], `case ${t}: ${loss} d ${d} N ${n} K ${k} [${hidden}] r ${r} r1 ${r1}: ${kind}`);
    }
  }
  assert.ok(checked >= 80, `${checked} unambiguous ranks checked (${ambiguous} ambiguous)`);
  assert.ok(seen.below > 0 && seen.above > 0 && seen.constant > 0, JSON.stringify(seen));
});

/**
 * A bias in every layer: rank(H_O) = q (r + K' - q) + e (outerWithBias) on at least 60 random
 * linear architectures (bottlenecks first, middle and last; N below and above d; a constant
 * feature, so that r1 = r; mse, cross-entropy, cosh), at every unambiguous point. The hints for
 * H_F and H_L ("pred_F + (L - 2) q", "min(P, pred_L + K' + (L - 1) q)") are checked too: they fail
 * at unambiguous points, which is why neither ships (docs/theory.md#bias).
 */
test('bias in every layer: the H_O formula holds on 72 random architectures; the H_F and H_L candidates fail', async () => {
  const rng = new Rng(16, 'bias-all-cases');
  const losses: LossName[] = ['mse', 'cross-entropy', 'cosh'];
  let checked = 0, candidateFailuresF = 0, candidateFailuresL = 0;
  const seen = { below: 0, above: 0, sameRank: 0, first: 0, middle: 0, last: 0 };
  for (let t = 0; t < 72; t++) {
    const loss = losses[t % 3]!;
    const d = 2 + Math.floor(rng.uniform() * 6);
    const k = 2 + Math.floor(rng.uniform() * 4);
    const depth = 1 + Math.floor(rng.uniform() * 3);
    const hidden = Array.from({ length: depth }, () => 3 + Math.floor(rng.uniform() * 5));
    // A bottleneck (width 1 or 2) first, in the middle or last, in two cases out of three.
    const where = t % 6 < 4 ? ['first', 'middle', 'last', null][t % 4] : null;
    if (where !== null && depth >= 2) {
      const at = where === 'first' ? 0 : where === 'last' ? depth - 1 : Math.floor((depth - 1) / 2);
      hidden[at] = 1 + Math.floor(rng.uniform() * 2);
      seen[where as 'first' | 'middle' | 'last']++;
    }
    const n = 1 + Math.floor(rng.uniform() * 2 * d + 1);
    const data = gaussianData(n, d, k, 500 + t);
    if (t % 4 === 3) for (let i = 0; i < n; i++) data.x[i * d] = 1.5;
    if (n < d) seen.below++; else seen.above++;
    const net = initNetwork(networkSpec(d, hidden, k, 'linear', true), 'glorot', 600 + t);
    for (const l of layerLayout(net)) for (let i = 0; i < l.rows; i++) net.theta[l.b + i] = 0.3 * rng.normal();
    const r = inputCovarianceRank(data).rank, r1 = augmentedInputCovarianceRank(data).rank;
    if (r1 === r) seen.sameRank++;
    const pred = predictRanks({ inputRank: r, augmentedInputRank: r1, outputs: k, hidden, loss, activation: 'linear', bias: true });
    assert.ok(pred.applicable && pred.kind === 'exact' && pred.loss === null && pred.functional === null);
    const ranks = await hessianRanks(net, data, loss, KINDS, { route: 'dense' });
    const at = `case ${t}: ${loss} d ${d} N ${n} K ${k} [${hidden}] r ${r} r1 ${r1}`;
    if (!ranks.outer!.ambiguous) {
      checked++;
      assert.equal(ranks.outer!.rank, pred.outer, `${at}: H_O`);
    }
    const noBias = predictRanks({ inputRank: r, outputs: k, hidden, loss, activation: 'linear', bias: false });
    assert.ok(noBias.applicable);
    const q = Math.min(r, loss === 'cross-entropy' ? k - 1 : k, ...hidden), L = hidden.length + 1;
    if (!ranks.functional!.ambiguous && ranks.functional!.rank !== noBias.functional! + (L - 2) * q) candidateFailuresF++;
    const kp = loss === 'cross-entropy' ? k - 1 : k;
    if (!ranks.loss!.ambiguous && ranks.loss!.rank !== Math.min(net.theta.length, noBias.loss! + kp + (L - 1) * q)) candidateFailuresL++;
  }
  assert.ok(checked >= 60, `${checked} unambiguous H_O ranks`);
  assert.ok(seen.below > 0 && seen.above > 0 && seen.sameRank > 0 && seen.first > 0 && seen.middle > 0 && seen.last > 0, JSON.stringify(seen));
  assert.ok(candidateFailuresF > 0 && candidateFailuresL > 0, `candidates failed F ${candidateFailuresF}, L ${candidateFailuresL} times`);
});
