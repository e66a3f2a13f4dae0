/**
 * Eigenvalues of a dense real symmetric matrix, in exact float64 arithmetic, in pure JavaScript.
 *
 * Why hand-written: no npm library offers a fast float64 symmetric eigensolver. ml-matrix's
 * EVD (a port of JAMA's tred2/tql2) took 82 s at n = 2000 because it also accumulates the
 * eigenvectors and walks columns of row-major arrays; WebAssembly LAPACK builds are not
 * maintained as plain npm dependencies. This file computes eigenvalues only.
 *
 * Algorithm (classical, as EISPACK tred1 + tql1 / LAPACK dsytrd + dsteqr):
 *   1. Scale the matrix by a power of two so its largest entry is in [1, 2) (exact, and keeps
 *      tiny or huge matrices away from underflow and overflow); unscale the eigenvalues after.
 *   2. Householder tridiagonalisation, bottom-up: step i annihilates row i left of the
 *      sub-diagonal using the reflector H = I - v v^T / h, and applies A <- H A H to the leading
 *      i x i block as the symmetric rank-2 update A <- A - v q^T - q v^T.
 *      Speed: the lower triangle is packed row after row (row j at offset j(j+1)/2), so the
 *      whole trailing block is one contiguous stretch of memory and every inner loop is
 *      unit-stride. The rank-2 update of step i is fused with the matrix-vector product
 *      A v' of step i-1 (the next reflector v' only needs the last row of the block, which is
 *      updated first), so each step makes a single pass over the trailing block, reading and
 *      writing each entry once. The pass handles two rows at a time to share the vector loads.
 *      Total cost 4/3 n^3 flops, (1/6) n^3 entry visits.
 *   3. Implicit QL with Wilkinson shifts on the tridiagonal (tql1 / Numerical Recipes tqli),
 *      eigenvalues only, O(n^2).
 * Both phases are backward stable: every computed eigenvalue is an exact eigenvalue of a matrix
 * within a small multiple of n * 2.2e-16 * ||A|| of the input, so the eigenvalues of
 * rank-deficient matrices that should be zero come out at rounding level.
 *
 * Input: only the LOWER triangle (a[i*n + j] with j <= i) is read; the strict upper triangle
 * is never read. With { overwrite: true } the lower triangle is packed and reduced in place in
 * `a` (its contents are garbage afterwards) and no n x n copy is made; otherwise the packed
 * working copy takes n(n+1)/2 doubles and `a` is left unchanged.
 */

export interface SymmetricEigenOptions {
  /** Allow the solver to destroy `a` instead of copying it (saves n(n+1)/2 doubles). */
  overwrite?: boolean;
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
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw new RangeError(`symmetricEigenvalues: expected a of length n*n = ${n}*${n}, got ${a.length}`);
  }
  if (n === 0) return new Float64Array(0);
  if (n === 1) return Float64Array.of(a[0]);

  const packedLen = (n * (n + 1)) / 2;

  // Largest absolute entry of the lower triangle (NaN propagates into the result).
  let amax = 0;
  let sawNaN = false;
  for (let i = 0; i < n; i++) {
    const r = i * n;
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
  const t: Float64Array = opts.overwrite ? a : new Float64Array(packedLen);
  for (let i = 0, off = 0; i < n; off += ++i) {
    const r = i * n;
    for (let j = 0; j <= i; j++) t[off + j] = a[r + j];
  }
  // Exact power-of-two scaling to max |entry| in [1, 2).
  const expo = Math.floor(Math.log2(amax));
  scaleByPow2(t, packedLen, -expo);

  const d = new Float64Array(n);
  const e = new Float64Array(n); // e[i] couples i and i+1 (QL convention); e[n-1] = 0
  tridiagonalizePacked(t, n, d, e);
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
function tridiagonalizePacked(t: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  // Pending rank-2 update A <- A - u q^T - q u^T on the leading block (rows 0..i of the
  // current step); `pending` says whether (u, q) holds one. v is the new reflector, p = A v.
  let u = new Float64Array(n);
  let q = new Float64Array(n);
  let v = new Float64Array(n);
  let p = new Float64Array(n);
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
    // Power-of-two scaling keeps the sum of squares exact-scaled and free of under/overflow.
    const sx = Math.floor(Math.log2(xmax));
    const alpha = Math.sqrt(scaledSumSquares(t, offI, i, pow2(-sx))) * pow2(sx);
    const g = f >= 0 ? -alpha : alpha;
    e[l] = g;
    const h = alpha * (alpha + af); // = v^T v / 2
    for (let k = 0; k < l; k++) v[k] = t[offI + k];
    v[l] = f - g;

    // One pass over rows 0..l: apply the pending update (if any) and accumulate p = A v.
    p.fill(0, 0, i);
    if (pending) fusedUpdateMatvec(t, l, u, q, v, p);
    else matvecPacked(t, l, v, p);

    // p <- p / h; q <- p - (v.p / 2h) v.
    const rh = 1 / h;
    for (let k = 0; k <= l; k++) p[k] *= rh;
    const kk = dot2(v, p, i) / (h + h);
    for (let k = 0; k <= l; k++) p[k] -= kk * v[k];
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

/** sum_k (x[off + k] * r)^2 for k < len, with Dot2 accuracy. */
function scaledSumSquares(x: Float64Array, off: number, len: number, r: number): number {
  let s = 0;
  let c = 0;
  for (let k = 0; k < len; k++) {
    const a = x[off + k] * r;
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
 * For rows j = 0..m of the packed block: A[j][k] -= u_j q_k + q_j u_k (k <= j), then
 * p += A v with the updated entries. Rows are taken two at a time so each vector element
 * loaded serves two matrix entries.
 */
function fusedUpdateMatvec(
  t: Float64Array,
  m: number,
  u: Float64Array,
  q: Float64Array,
  v: Float64Array,
  p: Float64Array,
): void {
  let j = 0;
  let off = 0; // offset of row j
  for (; j + 1 <= m; j += 2) {
    const off1 = off + j + 1; // row j+1
    const uj = u[j], qj = q[j], vj = v[j];
    const uj1 = u[j + 1], qj1 = q[j + 1], vj1 = v[j + 1];
    let s0 = 0;
    let s1 = 0;
    for (let k = 0; k < j; k++) {
      const uk = u[k], qk = q[k];
      const a0 = t[off + k] - uj * qk - qj * uk;
      const a1 = t[off1 + k] - uj1 * qk - qj1 * uk;
      t[off + k] = a0;
      t[off1 + k] = a1;
      const vk = v[k];
      s0 += a0 * vk;
      s1 += a1 * vk;
      p[k] += a0 * vj + a1 * vj1;
    }
    // Columns j (row j diagonal, row j+1 sub-diagonal) and j+1 (row j+1 diagonal).
    const djj = t[off + j] - 2 * uj * qj;
    const d10 = t[off1 + j] - uj1 * qj - qj1 * uj;
    const d11 = t[off1 + j + 1] - 2 * uj1 * qj1;
    t[off + j] = djj;
    t[off1 + j] = d10;
    t[off1 + j + 1] = d11;
    p[j] += s0 + djj * vj + d10 * vj1;
    p[j + 1] += s1 + d10 * vj + d11 * vj1;
    off = off1 + j + 2;
  }
  if (j === m) {
    const uj = u[j], qj = q[j], vj = v[j];
    let s0 = 0;
    for (let k = 0; k < j; k++) {
      const a0 = t[off + k] - uj * q[k] - qj * u[k];
      t[off + k] = a0;
      s0 += a0 * v[k];
      p[k] += a0 * vj;
    }
    const djj = t[off + j] - 2 * uj * qj;
    t[off + j] = djj;
    p[j] += s0 + djj * vj;
  }
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
 * Eigenvalues (ascending) of the symmetric n x n row-major matrix `a` by the cyclic Jacobi
 * method, reading the full matrix. Slow (O(n^3) per sweep) but simple and very accurate:
 * a reference for tests, small n only. Does not modify `a`.
 */
/** @internal test hook */
export function __tridiag(a: Float64Array, n: number): [Float64Array, Float64Array] { const t = new Float64Array(n*(n+1)/2); for (let i = 0, off = 0; i < n; off += ++i) for (let j = 0; j <= i; j++) t[off+j] = a[i*n+j]; const d = new Float64Array(n), e = new Float64Array(n); tridiagonalizePacked(t, n, d, e); return [d, e]; }

export function jacobiEigenvalues(a: Float64Array, n: number): Float64Array {
  if (!Number.isInteger(n) || n < 0 || a.length !== n * n) {
    throw new RangeError(`jacobiEigenvalues: expected a of length n*n = ${n}*${n}, got ${a.length}`);
  }
  const m = Float64Array.from(a);
  let frob2 = 0;
  for (let i = 0; i < n * n; i++) frob2 += m[i] * m[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off2 = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) off2 += m[i * n + j] * m[i * n + j];
    if (off2 <= 1e-40 * frob2 || off2 === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        // Rotation J (c, s) that zeroes m[p][q]: m <- J^T m J.
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // Columns p and q.
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          // Rows p and q.
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        m[p * n + q] = 0;
        m[q * n + p] = 0;
      }
    }
  }
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = m[i * n + i];
  return w.sort();
}
