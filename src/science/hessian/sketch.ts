/**
 * Ranks of low-rank H_L and H_F from a sparse random sketch S = Omega^T H Omega (k x k).
 *
 * For a symmetric H of rank r and a generic P x k Omega with k >= r, rank(S) = r; when k < r,
 * rank(S) = k. So the sketch grows until its rank is at least `margin` below k: that stopping rule,
 * not any prediction, decides the rank (a prediction may only seed the first size).
 * Omega has `nnz` nonzeros +-1/sqrt(nnz) per column (default 16; with 1-2 a sketch can silently
 * under-count). One batch of products serves both Hessians (H_L's rows from the functional plus
 * the outer products). S is kept as its packed lower triangle: each entry comes from one product,
 * mirrored, so S is exactly symmetric, and the leading block of a smaller sketch is a prefix.
 * The tolerance uses n = P (the Hessian's size), as numpy would on the full matrix.
 */
import { scratch } from '../linalg/scratch.js';
import { numericalRank, type RankResult } from '../rank.js';
import { Rng } from '../random.js';
import type { RankProblem, RanksBackend, SketchDirections } from './backend.js';

/** Nonzeros per sketch column; a sketch stops when its rank is at least this margin below its size. */
export const SKETCH_NNZ = 16;
export const SKETCH_MARGIN = 16;
/** A sketch of a dense matrix larger than this fraction of P gives way to its full eigensolve. */
export const DENSE_SKETCH_MAX_FRACTION = 0.9;

export interface SketchOptions {
  /** Nonzeros per sketch column (default 16). */
  readonly nnz?: number;
  /** Stop when rank <= k - margin (default 16). */
  readonly margin?: number;
  /** First sketch size (e.g. a predicted rank + margin); default 128. */
  readonly initial?: number;
  /** First size per Hessian (overrides `initial`), e.g. each one's predicted rank + 32. */
  readonly initialByKind?: { readonly loss?: number; readonly functional?: number };
  /** Give up (return undefined) when the sketch would exceed this fraction of P (default 0.8). */
  readonly maxFraction?: number;
  readonly seed?: number;
  /** Directions per backend call (default: the new directions split in `parallel` parts). */
  readonly parallel?: number;
}

export interface SketchResult {
  readonly loss?: RankResult;
  readonly functional?: RankResult;
  /** Final sketch size. */
  readonly size: number;
}

/**
 * Sparse directions whose nonzero rows are dealt from successive random permutations of 0..P-1,
 * so every parameter is touched as evenly as possible: a parameter no column touches is invisible
 * to the sketch (rows drawn independently left ~30 of 7,280 untouched at k ~ rank + 32 and the
 * sketch under-counted by one).
 */
export class DealtDirections {
  index: Int32Array;
  value: Float64Array;
  count = 0;
  private perm = new Int32Array(0);
  private pos = 0;
  private readonly rng: Rng;

  constructor(readonly params: number, readonly nnz: number, seed: number, capacity: number) {
    this.rng = new Rng(seed, 'sketch');
    this.index = new Int32Array(capacity * nnz);
    this.value = new Float64Array(capacity * nnz);
  }

  private nextRow(): number {
    if (this.pos >= this.perm.length) {
      const P = this.params;
      this.perm = Int32Array.from({ length: P }, (_, i) => i);
      for (let i = P - 1; i > 0; i--) { const j = this.rng.int(i + 1); const t = this.perm[i]; this.perm[i] = this.perm[j]; this.perm[j] = t; }
      this.pos = 0;
    }
    return this.perm[this.pos++];
  }

  /** Grows to `count` directions. */
  growTo(count: number): void {
    const nnz = this.nnz;
    if (count * nnz > this.index.length) {
      const i2 = new Int32Array(count * nnz); i2.set(this.index); this.index = i2;
      const v2 = new Float64Array(count * nnz); v2.set(this.value); this.value = v2;
    }
    const scale = 1 / Math.sqrt(nnz);
    const used = new Set<number>();
    for (let c = this.count; c < count; c++) {
      used.clear();
      for (let t = 0; t < nnz; t++) {
        let idx = this.nextRow();
        while (used.has(idx)) idx = this.nextRow(); // only across a permutation boundary
        used.add(idx);
        this.index[c * nnz + t] = idx;
        this.value[c * nnz + t] = this.rng.uniform() < 0.5 ? -scale : scale;
      }
    }
    this.count = count;
  }

  view(): SketchDirections {
    return { count: this.count, nnz: this.nnz, index: this.index.subarray(0, this.count * this.nnz), value: this.value.subarray(0, this.count * this.nnz) };
  }
}

/**
 * Rows g0 .. g0 + count - 1 of a sketch's packed lower triangle from the products Y (row c is
 * H omega_{g0 + c}, P values): entry (g, h), h <= g, is omega_h . (H omega_g), written at
 * g(g + 1)/2 + h - base of dst. Four nonzeros of omega_h per step.
 */
export function projectSketchRows(Y: Float64Array, P: number, dirs: SketchDirections, g0: number, count: number, dst: Float64Array, base: number): void {
  const { nnz, index, value } = dirs;
  const quads = nnz - (nnz % 4);
  for (let c = 0; c < count; c++) {
    const g = g0 + c, yo = c * P, so = (g * (g + 1)) / 2 - base;
    for (let h = 0; h <= g; h++) {
      const o = h * nnz;
      let acc = 0, q = 0;
      for (; q < quads; q += 4) {
        acc += value[o + q] * Y[yo + index[o + q]] + value[o + q + 1] * Y[yo + index[o + q + 1]]
          + value[o + q + 2] * Y[yo + index[o + q + 2]] + value[o + q + 3] * Y[yo + index[o + q + 3]];
      }
      for (; q < nnz; q++) acc += value[o + q] * Y[yo + index[o + q]];
      dst[so + h] = acc;
    }
  }
}

/**
 * Returns undefined when a requested Hessian looks (nearly) full-rank: the caller should go dense,
 * which is then both faster and more accurate than a sketch close to P.
 */
export async function sketchRanks(
  p: RankProblem, which: { loss: boolean; functional: boolean }, backend: RanksBackend, opts: SketchOptions = {},
): Promise<SketchResult | undefined> {
  const P = p.net.theta.length;
  const nnz = Math.min(opts.nnz ?? SKETCH_NNZ, P);
  const margin = opts.margin ?? SKETCH_MARGIN;
  const maxK = Math.floor((opts.maxFraction ?? 0.8) * P);
  const parallel = Math.max(1, opts.parallel ?? 1);
  const kinds = (['loss', 'functional'] as const).filter((h) => which[h]);
  const start = (kind: 'loss' | 'functional'): number =>
    Math.min(Math.max(opts.initialByKind?.[kind] ?? opts.initial ?? 128, 2 * margin), maxK);
  // Each Hessian reads the leading size[kind] x size[kind] block: the sketch of the first
  // size[kind] directions, itself a valid sketch. So H_F need not pay for H_L's larger size.
  const size: Partial<Record<'loss' | 'functional', number>> = {};
  for (const kind of kinds) size[kind] = start(kind);
  let k = Math.max(...kinds.map((kind) => size[kind]!));
  if (k <= margin) return undefined;

  const dirs = new DealtDirections(P, nnz, opts.seed ?? 0, k);
  let S: Partial<Record<'loss' | 'functional', Float64Array>> = {};
  let done = 0;
  const results: { loss?: RankResult; functional?: RankResult } = {};
  let pending = [...kinds];
  for (;;) {
    if (k > done) {
      dirs.growTo(k);
      const view = dirs.view();
      // New rows, split across the backend's workers; each row is computed the same way whatever
      // the split, so results do not depend on it.
      const parts = Math.min(parallel, k - done);
      const bounds = Array.from({ length: parts + 1 }, (_, i) => done + Math.round(((k - done) * i) / parts));
      const rows = await Promise.all(bounds.slice(0, -1).map((c0, i) => backend.sketchRows(p, which, view, c0, bounds[i + 1] - c0, k)));
      const next: Partial<Record<'loss' | 'functional', Float64Array>> = {};
      for (const kind of kinds) next[kind] = assemble(S[kind], done, k, bounds, rows.map((r) => r[kind]!));
      S = next;
      done = k;
    }
    await Promise.all(pending.map(async (kind) => {
      const n = size[kind]!;
      results[kind] = numericalRank(await backend.eigenvalues(leadingBlock(S[kind]!, n), n), P, `sketch ${n}`);
    }));
    // The stopping rule, per Hessian: its rank is at least `margin` below its block size.
    pending = pending.filter((kind) => results[kind]!.rank > size[kind]! - margin);
    if (pending.length === 0) return { ...results, size: k };
    for (const kind of pending) {
      const grown = Math.max(2 * size[kind]!, Math.ceil(1.25 * results[kind]!.rank) + 2 * margin);
      if (size[kind]! >= maxK) return undefined;
      size[kind] = Math.min(grown, maxK);
    }
    k = Math.max(k, ...pending.map((kind) => size[kind]!));
  }
}

/** The leading n x n block of a packed lower triangle: its prefix (copied: the eigensolver consumes it). */
function leadingBlock(S: Float64Array, n: number): Float64Array {
  return S.slice(0, (n * (n + 1)) / 2);
}

/**
 * The packed sketch of the first k directions: the earlier one (the first `done` rows) followed
 * by the new rows, each part's block at its place. Each entry has one source, whatever the split.
 */
function assemble(prev: Float64Array | undefined, done: number, k: number, bounds: readonly number[], rows: readonly Float64Array[]): Float64Array {
  const S = new Float64Array((k * (k + 1)) / 2);
  if (prev) S.set(prev.subarray(0, (done * (done + 1)) / 2));
  rows.forEach((r, part) => S.set(r, (bounds[part] * (bounds[part] + 1)) / 2));
  return S;
}

/**
 * Rank of a dense symmetric P x P matrix through the same sketch, for when the matrix is at hand
 * but its full eigensolve is the cost (a chain's dense prefix sums, see chain.ts): S = Omega^T H Omega costs
 * P * k * nnz, the eigensolve k^3 instead of P^3. Falls back to the full eigensolve when the
 * sketch would exceed `maxFraction` of P (default 0.9). Does not modify h.
 */
export function denseSketchRank(h: Float64Array, P: number, eigen: (a: Float64Array, n: number) => Float64Array, opts: SketchOptions = {}): RankResult {
  const nnz = Math.min(opts.nnz ?? SKETCH_NNZ, P);
  const margin = opts.margin ?? SKETCH_MARGIN;
  const maxK = Math.floor((opts.maxFraction ?? DENSE_SKETCH_MAX_FRACTION) * P);
  let k = Math.min(Math.max(opts.initial ?? 128, 2 * margin), maxK);
  const dirs = new DealtDirections(P, nnz, opts.seed ?? 0, k);
  while (k > margin && k <= maxK) {
    dirs.growTo(k);
    const S = denseSketchMatrix(h, P, dirs, k);
    const r = numericalRank(eigen(S, k), P, `dense sketch ${k}`);
    if (r.rank <= k - margin) return r;
    const next = Math.max(2 * k, Math.ceil(1.25 * r.rank) + 2 * margin);
    if (k >= maxK) break;
    k = Math.min(next, maxK);
  }
  const copy = new Float64Array(h);
  return numericalRank(eigen(copy, P), P, 'dense');
}

/** S = Omega^T H Omega for the first k dealt directions (k x k, a reused buffer: consume it before the next call). */
function denseSketchMatrix(h: Float64Array, P: number, dirs: DealtDirections, k: number): Float64Array {
  const { index, value, nnz } = dirs;
  // Y = H Omega, one column per direction (rows of H are its columns: H is symmetric). Four
  // source rows per pass over a Y row; buffers reused across calls (see linalg/scratch.ts).
  const Y = scratch('sketch.dense.Y', k * P);
  const quads = nnz - (nnz % 4);
  for (let c = 0; c < k; c++) {
    const yo = c * P, o = c * nnz;
    let t = 0;
    for (; t < quads; t += 4) {
      const v0 = value[o + t], v1 = value[o + t + 1], v2 = value[o + t + 2], v3 = value[o + t + 3];
      const a0 = index[o + t] * P, a1 = index[o + t + 1] * P, a2 = index[o + t + 2] * P, a3 = index[o + t + 3] * P;
      for (let i = 0; i < P; i++) Y[yo + i] += v0 * h[a0 + i] + v1 * h[a1 + i] + v2 * h[a2 + i] + v3 * h[a3 + i];
    }
    for (; t < nnz; t++) {
      const v = value[o + t], a = index[o + t] * P;
      for (let i = 0; i < P; i++) Y[yo + i] += v * h[a + i];
    }
  }
  // S = Omega^T Y, one triangle computed and mirrored (exactly symmetric by construction).
  const S = scratch('sketch.dense.S', k * k, { zero: false });
  for (let g = 0; g < k; g++) {
    const yo = g * P;
    for (let c = 0; c <= g; c++) {
      const o = c * nnz;
      let acc = 0;
      for (let t = 0; t < nnz; t++) acc += value[o + t] * Y[yo + index[o + t]];
      S[g * k + c] = acc;
      S[c * k + g] = acc;
    }
  }
  return S;
}
