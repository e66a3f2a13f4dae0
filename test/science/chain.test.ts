import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixChain, acceptSketch, firstSketchSize, type RankHints } from '../../src/science/hessian/chain.js';
import { sliceSamples } from '../../src/science/hessian/accumulate.js';
import { denseHessians, symmetrize } from '../../src/science/hessian/dense.js';
import { HessianOperator } from '../../src/science/hessian/operator.js';
import { DealtDirections } from '../../src/science/hessian/sketch.js';
import { symmetricEigenvalues } from '../../src/science/linalg/eigen.js';
import { getLoss } from '../../src/science/losses.js';
import { initNetwork, networkSpec } from '../../src/science/network.js';
import { predictRanks } from '../../src/science/predictions.js';
import { hessianRanks, inputCovarianceRank } from '../../src/science/ranks.js';
import type { Dataset, HessianKind, LossName, Network } from '../../src/science/types.js';
import { gaussianData, maxAbs, maxAbsDiff } from './helpers.js';

const KINDS: HessianKind[] = ['loss', 'outer', 'functional'];
const boundaries = [4, 8, 12, 16, 20, 24, 28, 32, 36, 40];

function predicted(net: Network, data: Dataset, loss: LossName): RankHints {
  const p = predictRanks({ inputRank: inputCovarianceRank(data).rank, outputs: data.k, hidden: net.sizes.slice(1, -1), loss, activation: net.activation, bias: net.bias });
  return { loss: p.loss, outer: p.outer, functional: p.functional };
}

/** d 12, hidden [8, 8], K 5: P = 200; the Hessians' ranks grow with N, then stop at the formulas' plateau. */
function setup(loss: LossName) {
  const data = gaussianData(40, 12, 5, 31, { inputRank: 9 });
  const net = initNetwork(networkSpec(12, [8, 8], 5, 'linear', false), 'glorot', 6);
  const hints = new Map(boundaries.map((n) => [n, predicted(net, sliceSamples(data, 0, n), loss)]));
  return { data, net, hints };
}

test('operator.accumulate adds exactly the products apply returns', () => {
  const data = gaussianData(9, 6, 3, 4);
  const net = initNetwork(networkSpec(6, [5], 3, 'tanh', true), 'glorot', 3);
  const op = new HessianOperator(net, data, getLoss('cross-entropy'), { batchSize: 4 });
  const P = op.params;
  const dirs = new DealtDirections(P, 8, 1, 20);
  dirs.growTo(20);
  const sparse = { kind: 'sparse' as const, ...dirs.view() };
  const prod = op.apply(sparse, 5, 12, { functional: true, outer: true });
  const F = new Float64Array(12 * P), O = new Float64Array(12 * P);
  op.accumulate(sparse, 5, 12, F, O);
  assert.deepEqual(Array.from(F), Array.from(prod.functional!), 'into zeros: the same bits');
  assert.deepEqual(Array.from(O), Array.from(prod.outer!));
  // Into running sums: each product is added on top (up to the rounding of the additions).
  const only = new Float64Array(12 * P).fill(-2);
  op.accumulate(sparse, 5, 12, undefined, only);
  assert.ok(maxAbsDiff(only, Array.from(prod.outer!, (v) => v - 2)) <= 1e-14, 'added onto -2');
  assert.throws(() => op.accumulate(sparse, 15, 12, F, O), /outside 0\.\.20/);
  assert.throws(() => op.accumulate(sparse, 0, 12, new Float64Array(P), undefined), /need/);
});

test('a chain sketch is Omega^T H Omega of the dense prefix Hessian', () => {
  const { data, net, hints } = setup('mse');
  const chain = new PrefixChain(net, data, getLoss('mse'), KINDS, boundaries, hints);
  chain.advanceTo(24);
  const sketches = chain.sketches(hints.get(24))!;
  const P = chain.params;
  const H = denseHessians(new HessianOperator(net, sliceSamples(data, 0, 24), getLoss('mse')), KINDS);
  for (const { kind, k, packed } of sketches) {
    assert.equal(k, firstSketchSize(hints.get(24)![kind], P), 'hint + 32, at most 0.9 P');
    const h = H[kind]!;
    symmetrize(h, P);
    const dirs = new DealtDirections(P, 16, 0, k);
    dirs.growTo(k);
    const { index, value } = dirs.view();
    const expected = new Float64Array(packed.length);
    for (let g = 0, o = 0; g < k; g++) {
      for (let c = 0; c <= g; c++, o++) {
        let s = 0;
        for (let a = 0; a < 16; a++) for (let b = 0; b < 16; b++) s += value[g * 16 + a] * value[c * 16 + b] * h[index[g * 16 + a] * P + index[c * 16 + b]];
        expected[o] = s;
      }
    }
    assert.ok(maxAbsDiff(packed, expected) <= 1e-12 * maxAbs(expected), `${kind}: ${maxAbsDiff(packed, expected)}`);
  }
});

for (const loss of ['mse', 'cross-entropy'] as const) {
  test(`a chain's ranks at every prefix are the dense route's (${loss})`, async () => {
    const { data, net, hints } = setup(loss);
    const chain = new PrefixChain(net, data, getLoss(loss), KINDS, boundaries, hints);
    let grew = false;
    for (const n of boundaries) {
      chain.advanceTo(n);
      const r = chain.ranks(hints.get(n));
      const dense = await hessianRanks(net, sliceSamples(data, 0, n), loss, KINDS, { route: 'dense' });
      for (const kind of KINDS) {
        assert.equal(r[kind]!.rank, dense[kind]!.rank, `N=${n} ${kind} (${r[kind]!.method})`);
        assert.match(r[kind]!.method, /^sketch \d+$/);
        assert.equal(r[kind]!.rank, hints.get(n)![kind], `N=${n} ${kind}: the formula holds here`);
      }
      if (n > 4 && hints.get(n)!.loss! > hints.get(4)!.loss!) grew = true;
    }
    assert.ok(grew, 'the ranks grow along the chain');
  });
}

test('a hint too small, or none, falls back to the dense sums and still gives the dense rank', async () => {
  const { data, net, hints } = setup('mse');
  const low = new Map([...hints].map(([n, h]) => [n, { ...h, loss: Math.floor(h.loss! / 2) }]));
  const chain = new PrefixChain(net, data, getLoss('mse'), KINDS, boundaries, low);
  for (const n of [8, 20, 40]) {
    chain.advanceTo(n);
    const r = chain.ranks(low.get(n));
    const none = chain.ranks(undefined);
    const dense = await hessianRanks(net, sliceSamples(data, 0, n), 'mse', KINDS, { route: 'dense' });
    for (const kind of KINDS) {
      assert.equal(r[kind]!.rank, dense[kind]!.rank, `N=${n} ${kind}`);
      assert.equal(none[kind]!.rank, dense[kind]!.rank, `N=${n} ${kind}, no hint`);
      assert.equal(none[kind]!.method, 'dense');
    }
    assert.match(r.loss!.method, /^dense sketch \d+$/, 'refused: the dense sums decide, from a grown sketch');
    assert.match(r.outer!.method, /^sketch \d+$/, 'accepted: the chain sketch');
    assert.equal(chain.sketches(undefined), undefined);
  }
  assert.throws(() => chain.advanceTo(30), /cannot grow from 40 to 30/);
});

test('a size gives the same bits whatever else the chain ranks, and split sketches give the ranks', () => {
  const { data, net, hints } = setup('cross-entropy');
  const loss = getLoss('cross-entropy');
  // Alone, N = 4 keeps 148 sketch rows; with every size, 180 (so its products come in other chunks).
  const alone = new PrefixChain(net, data, loss, KINDS, boundaries, new Map([[4, hints.get(4)]]));
  alone.advanceTo(4);
  const withAll = new PrefixChain(net, data, loss, KINDS, boundaries, hints);
  withAll.advanceTo(4);
  const a = alone.ranks(hints.get(4)), b = withAll.ranks(hints.get(4));
  const split = alone.sketches(hints.get(4))!;
  for (const kind of KINDS) {
    assert.deepEqual(Array.from(a[kind]!.values), Array.from(b[kind]!.values), `${kind} bit-identical`);
    const sk = split.find((s) => s.kind === kind)!;
    const r = acceptSketch(symmetricEigenvalues(sk.packed, sk.k, { overwrite: true, packed: true }), sk.k, alone.params)!;
    assert.deepEqual(Array.from(r.values), Array.from(a[kind]!.values), `${kind}: eigensolved elsewhere, same bits`);
  }
  // Sizes past the hinted ones get no sketch of their own: they are ranked from the dense sums.
  alone.advanceTo(28);
  assert.equal(alone.sketches(hints.get(28)), undefined);
  withAll.advanceTo(28);
  const past = alone.ranks(hints.get(28)), within = withAll.ranks(hints.get(28));
  for (const kind of KINDS) assert.equal(past[kind]!.rank, within[kind]!.rank, kind);
  assert.match(past.loss!.method, /^dense sketch \d+$/);
  assert.throws(() => alone.advanceTo(30), /30 is not a boundary/);
});

test('first sketch sizes: hint + 32, at most 0.9 P, none without a hint', () => {
  assert.equal(firstSketchSize(100, 840), 132);
  assert.equal(firstSketchSize(0, 840), 32);
  assert.equal(firstSketchSize(800, 840), 756);
  assert.equal(firstSketchSize(undefined, 840), undefined);
  assert.equal(firstSketchSize(5, 10), undefined, 'a matrix too small to sketch');
  const eig = Float64Array.from({ length: 40 }, (_, i) => (i < 24 ? 1 + i : 1e-30));
  assert.equal(acceptSketch(eig, 40, 100)!.rank, 24);
  assert.equal(acceptSketch(eig, 39, 100), undefined, 'rank 24 > 39 - 16');
});
