/**
 * Running sums of dense Hessians over growing sample prefixes, for sample-size sweeps: the ranks
 * at N = 10, 20, ..., 400 reuse the sums of earlier batches instead of starting over at every N.
 * Only for networks small enough for the dense route (P x P matrices per requested Hessian).
 * PrefixChain (chain.ts) sums sketch products instead and falls back to these for a Hessian
 * without a rank hint, or whose sketch the stopping rule refuses.
 */
import { symmetricEigenvalues } from '../linalg/eigen.js';
import { scratch } from '../linalg/scratch.js';
import type { Loss } from '../losses.js';
import { numericalRank, type RankResult } from '../rank.js';
import type { Dataset, HessianKind, Network } from '../types.js';
import { denseHessians, symmetrize } from './dense.js';
import { denseSketchRank } from './sketch.js';
import { HessianOperator } from './operator.js';

export class HessianAccumulator {
  readonly params: number;
  /** Samples summed so far (always a prefix of the data). */
  samples = 0;
  private readonly sums: Partial<Record<HessianKind, Float64Array>> = {};

  constructor(readonly net: Network, readonly loss: Loss, readonly which: readonly HessianKind[]) {
    this.params = net.theta.length;
    for (const kind of which) this.sums[kind] = new Float64Array(this.params * this.params);
  }

  /** Adds samples [this.samples, end) of data; data's first `this.samples` rows must be the ones already summed. */
  addUpTo(data: Dataset, end: number, batchSize?: number): void {
    if (end < this.samples || end > data.n) throw new RangeError(`accumulate: cannot grow from ${this.samples} to ${end} samples (data has ${data.n})`);
    if (end === this.samples) return;
    const part = sliceSamples(data, this.samples, end);
    denseHessians(new HessianOperator(this.net, part, this.loss, { batchSize }), this.which, undefined, this.sums);
    this.samples = end;
  }

  /**
   * Ranks of the current sums (of `kinds`, default all summed). With hints (e.g. the ranks at the
   * previous sample size), each comes from a sketch of the dense sum sized by its hint, the
   * stopping rule deciding (see denseSketchRank); without, from a full eigensolve of a
   * symmetrised copy.
   */
  ranks(hints?: Partial<Record<HessianKind, number>>, seed = 0, kinds: readonly HessianKind[] = this.which): Partial<Record<HessianKind, RankResult>> {
    const P = this.params;
    const out: Partial<Record<HessianKind, RankResult>> = {};
    const eigen = (a: Float64Array, n: number): Float64Array => symmetricEigenvalues(a, n, { overwrite: true });
    for (const kind of kinds) {
      if (!this.which.includes(kind)) throw new RangeError(`accumulate: ${kind} is not summed here`);
      const m = this.symmetrizedSum(kind);
      const hint = hints?.[kind];
      out[kind] = hint === undefined ? numericalRank(eigen(m, P), P, 'dense') : denseSketchRank(m, P, eigen, { initial: hint + 32, seed });
    }
    return out;
  }

  /**
   * A symmetrised copy of one running sum, in a reused buffer (valid until the next call): the
   * sum itself stays as summed, whatever is ranked on the way.
   */
  private symmetrizedSum(kind: HessianKind): Float64Array {
    const P = this.params;
    const m = scratch('accumulate.ranks', P * P, { zero: false });
    m.set(this.sums[kind]!);
    symmetrize(m, P);
    return m;
  }
}

/** Samples [start, end) of a dataset, sharing its memory. */
export function sliceSamples(data: Dataset, start: number, end: number): Dataset {
  return {
    ...data,
    x: data.x.subarray(start * data.d, end * data.d),
    y: data.y.subarray(start * data.k, end * data.k),
    labels: data.labels.subarray(start, end),
    n: end - start,
  };
}
