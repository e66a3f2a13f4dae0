/**
 * The heavy pieces of a rank computation, behind one interface so a caller can run them
 * elsewhere (the engine runs them in worker threads, several at once); `inlineBackend` runs them
 * here. Every piece is a pure function of plain data, so any backend gives the same numbers.
 */
import { symmetricEigenvalues } from '../linalg/eigen.js';
import { getLoss, type Loss } from '../losses.js';
import type { Dataset, HessianKind, LossName, Network } from '../types.js';
import { denseHessians, symmetrize } from './dense.js';
import { outerGram } from './gram.js';
import { HessianOperator } from './operator.js';
import { projectSketchRows } from './sketch.js';

export interface SketchWhich {
  readonly loss: boolean;
  readonly functional: boolean;
}

/** Everything a backend needs to rebuild the operator: plain data, cheap to send to a worker. */
export interface RankProblem {
  readonly net: Network;
  readonly data: Dataset;
  readonly loss: LossName;
  readonly batchSize?: number;
}

/** Sketch directions: `count` rows of `nnz` (index, value) pairs. */
export interface SketchDirections {
  readonly count: number;
  readonly nnz: number;
  readonly index: Int32Array;
  readonly value: Float64Array;
}

/**
 * Rows [c0, c0 + kc) of a sketch's packed lower triangle: row g holds omega_h . (H omega_g) for
 * h = 0..g, rows one after another, so the block is the slice [c0(c0+1)/2, (c0+kc)(c0+kc+1)/2)
 * of the packed sketch.
 */
export interface SketchRows {
  /** For H_F, when asked for. */
  readonly functional?: Float64Array;
  /** For H_L, when asked for. */
  readonly loss?: Float64Array;
}

export interface RanksBackend {
  /** Sketch rows [c0, c0 + kc) against the first k directions, for the Hessians asked for. */
  sketchRows(p: RankProblem, which: SketchWhich, dirs: SketchDirections, c0: number, kc: number, k: number): Promise<SketchRows>;
  /** Eigenvalues (ascending) of a symmetric n x n matrix given as its packed lower triangle (row i at i(i+1)/2); it may be consumed. */
  eigenvalues(a: Float64Array, n: number): Promise<Float64Array>;
  /** Nonzero spectrum of H_O from its N*K x N*K Gram matrix. */
  outerGramEigenvalues(p: RankProblem): Promise<Float64Array>;
  /** Eigenvalues of one dense P x P Hessian (formed from P products, then symmetrised). */
  denseEigenvalues(p: RankProblem, kind: HessianKind): Promise<Float64Array>;
}

export function operatorFor(p: RankProblem): { op: HessianOperator; loss: Loss } {
  const loss = getLoss(p.loss);
  return { op: new HessianOperator(p.net, p.data, loss, { batchSize: p.batchSize }), loss };
}

/**
 * Sketch rows of directions [c0, c0 + kc) (see SketchRows: one triangle, packed; the sketch is
 * mirrored from it), from exact products. H_L's rows come from its own products (functional +
 * outer), not from H_F's plus a Gram of J Omega: the extra backward pass costs less than that
 * k x k x N*K product.
 */
export function computeSketchRows(op: HessianOperator, which: SketchWhich, dirs: SketchDirections, c0: number, kc: number, k: number, chunk = 64): SketchRows {
  if (c0 < 0 || kc < 0 || c0 + kc > k || k > dirs.count) throw new RangeError(`sketch rows ${c0}..${c0 + kc} outside 0..${k} (directions: ${dirs.count})`);
  const P = op.params;
  const base = (c0 * (c0 + 1)) / 2;
  const len = ((c0 + kc) * (c0 + kc + 1)) / 2 - base;
  const out: { functional?: Float64Array; loss?: Float64Array } = {};
  if (which.functional) out.functional = new Float64Array(len);
  if (which.loss) out.loss = new Float64Array(len);
  for (let a = 0; a < kc; a += chunk) {
    const kk = Math.min(chunk, kc - a);
    const prod = op.apply({ kind: 'sparse', ...dirs }, c0 + a, kk, { functional: which.functional, loss: which.loss });
    if (out.functional) projectSketchRows(prod.functional!, P, dirs, c0 + a, kk, out.functional, base);
    if (out.loss) projectSketchRows(prod.loss!, P, dirs, c0 + a, kk, out.loss, base);
  }
  return out;
}

export function denseEigenvaluesOf(p: RankProblem, kind: HessianKind): Float64Array {
  const { op } = operatorFor(p);
  const m = denseHessians(op, [kind])[kind]!;
  symmetrize(m, op.params);
  return symmetricEigenvalues(m, op.params, { overwrite: true });
}

export function outerGramEigenvaluesOf(p: RankProblem): Float64Array {
  const { gram, size } = outerGram(p.net, p.data, getLoss(p.loss));
  return symmetricEigenvalues(gram, size, { overwrite: true });
}

/** Runs every piece here, on this thread. */
export function inlineBackend(): RanksBackend {
  let cached: { p: RankProblem; op: HessianOperator } | undefined;
  return {
    async sketchRows(p, which, dirs, c0, kc, k) {
      if (!cached || cached.p !== p) cached = { p, op: operatorFor(p).op };
      return computeSketchRows(cached.op, which, dirs, c0, kc, k);
    },
    async eigenvalues(a, n) { return symmetricEigenvalues(a, n, { overwrite: true, packed: true }); },
    async outerGramEigenvalues(p) { return outerGramEigenvaluesOf(p); },
    async denseEigenvalues(p, kind) { return denseEigenvaluesOf(p, kind); },
  };
}
