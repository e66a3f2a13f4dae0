/**
 * Ranks of low-rank H_L and H_F from a sparse random sketch S = Omega^T H Omega (k x k).
 *
 * For a symmetric H of rank r and a generic P x k Omega with k >= r, rank(S) = r; when k < r,
 * rank(S) = k. So the sketch grows until its rank is at least `margin` below k: that stopping rule,
 * not any prediction, decides the rank (a prediction may only seed the first size).
 * Omega has `nnz` nonzeros +-1/sqrt(nnz) per column at distinct random rows: with 1-2 nonzeros a
 * sketch can silently under-count, so nnz defaults to 16. One batch of products serves both
 * Hessians: S_L = S_F + (J Omega)^T A (J Omega).
 * The tolerance uses n = P (the Hessian's size), as numpy would on the full matrix.
 */
import { gemmNT } from '../linalg/gemm.js';
import { symmetricEigenvalues } from '../linalg/eigen.js';
import type { Loss } from '../losses.js';
import { numericalRank, type RankResult } from '../rank.js';
import { Rng } from '../random.js';
import type { HessianOperator, Directions } from './operator.js';

export interface SketchOptions {
  /** Nonzeros per sketch column (default 16). */
  readonly nnz?: number;
  /** Stop when rank <= k - margin (default 16). */
  readonly margin?: number;
  /** First sketch size (e.g. a predicted rank + margin); default 128. */
  readonly initial?: number;
  /** Give up (return undefined) when the sketch would exceed this fraction of P (default 0.8). */
  readonly maxFraction?: number;
  readonly seed?: number;
  /** Directions per operator call (default 64). */
  readonly chunk?: number;
}

export interface SketchResult {
  readonly loss?: RankResult;
  readonly functional?: RankResult;
  /** Final sketch size. */
  readonly size: number;
}

/**
 * Returns undefined when a requested Hessian looks (nearly) full-rank: the caller should go dense,
 * which is then both faster and more accurate than a sketch close to P.
 */
export function sketchRanks(
  op: HessianOperator, loss: Loss, which: { loss: boolean; functional: boolean }, opts: SketchOptions = {},
): SketchResult | undefined {
  const P = op.params, N = op.data.n, K = op.data.k, NK = N * K;
  const nnz = Math.min(opts.nnz ?? 16, P);
  const margin = opts.margin ?? 16;
  const maxK = Math.floor((opts.maxFraction ?? 0.8) * P);
  const chunk = opts.chunk ?? 64;
  const rng = new Rng(opts.seed ?? 0, 'sketch');
  let k = Math.min(Math.max(opts.initial ?? 128, 2 * margin), maxK);
  if (k <= margin) return undefined;

  // Directions grow in place; capacity doubles as needed.
  let cap = k;
  let index = new Int32Array(cap * nnz);
  let value = new Float64Array(cap * nnz);
  let T = new Float64Array(cap * NK); // rows: blockdiag(F_i^T) J omega_c
  let SF = new Float64Array(0); // k x k, rebuilt on growth
  let done = 0;
  const scale = 1 / Math.sqrt(nnz);
  // Nonzero rows are dealt from successive random permutations of 0..P-1, so every parameter is
  // touched as evenly as possible: a parameter no column touches is invisible to the sketch, and
  // uniform sampling at k ~ rank + 32 left ~30 of 7,280 untouched and under-counted by one.
  let perm = new Int32Array(0);
  let permPos = 0;
  const nextRow = (): number => {
    if (permPos >= perm.length) {
      perm = Int32Array.from({ length: P }, (_, i) => i);
      for (let i = P - 1; i > 0; i--) { const j = rng.int(i + 1); const t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
      permPos = 0;
    }
    return perm[permPos++];
  };
  const fillDirections = (from: number, to: number): void => {
    const used = new Set<number>();
    for (let c = from; c < to; c++) {
      used.clear();
      for (let t = 0; t < nnz; t++) {
        let idx = nextRow();
        // A repeat can only happen across a permutation boundary; draw again.
        while (used.has(idx)) idx = nextRow();
        used.add(idx);
        index[c * nnz + t] = idx;
        value[c * nnz + t] = rng.uniform() < 0.5 ? -scale : scale;
      }
    }
  };
  const outFactor = outputFactors(op, loss);

  for (;;) {
    if (k > cap) {
      const ncap = k;
      const i2 = new Int32Array(ncap * nnz); i2.set(index); index = i2;
      const v2 = new Float64Array(ncap * nnz); v2.set(value); value = v2;
      const t2 = new Float64Array(ncap * NK); t2.set(T); T = t2;
      cap = ncap;
    }
    fillDirections(done, k);
    const dirs: Directions = { kind: 'sparse', count: k, nnz, index, value };
    const S = new Float64Array(k * k);
    for (let i = 0; i < done; i++) S.set(SF.subarray(i * done, (i + 1) * done), i * k);
    for (let c0 = done; c0 < k; c0 += chunk) {
      const kc = Math.min(chunk, k - c0);
      const prod = op.apply(dirs, c0, kc, { functional: true, jv: true });
      const Y = prod.functional!, jv = prod.jv!;
      for (let c = 0; c < kc; c++) {
        const g = c0 + c, yo = c * P;
        // Row g against every direction h < k: omega_h . (H_F omega_g).
        for (let h = 0; h < k; h++) {
          let s = 0;
          for (let t = 0, o = h * nnz; t < nnz; t++, o++) s += value[o] * Y[yo + index[o]];
          if (h < done || h >= g) {
            // First time this pair is seen, or h is an old direction: write both halves.
            S[g * k + h] = s;
            if (h < done) S[h * k + g] = s;
            else if (h > g) S[h * k + g] = s;
          } else {
            // Both new and h < g: the pair was written from h's row; average for symmetry.
            const v = 0.5 * (S[g * k + h] + s);
            S[g * k + h] = v; S[h * k + g] = v;
          }
        }
        applyFactorT(outFactor, jv, c * NK, T, g * NK, N, K);
      }
    }
    SF = S;
    done = k;

    const results: { loss?: RankResult; functional?: RankResult } = {};
    let needMore = false;
    if (which.functional) {
      results.functional = numericalRank(symmetricEigenvalues(S, k), P, `sketch ${k}`);
      if (results.functional.rank > k - margin) needMore = true;
    }
    if (which.loss) {
      const SL = new Float64Array(k * k);
      gemmNT(k, k, NK, 1, T, 0, T, 0, SL, 0);
      for (let i = 0; i < SL.length; i++) SL[i] += S[i];
      results.loss = numericalRank(symmetricEigenvalues(SL, k, { overwrite: true }), P, `sketch ${k}`);
      if (results.loss.rank > k - margin) needMore = true;
    }
    if (!needMore) return { ...results, size: k };
    const top = Math.max(results.loss?.rank ?? 0, results.functional?.rank ?? 0);
    const next = Math.max(2 * k, Math.ceil(1.25 * top) + 2 * margin);
    if (next > maxK || k >= maxK) return undefined;
    k = next;
  }
}

/** Per-sample factors F_i (N x K x K) of the output Hessian, A_i = F_i F_i^T. */
function outputFactors(op: HessianOperator, loss: Loss): Float64Array {
  const N = op.data.n, K = op.data.k;
  const fp = op.outputs();
  const out = new Float64Array(N * K * K);
  const f = new Float64Array(K * K);
  for (let i = 0; i < N; i++) { loss.outputHessianFactor(fp, op.data.y, i * K, K, f); out.set(f, i * K * K); }
  return out;
}

/** dst[dOff + i*K + j] = sum_k F_i[k, j] * jv[jOff + i*K + k]  (F_i^T (J v)_i per sample). */
function applyFactorT(F: Float64Array, jv: Float64Array, jOff: number, dst: Float64Array, dOff: number, N: number, K: number): void {
  for (let i = 0; i < N; i++) {
    const fo = i * K * K, jo = jOff + i * K, d = dOff + i * K;
    for (let j = 0; j < K; j++) {
      let s = 0;
      for (let kk = 0; kk < K; kk++) s += F[fo + kk * K + j] * jv[jo + kk];
      dst[d + j] = s;
    }
  }
}
