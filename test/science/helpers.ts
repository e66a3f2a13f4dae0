/** Small generated fixtures for science tests: Gaussian data and one-hot targets. */
import { Rng } from '../../src/science/random.js';
import type { Dataset } from '../../src/science/types.js';
import type { Loss } from '../../src/science/losses.js';

export function gaussianData(n: number, d: number, k: number, seed: number, opts: { inputRank?: number; pm1?: boolean } = {}): Dataset {
  const rng = new Rng(seed, 'test-data');
  const x = new Float64Array(n * d);
  if (opts.inputRank !== undefined) {
    // x_i = B c_i with B d x r: rank(X^T X) = min(r, n).
    const r = opts.inputRank;
    const B = Float64Array.from({ length: d * r }, () => rng.normal());
    for (let i = 0; i < n; i++) {
      const c = Array.from({ length: r }, () => rng.normal());
      for (let j = 0; j < d; j++) { let s = 0; for (let t = 0; t < r; t++) s += B[j * r + t] * c[t]; x[i * d + j] = s; }
    }
  } else {
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  }
  const y = new Float64Array(n * k);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % Math.max(k, 2);
    if (opts.pm1) y[i] = labels[i] === 0 ? -1 : 1;
    else y[i * k + (i % k)] = 1;
  }
  return { x, y, labels, n, d, k, classes: Math.max(k, 2), description: `gaussian ${n}x${d}` };
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * The outer-product Hessian sum_i J_i^T A_i J_i (P x P) from a Jacobian J (N K x P, row (i, k))
 * and the loss's output Hessians at the outputs `out` (N x K): the reference the R-operator's H_O
 * is checked against.
 */
export function outerFromJacobian(J: Float64Array, out: Float64Array, data: Dataset, loss: Loss, P: number): Float64Array {
  const N = data.n, K = data.k;
  const HO = new Float64Array(P * P), A = new Float64Array(K * K);
  for (let i = 0; i < N; i++) {
    loss.outputHessian(out, data.y, i * K, K, A);
    for (let a = 0; a < P; a++) for (let b = 0; b < P; b++) {
      let s = 0;
      for (let k1 = 0; k1 < K; k1++) for (let k2 = 0; k2 < K; k2++) s += J[(i * K + k1) * P + a]! * A[k1 * K + k2]! * J[(i * K + k2) * P + b]!;
      HO[a * P + b] += s;
    }
  }
  return HO;
}
