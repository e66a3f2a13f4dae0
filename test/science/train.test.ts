import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOSSES, getLoss } from '../../src/science/losses.js';
import { initNetwork, networkSpec } from '../../src/science/network.js';
import { denseHessians } from '../../src/science/hessian/dense.js';
import { HessianOperator } from '../../src/science/hessian/operator.js';
import { symmetricEigenvalues } from '../../src/science/linalg/eigen.js';
import { numericalRank } from '../../src/science/rank.js';
import { hessianRanks } from '../../src/science/ranks.js';
import { predictRanks } from '../../src/science/predictions.js';
import { inputCovarianceRank } from '../../src/science/ranks.js';
import {
  ADAM, TrainingDiverged, checkpointMetrics, singularValues, initialState, meanLossAndGradient, minibatch, train, type TrainSettings,
} from '../../src/science/train.js';
import type { Activation, Network } from '../../src/science/types.js';
import { gaussianData, maxAbsDiff } from './helpers.js';

const gd = (lr: number): TrainSettings => ({ optimizer: 'gd', lr, batchSize: null, seed: 0 });

test('the mean-loss gradient (full batch and minibatch) matches central differences of the loss', () => {
  const data = gaussianData(7, 4, 3, 2);
  for (const loss of LOSSES) {
    for (const act of ['linear', 'tanh', 'elu'] as Activation[]) {
      const net = initNetwork(networkSpec(4, [5, 3], 3, act, true), 'glorot', 3);
      for (let i = 0; i < net.theta.length; i++) if (net.theta[i] === 0) net.theta[i] = 0.1 * Math.sin(i + 1);
      for (const idx of [null, Int32Array.from([5, 1, 3])]) {
        const L = getLoss(loss);
        const { grad } = meanLossAndGradient(net, data, L, idx);
        const t = net.theta;
        const h = 1e-6;
        let worst = 0, scale = 0;
        for (let j = 0; j < t.length; j++) {
          const v = t[j];
          t[j] = v + h; const fp = meanLossAndGradient(net, data, L, idx).value;
          t[j] = v - h; const fm = meanLossAndGradient(net, data, L, idx).value;
          t[j] = v;
          worst = Math.max(worst, Math.abs((fp - fm) / (2 * h) - grad[j]));
          scale = Math.max(scale, Math.abs(grad[j]));
        }
        assert.ok(worst <= 1e-7 * Math.max(1, scale), `${loss} ${act} ${idx ? 'minibatch' : 'full'}: gradient off by ${worst}`);
      }
    }
  }
});

test('gd is theta - lr * grad of the mean loss; adam\'s first step moves every weight by about lr', () => {
  const data = gaussianData(6, 3, 2, 4);
  const net = initNetwork(networkSpec(3, [4], 2, 'tanh', false), 'glorot', 5);
  const { grad } = meanLossAndGradient(net, data, getLoss('mse'), null);
  const s = train(initialState(net, 'gd'), data, 'mse', gd(0.3), 1);
  assert.ok(maxAbsDiff(s.theta, net.theta.map((t, i) => t - 0.3 * grad[i])) === 0);
  assert.equal(s.step, 1);
  const a = train(initialState(net, 'adam'), data, 'mse', { optimizer: 'adam', lr: 0.01, batchSize: 6, seed: 0 }, 1);
  for (let i = 0; i < grad.length; i++) {
    const moved = net.theta[i] - a.theta[i];
    // Bias-corrected moments after one step: m = g, v = g^2, so the step is lr g / (|g| + eps).
    assert.ok(Math.abs(moved - (0.01 * grad[i]) / (Math.abs(grad[i]) + ADAM.eps)) < 1e-15, `weight ${i}`);
  }
});

test('minibatches: each epoch visits floor(N / B) disjoint batches, a function of (seed, step) alone', () => {
  const N = 23, B = 5;
  const seen = new Set<number>();
  for (let s = 0; s < 4; s++) for (const i of minibatch(7, s, N, B)) { assert.ok(!seen.has(i)); seen.add(i); }
  assert.equal(seen.size, 20);
  assert.deepEqual([...minibatch(7, 9, N, B)], [...minibatch(7, 9, N, B)]);
  assert.notDeepEqual([...minibatch(7, 4, N, B)], [...minibatch(7, 0, N, B)]);
  assert.notDeepEqual([...minibatch(8, 0, N, B)], [...minibatch(7, 0, N, B)]);
});

test('training resumed from a checkpoint gives bit for bit the weights of one run (gd, sgd, adam), and never changes its input', () => {
  const data = gaussianData(12, 4, 3, 6);
  const net = initNetwork(networkSpec(4, [5], 3, 'tanh', true), 'glorot', 7);
  for (const s of [gd(0.1), { optimizer: 'sgd', lr: 0.05, batchSize: 5, seed: 3 }, { optimizer: 'adam', lr: 0.01, batchSize: 4, seed: 3 }] as TrainSettings[]) {
    const start = initialState(net, s.optimizer);
    const before = Float64Array.from(start.theta);
    const whole = train(start, data, 'cross-entropy', s, 37);
    const mid = train(start, data, 'cross-entropy', s, 13);
    const resumed = train(train(mid, data, 'cross-entropy', s, 20), data, 'cross-entropy', s, 37);
    assert.deepEqual(start.theta, before);
    assert.equal(resumed.step, 37);
    assert.ok(Buffer.from(resumed.theta.buffer).equals(Buffer.from(whole.theta.buffer)), s.optimizer);
    assert.ok(Buffer.from(resumed.m.buffer).equals(Buffer.from(whole.m.buffer)));
    assert.ok(Buffer.from(resumed.v.buffer).equals(Buffer.from(whole.v.buffer)));
    assert.ok(checkpointMetrics(whole, data, 'cross-entropy').loss < checkpointMetrics(start, data, 'cross-entropy').loss, `${s.optimizer} lowers the loss`);
  }
});

test('a learning rate that blows up stops with TrainingDiverged naming the step', () => {
  const data = gaussianData(8, 4, 2, 1);
  const net = initNetwork(networkSpec(4, [6], 2, 'linear', false), 'glorot', 1);
  assert.throws(() => train(initialState(net, 'gd'), data, 'mse', gd(50), 5000), (e: unknown) => {
    assert.ok(e instanceof TrainingDiverged);
    assert.ok(e.step > 0 && e.step < 5000);
    assert.match(e.message, new RegExp(`at step ${e.step}$`));
    return true;
  });
});

test('checkpoint metrics: loss, |grad|, |Omega| and rank(Omega) against direct computation', () => {
  const data = gaussianData(9, 3, 4, 2);
  const net = initNetwork(networkSpec(3, [5], 4, 'tanh', false), 'glorot', 2);
  const m = checkpointMetrics(net, data, 'mse');
  const { value, grad } = meanLossAndGradient(net, data, getLoss('mse'), null);
  assert.equal(m.loss, value);
  assert.ok(Math.abs(m.gradNorm - Math.hypot(...grad)) < 1e-14);
  assert.equal(m.residualRank.rank, 4);
  assert.equal(m.genericResidualRank, 4);
  assert.equal(checkpointMetrics(net, data, 'cross-entropy').genericResidualRank, 3);
  assert.equal(checkpointMetrics(net, data, 'cross-entropy').residualRank.rank, 3);
  // mse: Omega = f - y, so |Omega|^2 = 2 N * mean loss.
  assert.ok(Math.abs(m.residualNorm ** 2 - 2 * data.n * m.loss) < 1e-12 * m.residualNorm ** 2);
});

test('exactness near a minimum: along gd of a linear mse network to an exact fit, |H_F| and rank(H_F) at H_L\'s tolerance go to 0, rank(H_L) reaches rank(H_O) = q (r + K - q)', async () => {
  // N = 4 samples in d = 6: an exact fit exists. P = 6*5 + 5*5 + 5*3 = 70.
  const data = gaussianData(4, 6, 3, 3);
  const net = initNetwork(networkSpec(6, [5, 5], 3, 'linear', false), 'glorot', 1);
  const pred = predictRanks({ inputRank: inputCovarianceRank(data).rank, outputs: 3, hidden: [5, 5], loss: 'mse', activation: 'linear', bias: false });
  assert.ok(pred.applicable);
  assert.equal(pred.outer, 3 * (4 + 3 - 3));
  let s = initialState(net, 'gd');
  let lastHF = Infinity;
  const seen: { step: number; loss: number; hl: number; hfAtHL: number; hfOwn: number; diff: number }[] = [];
  for (const c of [0, 100, 400, 1600, 3200]) {
    s = train(s, data, 'mse', gd(0.1), c);
    const m = checkpointMetrics(s, data, 'mse');
    const r = await hessianRanks(s, data, 'mse', ['loss', 'outer', 'functional'], { route: 'dense' });
    const P = r.params;
    assert.equal(r.outer!.rank, pred.outer, `rank(H_O) at step ${c}`);
    assert.ok(r.loss!.rank <= Math.min(P, r.outer!.rank + r.functional!.rank), `rank(H_L) <= rank(H_O) + rank(H_F) at step ${c}`);
    assert.ok(r.functional!.smax < lastHF, `|H_F| falls at step ${c}`);
    lastHF = r.functional!.smax;
    // H_F's eigenvalues read with H_L's tolerance: how many directions H_F adds to H_L.
    const hfAtHL = numericalRank(r.functional!.values, P, 'dense', { atol: r.loss!.tolerance }).rank;
    // The paper's way: H_F = H_L - H_O formed densely, rank read with its own tolerance.
    const { loss: HL, outer: HO } = denseHessians(new HessianOperator(s as Network, data, getLoss('mse')), ['loss', 'outer']);
    const D = HL!.map((v, i) => v - HO![i]);
    const diff = numericalRank(symmetricEigenvalues(D, P, { overwrite: true }), P).rank;
    seen.push({ step: c, loss: m.loss, hl: r.loss!.rank, hfAtHL, hfOwn: r.functional!.rank, diff });
  }
  const first = seen[0]!, last = seen[seen.length - 1]!;
  assert.equal(first.hl, pred.loss, 'rank(H_L) at initialisation is the prediction');
  assert.equal(first.hfOwn, pred.functional);
  assert.ok(last.loss < 1e-25, `near-exact fit (loss ${last.loss})`);
  assert.equal(last.hl, pred.outer, 'rank(H_L) collapses onto rank(H_O)');
  assert.equal(last.hfAtHL, 0, 'H_F adds no direction to H_L at the fit');
  // Computed directly, H_F is exact to rounding, however small: its own rank stays the generic one.
  assert.equal(last.hfOwn, pred.functional);
  // rank(H_L) never rises along the run.
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.hl <= seen[i - 1]!.hl);
  // Formed as H_L - H_O, the rounding noise of the subtraction counts as rank near the fit.
  assert.notEqual(last.diff, last.hfAtHL);
});

test('singular values by one-sided Jacobi: squares are the Gram eigenvalues; a rank-deficient matrix keeps its zero at rounding level', () => {
  const n = 9, k = 4;
  const a = Float64Array.from({ length: n * k }, (_, i) => Math.sin(1.7 * i + 0.3) + (i % 5) * 0.1);
  const sv = singularValues(a, n, k);
  const gram = new Float64Array(k * k);
  for (let p = 0; p < k; p++) for (let q = 0; q < k; q++) { let s = 0; for (let i = 0; i < n; i++) s += a[i * k + p]! * a[i * k + q]!; gram[p * k + q] = s; }
  const eig = [...symmetricEigenvalues(gram, k, { overwrite: true })].sort((x, y) => y - x);
  for (let j = 0; j < k; j++) assert.ok(Math.abs(sv[j]! ** 2 - eig[j]!) < 1e-12 * eig[0]!, `value ${j}`);
  // Rows summing to zero (a cross-entropy residual): rank k - 1, the last value at rounding level.
  for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < k - 1; j++) s += a[i * k + j]!; a[i * k + k - 1] = -s; }
  const z = singularValues(a, n, k);
  assert.ok(z[k - 1]! < 1e-15 * z[0]!, `smallest ${z[k - 1]} of ${z[0]}`);
  assert.equal(numericalRank(z, n).rank, k - 1);
});

test('rank(Omega) for cross-entropy at initialisation is the generic K - 1 (rows of Omega sum to 0)', () => {
  const data = gaussianData(30, 5, 6, 3);
  const net = initNetwork(networkSpec(5, [7], 6, 'tanh', false), 'glorot', 4);
  const m = checkpointMetrics(net, data, 'cross-entropy');
  assert.equal(m.genericResidualRank, 5);
  assert.equal(m.residualRank.rank, 5);
});
