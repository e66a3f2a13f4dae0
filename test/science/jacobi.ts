/** A reference eigensolver for tests (small n only). */
/**
 * Eigenvalues (ascending) of the symmetric n x n row-major matrix `a` (lower triangle read, as
 * symmetricEigenvalues) by the cyclic Jacobi method, in the accurate formulation of Numerical
 * Recipes' `jacobi`: rotations update entries by small corrections (a - s (b + tau a)) and the
 * diagonal through accumulated shifts, so rounding errors scale with the rotation, not with the
 * entries. O(n^3) per sweep: a reference for tests, small n only. Does not modify `a`.
 */
export function jacobiEigenvalues(a: Float64Array, n: number): Float64Array {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw new RangeError(`jacobiEigenvalues: expected a of length n*n = ${n}*${n}, got ${a.length}`);
  }
  // Working copy, symmetric from the lower triangle; the strict upper triangle is rotated.
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      m[i * n + j] = a[i * n + j];
      m[j * n + i] = a[i * n + j];
    }
  }
  const d = new Float64Array(n);
  const b = new Float64Array(n);
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = b[i] = m[i * n + i];
  for (let sweep = 1; sweep <= 100; sweep++) {
    let sm = 0;
    for (let p = 0; p < n - 1; p++) for (let q = p + 1; q < n; q++) sm += Math.abs(m[p * n + q]);
    if (sm === 0) break;
    if (sweep === 100) throw new Error('jacobiEigenvalues: no convergence in 100 sweeps');
    const tresh = sweep < 4 ? (0.2 * sm) / (n * n) : 0;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        const g = 100 * Math.abs(apq);
        if (sweep > 4 && Math.abs(d[p]) + g === Math.abs(d[p]) && Math.abs(d[q]) + g === Math.abs(d[q])) {
          m[p * n + q] = 0;
          continue;
        }
        if (Math.abs(apq) <= tresh) continue;
        let h = d[q] - d[p];
        let t: number;
        if (Math.abs(h) + g === Math.abs(h)) {
          t = apq / h;
        } else {
          const theta = (0.5 * h) / apq;
          t = 1 / (Math.abs(theta) + Math.sqrt(1 + theta * theta));
          if (theta < 0) t = -t;
        }
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        const tau = s / (1 + c);
        h = t * apq;
        z[p] -= h;
        z[q] += h;
        d[p] -= h;
        d[q] += h;
        m[p * n + q] = 0;
        // Rotate the other entries of rows/columns p and q (upper triangle only).
        const rot = (i1: number, i2: number): void => {
          const gg = m[i1];
          const hh = m[i2];
          m[i1] = gg - s * (hh + gg * tau);
          m[i2] = hh + s * (gg - hh * tau);
        };
        for (let j = 0; j < p; j++) rot(j * n + p, j * n + q);
        for (let j = p + 1; j < q; j++) rot(p * n + j, j * n + q);
        for (let j = q + 1; j < n; j++) rot(p * n + j, q * n + j);
      }
    }
    for (let i = 0; i < n; i++) {
      b[i] += z[i];
      d[i] = b[i];
      z[i] = 0;
    }
  }
  return d.sort();
}
