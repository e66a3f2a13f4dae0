/**
 * Eigenvalues of a dense real symmetric matrix, in float64, in plain JavaScript (Float64Array).
 *
 * Why hand-written: no npm library offers a fast float64 symmetric eigensolver. ml-matrix's
 * EVD (a port of JAMA's tred2/tql2, which also accumulates eigenvectors) took 82 s at
 * n = 2000; this file, eigenvalues only, takes about 2 s (see bench/eigen.ts).
 *
 * Algorithm (the classical one, as LAPACK dsytd2 + dsterf / EISPACK tred1 + tqlrat):
 *   1. Scale the matrix by a power of two so its largest entry is in [1, 2) (exact; keeps tiny
 *      or huge matrices away from underflow and overflow); unscale the eigenvalues after.
 *   2. Householder tridiagonalisation, bottom-up: step i annihilates row i left of the
 *      sub-diagonal with the reflector H = I - tau v v^T (LAPACK dlarfg form) and applies
 *      A <- H A H to the leading i x i block as the symmetric rank-2 update
 *      A <- A - v q^T - q v^T, with q = tau A v - (tau^2 / 2)(v^T A v) v.
 *      Speed: the lower triangle is packed row after row (row j at offset j(j+1)/2), so the
 *      trailing block is one contiguous stretch of memory and every inner loop is unit-stride.
 *      The rank-2 update of step i is fused with the product A v' of step i-1 (the next
 *      reflector v' only needs the last row of the block, which is updated first), so each
 *      step makes one pass over the trailing block, reading and writing each entry once, and
 *      the pass takes two rows at a time (four from FOUR_ROW_BLOCKS_FROM rows up) to share the
 *      vector loads between them: kernel.ts (WebAssembly SIMD, with JavaScript references that
 *      give the same bits).
 *      Cost 4/3 n^3 flops in n^3/6 entry visits; no allocation inside the loops.
 *   3. Eigenvalues of the tridiagonal matrix by LAPACK dsterf (Pal-Walker-Kahan root-free
 *      implicit QL/QR with Wilkinson-type shifts), O(n^2): sterf.ts.
 * Accuracy: both phases are backward stable, so every eigenvalue has an absolute error of a
 * small multiple of 2.2e-16 * ||A||, and the eigenvalues of a rank-deficient matrix that should
 * be zero come out at that rounding level (about 1.5 eps * max|eig| for B B^T, n = 300,
 * rank 37, slightly better than LAPACK's dsyevd). The per-step O(n) quantities ||x|| and v.p
 * are computed with compensated (Dot2) arithmetic: with plain sums those errors roughly double
 * the spurious "zero" eigenvalues.
 *
 * Input: only the LOWER triangle (a[i*n + j] with j <= i) is read; the strict upper triangle
 * is never read. Non-finite entries give an all-NaN result. With { overwrite: true } the lower
 * triangle is packed and reduced in place inside `a` (whose contents are garbage afterwards),
 * so no O(n^2) memory is allocated; otherwise a packed copy of n(n+1)/2 doubles (half of an
 * n x n copy) is made and `a` is left unchanged.
 */

import { FOUR_ROW_BLOCKS_FROM, fusedUpdateMatvec, jsBlocks, loadWasm, wasmWorkspace, type FusedBlocks, type Workspace } from './kernel.js';

import { tridiagonalQL } from './sterf.js';

export interface SymmetricEigenOptions {
  /** Let the solver destroy `a` instead of copying it (saves n(n+1)/2 doubles; JS kernel only). */
  overwrite?: boolean;
  /**
   * Kernel of the reduction's inner pass: 'wasm' (WebAssembly SIMD, default when the runtime has
   * it) or 'js' (the reference). Both perform the same operations in the same order and give
   * bit-identical eigenvalues.
   */
  kernel?: 'wasm' | 'js';
  /**
   * `a` is the packed lower triangle (row i at offset i(i+1)/2, length n(n+1)/2) instead of n x n.
   * The leading m x m block of such a matrix is its first m(m+1)/2 values.
   */
  packed?: boolean;
  /**
   * Passes over at least this many rows use four-row blocks, smaller ones two (default
   * FOUR_ROW_BLOCKS_FROM; the eigenvalues depend on it in the last bits). Tests set it low to
   * check both kernels against their references.
   */
  fourRowBlocksFrom?: number;
}

/** 2^k as a double for integer k in [-1022, 1023]. */
function pow2(k: number): number {
  return Math.pow(2, k);
}

/** Multiply by 2^k exactly (when no underflow), splitting k so each factor is representable. */
function scaleByPow2(x: Float64Array, len: number, k: number): void {
  while (k !== 0) {
    const step = k > 1000 ? 1000 : k < -1000 ? -1000 : k;
    const f = pow2(step);
    for (let i = 0; i < len; i++) x[i] *= f;
    k -= step;
  }
}

/**
 * The n eigenvalues of the symmetric n x n row-major matrix `a` (lower triangle read), sorted
 * ascending. See the file comment for the algorithm and the meaning of `overwrite`.
 */
export function symmetricEigenvalues(
  a: Float64Array,
  n: number,
  opts: SymmetricEigenOptions = {},
): Float64Array {
  const packedLen = (n * (n + 1)) / 2;
  if (!Number.isInteger(n) || n < 0 || a.length !== (opts.packed ? packedLen : n * n)) {
    throw new RangeError(opts.packed
      ? `symmetricEigenvalues: expected a packed triangle of length n(n+1)/2 = ${packedLen}, got ${a.length}`
      : `symmetricEigenvalues: expected a of length n*n = ${n}*${n}, got ${a.length}`);
  }
  if (n === 0) return new Float64Array(0);
  if (n === 1) return Float64Array.of(a[0]);

  const wasm = opts.kernel === 'js' ? null : loadWasm();
  if (opts.kernel === 'wasm' && !wasm) throw new Error('symmetricEigenvalues: the WebAssembly SIMD kernel is not available here');

  // Largest absolute entry of the lower triangle (NaN propagates into the result).
  let amax = 0;
  let sawNaN = false;
  for (let i = 0; i < n; i++) {
    const r = opts.packed ? (i * (i + 1)) / 2 : i * n;
    for (let j = 0; j <= i; j++) {
      const v = Math.abs(a[r + j]);
      if (v > amax) amax = v;
      else if (v !== v) sawNaN = true;
    }
  }
  if (sawNaN || !Number.isFinite(amax)) return new Float64Array(n).fill(NaN);
  if (amax === 0) return new Float64Array(n);

  // Pack the lower triangle row after row (in place when overwriting: the destination of
  // each entry is never after its source, and sources are read before they are overwritten).
  const fourFrom = opts.fourRowBlocksFrom ?? FOUR_ROW_BLOCKS_FROM;
  const ws = wasm ? wasmWorkspace(wasm, n, packedLen, fourFrom) : undefined;
  const t: Float64Array = ws ? ws.t : opts.overwrite ? a : new Float64Array(packedLen);
  if (opts.packed) {
    if (t !== a) t.set(a);
  } else {
    for (let i = 0, off = 0; i < n; off += ++i) {
      const r = i * n;
      for (let j = 0; j <= i; j++) t[off + j] = a[r + j];
    }
  }
  // Exact power-of-two scaling to max |entry| in [1, 2).
  const expo = Math.floor(Math.log2(amax));
  scaleByPow2(t, packedLen, -expo);

  const d = new Float64Array(n);
  const e = new Float64Array(n); // e[i] couples i and i+1 (QL convention); e[n-1] = 0
  const vecs = ws ? ws.vecs : ([0, 1, 2, 3].map(() => new Float64Array(n)) as Workspace['vecs']);
  tridiagonalizePacked(t, n, d, e, vecs, ws ? ws.fused : jsBlocks(fourFrom));
  tridiagonalQL(d, e, n);
  scaleByPow2(d, n, expo);
  d.sort();
  return d;
}

/**
 * Householder reduction of the packed lower triangle `t` (row j at offset j(j+1)/2) to
 * tridiagonal form: diagonal into d[0..n-1], off-diagonal e[i] = T[i+1][i] into e[0..n-2].
 * Destroys t.
 */
function tridiagonalizePacked(
  t: Float64Array, n: number, d: Float64Array, e: Float64Array,
  vecs: readonly [Float64Array, Float64Array, Float64Array, Float64Array], blocks: FusedBlocks,
): void {
  // Pending rank-2 update A <- A - u q^T - q u^T on the leading block (rows 0..i of the
  // current step); `pending` says whether (u, q) holds one. v is the new reflector, p = A v.
  let [u, q, v, p] = vecs;
  u.fill(0); q.fill(0); v.fill(0); p.fill(0);
  let pending = false;

  for (let i = n - 1; i >= 1; i--) {
    const offI = (i * (i + 1)) / 2;
    // Bring row i up to date.
    if (pending) {
      const ui = u[i];
      const qi = q[i];
      for (let k = 0; k <= i; k++) t[offI + k] -= ui * q[k] + qi * u[k];
    }
    d[i] = t[offI + i];
    const l = i - 1;
    if (i === 1) {
      e[0] = t[offI];
      break;
    }

    // Reflector for x = row i, columns 0..l: H x = g e_l with |g| = ||x||.
    let xmax = 0;
    for (let k = 0; k < l; k++) {
      const ak = Math.abs(t[offI + k]);
      if (ak > xmax) xmax = ak;
    }
    const f = t[offI + l];
    if (xmax === 0) {
      // Already tridiagonal in this row: identity transform, any pending update stays
      // pending for rows 0..l.
      e[l] = f;
      continue;
    }
    const af = Math.abs(f);
    if (af > xmax) xmax = af;
    // alpha = ||x||; power-of-two scaling keeps the sum of squares exact-scaled and free of
    // underflow however small the row is.
    const sx = Math.floor(Math.log2(xmax));
    const alpha = Math.sqrt(scaledSumSquares(t, offI, i, -sx)) * pow2(sx);
    // LAPACK dlarfg form: H = I - tau v v^T with v[l] = 1, |v[k]| <= 1, tau in [1, 2], so no
    // intermediate is smaller than the entries of the row (no underflow for tiny blocks).
    const g = f >= 0 ? -alpha : alpha;
    e[l] = g;
    const tau = (g - f) / g;
    const fg = f - g;
    for (let k = 0; k < l; k++) v[k] = t[offI + k] / fg;
    v[l] = 1;

    // One pass over rows 0..l: apply the pending update (if any) and accumulate p = A v.
    p.fill(0, 0, i);
    if (pending) fusedUpdateMatvec(t, l, u, q, v, p, blocks);
    else matvecPacked(t, l, v, p);

    // p <- tau A v; q <- p - (tau/2)(p.v) v, so that H A H = A - v q^T - q v^T.
    for (let k = 0; k <= l; k++) p[k] *= tau;
    const kk = -0.5 * tau * dot2(v, p, i);
    for (let k = 0; k <= l; k++) p[k] += kk * v[k];
    // The new pending update is (v, p); recycle the old buffers.
    const ou = u;
    const oq = q;
    u = v;
    q = p;
    v = ou;
    p = oq;
    pending = true;
  }
  // Row 0.
  if (pending) t[0] -= 2 * u[0] * q[0];
  d[0] = t[0];
  e[n - 1] = 0;
}

const SPLITTER = 134217729; // 2^27 + 1, Dekker's splitting constant

/**
 * x . y for x, y of length len, as if computed in twice the working precision (Ogita, Rump &
 * Oishi's Dot2: error-free products and sums with a running correction). O(len) per call, used
 * only for the O(n) per step quantities whose rounding otherwise inflates the eigenvalues that
 * should be zero of rank-deficient matrices by about 2x.
 */
function dot2(x: Float64Array, y: Float64Array, len: number): number {
  let s = 0;
  let c = 0;
  for (let k = 0; k < len; k++) {
    const a = x[k];
    const b = y[k];
    const pr = a * b;
    let w = SPLITTER * a;
    const ah = w - (w - a);
    const al = a - ah;
    w = SPLITTER * b;
    const bh = w - (w - b);
    const bl = b - bh;
    const pe = al * bl - (((pr - ah * bh) - al * bh) - ah * bl);
    const s1 = s + pr;
    const z = s1 - s;
    const se = (s - (s1 - z)) + (pr - z);
    s = s1;
    c += pe + se;
  }
  return s + c;
}

/** sum_k (x[off + k] * 2^e)^2 for k < len, with Dot2 accuracy (scaling by 2^e is exact). */
function scaledSumSquares(x: Float64Array, off: number, len: number, e: number): number {
  // Two factors so that 2^e is representable even for subnormal rows (e up to 1074).
  const e1 = e > 1000 ? 1000 : e < -1000 ? -1000 : e;
  const f1 = pow2(e1);
  const f2 = pow2(e - e1);
  let s = 0;
  let c = 0;
  for (let k = 0; k < len; k++) {
    const a = x[off + k] * f1 * f2;
    const pr = a * a;
    const w = SPLITTER * a;
    const ah = w - (w - a);
    const al = a - ah;
    const pe = al * al - (((pr - ah * ah) - al * ah) - ah * al);
    const s1 = s + pr;
    const z = s1 - s;
    const se = (s - (s1 - z)) + (pr - z);
    s = s1;
    c += pe + se;
  }
  return s + c;
}

/** p[0..m] += A v for the packed symmetric block of rows 0..m (p pre-zeroed). */
function matvecPacked(t: Float64Array, m: number, v: Float64Array, p: Float64Array): void {
  let off = 0;
  for (let j = 0; j <= m; j++) {
    const vj = v[j];
    let s0 = 0;
    let s1 = 0;
    let k = 0;
    for (; k + 1 < j; k += 2) {
      const a0 = t[off + k];
      const a1 = t[off + k + 1];
      s0 += a0 * v[k];
      s1 += a1 * v[k + 1];
      p[k] += a0 * vj;
      p[k + 1] += a1 * vj;
    }
    for (; k < j; k++) {
      const a0 = t[off + k];
      s0 += a0 * v[k];
      p[k] += a0 * vj;
    }
    p[j] += s0 + s1 + t[off + j] * vj;
    off += j + 1;
  }
}

