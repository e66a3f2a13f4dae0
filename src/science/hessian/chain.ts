/**
 * Ranks at growing sample prefixes N_1 < N_2 < ... (sample-size sweeps): each part of the data is
 * summed once, along the chain's boundaries, and every wanted size reads the running sums.
 *
 * With a rank hint for a Hessian at every wanted size (linear networks: the predictions), the
 * chain keeps sketch products instead of P x P matrices: Y = (sum of the per-sample Hessians so
 * far) Omega, one row per dealt direction (DealtDirections, seed 0: the directions of
 * denseSketchRank), grown in place by exact Hessian-vector products. The sketch of a size,
 * Omega_k^T H Omega_k with k = hint + 32, is a projection of Y's first k rows, and the stopping
 * rule (rank <= k - margin) decides its rank exactly as on a dense sum. For the paper's
 * sample-size study (P = 840, k up to 692) that is k products per part instead of P, and
 * k^2 nnz / 2 per sketch instead of k P nnz plus a P x P symmetrised copy.
 *
 * A Hessian without a hint, or whose first sketch the rule refuses, is ranked from dense sums
 * (HessianAccumulator) summed through the same boundaries: so a size's ranks never depend on
 * which other sizes a chain job ranks, or on how a caller splits the work (see
 * `sketches` / `acceptSketch`).
 */
import { symmetricEigenvalues } from '../linalg/eigen.js';
import { scratch } from '../linalg/scratch.js';
import type { Loss } from '../losses.js';
import { numericalRank, type RankResult } from '../rank.js';
import type { Dataset, HessianKind, Network } from '../types.js';
import { HessianAccumulator, sliceSamples } from './accumulate.js';
import { HessianOperator } from './operator.js';
import { DENSE_SKETCH_MAX_FRACTION as MAX_FRACTION, DealtDirections, SKETCH_MARGIN as MARGIN, SKETCH_NNZ as NNZ, projectSketchRows } from './sketch.js';

export type RankHints = Partial<Record<HessianKind, number>>;

/** Directions per operator call: bounds the R-op workspace. */
const CHUNK = 64;

/** The first sketch size for a hint (hint + 32, at most 0.9 P), or undefined when none is usable. */
export function firstSketchSize(hint: number | undefined, P: number): number | undefined {
  if (hint === undefined) return undefined;
  const k = Math.min(Math.max(hint + 2 * MARGIN, 2 * MARGIN), Math.floor(MAX_FRACTION * P));
  return k > MARGIN ? k : undefined;
}

/** A sketch's verdict: its rank when the stopping rule holds (rank <= k - margin), else undefined. */
export function acceptSketch(eigenvalues: Float64Array, k: number, P: number): RankResult | undefined {
  const r = numericalRank(eigenvalues, P, `sketch ${k}`);
  return r.rank <= k - MARGIN ? r : undefined;
}

export interface ChainSketch {
  readonly kind: HessianKind;
  readonly k: number;
  /** Packed lower triangle (fresh: it can be moved to another thread and consumed). */
  readonly packed: Float64Array;
}

/**
 * One chain: `advanceTo(n)` sums the data up to the boundary n, then `ranks(hints)` ranks that
 * prefix here, or `sketches(hints)` hands its first sketches to be eigensolved elsewhere (the
 * streamed chain; `acceptSketch` then gives the same verdict `ranks` would).
 */
export class PrefixChain {
  readonly params: number;
  /** Samples summed so far. */
  samples = 0;
  private readonly rows: { functional: number; outer: number };
  private readonly dirs: DealtDirections;
  private readonly sumF: Float64Array;
  private readonly sumO: Float64Array;
  private dense?: HessianAccumulator;

  /**
   * `hints` gives the hints of each size the caller will rank (sizes without hints may be ranked
   * too: densely). Sketch rows are kept for the largest first sketch among them.
   */
  constructor(
    readonly net: Network, readonly data: Dataset, readonly loss: Loss, readonly which: readonly HessianKind[],
    readonly boundaries: readonly number[], hints: ReadonlyMap<number, RankHints | undefined>, readonly batchSize?: number,
  ) {
    const P = (this.params = net.theta.length);
    const most = (kind: HessianKind): number =>
      Math.max(0, ...[...hints.values()].map((h) => (which.includes(kind) ? firstSketchSize(h?.[kind], P) ?? 0 : 0)));
    const lossRows = most('loss');
    // H_L's products are H_F's plus H_O's: both are kept as far as H_L's sketches reach.
    this.rows = { functional: Math.max(most('functional'), lossRows), outer: Math.max(most('outer'), lossRows) };
    const k = Math.max(this.rows.functional, this.rows.outer);
    this.dirs = new DealtDirections(P, Math.min(NNZ, P), 0, k);
    this.dirs.growTo(k);
    this.sumF = new Float64Array(this.rows.functional * P);
    this.sumO = new Float64Array(this.rows.outer * P);
  }

  /** Sums the parts of the data up to the boundary `n` (a boundary at or after the samples summed so far). */
  advanceTo(n: number): void {
    if (n < this.samples || n > this.data.n) throw new RangeError(`chain: cannot grow from ${this.samples} to ${n} samples (data has ${this.data.n})`);
    for (const end of this.boundaries) {
      if (end <= this.samples) continue;
      if (end > n) break;
      this.add(end);
    }
    if (this.samples !== n) throw new RangeError(`chain: ${n} is not a boundary of this chain`);
  }

  private add(end: number): void {
    const P = this.params;
    const k = Math.max(this.rows.functional, this.rows.outer);
    if (k > 0) {
      const op = new HessianOperator(this.net, sliceSamples(this.data, this.samples, end), this.loss, { batchSize: this.batchSize });
      const dirs = { kind: 'sparse' as const, ...this.dirs.view() };
      // Chunks end where a sum's rows end, so each chunk is wholly inside or past each sum (a
      // direction's products do not depend on the chunk it is computed in).
      const { functional, outer } = this.rows;
      for (let c0 = 0; c0 < k;) {
        const c1 = Math.min(c0 + CHUNK, ...[functional, outer].filter((r) => r > c0));
        const rows = (sum: Float64Array, n: number) => (c1 <= n ? sum.subarray(c0 * P, c1 * P) : undefined);
        op.accumulate(dirs, c0, c1 - c0, rows(this.sumF, functional), rows(this.sumO, outer));
        c0 = c1;
      }
    }
    this.samples = end;
  }

  /**
   * The first sketch of each Hessian at the current size, from its hint; undefined when some
   * Hessian has no usable hint (rank the size with `ranks`).
   */
  sketches(hints: RankHints | undefined): ChainSketch[] | undefined {
    const out: ChainSketch[] = [];
    for (const kind of this.which) {
      const k = this.firstSize(kind, hints);
      if (k === undefined) return undefined;
      out.push({ kind, k, packed: this.sketch(kind, k) });
    }
    return out;
  }

  /**
   * Ranks at the current size: per Hessian, its first sketch when the stopping rule accepts it,
   * else the dense sums' rank (HessianAccumulator.ranks: growing sketches, or a full eigensolve).
   */
  ranks(hints: RankHints | undefined): Partial<Record<HessianKind, RankResult>> {
    const out: Partial<Record<HessianKind, RankResult>> = {};
    const refused: HessianKind[] = [];
    for (const kind of this.which) {
      const k = this.firstSize(kind, hints);
      const r = k !== undefined
        ? acceptSketch(symmetricEigenvalues(this.sketch(kind, k), k, { overwrite: true, packed: true }), k, this.params)
        : undefined;
      if (r) out[kind] = r;
      else refused.push(kind);
    }
    if (refused.length > 0) Object.assign(out, this.denseSums().ranks(hints, 0, refused));
    return out;
  }

  /** The first sketch size of a Hessian at the current size, when its hint gives one this chain's rows cover. */
  private firstSize(kind: HessianKind, hints: RankHints | undefined): number | undefined {
    const k = firstSketchSize(hints?.[kind], this.params);
    return k !== undefined && k <= this.rowsOf(kind) ? k : undefined;
  }

  private rowsOf(kind: HessianKind): number {
    return kind === 'functional' ? this.rows.functional : kind === 'outer' ? this.rows.outer : Math.min(this.rows.functional, this.rows.outer);
  }

  /** Omega_k^T H Omega_k as a fresh packed lower triangle. */
  private sketch(kind: HessianKind, k: number): Float64Array {
    const P = this.params;
    let Y: Float64Array;
    if (kind === 'functional') Y = this.sumF;
    else if (kind === 'outer') Y = this.sumO;
    else {
      Y = scratch('chain.loss', k * P, { zero: false });
      for (let i = 0; i < k * P; i++) Y[i] = this.sumF[i] + this.sumO[i];
    }
    const packed = new Float64Array((k * (k + 1)) / 2);
    projectSketchRows(Y, P, this.dirs.view(), 0, k, packed, 0);
    return packed;
  }

  /** Dense sums at the current size, summed through the same boundaries (made on first use). */
  private denseSums(): HessianAccumulator {
    this.dense ??= new HessianAccumulator(this.net, this.loss, this.which);
    for (const end of this.boundaries) {
      if (end <= this.dense.samples) continue;
      if (end > this.samples) break;
      this.dense.addUpTo(this.data, end, this.batchSize);
    }
    return this.dense;
  }
}
