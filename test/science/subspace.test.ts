import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HessianOperator } from '../../src/science/hessian/operator.js';
import { probeOutside } from '../../src/science/hessian/probe.js';
import { SubspaceOperator } from '../../src/science/hessian/rotated.js';
import { subspaceRows } from '../../src/science/hessian/structured.js';
import { ClosedFormSubspace, closedRows } from '../../src/science/hessian/closed.js';
import { linearHessianSubspace, outerSubspaceBound, subspaceIndex, subspaceSizeBound, type HessianSubspace } from '../../src/science/hessian/subspace.js';
import { symmetricEigenvalues } from '../../src/science/linalg/eigen.js';
import { getLoss } from '../../src/science/losses.js';
import { initNetwork, networkSpec } from '../../src/science/network.js';
import { predictRanks } from '../../src/science/predictions.js';
import { EPS, numericalRank } from '../../src/science/rank.js';
import { hessianRanks, inputCovarianceRank } from '../../src/science/ranks.js';
import { inlineBackend, type RanksBackend } from '../../src/science/hessian/backend.js';
import { SUBSPACE_CHECK, subspaceSpectrum } from '../../src/science/spectrum.js';
import type { Bias, HessianKind, LossName } from '../../src/science/types.js';
import { gaussianData, maxAbs, maxAbsDiff } from './helpers.js';

const KINDS: HessianKind[] = ['loss', 'outer', 'functional'];
const ALL = { loss: true, outer: true, functional: true };

/** Basis vector i of the subspace in parameter coordinates. */
function basisVector(sub: HessianSubspace, i: number): Float64Array {
  const v = new Float64Array(sub.params);
  const bl = sub.blocks[sub.block[i]];
  const { rows, cols, left, right, layout } = bl;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = left[sub.a[i] * rows + r] * right[sub.b[i] * cols + c];
      if (c < layout.cols) v[layout.w + r * layout.cols + c] = x; else v[layout.b + r] = x;
    }
  }
  return v;
}

interface Case { hidden: number[]; n: number; d: number; k: number; loss: LossName; bias: Bias; inputRank?: number; pm1?: boolean }
const cases: Case[] = [
  { hidden: [6, 5], n: 20, d: 9, k: 4, loss: 'mse', bias: false },
  { hidden: [6, 5], n: 20, d: 9, k: 4, loss: 'cross-entropy', bias: true },
  { hidden: [3, 7], n: 15, d: 8, k: 5, loss: 'cosh', bias: false },
  { hidden: [8, 2, 8], n: 12, d: 6, k: 3, loss: 'mse', bias: true },
  { hidden: [4, 4, 4, 4], n: 10, d: 5, k: 3, loss: 'cross-entropy', bias: false },
  { hidden: [], n: 7, d: 6, k: 3, loss: 'mse', bias: true },
  { hidden: [5], n: 3, d: 10, k: 4, loss: 'mse', bias: false },
  { hidden: [7, 6], n: 30, d: 12, k: 4, loss: 'mse', bias: false, inputRank: 5 },
  { hidden: [5, 5], n: 12, d: 6, k: 1, loss: 'mse', bias: true, pm1: true },
  { hidden: [6, 4, 5], n: 14, d: 7, k: 3, loss: 'cross-entropy', bias: 'first' },
];
const label = (c: Case): string => `hidden ${JSON.stringify(c.hidden)}, N ${c.n}, d ${c.d}, K ${c.k}, ${c.loss}${c.bias === 'first' ? ', bias first' : c.bias ? ', bias' : ''}${c.inputRank ? `, input rank ${c.inputRank}` : ''}`;

function build(c: Case, seed = 3) {
  const data = gaussianData(c.n, c.d, c.k, seed, { inputRank: c.inputRank, pm1: c.pm1 });
  const net = initNetwork(networkSpec(c.d, c.hidden, c.k, 'linear', c.bias), 'glorot', seed + 1);
  const loss = getLoss(c.loss);
  return { data, net, loss, sub: linearHessianSubspace(net, data, loss)! };
}

for (const c of cases) {
  test(`rotated products are G^T H q of the general operator: ${label(c)}`, () => {
    const { data, net, loss, sub } = build(c);
    const general = new HessianOperator(net, data, loss);
    const rotated = new SubspaceOperator(net, data, loss, sub, { batchSize: 4 });
    const P = sub.params;
    // G^T z: the coordinates of z on every basis vector of the full rotated basis.
    const toRotated = (z: Float64Array): Float64Array => {
      const out = new Float64Array(P);
      for (const bl of sub.blocks) {
        for (let a = 0; a < bl.rows; a++) for (let b = 0; b < bl.cols; b++) {
          let s = 0;
          for (let r = 0; r < bl.rows; r++) for (let col = 0; col < bl.cols; col++) {
            const x = col < bl.layout.cols ? z[bl.layout.w + r * bl.layout.cols + col] : z[bl.layout.b + r];
            s += bl.left[a * bl.rows + r] * bl.right[b * bl.cols + col] * x;
          }
          out[bl.layout.w + a * bl.cols + b] = s;
        }
      }
      return out;
    };
    const picks = [0, Math.floor(sub.size / 3), Math.floor((2 * sub.size) / 3), sub.size - 1];
    for (const i of picks) {
      const q = basisVector(sub, i);
      const ref = general.apply({ kind: 'dense', count: 1, data: q }, 0, 1, { functional: true, outer: true });
      const got = rotated.apply(i, 1, { functional: true, outer: true });
      for (const part of ['functional', 'outer'] as const) {
        const want = toRotated(ref[part]!);
        assert.ok(maxAbsDiff(got[part]!, want) <= 1e-12 * Math.max(1, maxAbs(want)), `vector ${i} ${part}: ${maxAbsDiff(got[part]!, want)}`);
      }
    }
  });

  test(`the subspace holds every Hessian's range: the dense spectrum, inertia included: ${label(c)}`, async () => {
    const { data, net, loss, sub } = build(c);
    const idx = subspaceIndex(sub);
    const rows = subspaceRows(new SubspaceOperator(net, data, loss, sub), sub, idx, ALL, 0, sub.size);
    const probe = probeOutside(new HessianOperator(net, data, loss), sub, idx, ALL);
    const dense = await hessianRanks(net, data, c.loss, KINDS, { route: 'dense' });
    const sizes = { loss: sub.size, functional: sub.functional.length, outer: sub.outer.length };
    for (const kind of KINDS) {
      const ev = sizes[kind] > 0 ? symmetricEigenvalues(rows[kind]!, sizes[kind], { packed: true }) : new Float64Array(0);
      const reach = Math.max(rows.outside[kind] ?? 0, probe[kind] ?? 0);
      const s = subspaceSpectrum(ev, reach, sizes[kind], sub.params);
      assert.ok(s, `${kind}: the check passes (reach ${reach})`);
      const r = numericalRank(s.eigenvalues, sub.params), d = dense[kind]!;
      assert.deepEqual([r.rank, r.positive, r.negative], [d.rank, d.positive, d.negative], kind);
      for (let i = 0; i < d.rank; i++) assert.ok(Math.abs(r.values[i] - d.values[i]) <= 1e-9 * d.smax, `${kind} value ${i}`);
      assert.ok(reach <= 16 * EPS * Math.max(d.smax, 1e-300), `${kind}: reach at rounding level (${reach / (EPS * d.smax)} eps s_max)`);
    }
    assert.ok(sub.size <= subspaceSizeBound(net.sizes, c.n, c.bias), 'the memory bound holds');
    assert.ok(sub.outer.length <= outerSubspaceBound(net.sizes, Math.min(c.n, c.d) + (c.bias === false ? 0 : 1), c.bias === true ? 1 : 0), 'the bound of H_O\'s subspace holds');
  });
}

test('without bias and for generic weights the subspace has the dimension of the predicted rank of H_L', () => {
  for (const c of cases.filter((x) => !x.bias && x.hidden.length > 0 && x.n >= x.d)) {
    const { data, sub } = build(c);
    const pred = predictRanks({ inputRank: inputCovarianceRank(data).rank, outputs: c.k, hidden: c.hidden, loss: c.loss, activation: 'linear', bias: false });
    assert.ok(pred.applicable);
    assert.ok(sub.size >= pred.loss!, `${label(c)}: ${sub.size} >= ${pred.loss}`);
  }
});

test('the check catches a subspace that misses part of the range', () => {
  const c = cases[0];
  const { data, net, loss, sub } = build(c);
  // Drop the first layer's V part from H_F's coordinates: a real part of its range.
  const b0 = sub.blocks[0];
  const broken: HessianSubspace = { ...sub, blocks: [{ ...b0, nv: 0, nx: b0.nv + b0.nx }, ...sub.blocks.slice(1)] };
  const keep = Array.from({ length: sub.size }, (_, i) => i).filter((i) => sub.block[i] !== 0 || sub.b[i] >= b0.nv);
  const pick = (list: ArrayLike<number>): Int32Array => Int32Array.from(Array.from(list).filter((i) => keep.includes(i)).map((i) => keep.indexOf(i)));
  const narrowed: HessianSubspace = {
    ...broken, size: keep.length,
    block: Int32Array.from(keep, (i) => sub.block[i]), a: Int32Array.from(keep, (i) => sub.a[i]), b: Int32Array.from(keep, (i) => sub.b[i]),
    functional: pick(sub.functional), outer: pick(sub.outer),
  };
  const idx = subspaceIndex(narrowed);
  const rows = subspaceRows(new SubspaceOperator(net, data, loss, narrowed), narrowed, idx, ALL, 0, narrowed.size);
  const probe = probeOutside(new HessianOperator(net, data, loss), narrowed, idx, ALL);
  const ev = symmetricEigenvalues(rows.functional!, narrowed.functional.length, { packed: true });
  const smax = Math.max(...ev.map(Math.abs));
  const reach = Math.max(rows.outside.functional!, probe.functional!);
  assert.ok(reach / smax > 1e3 * SUBSPACE_CHECK, `reach ${reach / smax}`);
  assert.equal(subspaceSpectrum(ev, reach, narrowed.functional.length, sub.params), undefined);
});

test('nonlinear networks have no subspace', () => {
  const data = gaussianData(6, 4, 2, 1);
  const net = initNetwork(networkSpec(4, [3], 2, 'relu', false), 'glorot', 1);
  assert.equal(linearHessianSubspace(net, data, getLoss('mse')), undefined);
  assert.throws(() => new SubspaceOperator(net, data, getLoss('mse'), build(cases[0]).sub), /linear networks only/);
});

for (const c of cases) {
  test(`closed-form T equals the products' T entry by entry, and its check passes: ${label(c)}`, () => {
    const { data, net, loss, sub } = build(c);
    const idx = subspaceIndex(sub);
    const op = new SubspaceOperator(net, data, loss, sub, { batchSize: 5 });
    const want = subspaceRows(op, sub, idx, ALL, 0, sub.size);
    const closed = new ClosedFormSubspace(net, data, loss, sub, idx);
    // Two slices, as two workers would split the rows.
    const mid = Math.floor(sub.size / 2);
    const parts = [closedRows(closed, op, ALL, 0, mid), closedRows(closed, op, ALL, mid, sub.size - mid)];
    for (const kind of KINDS) {
      const got = new Float64Array(want[kind]!.length);
      got.set(parts[0][kind]!, 0);
      got.set(parts[1][kind]!, parts[0][kind]!.length);
      const scale = Math.max(1e-300, maxAbs(want[kind]!));
      assert.ok(maxAbsDiff(got, want[kind]!) <= 1e-12 * scale, `${kind}: ${maxAbsDiff(got, want[kind]!) / scale}`);
    }
    const mismatch = Math.max(...parts.flatMap((x) => KINDS.map((k) => x.mismatch![k]!)));
    const scale = Math.max(1e-300, maxAbs(want.loss!));
    assert.ok(mismatch <= 1e-12 * scale, `mismatch ${mismatch / scale}`);
    for (const kind of KINDS) assert.ok((parts[0].outside[kind] ?? 0) <= 16 * EPS * Math.max(scale, 1e-300), `${kind} outside`);
  });
}

test('the closed form check sees entries that are wrong', () => {
  const { data, net, loss, sub } = build(cases[0]);
  const idx = subspaceIndex(sub);
  const op = new SubspaceOperator(net, data, loss, sub);
  const closed = new ClosedFormSubspace(net, data, loss, sub, idx);
  const honest = closedRows(closed, op, ALL, 0, sub.size, sub.size);
  // A closed form that forgot H_O's cross-layer terms (a plausible slip in the derivation).
  const slip = Object.create(closed) as ClosedFormSubspace;
  slip.outer = (g: number, h: number) => (sub.block[g] === sub.block[h] ? closed.outer(g, h) : 0);
  const wrong = closedRows(slip, op, ALL, 0, sub.size, sub.size);
  const scale = maxAbs(subspaceRows(op, sub, idx, ALL, 0, sub.size).loss!);
  assert.ok(honest.mismatch!.loss! <= 1e-12 * scale);
  assert.ok(wrong.mismatch!.loss! > 1e-3 * scale, `wrong entries seen: ${wrong.mismatch!.loss! / scale}`);
  assert.ok(wrong.mismatch!.outer! > 1e-3 * scale);
  assert.ok(wrong.mismatch!.functional! <= 1e-12 * scale, 'H_F untouched');
});

test('a closed form that disagrees with the products is replaced by the products, and says so', async () => {
  const data = gaussianData(40, 16, 4, 5);
  const net = initNetwork(networkSpec(16, [30, 30], 4, 'linear', false), 'glorot', 6);
  assert.ok(net.theta.length > 1200, 'a point on the subspace route');
  const routes: string[] = [];
  const inline = inlineBackend();
  const lying: RanksBackend = {
    ...inline,
    subspaceRows: async (p, which, c0, kc, route) => {
      routes.push(route ?? 'closed');
      const rows = await inline.subspaceRows(p, which, c0, kc, route);
      // Pretend the sampled products disagreed with the closed form for H_F.
      return route === 'products' ? rows : { ...rows, mismatch: { ...rows.mismatch, functional: 1 } };
    },
  };
  const got = await hessianRanks(net, data, 'mse', KINDS, { parallel: 2 }, lying);
  const want = await hessianRanks(net, data, 'mse', KINDS, { route: 'dense' });
  assert.deepEqual(routes.sort(), ['closed', 'products', 'products']);
  assert.match(got.functional!.method, /from products: the closed form disagreed/);
  assert.match(got.loss!.method, /^subspace \d+$/);
  for (const kind of KINDS) assert.deepEqual([got[kind]!.rank, got[kind]!.positive, got[kind]!.negative], [want[kind]!.rank, want[kind]!.positive, want[kind]!.negative], kind);
});
