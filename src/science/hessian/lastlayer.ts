/**
 * The last-layer subspace route: exact spectra of any network whose output layer is dense and
 * linear in its weights (every network hrank builds: f = W_L a_{L-1}(theta_R) + b_L), used for
 * networks with convolutions, whose Hessians have no Kronecker structure to exploit.
 *
 * Split the parameters into W_L (K x M) and the rest R (conv kernels, earlier layers, b_L). For
 * v in W_L's coordinates:
 *   - H_F's (W_L, W_L) block is zero (f is linear in W_L), and its (W_L, R) block has columns
 *     H_F e_c = sum_i g_i a'_i(c)^T (g_i = dloss/df, a'_i(c) = d a_{L-1,i} / d theta_c);
 *   - H_O's (W_L, .) rows are J_L^T A J with J_L's rows e_k a_{L-1,i}^T: they lie in
 *     R^K (x) span{a_{L-1,i}}.
 * So every Hessian vanishes on the W_L directions orthogonal to
 *   U = R^K (x) span{a_{L-1,i}}  +  span{(H_F e_c) restricted to W_L : c in R},
 * and range(H) lies in S = R (+) U (H is symmetric). With Q an orthonormal basis of S,
 * T = Q^T H Q has H's nonzero eigenvalues, and Sylvester's law keeps the inertia: exact, like the
 * dense route, at size |R| + dim U <= 2 |R| + K min(N, M) instead of P. Every run checks the
 * claim with random probes orthogonal to S (as the linear subspace route does).
 *
 * T's blocks: (R, R) and (U, R) from the exact products H e_c (c in R); (U, U) in closed form:
 * zero for H_F, and for H_O (and H_L) sum_i (U_m a_i)^T A_i (U_m' a_i), as one GEMM Y Y^T with
 * A_i = F_i F_i^T.
 */
import { gemmNT } from '../linalg/gemm.js';
import type { Loss } from '../losses.js';
import { forward, paramLayout } from '../network.js';
import { Rng } from '../random.js';
import type { Dataset, HessianKind, Network } from '../types.js';
import { DENSE_CHUNK } from './dense.js';
import type { OperatorOptions } from './operator.js';
import type { SubspaceWhich } from './structured.js';
import { PROBES, probeNorms } from './probe.js';
import { Span, dot, norm } from './subspace.js';
import { productOperator } from './tied.js';

const EPS = 2.220446049250313e-16;
/**
 * A generator whose part outside the span so far is below this many eps of its norm lies in it.
 * One eps, not subspace.ts's 64: what a dropped generator leaves out (up to DEPENDENT eps of a
 * column of H, so of s_max) must stay below the check's SUBSPACE_CHECK = 1.25e-15 s_max, or
 * the check would refuse the route at points where nothing is wrong (it did, at 64 eps, on a
 * tanh network). Keeping a spurious direction only costs time, and k stays within its bound.
 */
const DEPENDENT = 1;
/**
 * The activations' span keeps subspace.ts's 64 eps: a linear network's activations lie in an
 * r-dimensional span up to rounding, and at one eps their rounding would add ~N - r spurious
 * directions (times K), growing T by half at the channel study's widest point. Should what it
 * leaves out ever matter, the check refuses the route and the dense route answers.
 */
const ACTIVATION_DEPENDENT = 64;

/** T = Q^T H Q per requested kind, as packed lower triangles (row i at i(i+1)/2), and the check's reach. */
export interface LastLayerRows {
  /** k = |R| + dim U. */
  readonly size: number;
  readonly loss?: Float64Array;
  readonly outer?: Float64Array;
  readonly functional?: Float64Array;
  /** Largest |H v| over unit probes v orthogonal to the subspace, per kind (zero in exact arithmetic). */
  readonly outside: Partial<Record<HessianKind, number>>;
}

/** The output layer's weights [w, w + K M) and the other parameters R, ascending. */
function split(net: Network): { w: number; K: number; M: number; rest: Int32Array } {
  const layout = paramLayout(net);
  const last = layout[layout.length - 1]!;
  const [K, M] = last.shape as [number, number];
  const P = net.theta.length;
  const rest = new Int32Array(P - K * M);
  let t = 0;
  for (let p = 0; p < P; p++) if (p < last.w || p >= last.w + K * M) rest[t++] = p;
  return { w: last.w, K, M, rest };
}

/** Whether a network with convolutions takes this route (off the dense route): when its size bound is below P. */
export function lastLayerApplies(params: number, outputs: number, lastWidth: number, samples: number): boolean {
  return lastLayerSizeBound(params, outputs, lastWidth, samples) < params;
}

/** Upper bound of the route's size k from the shapes alone: 2 |R| + K min(N, M), capped at P. */
export function lastLayerSizeBound(params: number, outputs: number, lastWidth: number, samples: number): number {
  const R = params - outputs * lastWidth;
  return Math.min(params, 2 * R + outputs * Math.min(samples, lastWidth));
}

/**
 * T and the check's reach. `omitColumns` leaves H_F's W_L columns out of U: a subspace that
 * misses part of the range, for the test that the check sees it.
 */
export function lastLayerRows(net: Network, data: Dataset, loss: Loss, which: SubspaceWhich, opts: OperatorOptions & { readonly omitColumns?: boolean } = {}): LastLayerRows {
  const op = productOperator(net, data, loss, opts);
  const P = op.params, N = data.n;
  const { w, K, M, rest } = split(net);
  if (K !== data.k) throw new RangeError(`last-layer route: ${K} outputs, data has ${data.k}`);
  const R = rest.length, KM = K * M;
  const needF = !!(which.functional || which.loss), needO = !!(which.outer || which.loss);

  // Exact products H e_c for c in R (|R| x P each).
  const F = needF ? new Float64Array(R * P) : undefined;
  const O = needO ? new Float64Array(R * P) : undefined;
  const dirs = { kind: 'sparse' as const, count: R, nnz: 1, index: rest, value: new Float64Array(R).fill(1) };
  for (let c0 = 0; c0 < R; c0 += DENSE_CHUNK) {
    const kc = Math.min(DENSE_CHUNK, R - c0);
    const prod = op.apply(dirs, c0, kc, { functional: needF, outer: needO });
    if (F) F.set(prod.functional!, c0 * P);
    if (O) O.set(prod.outer!, c0 * P);
  }

  // span{a_{L-1,i}} in R^M, then U in R^{K M}: its Kronecker part e_k (x) V_j, and H_F's columns
  // (restricted to W_L) orthonormalised against it and each other.
  const fp = forward(net, data.x, 0, N);
  const L = fp.a.length - 1;
  const act = fp.a[L - 1]!;
  const span = new Span(M, ACTIVATION_DEPENDENT);
  for (let i = 0; i < N; i++) span.add(act.subarray(i * M, (i + 1) * M));
  const V = span.vectors();
  const extra: Float64Array[] = [];
  if (F && !opts.omitColumns) {
    for (let c = 0; c < R; c++) {
      const g = Float64Array.from(F.subarray(c * P + w, c * P + w + KM));
      const norm0 = norm(g);
      if (!(norm0 > 0)) continue;
      let before = norm0, kept = true;
      for (let pass = 0; pass < 3; pass++) {
        for (let k = 0; k < K; k++) {
          const row = g.subarray(k * M, (k + 1) * M);
          for (const v of V) { const d = dot(v, row); for (let j = 0; j < M; j++) row[j] -= d * v[j]; }
        }
        for (const e of extra) { const d = dot(e, g); for (let t = 0; t < KM; t++) g[t] -= d * e[t]; }
        const after = norm(g);
        if (after <= DEPENDENT * EPS * norm0) { kept = false; break; }
        const settled = after > 0.5 * before;
        before = after;
        if (settled && pass >= 1) break;
      }
      if (!kept) continue;
      const s = 1 / before;
      for (let t = 0; t < KM; t++) g[t] *= s;
      extra.push(g);
    }
  }
  const rho = V.length, u = K * rho + extra.length, k = R + u;
  // U as u x K M rows: first e_k (x) V_j (m = k rho + j), then the extra vectors.
  const U = new Float64Array(u * KM);
  for (let kk = 0; kk < K; kk++) for (let j = 0; j < rho; j++) U.set(V[j]!, (kk * rho + j) * KM + kk * M);
  extra.forEach((e, i) => U.set(e, (K * rho + i) * KM));

  // (U, U) of H_O in closed form: Z = U_m a_i (u K x N), Y[m, (i, kk)] = sum_k Z[m, k, i] F_i[k, kk], T_UU = Y Y^T.
  let TUU: Float64Array | undefined;
  if (needO) {
    const Z = new Float64Array(u * K * N);
    gemmNT(u * K, N, M, 1, U, 0, act, 0, Z, 0);
    const out = fp.a[L]!;
    const f = new Float64Array(K * K), Y = new Float64Array(u * N * K);
    for (let i = 0; i < N; i++) {
      loss.outputHessianFactor(out, data.y, i * K, K, f);
      for (let m = 0; m < u; m++) {
        for (let kk = 0; kk < K; kk++) {
          let s = 0;
          for (let kq = 0; kq < K; kq++) s += Z[(m * K + kq) * N + i] * f[kq * K + kk];
          Y[m * N * K + i * K + kk] = s;
        }
      }
    }
    TUU = new Float64Array(u * u);
    gemmNT(u, u, N * K, 1, Y, 0, Y, 0, TUU, 0);
  }

  // Packed triangles of T per kind: (R, R) from the products (symmetrised), (U, R) = U X_L^T by
  // one GEMM over the products' W_L parts, (U, U) as above (zero for H_F).
  const tri = (cols: (c: number) => Float64Array, uu: Float64Array | undefined): Float64Array => {
    const XL = new Float64Array(R * KM), XR = new Float64Array(R * R);
    for (let c = 0; c < R; c++) {
      const col = cols(c);
      XL.set(col.subarray(w, w + KM), c * KM);
      for (let j = 0; j < R; j++) XR[c * R + j] = col[rest[j]!]!;
    }
    const UR = new Float64Array(u * R);
    gemmNT(u, R, KM, 1, U, 0, XL, 0, UR, 0);
    const t = new Float64Array((k * (k + 1)) / 2);
    for (let i = 0; i < R; i++) {
      const row = (i * (i + 1)) / 2;
      for (let j = 0; j <= i; j++) t[row + j] = 0.5 * (XR[i * R + j]! + XR[j * R + i]!);
    }
    for (let m = 0; m < u; m++) {
      const i = R + m, row = (i * (i + 1)) / 2;
      t.set(UR.subarray(m * R, (m + 1) * R), row);
      if (uu) for (let n = 0; n <= m; n++) t[row + R + n] = 0.5 * (uu[m * u + n]! + uu[n * u + m]!);
    }
    return t;
  };
  const result: { -readonly [K in HessianKind]?: Float64Array } = {};
  if (which.functional) result.functional = tri((c) => F!.subarray(c * P, (c + 1) * P), undefined);
  if (which.outer) result.outer = tri((c) => O!.subarray(c * P, (c + 1) * P), TUU);
  if (which.loss) {
    const sum = new Float64Array(P);
    result.loss = tri((c) => { for (let t = 0; t < P; t++) sum[t] = F![c * P + t]! + O![c * P + t]!; return sum; }, TUU);
  }

  // The check: Gaussian probes in W_L orthogonal to U (so to S), |H v| per kind.
  let outside: Partial<Record<HessianKind, number>> = {};
  if (u < KM) {
    const rng = new Rng(0, 'last-layer-probe');
    const probes = new Float64Array(PROBES * P);
    for (let c = 0; c < PROBES; c++) {
      const g = new Float64Array(KM);
      for (let t = 0; t < KM; t++) g[t] = rng.normal();
      for (let pass = 0; pass < 2; pass++) {
        for (let m = 0; m < u; m++) { const e = U.subarray(m * KM, (m + 1) * KM); const d = dot(e, g); for (let t = 0; t < KM; t++) g[t] -= d * e[t]; }
      }
      const s = 1 / norm(g);
      for (let t = 0; t < KM; t++) probes[c * P + w + t] = g[t] * s;
    }
    const prod = op.apply({ kind: 'dense', count: PROBES, data: probes }, 0, PROBES, { functional: needF, outer: needO });
    outside = probeNorms(prod.functional, prod.outer, PROBES, P, which);
  } else {
    for (const kind of ['loss', 'outer', 'functional'] as const) if (which[kind]) outside[kind] = 0;
  }
  return { size: k, ...result, outside };
}
