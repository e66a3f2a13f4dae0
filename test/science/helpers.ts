/** Small generated fixtures for science tests: Gaussian data and one-hot targets. */
import { Rng } from '../../src/science/random.js';
import type { Dataset } from '../../src/science/types.js';

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
