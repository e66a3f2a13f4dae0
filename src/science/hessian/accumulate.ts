/**
 * Running sums of dense Hessians over growing sample prefixes, for sample-size sweeps of networks
 * without the linear structure (chain.ts): the spectra at N = 10, 20, ..., 400 reuse the sums of
 * earlier batches instead of starting over at every N. Only for networks small enough for the
 * dense route (P x P matrices per requested Hessian).
 */
import { symmetricEigenvalues } from '../linalg/eigen.js';
import { scratch } from '../linalg/scratch.js';
import type { Loss } from '../losses.js';
import type { Dataset, HessianKind, Network } from '../types.js';
import { denseHessians, symmetrize } from './dense.js';
import { productOperator } from './tied.js';

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
    denseHessians(productOperator(this.net, part, this.loss, { batchSize }), this.which, undefined, this.sums);
    this.samples = end;
  }

  /** Eigenvalues (ascending) of one current sum, from a symmetrised copy: the sum stays as summed. */
  eigenvalues(kind: HessianKind): Float64Array {
    if (!this.which.includes(kind)) throw new RangeError(`accumulate: ${kind} is not summed here`);
    const P = this.params;
    const m = scratch('accumulate.eigen', P * P, { zero: false });
    m.set(this.sums[kind]!);
    symmetrize(m, P);
    return symmetricEigenvalues(m, P, { overwrite: true });
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
