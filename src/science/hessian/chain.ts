/**
 * Spectra at growing sample prefixes N_1 < N_2 < ... (sample-size sweeps): each part of the data
 * is summed once, along the chain's boundaries, and every wanted size reads the running sums.
 *
 * Linear networks: one subspace holds the ranges of the Hessians at every prefix (subspace.ts,
 * superset mode: a prefix's subspace is a coordinate subset of it), so the chain sums the exact
 * products of its basis vectors in rotated coordinates, Z = (sum of the per-sample Hessians so
 * far) Q, grown in place part by part; a size's T = Q_N^T H Q_N is a selection of Z's entries
 * (no products, no projection). Its check: Z's rows must vanish outside the size's subspace, and
 * H on the rest of the space (two probe vectors summed along) too. A Hessian that fails the check,
 * and every Hessian of a nonlinear network, is ranked from dense P x P sums (HessianAccumulator)
 * through the same boundaries: so a size's spectrum never depends on which other sizes a chain job
 * ranks, or on how a caller splits the work.
 */
import { symmetricEigenvalues } from '../linalg/eigen.js';
import { getLoss, type Loss } from '../losses.js';
import { subspaceSpectrum, type PointSpectra, type Spectrum } from '../spectrum.js';
import type { Dataset, HessianKind, LossName, Network } from '../types.js';
import { HessianAccumulator, sliceSamples } from './accumulate.js';
import { HessianOperator } from './operator.js';
import { probeDirections, probeNorms } from './probe.js';
import { SubspaceOperator } from './rotated.js';
import { SUBSPACE_CHUNK } from './structured.js';
import { prefixFunctional } from './functional.js';
import { linearHessianSubspace, prefixSets, prefixXCounts, subspaceIndex, type HessianSubspace, type SubspaceIndex } from './subspace.js';

/** Rows of the summed products checked per size (see `reach`). */
const CHECKED_ROWS = 32;

/** A size's projected Hessian, ready for an eigensolve anywhere. */
export interface ChainProjection {
  readonly kind: HessianKind;
  readonly n: number;
  /** Packed lower triangle (fresh: it can be moved to another thread and consumed). */
  readonly packed: Float64Array;
  /** The check's reach: the largest |H v| seen outside the size's subspace (absolute). */
  readonly reach: number;
}

/**
 * The subspace route's verdict on a projection's eigenvalues: its spectrum when the check passes
 * (reach within SUBSPACE_CHECK of s_max), else undefined (rank the size densely).
 */
export function acceptProjection(eigenvalues: Float64Array, projection: Omit<ChainProjection, 'packed'>, params: number): Spectrum | undefined {
  return subspaceSpectrum(eigenvalues, projection.reach, projection.n, params);
}

/**
 * One chain: `advanceTo(n)` sums the data up to the boundary n, then `spectra()` gives that
 * prefix's spectra here, or `projections()` hands its projected Hessians to be eigensolved
 * elsewhere (the streamed chain; `acceptProjection` then gives the same verdict).
 */
export class PrefixChain {
  readonly params: number;
  /** Samples summed so far. */
  samples = 0;
  private readonly sub?: HessianSubspace;
  private readonly idx?: SubspaceIndex;
  private readonly needF: boolean;
  private readonly needO: boolean;
  private readonly sumF?: Float64Array;
  private readonly sumO?: Float64Array;
  private readonly probes?: Float64Array;
  private readonly probeF?: Float64Array;
  private readonly probeO?: Float64Array;
  private dense?: HessianAccumulator;

  readonly batchSize?: number;

  /**
   * `data` holds the largest size's samples (every size is a prefix of it). `dense`: rank every
   * size from dense sums (the reference route).
   */
  constructor(
    readonly net: Network, readonly data: Dataset, readonly loss: Loss, readonly which: readonly HessianKind[],
    readonly boundaries: readonly number[], opts: { readonly batchSize?: number; readonly dense?: boolean } = {},
  ) {
    const P = (this.params = net.theta.length);
    this.batchSize = opts.batchSize;
    this.needF = which.includes('loss') || which.includes('functional');
    this.needO = which.includes('loss') || which.includes('outer');
    this.sub = opts.dense ? undefined : linearHessianSubspace(net, data, loss, { superset: true });
    if (this.sub) {
      this.idx = subspaceIndex(this.sub);
      const k = this.sub.size;
      if (this.needF) this.sumF = new Float64Array(k * P);
      if (this.needO) this.sumO = new Float64Array(k * P);
      this.probes = probeDirections(this.sub, this.idx);
      if (this.probes) {
        if (this.needF) this.probeF = new Float64Array(this.probes.length);
        if (this.needO) this.probeO = new Float64Array(this.probes.length);
      }
    }
  }

  /** True when sizes are ranked on the chain's subspace (linear networks). */
  get structured(): boolean { return this.sub !== undefined; }

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
    const sub = this.sub;
    if (sub) {
      const P = this.params;
      const part = sliceSamples(this.data, this.samples, end);
      const op = new SubspaceOperator(this.net, part, this.loss, sub, { batchSize: this.batchSize });
      for (let c0 = 0; c0 < sub.size; c0 += SUBSPACE_CHUNK) {
        const kc = Math.min(SUBSPACE_CHUNK, sub.size - c0);
        op.accumulate(c0, kc, this.sumF?.subarray(c0 * P, (c0 + kc) * P), this.sumO?.subarray(c0 * P, (c0 + kc) * P));
      }
      if (this.probes) {
        const count = this.probes.length / P;
        new HessianOperator(this.net, part, this.loss, { batchSize: this.batchSize })
          .accumulate({ kind: 'dense', count, data: this.probes }, 0, count, this.probeF, this.probeO);
      }
    }
    this.samples = end;
  }

  /** The projected Hessians at the current size (linear networks), else undefined. */
  projections(): ChainProjection[] | undefined {
    const sub = this.sub, idx = this.idx;
    if (!sub || !idx) return undefined;
    const P = this.params;
    const sets = prefixSets(sub, this.samples);
    const which = { loss: this.which.includes('loss'), outer: this.which.includes('outer'), functional: this.which.includes('functional') };
    const probe = this.probes ? probeNorms(this.probeF, this.probeO, this.probes.length / P, P, which) : {};
    const F = this.sumF, O = this.sumO;
    // The check on the chain's subspace at this size: every row of Z vanishes outside it (rows of
    // basis vectors outside it vanish entirely), and so does H on the probes.
    const reach = this.reach(sets);
    const out: ChainProjection[] = [];
    for (const kind of this.which) {
      if (kind === 'functional') {
        // H_F on the prefix's own, smaller subspace (functional.ts).
        const f = prefixFunctional(this.net, sliceSamples(this.data, 0, this.samples), this.loss, sub, idx, F!, prefixXCounts(sub, this.samples));
        if (f) {
          out.push({ kind, n: f.n, packed: f.packed, reach: Math.max(f.reach, reach.functional, probe.functional ?? 0) });
          continue;
        }
      }
      const list = sets[kind], n = list.length;
      const packed = new Float64Array((n * (n + 1)) / 2);
      for (let i = 0, at = 0; i < n; i++) {
        const g = list[i], fo = g * P;
        if (kind === 'functional') for (let j = 0; j <= i; j++) packed[at++] = F![fo + idx.coord[list[j]]];
        else if (kind === 'outer') for (let j = 0; j <= i; j++) packed[at++] = O![fo + idx.coord[list[j]]];
        else for (let j = 0; j <= i; j++) { const t = fo + idx.coord[list[j]]; packed[at++] = F![t] + O![t]; }
      }
      out.push({ kind, n, packed, reach: Math.max(reach[kind], probe[kind] ?? 0) });
    }
    return out;
  }

  /**
   * Per kind, the largest norm of a row of Z outside the kind's coordinates at the current size,
   * over CHECKED_ROWS rows spread over the basis: the subspace holds the range by construction,
   * and a construction that missed part of it would show in most rows.
   */
  private reach(sets: Record<HessianKind, Int32Array>): Record<HessianKind, number> {
    const sub = this.sub!, idx = this.idx!, P = this.params;
    const F = this.sumF, O = this.sumO;
    const inside = (list: Int32Array): Uint8Array => {
      const m = new Uint8Array(P);
      for (const g of list) m[idx.coord[g]] = 1;
      return m;
    };
    const mF = inside(sets.functional), mO = inside(sets.outer), mL = inside(sets.loss);
    const out: Record<HessianKind, number> = { loss: 0, outer: 0, functional: 0 };
    const step = Math.max(1, Math.floor(sub.size / CHECKED_ROWS));
    for (let g = 0; g < sub.size; g += step) {
      let sF = 0, sO = 0, sL = 0;
      const o = g * P;
      for (let t = 0; t < P; t++) {
        const f = F ? F[o + t] : 0, h = O ? O[o + t] : 0;
        if (mF[t] === 0) sF += f * f;
        if (mO[t] === 0) sO += h * h;
        if (mL[t] === 0) sL += (f + h) * (f + h);
      }
      out.functional = Math.max(out.functional, Math.sqrt(sF));
      out.outer = Math.max(out.outer, Math.sqrt(sO));
      out.loss = Math.max(out.loss, Math.sqrt(sL));
    }
    return out;
  }

  /**
   * Spectra at the current size: per Hessian, its projection's when the check accepts it, else
   * the dense sums' (a full eigensolve).
   */
  spectra(): Partial<Record<HessianKind, Spectrum>> {
    const out: Partial<Record<HessianKind, Spectrum>> = {};
    const refused: HessianKind[] = [];
    const projections = this.projections();
    for (const kind of this.which) {
      const pr = projections?.find((p) => p.kind === kind);
      const s = pr ? acceptProjection(symmetricEigenvalues(pr.packed, pr.n, { overwrite: true, packed: true }), pr, this.params) : undefined;
      if (s) out[kind] = s;
      else refused.push(kind);
    }
    if (refused.length > 0) Object.assign(out, this.denseSpectra(refused, projections ? 'the subspace check failed' : undefined));
    return out;
  }

  /** Dense spectra of the sums at the current size, summed through the same boundaries (made on first use). */
  denseSpectra(kinds: readonly HessianKind[], why?: string): Partial<Record<HessianKind, Spectrum>> {
    this.dense ??= new HessianAccumulator(this.net, this.loss, this.which);
    for (const end of this.boundaries) {
      if (end <= this.dense.samples) continue;
      if (end > this.samples) break;
      this.dense.addUpTo(this.data, end, this.batchSize);
    }
    const out: Partial<Record<HessianKind, Spectrum>> = {};
    for (const kind of kinds) out[kind] = { eigenvalues: this.dense.eigenvalues(kind), size: this.params, method: why ? `dense (${why})` : 'dense' };
    return out;
  }
}

/** The sizes of one chain to compute: the problem holds the largest wanted size's samples. */
export interface ChainJob {
  readonly problem: { readonly net: Network; readonly data: Dataset; readonly loss: LossName; readonly batchSize?: number };
  readonly which: readonly HessianKind[];
  readonly boundaries: readonly number[];
  readonly wanted: readonly number[];
  /** 'dense': rank every size from dense sums (the reference route). */
  readonly route: 'auto' | 'dense';
}

/**
 * Sums a chain through its boundaries up to its largest wanted size; at each wanted size calls
 * `at` with the chain, the size and the seconds spent summing since the previous wanted size.
 */
export function sumChain(job: ChainJob, at: (chain: PrefixChain, n: number, products: number) => void): void {
  const { net, data, loss, batchSize } = job.problem;
  const sizes = [...new Set(job.wanted)].sort((a, b) => a - b);
  const chain = new PrefixChain(net, data, getLoss(loss), job.which, job.boundaries, { batchSize, dense: job.route === 'dense' });
  for (const n of sizes) {
    const t0 = performance.now();
    chain.advanceTo(n);
    at(chain, n, (performance.now() - t0) / 1000);
  }
}

/** Spectra of the wanted sample sizes of a chain, summing once through its boundaries (also one size alone). */
export function chainSpectra(job: ChainJob): PointSpectra[] {
  const index = new Map(job.wanted.map((n, i) => [n, i]));
  const out: PointSpectra[] = new Array(job.wanted.length);
  sumChain(job, (chain, n, products) => {
    const t1 = performance.now();
    const s = chain.spectra();
    out[index.get(n)!] = { params: chain.params, ...s, seconds: { products, eigen: (performance.now() - t1) / 1000 } };
  });
  return out;
}
