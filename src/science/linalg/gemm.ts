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
  let i = 0;
  // Two C rows per pass share the loads of B (measured 1.2 - 1.8x); per entry the operations
  // and their order are those of one row alone.
  for (; i + 1 < m; i += 2) {
    const ai = aOff + i * p, ak = ai + p, ci = cOff + i * n, ck = ci + n;
    let t = 0;
    // Four rows of B per pass over the C rows: a quarter of the C loads and stores.
    for (; t + 3 < p; t += 4) {
      const x0 = alpha * a[ai + t], x1 = alpha * a[ai + t + 1], x2 = alpha * a[ai + t + 2], x3 = alpha * a[ai + t + 3];
      const y0 = alpha * a[ak + t], y1 = alpha * a[ak + t + 1], y2 = alpha * a[ak + t + 2], y3 = alpha * a[ak + t + 3];
      rowPair4(n, b, bOff + t * n, x0, x1, x2, x3, c, ci, y0, y1, y2, y3, ck);
    }
    for (; t < p; t++) rowPair1(n, b, bOff + t * n, alpha * a[ai + t], c, ci, alpha * a[ak + t], ck);
  }
  if (i < m) {
    const ai = aOff + i * p, ci = cOff + i * n;
    let t = 0;
    for (; t + 3 < p; t += 4) rowPair4(n, b, bOff + t * n, alpha * a[ai + t], alpha * a[ai + t + 1], alpha * a[ai + t + 2], alpha * a[ai + t + 3], c, ci, 0, 0, 0, 0, -1);
    for (; t < p; t++) rowPair1(n, b, bOff + t * n, alpha * a[ai + t], c, ci, 0, -1);
  }
}

/** C[m x n] += alpha * A[p x m]^T * B[p x n]. */
export function gemmTN(
  m: number, n: number, p: number, alpha: number,
  a: Float64Array, aOff: number, b: Float64Array, bOff: number,
  c: Float64Array, cOff: number,
): void {
  let t = 0;
  // Four rows of A and B per pass over C: a quarter of the C loads and stores; two C rows per
  // pass share the loads of B (as in gemmNN).
  for (; t + 3 < p; t += 4) {
    const a0 = aOff + t * m, a1 = a0 + m, a2 = a1 + m, a3 = a2 + m;
    const bt = bOff + t * n;
    let i = 0;
    for (; i + 1 < m; i += 2) {
      rowPair4(n, b, bt, alpha * a[a0 + i], alpha * a[a1 + i], alpha * a[a2 + i], alpha * a[a3 + i], c, cOff + i * n,
        alpha * a[a0 + i + 1], alpha * a[a1 + i + 1], alpha * a[a2 + i + 1], alpha * a[a3 + i + 1], cOff + (i + 1) * n);
    }
    if (i < m) rowPair4(n, b, bt, alpha * a[a0 + i], alpha * a[a1 + i], alpha * a[a2 + i], alpha * a[a3 + i], c, cOff + i * n, 0, 0, 0, 0, -1);
  }
  for (; t < p; t++) {
    const a0 = aOff + t * m, bt = bOff + t * n;
    let i = 0;
    for (; i + 1 < m; i += 2) rowPair1(n, b, bt, alpha * a[a0 + i], c, cOff + i * n, alpha * a[a0 + i + 1], cOff + (i + 1) * n);
    if (i < m) rowPair1(n, b, bt, alpha * a[a0 + i], c, cOff + i * n, 0, -1);
  }
}

/**
 * C row ci += x0 B[t] + x1 B[t+1] + x2 B[t+2] + x3 B[t+3] (rows of B from bt, n apart), and the
 * same for row ck with y (ck < 0: no second row). A row whose multipliers are all zero is
 * skipped (sparse directions make many such rows).
 */
function rowPair4(
  n: number, b: Float64Array, bt: number, x0: number, x1: number, x2: number, x3: number, c: Float64Array, ci: number,
  y0: number, y1: number, y2: number, y3: number, ck: number,
): void {
  const b0 = bt, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
  const xs = !(x0 === 0 && x1 === 0 && x2 === 0 && x3 === 0);
  const ys = ck >= 0 && !(y0 === 0 && y1 === 0 && y2 === 0 && y3 === 0);
  if (xs && ys) {
    for (let j = 0; j < n; j++) {
      const v0 = b[b0 + j], v1 = b[b1 + j], v2 = b[b2 + j], v3 = b[b3 + j];
      c[ci + j] += x0 * v0 + x1 * v1 + x2 * v2 + x3 * v3;
      c[ck + j] += y0 * v0 + y1 * v1 + y2 * v2 + y3 * v3;
    }
  } else if (xs) {
    for (let j = 0; j < n; j++) c[ci + j] += x0 * b[b0 + j] + x1 * b[b1 + j] + x2 * b[b2 + j] + x3 * b[b3 + j];
  } else if (ys) {
    for (let j = 0; j < n; j++) c[ck + j] += y0 * b[b0 + j] + y1 * b[b1 + j] + y2 * b[b2 + j] + y3 * b[b3 + j];
  }
}

/** C row ci += x B[t] and row ck += y B[t] (ck < 0: no second row); zero multipliers skip their row. */
function rowPair1(n: number, b: Float64Array, bt: number, x: number, c: Float64Array, ci: number, y: number, ck: number): void {
  const xs = x !== 0, ys = ck >= 0 && y !== 0;
  if (xs && ys) {
    for (let j = 0; j < n; j++) { const v = b[bt + j]; c[ci + j] += x * v; c[ck + j] += y * v; }
  } else if (xs) {
    for (let j = 0; j < n; j++) c[ci + j] += x * b[bt + j];
  } else if (ys) {
    for (let j = 0; j < n; j++) c[ck + j] += y * b[bt + j];
  }
}
