/**
 * The eigenvalues of a symmetric tridiagonal matrix: LAPACK's dsterf (the last phase of
 * eigen.ts), O(n^2).
 */
const EPS = 2.220446049250313e-16;

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
export function tridiagonalQL(d: Float64Array, e: Float64Array, n: number): void {
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

