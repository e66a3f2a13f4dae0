import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIVATIONS } from '../../src/science/activations.js';
import { LOSSES, getLoss } from '../../src/science/losses.js';
import { accumulateGradient, backward, forward, initNetwork, lossAndGradient, networkSpec } from '../../src/science/network.js';
import { denseHessians } from '../../src/science/hessian/dense.js';
import { outerGram } from '../../src/science/hessian/gram.js';
import { HessianOperator } from '../../src/science/hessian/operator.js';
import { symmetricEigenvalues } from '../../src/science/linalg/eigen.js';
import { Rng } from '../../src/science/random.js';
import type { Activation, Dataset, LossName, Network } from '../../src/science/types.js';
import { gaussianData, maxAbs, maxAbsDiff, outerFromJacobian } from './helpers.js';

function tinyCase(loss: LossName, act: Activation, bias: boolean, seed = 1): { net: Network; data: Dataset } {
  const data = gaussianData(5, 3, 3, seed);
  // Scale targets so residuals are O(1) and the functional Hessian is far from zero.
  const net = initNetwork(networkSpec(3, [4, 3], 3, act, bias), 'glorot', seed);
  if (bias) { const r = new Rng(seed, 'bias'); for (let i = 0; i < net.theta.length; i++) if (net.theta[i] === 0) net.theta[i] = 0.3 * r.normal(); }
  return { net, data };
}

/** Central differences of the exact gradient: column j of the Hessian. */
function fdHessian(net: Network, data: Dataset, grad: (theta: Float64Array) => Float64Array, h = 1e-5): Float64Array {
  const P = net.theta.length;
  const H = new Float64Array(P * P);
  const t = new Float64Array(net.theta);
  for (let j = 0; j < P; j++) {
    const v = t[j];
    t[j] = v + h; const gp = grad(t);
    t[j] = v - h; const gm = grad(t);
    t[j] = v;
    for (let i = 0; i < P; i++) H[i * P + j] = (gp[i] - gm[i]) / (2 * h);
  }
  return H;
}

function relErr(a: Float64Array, b: Float64Array): number {
  return maxAbsDiff(a, b) / Math.max(maxAbs(b), 1e-300);
}

function asymmetry(m: Float64Array, n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) worst = Math.max(worst, Math.abs(m[i * n + j] - m[j * n + i]));
  return worst / Math.max(maxAbs(m), 1e-300);
}

for (const lossName of LOSSES) {
  for (const act of ACTIVATIONS) {
    for (const bias of [false, true]) {
      test(`Hessians match finite differences: ${lossName}, ${act}, bias=${bias}`, () => {
        const { net, data } = tinyCase(lossName, act, bias);
        const loss = getLoss(lossName);
        const P = net.theta.length;
        const op = new HessianOperator(net, data, loss, { batchSize: 2 });
        const H = denseHessians(op, ['loss', 'outer', 'functional']);

        // H_L against central differences of the gradient.
        const fdL = fdHessian(net, data, (th) => lossAndGradient({ ...net, theta: th }, data, loss).grad);
        assert.ok(relErr(H.loss!, fdL) <= 1e-6, `H_L vs FD: ${relErr(H.loss!, fdL)}`);

        // H_F against differences of sum_i g_i . f(x_i; theta) with the output gradients g frozen at theta.
        const fp0 = forward(net, data.x, 0, data.n);
        const out0 = fp0.a[fp0.a.length - 1];
        const g0 = new Float64Array(out0.length);
        for (let i = 0; i < data.n; i++) loss.valueAndGrad(out0, data.y, i * data.k, data.k, g0);
        const frozenGrad = (th: Float64Array): Float64Array => {
          const n2 = { ...net, theta: th };
          const fp = forward(n2, data.x, 0, data.n);
          const gr = new Float64Array(P);
          accumulateGradient(n2, fp, backward(n2, fp, g0), gr);
          return gr;
        };
        const fdF = fdHessian(net, data, frozenGrad);
        if (act === 'linear' || maxAbs(fdF) > 0) {
          assert.ok(relErr(H.functional!, fdF) <= 1e-6, `H_F vs FD: ${relErr(H.functional!, fdF)}`);
        }

        // H_O against sum_i J_i^T A_i J_i with J from central differences of the outputs.
        const K = data.k, N = data.n;
        const J = new Float64Array(N * K * P);
        const th = new Float64Array(net.theta);
        const hj = 1e-6;
        for (let j = 0; j < P; j++) {
          const v = th[j];
          th[j] = v + hj; const fpP = forward({ ...net, theta: th }, data.x, 0, N).a.at(-1)!;
          th[j] = v - hj; const fpM = forward({ ...net, theta: th }, data.x, 0, N).a.at(-1)!;
          th[j] = v;
          for (let r = 0; r < N * K; r++) J[r * P + j] = (fpP[r] - fpM[r]) / (2 * hj);
        }
        const HO = outerFromJacobian(J, out0, data, loss, P);
        assert.ok(relErr(H.outer!, HO) <= 1e-6, `H_O vs J^T A J: ${relErr(H.outer!, HO)}`);

        // H_L = H_O + H_F; all symmetric.
        const sum = H.outer!.map((v, i) => v + H.functional![i]);
        assert.ok(maxAbsDiff(H.loss!, sum) <= 1e-12 * maxAbs(H.loss!), 'H_L = H_O + H_F');
        for (const m of [H.loss!, H.outer!, H.functional!]) assert.ok(asymmetry(m, P) <= 1e-12, `asymmetry ${asymmetry(m, P)}`);
      });
    }
  }
}

test('dense and sparse directions give the same products; batching does not change them', () => {
  const { net, data } = tinyCase('cross-entropy', 'tanh', true, 4);
  const loss = getLoss('cross-entropy');
  const P = net.theta.length;
  const H = denseHessians(new HessianOperator(net, data, loss), ['loss', 'functional', 'outer']);
  const rng = new Rng(9, 'dirs');
  const k = 5;
  const V = Float64Array.from({ length: k * P }, () => rng.normal());
  for (const batchSize of [1, 3, 100]) {
    const op = new HessianOperator(net, data, loss, { batchSize });
    const prod = op.apply({ kind: 'dense', count: k, data: V }, 0, k, { loss: true, outer: true, functional: true, jv: true });
    for (const kind of ['loss', 'outer', 'functional'] as const) {
      const expect = new Float64Array(k * P);
      for (let c = 0; c < k; c++) for (let i = 0; i < P; i++) {
        let s = 0;
        for (let j = 0; j < P; j++) s += H[kind]![i * P + j] * V[c * P + j];
        expect[c * P + i] = s;
      }
      assert.ok(relErr(prod[kind]!, expect) <= 1e-12, `${kind} batch ${batchSize}: ${relErr(prod[kind]!, expect)}`);
    }
  }
});

test('the Gram matrix has the nonzero spectrum of H_O, for every loss', () => {
  for (const lossName of LOSSES) {
    const data = gaussianData(6, 4, 3, 2);
    const net = initNetwork(networkSpec(4, [5], 3, 'tanh', true), 'orthogonal', 3);
    const loss = getLoss(lossName);
    const P = net.theta.length;
    const HO = denseHessians(new HessianOperator(net, data, loss), ['outer']).outer!;
    const eigH = symmetricEigenvalues(HO, P).map(Math.abs).sort().reverse();
    const { gram, size } = outerGram(net, data, loss);
    const eigG = symmetricEigenvalues(gram, size).map(Math.abs).sort().reverse();
    const top = eigH[0];
    for (let i = 0; i < size; i++) assert.ok(Math.abs(eigH[i] - eigG[i]) <= 1e-10 * top, `${lossName} eig ${i}: ${eigH[i]} vs ${eigG[i]}`);
    for (let i = size; i < P; i++) assert.ok(eigH[i] <= 1e-10 * top);
  }
});
