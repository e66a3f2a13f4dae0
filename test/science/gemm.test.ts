import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/science/random.js';
import { gemmNN, gemmNT, gemmTN } from '../../src/science/linalg/gemm.js';

/** Random values with some exact zeros (the kernels skip all-zero multipliers). */
function randomArray(len: number, rng: Rng, zeros = 0.2): Float64Array {
  const x = new Float64Array(len);
  for (let i = 0; i < len; i++) x[i] = rng.uniform() < zeros ? 0 : rng.normal();
  return x;
}

/** C += alpha op(A) op(B) by the textbook triple loop, over logical (i, j, t) indices. */
function naive(m: number, n: number, p: number, alpha: number, A: (i: number, t: number) => number, B: (t: number, j: number) => number, c: Float64Array, cOff: number): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < p; t++) s += A(i, t) * B(t, j);
      c[cOff + i * n + j] += alpha * s;
    }
  }
}

function close(got: Float64Array, want: Float64Array, what: string): void {
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-13 * (scale + 1), `${what}: entry ${i} ${got[i]} vs ${want[i]}`);
}

test('gemmNN, gemmTN and gemmNT accumulate alpha op(A) op(B) into C at offsets, for every remainder of the unrolled loops', () => {
  const rng = new Rng(21, 'gemm');
  for (const [m, n, p] of [[1, 1, 1], [3, 5, 2], [4, 4, 4], [7, 3, 5], [6, 9, 11], [13, 2, 17], [5, 8, 64]] as const) {
    const alpha = rng.normal();
    const aOff = 3, bOff = 5, cOff = 2;
    const a = randomArray(aOff + m * p, rng), b = randomArray(bOff + p * n, rng);
    const c0 = randomArray(cOff + m * n, rng, 0);
    // NN: A is m x p, B is p x n.
    const nn = new Float64Array(c0), nnRef = new Float64Array(c0);
    gemmNN(m, n, p, alpha, a, aOff, b, bOff, nn, cOff);
    naive(m, n, p, alpha, (i, t) => a[aOff + i * p + t], (t, j) => b[bOff + t * n + j], nnRef, cOff);
    close(nn, nnRef, `NN ${m}x${n}x${p}`);
    // TN: A is p x m (used transposed), B is p x n.
    const tn = new Float64Array(c0), tnRef = new Float64Array(c0);
    gemmTN(m, n, p, alpha, a, aOff, b, bOff, tn, cOff);
    naive(m, n, p, alpha, (i, t) => a[aOff + t * m + i], (t, j) => b[bOff + t * n + j], tnRef, cOff);
    close(tn, tnRef, `TN ${m}x${n}x${p}`);
    // NT: A is m x p, B is n x p (used transposed).
    const nt = new Float64Array(c0), ntRef = new Float64Array(c0);
    gemmNT(m, n, p, alpha, a, aOff, b, bOff, nt, cOff);
    naive(m, n, p, alpha, (i, t) => a[aOff + i * p + t], (t, j) => b[bOff + j * p + t], ntRef, cOff);
    close(nt, ntRef, `NT ${m}x${n}x${p}`);
    // Entries before the offset are untouched.
    for (const x of [nn, tn, nt]) for (let i = 0; i < cOff; i++) assert.equal(x[i], c0[i]);
  }
});

