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
 *      vector loads between them. That pass runs in WebAssembly SIMD (kernels/fused.wat, f64x2;
 *      about 1.7x the best plain-JS loop) with `fusedBlocks2` and `fusedBlocks4` as its
 *      operation-for-operation JavaScript references: both give the same bits, so results do
 *      not depend on which one ran. The kernel's memory (packed matrix and work vectors) grows
 *      to the largest matrix seen and is kept for reuse.
 *      Cost 4/3 n^3 flops in n^3/6 entry visits; no allocation inside the loops.
 *   3. Eigenvalues of the tridiagonal matrix by LAPACK dsterf (Pal-Walker-Kahan root-free
 *      implicit QL/QR with Wilkinson-type shifts), O(n^2).
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

import { WASM_BASE64 } from './kernels/fused.wasm.js';

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

/** The WebAssembly SIMD kernel (kernels/fused.wat), or null where WebAssembly SIMD is missing. */
interface WasmKernel {
  readonly memory: WebAssembly.Memory;
  readonly fused4: (t: number, m: number, u: number, q: number, v: number, p: number) => number;
  readonly fused2: (t: number, m: number, u: number, q: number, v: number, p: number) => number;
}
let wasmKernel: WasmKernel | null | undefined;

function loadWasm(): WasmKernel | null {
  if (wasmKernel !== undefined) return wasmKernel;
  try {
    const bytes = Buffer.from(WASM_BASE64, 'base64');
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const ex = instance.exports as unknown as WasmKernel;
    wasmKernel = { memory: ex.memory, fused4: ex.fused4, fused2: ex.fused2 };
  } catch {
    wasmKernel = null;
  }
  return wasmKernel;
}

/** True when the WebAssembly SIMD kernel is available (else the JS reference runs). */
export function wasmKernelAvailable(): boolean {
  return loadWasm() !== null;
}

/** Packed matrix and the four work vectors, placed in the kernel's memory (grown as needed). */
interface Workspace {
  readonly t: Float64Array;
  readonly vecs: [Float64Array, Float64Array, Float64Array, Float64Array];
  readonly fused: FusedBlocks;
}

/** Runs the row blocks of the fused pass; returns the first row left for the scalar tail. */
type FusedBlocks = (t: Float64Array, m: number, u: Float64Array, q: Float64Array, v: Float64Array, p: Float64Array) => number;

/**
 * Passes over at least this many rows take four rows per block, smaller ones two (see
 * kernels/fused.wat: measured crossover of the two kernels on this machine, ~1,600 rows).
 */
export const FOUR_ROW_BLOCKS_FROM = 1600;

/** The JavaScript reference pass: the same choice of block as the WebAssembly kernel. */
function jsBlocks(fourFrom: number): FusedBlocks {
  return (t, m, u, q, v, p) => (m >= fourFrom ? fusedBlocks4 : fusedBlocks2)(t, m, u, q, v, p);
}

function wasmWorkspace(k: WasmKernel, n: number, packedLen: number, fourFrom: number): Workspace {
  const bytes = 8 * (packedLen + 4 * n) + 64;
  const have = k.memory.buffer.byteLength;
  if (bytes > have) k.memory.grow(Math.ceil((bytes - have) / 65536));
  const buf = k.memory.buffer;
  const t = new Float64Array(buf, 0, packedLen);
  const vecs = [0, 1, 2, 3].map((i) => new Float64Array(buf, 8 * (packedLen + i * n), n)) as Workspace['vecs'];
  const fused: FusedBlocks = (tt, m, u, q, v, p) =>
    (m >= fourFrom ? k.fused4 : k.fused2)(tt.byteOffset, m, u.byteOffset, q.byteOffset, v.byteOffset, p.byteOffset);
  return { t, vecs, fused };
}

const EPS = 2.220446049250313e-16;

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

/**
 * The fused pass. For rows j = 0..m of the packed block: A[j][k] -= u_j q_k + q_j u_k
 * (k <= j), then p += A v with the updated entries (p pre-zeroed). Rows go two or four at a
 * time through `blocks` (the WebAssembly SIMD kernels, or fusedBlocks4 / fusedBlocks2 below),
 * then one at a time.
 */
function fusedUpdateMatvec(
  t: Float64Array, m: number, u: Float64Array, q: Float64Array, v: Float64Array, p: Float64Array, blocks: FusedBlocks,
): void {
  let j = blocks(t, m, u, q, v, p);
  let off = (j * (j + 1)) / 2;
  // Remaining rows one at a time.
  for (; j <= m; j++) off = updateRow(t, off, j, 0, u, q, v, p);
}

/**
 * Row j of the packed block (at offset off), columns c0..j: A[j][c] -= u_j q_c + q_j u_c, then
 * p[c] += A[j][c] v_j for c < j and p[j] += (sum of A[j][c] v_c) + A[j][j] v_j. The scalar part
 * of every pass: whole rows after the blocks, and each block's corner (c0 = j of the block), in
 * the order kernels/fused.wat performs it. Returns the offset of row j + 1.
 */
function updateRow(t: Float64Array, off: number, j: number, c0: number, u: Float64Array, q: Float64Array, v: Float64Array, p: Float64Array): number {
  const uj = u[j], qj = q[j], vj = v[j];
  let s = 0;
  for (let c = c0; c < j; c++) {
    const a = t[off + c] - uj * q[c] - qj * u[c];
    t[off + c] = a;
    s += a * v[c];
    p[c] += a * vj;
  }
  const djj = t[off + j] - 2 * uj * qj;
  t[off + j] = djj;
  p[j] += s + djj * vj;
  return off + j + 1;
}

/**
 * The reference of kernels/fused.wat's fused4, operation for operation: rows j..j+3 while j + 3 <= m;
 * columns k < j in pairs whose two lanes accumulate separately (lane 0 even k, lane 1 odd k, an
 * odd last column joining lane 0), then the 4 x 4 corner row by row. Four rows share each load
 * of u, q, v, p. Returns the first row not processed.
 */
export function fusedBlocks4(t: Float64Array, m: number, u: Float64Array, q: Float64Array, v: Float64Array, p: Float64Array): number {
  let j = 0;
  let off = 0;
  for (; j + 3 <= m; j += 4) {
    const o0 = off, o1 = o0 + j + 1, o2 = o1 + j + 2, o3 = o2 + j + 3;
    const u0 = u[j], q0 = q[j], v0 = v[j];
    const u1 = u[j + 1], q1 = q[j + 1], v1 = v[j + 1];
    const u2 = u[j + 2], q2 = q[j + 2], v2 = v[j + 2];
    const u3 = u[j + 3], q3 = q[j + 3], v3 = v[j + 3];
    let e0 = 0, e1 = 0, e2 = 0, e3 = 0; // lane 0: even k
    let d0 = 0, d1 = 0, d2 = 0, d3 = 0; // lane 1: odd k
    let k = 0;
    for (; k + 1 < j; k += 2) {
      for (let lane = 0; lane < 2; lane++) {
        const kk = k + lane;
        const uk = u[kk], qk = q[kk], vk = v[kk];
        const a0 = t[o0 + kk] - u0 * qk - q0 * uk; t[o0 + kk] = a0;
        const a1 = t[o1 + kk] - u1 * qk - q1 * uk; t[o1 + kk] = a1;
        const a2 = t[o2 + kk] - u2 * qk - q2 * uk; t[o2 + kk] = a2;
        const a3 = t[o3 + kk] - u3 * qk - q3 * uk; t[o3 + kk] = a3;
        if (lane === 0) { e0 += a0 * vk; e1 += a1 * vk; e2 += a2 * vk; e3 += a3 * vk; }
        else { d0 += a0 * vk; d1 += a1 * vk; d2 += a2 * vk; d3 += a3 * vk; }
        p[kk] += (a0 * v0 + a1 * v1) + (a2 * v2 + a3 * v3);
      }
    }
    if (k < j) {
      const uk = u[k], qk = q[k], vk = v[k];
      const a0 = t[o0 + k] - u0 * qk - q0 * uk; t[o0 + k] = a0;
      const a1 = t[o1 + k] - u1 * qk - q1 * uk; t[o1 + k] = a1;
      const a2 = t[o2 + k] - u2 * qk - q2 * uk; t[o2 + k] = a2;
      const a3 = t[o3 + k] - u3 * qk - q3 * uk; t[o3 + k] = a3;
      e0 += a0 * vk; e1 += a1 * vk; e2 += a2 * vk; e3 += a3 * vk;
      p[k] += (a0 * v0 + a1 * v1) + (a2 * v2 + a3 * v3);
    }
    p[j] += e0 + d0;
    p[j + 1] += e1 + d1;
    p[j + 2] += e2 + d2;
    p[j + 3] += e3 + d3;
    // The 4 x 4 lower triangle in columns j..j+3, row by row.
    for (let r = 0; r < 4; r++) off = updateRow(t, off, j + r, j, u, q, v, p);
  }
  return j;
}

/**
 * The reference of kernels/fused.wat's fused2, operation for operation: rows j, j+1 while j + 1 <= m;
 * columns k < j in pairs whose two lanes accumulate separately (lane 0 even k, lane 1 odd k, an
 * odd last column joining lane 0), then the 2 x 2 corner row by row. Both rows share each load
 * of u, q, v, p. Returns the first row not processed.
 */
export function fusedBlocks2(t: Float64Array, m: number, u: Float64Array, q: Float64Array, v: Float64Array, p: Float64Array): number {
  let j = 0;
  let off = 0;
  for (; j + 1 <= m; j += 2) {
    const o0 = off, o1 = o0 + j + 1;
    const u0 = u[j], q0 = q[j], v0 = v[j];
    const u1 = u[j + 1], q1 = q[j + 1], v1 = v[j + 1];
    let e0 = 0, e1 = 0; // lane 0: even k
    let d0 = 0, d1 = 0; // lane 1: odd k
    let k = 0;
    for (; k + 1 < j; k += 2) {
      for (let lane = 0; lane < 2; lane++) {
        const kk = k + lane;
        const uk = u[kk], qk = q[kk], vk = v[kk];
        const a0 = t[o0 + kk] - u0 * qk - q0 * uk; t[o0 + kk] = a0;
        const a1 = t[o1 + kk] - u1 * qk - q1 * uk; t[o1 + kk] = a1;
        if (lane === 0) { e0 += a0 * vk; e1 += a1 * vk; }
        else { d0 += a0 * vk; d1 += a1 * vk; }
        p[kk] += a0 * v0 + a1 * v1;
      }
    }
    if (k < j) {
      const uk = u[k], qk = q[k], vk = v[k];
      const a0 = t[o0 + k] - u0 * qk - q0 * uk; t[o0 + k] = a0;
      const a1 = t[o1 + k] - u1 * qk - q1 * uk; t[o1 + k] = a1;
      e0 += a0 * vk; e1 += a1 * vk;
      p[k] += a0 * v0 + a1 * v1;
    }
    p[j] += e0 + d0;
    p[j + 1] += e1 + d1;
    // The 2 x 2 lower triangle in columns j..j+1, row by row.
    for (let r = 0; r < 2; r++) off = updateRow(t, off, j + r, j, u, q, v, p);
  }
  return j;
}

/** sqrt(a^2 + b^2) without destructive underflow or overflow (LAPACK dlapy2). */
function pythag(a: number, b: number): number {
  const aa = Math.abs(a);
  const ab = Math.abs(b);
  const w = aa > ab ? aa : ab;
  const z = aa > ab ? ab : aa;
  if (z === 0) return w;
  const r = z / w;
  return w * Math.sqrt(1 + r * r);
}

/** The eigenvalue of larger absolute value and the other one of [[a, b], [b, c]] (LAPACK dlae2). */
function eig2(a: number, b: number, c: number, out: Float64Array): void {
  const sm = a + c;
  const adf = Math.abs(a - c);
  const ab = Math.abs(b + b);
  const acmx = Math.abs(a) > Math.abs(c) ? a : c;
  const acmn = Math.abs(a) > Math.abs(c) ? c : a;
  let rt: number;
  if (adf > ab) rt = adf * Math.sqrt(1 + (ab / adf) * (ab / adf));
  else if (adf < ab) rt = ab * Math.sqrt(1 + (adf / ab) * (adf / ab));
  else rt = ab * Math.SQRT2;
  let rt1: number;
  let rt2: number;
  if (sm < 0) {
    rt1 = 0.5 * (sm - rt);
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else if (sm > 0) {
    rt1 = 0.5 * (sm + rt);
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else {
    rt1 = 0.5 * rt;
    rt2 = -0.5 * rt;
  }
  out[0] = rt1;
  out[1] = rt2;
}

const SAFMIN = 2.2250738585072014e-308;
const SSFMAX = Math.sqrt(1 / SAFMIN) / 3;
const SSFMIN = Math.sqrt(SAFMIN) / (EPS * EPS);

/**
 * Eigenvalues of the symmetric tridiagonal matrix with diagonal d[0..n-1] and off-diagonal
 * e[0..n-2] (e[i] couples i and i+1): a port of LAPACK dsterf, the Pal-Walker-Kahan root-free
 * variant of implicit QL/QR with Wilkinson shifts. Splits where |e_i| <= eps sqrt|d_i d_i+1|,
 * rescales each unreduced block to a safe range, and runs QL or QR depending on which end of
 * the block is larger (so graded blocks are handled from the right end). Results overwrite d
 * (unsorted); e is destroyed.
 */
function tridiagonalQL(d: Float64Array, e: Float64Array, n: number): void {
  const eps2 = EPS * EPS;
  const maxIt = 30 * n;
  const rt = new Float64Array(2);
  let jtot = 0;
  let l1 = 0;
  while (l1 < n) {
    if (l1 > 0) e[l1 - 1] = 0;
    // Find the end m of the unreduced block starting at l1.
    let m = l1;
    for (; m < n - 1; m++) {
      const tst = Math.abs(e[m]);
      if (tst === 0) break;
      if (tst <= Math.sqrt(Math.abs(d[m])) * Math.sqrt(Math.abs(d[m + 1])) * EPS) {
        e[m] = 0;
        break;
      }
    }
    let l = l1;
    const lsv = l;
    let lend = m;
    const lendsv = lend;
    l1 = m + 1;
    if (lend === l) continue;

    // Scale the block.
    let anorm = 0;
    for (let i = l; i <= lend; i++) anorm = Math.max(anorm, Math.abs(d[i]));
    for (let i = l; i < lend; i++) anorm = Math.max(anorm, Math.abs(e[i]));
    if (anorm === 0) continue;
    let scale = 1;
    if (anorm > SSFMAX) scale = SSFMAX / anorm;
    else if (anorm < SSFMIN) scale = SSFMIN / anorm;
    if (scale !== 1) {
      for (let i = l; i <= lend; i++) d[i] *= scale;
      for (let i = l; i < lend; i++) e[i] *= scale;
    }
    for (let i = l; i < lend; i++) e[i] *= e[i];

    // QL if the block's top is smaller in magnitude than its bottom, else QR.
    if (Math.abs(d[lend]) < Math.abs(d[l])) {
      lend = lsv;
      l = lendsv;
    }
    if (lend >= l) {
      // QL iteration: look for a small sub-diagonal element from the top.
      while (l <= lend) {
        let mm = l;
        for (; mm < lend; mm++) {
          if (Math.abs(e[mm]) <= eps2 * Math.abs(d[mm] * d[mm + 1])) break;
        }
        if (mm < lend) e[mm] = 0;
        let p = d[l];
        if (mm === l) {
          d[l] = p;
          l++;
          continue;
        }
        if (mm === l + 1) {
          eig2(d[l], Math.sqrt(e[l]), d[l + 1], rt);
          d[l] = rt[0];
          d[l + 1] = rt[1];
          e[l] = 0;
          l += 2;
          continue;
        }
        if (jtot === maxIt) break;
        jtot++;
        // Form the shift.
        const rte = Math.sqrt(e[l]);
        let sigma = (d[l + 1] - p) / (2 * rte);
        const r0 = pythag(sigma, 1);
        sigma = p - rte / (sigma + (sigma >= 0 ? r0 : -r0));
        let c = 1;
        let s = 0;
        let gamma = d[mm] - sigma;
        p = gamma * gamma;
        for (let i = mm - 1; i >= l; i--) {
          const bb = e[i];
          const r = p + bb;
          if (i !== mm - 1) e[i + 1] = s * r;
          const oldc = c;
          c = p / r;
          s = bb / r;
          const oldgam = gamma;
          const alpha = d[i];
          gamma = c * (alpha - sigma) - s * oldgam;
          d[i + 1] = oldgam + (alpha - gamma);
          p = c !== 0 ? (gamma * gamma) / c : oldc * bb;
        }
        e[l] = s * p;
        d[l] = sigma + gamma;
      }
    } else {
      // QR iteration: look for a small super-diagonal element from the bottom.
      while (l >= lend) {
        let mm = l;
        for (; mm > lend; mm--) {
          if (Math.abs(e[mm - 1]) <= eps2 * Math.abs(d[mm] * d[mm - 1])) break;
        }
        if (mm > lend) e[mm - 1] = 0;
        let p = d[l];
        if (mm === l) {
          d[l] = p;
          l--;
          continue;
        }
        if (mm === l - 1) {
          eig2(d[l], Math.sqrt(e[l - 1]), d[l - 1], rt);
          d[l] = rt[0];
          d[l - 1] = rt[1];
          e[l - 1] = 0;
          l -= 2;
          continue;
        }
        if (jtot === maxIt) break;
        jtot++;
        const rte = Math.sqrt(e[l - 1]);
        let sigma = (d[l - 1] - p) / (2 * rte);
        const r0 = pythag(sigma, 1);
        sigma = p - rte / (sigma + (sigma >= 0 ? r0 : -r0));
        let c = 1;
        let s = 0;
        let gamma = d[mm] - sigma;
        p = gamma * gamma;
        for (let i = mm; i < l; i++) {
          const bb = e[i];
          const r = p + bb;
          if (i !== mm) e[i - 1] = s * r;
          const oldc = c;
          c = p / r;
          s = bb / r;
          const oldgam = gamma;
          const alpha = d[i + 1];
          gamma = c * (alpha - sigma) - s * oldgam;
          d[i] = oldgam + (alpha - gamma);
          p = c !== 0 ? (gamma * gamma) / c : oldc * bb;
        }
        e[l - 1] = s * p;
        d[l] = sigma + gamma;
      }
    }
    // Undo the scaling.
    if (scale !== 1) {
      const inv = 1 / scale;
      for (let i = lsv; i <= lendsv; i++) d[i] *= inv;
    }
    if (jtot >= maxIt) {
      throw new Error('symmetricEigenvalues: tridiagonal QL/QR iteration did not converge');
    }
  }
}

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
