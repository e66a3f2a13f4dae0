import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eigenWork, spectrumWork, subspaceSizes, type WorkShape } from '../../src/science/cost.js';
import { predictRanks } from '../../src/science/predictions.js';

/** A linear network point of the width study's shape: 8 x 8 digits, hidden [m, m], 10 classes. */
function widthPoint(m: number, over: Partial<WorkShape> = {}): WorkShape {
  const sizes = [64, m, m, 10];
  let params = 0;
  for (let l = 1; l < sizes.length; l++) params += sizes[l]! * sizes[l - 1]!;
  return {
    params, samples: 100, inputDim: 64, outputs: 10, hidden: [m, m], hessians: ['loss', 'outer', 'functional'],
    loss: 'mse', linear: true, bias: false, dense: false, ...over,
  };
}

test('an eigensolve costs 4/3 n^3 units, growing as n^3', () => {
  const n = 2000;
  assert.ok(Math.abs(eigenWork(n) / ((4 / 3) * n ** 3) - 1) < 0.25, String(eigenWork(n)));
  const ratio = eigenWork(2 * n) / eigenWork(n);
  assert.ok(ratio > 7.5 && ratio < 9.5, `eigenWork(2n) / eigenWork(n) = ${ratio}`);
  assert.equal(eigenWork(0), 0);
});

test('the dense route grows as P^3 once the eigensolves dominate', () => {
  // A handful of samples: the P x P matrices' products (N P^2) are small next to the eigensolves.
  const shape = (m: number): WorkShape => ({ ...widthPoint(m, { dense: true }), samples: 5 });
  const small = spectrumWork(shape(56)), large = spectrumWork(shape(112));
  assert.match(small.route, /^dense P 7280$/);
  const pRatio = Number(large.route.match(/P (\d+)/)![1]) / 7280;
  const ratio = large.work / small.work;
  // P^3, and a little more as the eigensolver's passes leave the cache.
  assert.ok(ratio > pRatio ** 3 && ratio < pRatio ** 3 * 1.3, `work ratio ${ratio} for a P ratio of ${pRatio}`);
  // A dense point runs whole in one worker: all of it is serial.
  assert.equal(small.serial, small.work);
});

test('routes follow ranks.ts: dense up to 1,200 parameters, the subspace route above (with H_O on its Gram matrix when smaller), both far cheaper than dense', () => {
  assert.match(spectrumWork(widthPoint(12)).route, /^dense P 1032$/);
  const sub = spectrumWork(widthPoint(56, { inputRank: 41 }));
  assert.match(sub.route, /^subspace k ~ 2450 of P 7280, gram 1000$/);
  const dense = spectrumWork(widthPoint(56, { dense: true }));
  assert.ok(dense.work > 20 * sub.work, `dense ${dense.work} vs subspace ${sub.work}`);
  // The subspace route's pieces spread over the workers; its largest eigensolve does not. With T
  // in closed form the eigensolves are most of the work.
  assert.ok(sub.serial < sub.work && sub.serial >= eigenWork(2450));
  const eigens = eigenWork(2450) + eigenWork(2140) + eigenWork(1000);
  assert.ok(sub.work > eigens && sub.work < 1.5 * eigens, `work ${sub.work} vs eigensolves ${eigens}`);
  // Nonlinear networks: dense matrices, H_O on its Gram matrix (N K = 1000 < P).
  assert.match(spectrumWork(widthPoint(56, { linear: false })).route, /^dense P 7280, gram 1000$/);
});

test('subspace sizes are the paper ranks at the input rank; unknown data assumes min(N, d), an upper bound', () => {
  const known = subspaceSizes(widthPoint(56, { inputRank: 41 }));
  const p = predictRanks({ inputRank: 41, outputs: 10, hidden: [56, 56], loss: 'mse', activation: 'linear', bias: false });
  assert.ok(p.applicable);
  assert.equal(known.loss, p.loss);
  assert.equal(known.functional, p.functional);
  // H_O's subspace: sum over layers of (outputs' range: 10) x (inputs' span: 41, then min(41, 56)).
  assert.equal(known.outer, 3 * 10 * 41);
  const unknown = subspaceSizes(widthPoint(56));
  assert.ok(unknown.loss > known.loss && unknown.outer > known.outer);
  // Never more than the parameters.
  const tiny = subspaceSizes(widthPoint(4));
  assert.ok(tiny.loss <= 312 && tiny.outer <= 312);
  assert.ok(spectrumWork(widthPoint(56)).work > spectrumWork(widthPoint(56, { inputRank: 41 })).work);
});

test('a chain member pays for the samples it adds to the running sums, which one worker sums alone', () => {
  const member = (added: number): WorkShape => ({ ...widthPoint(10), params: 840, hidden: [10, 10], samples: 200, chainAdded: added, chainLargest: 400 });
  const a = spectrumWork(member(10)), b = spectrumWork(member(20));
  assert.match(a.route, /^prefix sums on a subspace k ~ \d+ of P 840$/);
  assert.ok(b.work > a.work);
  // The sums double with the samples added; the eigensolves stay.
  assert.ok(Math.abs((b.serial - a.serial) - a.serial) < 1e-6 * a.serial, `${a.serial} ${b.serial}`);
  assert.ok(a.serial < a.work);
  // A nonlinear chain sums dense P x P matrices.
  assert.match(spectrumWork({ ...member(10), linear: false }).route, /^prefix sums, P 840$/);
});
