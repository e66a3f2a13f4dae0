import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixChain, acceptProjection } from '../../src/science/hessian/chain.js';
import { sliceSamples } from '../../src/science/hessian/accumulate.js';
import { HessianOperator } from '../../src/science/hessian/operator.js';
import { symmetricEigenvalues } from '../../src/science/linalg/eigen.js';
import { getLoss } from '../../src/science/losses.js';
import { initNetwork, networkSpec } from '../../src/science/network.js';
import { Rng } from '../../src/science/random.js';
import { hessianRanks, rankSpectrum } from '../../src/science/ranks.js';
import type { HessianKind, LossName } from '../../src/science/types.js';
import { gaussianData, maxAbsDiff } from './helpers.js';

const KINDS: HessianKind[] = ['loss', 'outer', 'functional'];
const boundaries = [4, 8, 12, 16, 20, 24, 28, 32, 36, 40];

/** d 12, hidden [8, 8], K 5: P = 200; the Hessians' ranks grow with N, then stop at the formulas' plateau. */
function setup() {
  const data = gaussianData(40, 12, 5, 31, { inputRank: 9 });
  const net = initNetwork(networkSpec(12, [8, 8], 5, 'linear', false), 'glorot', 6);
  return { data, net };
}

test('operator.accumulate adds exactly the products apply returns', () => {
  const data = gaussianData(9, 6, 3, 4);
  const net = initNetwork(networkSpec(6, [5], 3, 'tanh', true), 'glorot', 3);
  const op = new HessianOperator(net, data, getLoss('cross-entropy'), { batchSize: 4 });
  const P = op.params;
  const rng = new Rng(1, 'dirs');
  const sparse = {
    kind: 'sparse' as const, count: 20, nnz: 8,
    index: Int32Array.from({ length: 160 }, () => rng.int(P)), value: Float64Array.from({ length: 160 }, () => rng.normal()),
  };
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

for (const loss of ['mse', 'cross-entropy', 'cosh'] as LossName[]) {
  test(`a chain's spectra at every prefix are the dense route's: ranks, values, inertia (${loss})`, async () => {
    const { data, net } = setup();
    const chain = new PrefixChain(net, data, getLoss(loss), KINDS, boundaries, { batchSize: 3 });
    assert.equal(chain.structured, true);
    const seen = new Set<number>();
    for (const n of boundaries) {
      chain.advanceTo(n);
      const s = chain.spectra();
      const dense = await hessianRanks(net, sliceSamples(data, 0, n), loss, KINDS, { route: 'dense' });
      for (const kind of KINDS) {
        const r = rankSpectrum(s[kind]!), d = dense[kind]!;
        assert.match(r.method, /^subspace \d+$/);
        assert.deepEqual([r.rank, r.positive, r.negative], [d.rank, d.positive, d.negative], `N=${n} ${kind}`);
        assert.ok(Math.abs(r.smax - d.smax) <= 1e-10 * d.smax);
        for (let i = 0; i < d.rank; i++) assert.ok(Math.abs(r.values[i] - d.values[i]) <= 1e-9 * d.smax, `N=${n} ${kind} value ${i}`);
      }
      seen.add(dense.loss!.rank);
    }
    assert.ok(seen.size >= 3, 'the ranks grow along the chain');
  });
}

test('projections eigensolved elsewhere give the same bits; a size does not depend on the other sizes', () => {
  const { data, net } = setup();
  const loss = getLoss('cross-entropy');
  const all = new PrefixChain(net, data, loss, KINDS, boundaries);
  const short = new PrefixChain(net, sliceSamples(data, 0, 12), loss, KINDS, boundaries.filter((b) => b <= 12));
  all.advanceTo(12);
  short.advanceTo(12);
  const a = all.spectra(), projections = all.projections()!;
  const b = short.spectra();
  for (const kind of KINDS) {
    const pr = projections.find((p) => p.kind === kind)!;
    const elsewhere = acceptProjection(symmetricEigenvalues(pr.packed, pr.n, { overwrite: true, packed: true }), pr, all.params)!;
    assert.deepEqual(Array.from(elsewhere.eigenvalues), Array.from(a[kind]!.eigenvalues), `${kind}: same bits`);
    // A chain built on the first 12 samples has a smaller subspace: same spectrum to rounding.
    assert.equal(rankSpectrum(b[kind]!).rank, rankSpectrum(a[kind]!).rank, kind);
  }
  assert.throws(() => all.advanceTo(8), /cannot grow from 12 to 8/);
  assert.throws(() => all.advanceTo(30), /30 is not a boundary/);
});

test('a projection whose check fails is refused; the chain then ranks densely', () => {
  const { data, net } = setup();
  const chain = new PrefixChain(net, data, getLoss('mse'), KINDS, boundaries);
  chain.advanceTo(20);
  const pr = chain.projections()!.find((p) => p.kind === 'loss')!;
  const ev = symmetricEigenvalues(pr.packed.slice(), pr.n, { packed: true });
  assert.ok(acceptProjection(ev, pr, chain.params), 'the real reach passes');
  assert.equal(acceptProjection(ev, { ...pr, reach: 1e-6 * Math.max(...ev.map(Math.abs)) }, chain.params), undefined, 'a reach of 1e-6 s_max does not');
  const dense = chain.denseSpectra(['loss'], 'test');
  assert.equal(dense.loss!.method, 'dense (test)');
  assert.equal(rankSpectrum(dense.loss!).rank, rankSpectrum(acceptProjection(ev, pr, chain.params)!).rank);
});

test('nonlinear networks and rank.route dense chain through dense sums', async () => {
  const data = gaussianData(16, 5, 3, 7);
  for (const [act, dense] of [['tanh', false], ['linear', true]] as const) {
    const net = initNetwork(networkSpec(5, [4], 3, act, false), 'glorot', 2);
    const chain = new PrefixChain(net, data, getLoss('mse'), KINDS, [8, 16], { dense });
    assert.equal(chain.structured, false);
    assert.equal(chain.projections(), undefined);
    chain.advanceTo(16);
    const s = chain.spectra();
    const direct = await hessianRanks(net, data, 'mse', KINDS, { route: 'dense' });
    for (const kind of KINDS) {
      assert.equal(s[kind]!.method, 'dense');
      assert.equal(rankSpectrum(s[kind]!).rank, direct[kind]!.rank, `${act} ${kind}`);
    }
  }
});
