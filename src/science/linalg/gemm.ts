/**
 * Dense float64 matrix products on row-major Float64Array, with explicit offsets.
 *
 * Hand-written because no npm package offers float64 GEMM without native binaries; the loop
 * orders keep the innermost loop contiguous in memory, which is what V8 rewards.
 * All functions ACCUMULATE into C (C += alpha * op(A) op(B)); zero C first when needed.
 */

/** C[m x n] += alpha * A[m x p] * B[n x p]^T  (rows of A dotted with rows of B). */
export function gemmNT(
  m: number, n: number, p: number, alpha: number,
  a: Float64Array, aOff: number, b: Float64Array, bOff: number,
  c: Float64Array, cOff: number,
): void {
  // Two rows of A against two rows of B per step: four dot products share the loads.
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const a0 = aOff + i * p, a1 = a0 + p;
    const c0 = cOff + i * n, c1 = c0 + n;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const b0 = bOff + j * p, b1 = b0 + p;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
      for (let t = 0; t < p; t++) {
        const x0 = a[a0 + t], x1 = a[a1 + t], y0 = b[b0 + t], y1 = b[b1 + t];
        s00 += x0 * y0; s01 += x0 * y1; s10 += x1 * y0; s11 += x1 * y1;
      }
      c[c0 + j] += alpha * s00; c[c0 + j + 1] += alpha * s01;
      c[c1 + j] += alpha * s10; c[c1 + j + 1] += alpha * s11;
    }
    if (j < n) {
      const b0 = bOff + j * p;
      let s0 = 0, s1 = 0;
      for (let t = 0; t < p; t++) { s0 += a[a0 + t] * b[b0 + t]; s1 += a[a1 + t] * b[b0 + t]; }
      c[c0 + j] += alpha * s0; c[c1 + j] += alpha * s1;
    }
  }
  if (i < m) {
    const a0 = aOff + i * p, c0 = cOff + i * n;
    for (let j = 0; j < n; j++) {
      const b0 = bOff + j * p;
      let s = 0;
      for (let t = 0; t < p; t++) s += a[a0 + t] * b[b0 + t];
      c[c0 + j] += alpha * s;
    }
  }
}

/** C[m x n] += alpha * A[m x p] * B[p x n]. */
export function gemmNN(
  m: number, n: number, p: number, alpha: number,
  a: Float64Array, aOff: number, b: Float64Array, bOff: number,
  c: Float64Array, cOff: number,
): void {
  for (let i = 0; i < m; i++) {
    const ai = aOff + i * p, ci = cOff + i * n;
    let t = 0;
    // Four rows of B per pass over the C row: a quarter of the C loads and stores.
    for (; t + 3 < p; t += 4) {
      const x0 = alpha * a[ai + t], x1 = alpha * a[ai + t + 1], x2 = alpha * a[ai + t + 2], x3 = alpha * a[ai + t + 3];
      if (x0 === 0 && x1 === 0 && x2 === 0 && x3 === 0) continue;
      const b0 = bOff + t * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) c[ci + j] += x0 * b[b0 + j] + x1 * b[b1 + j] + x2 * b[b2 + j] + x3 * b[b3 + j];
    }
    for (; t < p; t++) {
      const x0 = alpha * a[ai + t];
      if (x0 === 0) continue;
      const b0 = bOff + t * n;
      for (let j = 0; j < n; j++) c[ci + j] += x0 * b[b0 + j];
    }
  }
}

/** C[m x n] += alpha * A[p x m]^T * B[p x n]. */
export function gemmTN(
  m: number, n: number, p: number, alpha: number,
  a: Float64Array, aOff: number, b: Float64Array, bOff: number,
  c: Float64Array, cOff: number,
): void {
  let t = 0;
  // Four rows of A and B per pass over C: a quarter of the C loads and stores.
  for (; t + 3 < p; t += 4) {
    const a0 = aOff + t * m, a1 = a0 + m, a2 = a1 + m, a3 = a2 + m;
    const b0 = bOff + t * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
    for (let i = 0; i < m; i++) {
      const x0 = alpha * a[a0 + i], x1 = alpha * a[a1 + i], x2 = alpha * a[a2 + i], x3 = alpha * a[a3 + i];
      if (x0 === 0 && x1 === 0 && x2 === 0 && x3 === 0) continue;
      const ci = cOff + i * n;
      for (let j = 0; j < n; j++) c[ci + j] += x0 * b[b0 + j] + x1 * b[b1 + j] + x2 * b[b2 + j] + x3 * b[b3 + j];
    }
  }
  for (; t < p; t++) {
    const a0 = aOff + t * m, b0 = bOff + t * n;
    for (let i = 0; i < m; i++) {
      const x0 = alpha * a[a0 + i];
      if (x0 === 0) continue;
      const ci = cOff + i * n;
      for (let j = 0; j < n; j++) c[ci + j] += x0 * b[b0 + j];
    }
  }
}

/** C[m x m] = A[m x p] * A^T (symmetric; both triangles written). Overwrites C. */
export function syrk(m: number, p: number, a: Float64Array, c: Float64Array): void {
  c.fill(0, 0, m * m);
  for (let i = 0; i < m; i++) {
    const ai = i * p;
    for (let j = 0; j <= i; j++) {
      const aj = j * p;
      let s = 0;
      for (let t = 0; t < p; t++) s += a[ai + t] * a[aj + t];
      c[i * m + j] = s;
      c[j * m + i] = s;
    }
  }
}
