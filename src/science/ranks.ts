/**
 * The spectra of one study point's Hessians, each by the cheapest route whose eigenvalues are
 * the Hessian's own (so the route never changes a rank, a gap or an inertia):
 * - dense: P x P matrices from Hessian-vector products, one symmetric eigensolve each (small P,
 *   `route: 'dense'`, and networks without a structure to exploit: nonlinear activations);
 * - gram (H_O): the N*K x N*K Gram matrix B B^T of H_O = B^T B (same nonzero eigenvalues) when
 *   it is the smaller problem;
 * - subspace (linear networks): Rayleigh-Ritz on a subspace that provably holds the Hessian's
 *   range (hessian/subspace.ts), exact to rounding, checked on every run (`SUBSPACE_CHECK`),
 *   and replaced by the dense route should the check fail.
 * A spectrum holds the eigenvalues computed; the Gram and subspace routes leave out values that
 * are exactly zero by construction. Ranks are read from spectra (`rankSpectra`) with NumPy's rule
 * and the study's tolerance; the heavy pieces go through a RanksBackend (inline by default; the
 * engine runs them on worker threads). See docs/design.md.
 */
import { symmetricEigenvalues } from './linalg/eigen.js';
import { gemmTN } from './linalg/gemm.js';
import { hasConv, paramCount } from './network.js';
import { lastLayerApplies } from './hessian/lastlayer.js';
import { numericalRank, type RankControls, type RankResult } from './rank.js';
import { SUBSPACE_CHECK, subspaceSpectrum, type PointSpectra, type Spectrum } from './spectrum.js';
import { symmetrize } from './hessian/dense.js';
import { inlineBackend, subspaceFor, type RankProblem, type RanksBackend } from './hessian/backend.js';
import type { SubspaceRows } from './hessian/structured.js';
import type { Dataset, HessianKind, LossName, Network } from './types.js';

/** Use dense matrices for every Hessian when P is at most this (default of SpectrumOptions.denseMaxParams). */
export const DENSE_MAX_PARAMS = 1200;

export type Route = 'auto' | 'dense';

export interface SpectrumOptions {
  /** Samples per accumulation batch (memory only). */
  readonly batchSize?: number;
  /** Use dense matrices for every Hessian when P <= this (default DENSE_MAX_PARAMS). */
  readonly denseMaxParams?: number;
  /** 'auto' (default) or 'dense': every Hessian on the dense route (the reference; O(P^3)). */
  readonly route?: Route;
  /** How many backend calls to run at once (the engine's worker count). */
  readonly parallel?: number;
}

export type { PointSpectra, Spectrum };


export interface PointRanks {
  readonly params: number;
  readonly loss?: RankResult;
  readonly outer?: RankResult;
  readonly functional?: RankResult;
  /** Seconds spent per phase, for timings.json. */
  readonly seconds: Record<string, number>;
}

const KINDS: readonly HessianKind[] = ['loss', 'outer', 'functional'];

/** rank(X^T X) with the same rule, n = d. */
export function inputCovarianceRank(data: Dataset, controls: RankControls = {}): RankResult {
  const { d, n, x } = data;
  const cov = new Float64Array(d * d);
  gemmTN(d, d, n, 1, x, 0, x, 0, cov, 0);
  symmetrize(cov, d);
  return numericalRank(symmetricEigenvalues(cov, d, { overwrite: true }), d, 'dense', controls);
}

/**
 * Rank of the augmented input covariance [X 1]^T [X 1] ((d + 1) x (d + 1), same rule): the input
 * rank of a network whose first layer has a bias (W_1 x + b_1 = [W_1 b_1] [x; 1]). It is r + 1
 * unless the all-ones vector lies in the span of the features' columns (then r).
 */
export function augmentedInputCovarianceRank(data: Dataset, controls: RankControls = {}): RankResult {
  const { d, n, x } = data;
  const c = d + 1;
  const aug = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    aug.set(x.subarray(i * d, (i + 1) * d), i * c);
    aug[i * c + d] = 1;
  }
  const cov = new Float64Array(c * c);
  gemmTN(c, c, n, 1, aug, 0, aug, 0, cov, 0);
  symmetrize(cov, c);
  return numericalRank(symmetricEigenvalues(cov, c, { overwrite: true }), c, 'dense', controls);
}

export function usesDenseRoute(params: number, opts: SpectrumOptions = {}): boolean {
  return opts.route === 'dense' || params <= (opts.denseMaxParams ?? DENSE_MAX_PARAMS);
}

/**
 * Whether the points of a sample-size sweep should share prefix sums (chain.ts): linear networks
 * on the automatic route sum k x P subspace products; others sum dense P x P matrices, affordable
 * only on the dense route's sizes.
 */
export function sharesPrefixSums(params: number, activation: string, route: Route = 'auto', conv = false): boolean {
  // Networks with convolutions have no linear subspace chain: dense sums only.
  return (activation === 'linear' && route === 'auto' && !conv) || params <= DENSE_MAX_PARAMS;
}

/** A spectrum's rank, gap, margins and inertia under the given tolerance. */
export function rankSpectrum(s: Spectrum, controls: RankControls = {}): RankResult {
  return numericalRank(s.eigenvalues, s.size, s.method, controls);
}

export function rankSpectra(s: PointSpectra, controls: RankControls = {}): PointRanks {
  const out: { -readonly [K in HessianKind]?: RankResult } = {};
  for (const k of KINDS) if (s[k]) out[k] = rankSpectrum(s[k]!, controls);
  return { params: s.params, ...out, seconds: s.seconds };
}

/** hessianSpectra, then ranks with the given tolerance. */
export async function hessianRanks(
  net: Network, data: Dataset, loss: LossName, which: readonly HessianKind[], opts: SpectrumOptions & RankControls = {}, backend: RanksBackend = inlineBackend(),
): Promise<PointRanks> {
  return rankSpectra(await hessianSpectra(net, data, loss, which, opts, backend), opts);
}

export async function hessianSpectra(
  net: Network, data: Dataset, loss: LossName, which: readonly HessianKind[], opts: SpectrumOptions = {}, backend: RanksBackend = inlineBackend(),
): Promise<PointSpectra> {
  const P = paramCount(net);
  const seconds: Record<string, number> = {};
  const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try { return await fn(); } finally { seconds[label] = (seconds[label] ?? 0) + (performance.now() - t0) / 1000; }
  };
  const problem: RankProblem = { net, data, loss, batchSize: opts.batchSize };
  const result: { -readonly [K in HessianKind]?: Spectrum } = {};
  const NK = data.n * data.k;
  const dense = async (kinds: readonly HessianKind[], why?: string): Promise<void> => {
    await Promise.all(kinds.map(async (kind) => {
      const eigenvalues = await timed('dense', () => backend.denseEigenvalues(problem, kind));
      result[kind] = { eigenvalues, size: P, method: why ? `dense (${why})` : 'dense' };
    }));
  };
  const gram = async (): Promise<void> => {
    const eigenvalues = await timed('gram', () => backend.outerGramEigenvalues(problem));
    result.outer = { eigenvalues, size: P, method: `gram ${NK}` };
  };
  const wanted = KINDS.filter((k) => which.includes(k));

  if (usesDenseRoute(P, opts)) {
    await dense(wanted);
    return { params: P, ...result, seconds };
  }
  if (hasConv(net)) {
    // Convolutions: the last-layer subspace when it is smaller than P, else dense. (No Gram
    // route: the expansion's Gram matrix is not the network's.)
    const M = net.sizes[net.sizes.length - 2]!;
    if (!lastLayerApplies(P, data.k, M, data.n)) {
      await dense(wanted);
      return { params: P, ...result, seconds };
    }
    const w = { loss: wanted.includes('loss'), outer: wanted.includes('outer'), functional: wanted.includes('functional') };
    const rows = await timed('rows', () => backend.lastLayerRows(problem, w));
    const refused: HessianKind[] = [];
    await Promise.all(wanted.map(async (kind) => {
      const eigenvalues = rows.size > 0 ? await timed('eigen', () => backend.eigenvalues(rows[kind]!, rows.size)) : new Float64Array(0);
      const s = subspaceSpectrum(eigenvalues, rows.outside[kind] ?? 0, rows.size, P);
      if (s) result[kind] = { ...s, method: `last-layer subspace ${rows.size}` };
      else refused.push(kind);
    }));
    if (refused.length > 0) await dense(refused, 'the last-layer subspace check failed');
    return { params: P, ...result, seconds };
  }
  const ctx = net.activation === 'linear' ? subspaceFor(problem) : undefined;
  if (!ctx) {
    // No structure to use: H_O from its Gram matrix when smaller, the rest dense.
    const jobs: Promise<void>[] = [];
    if (wanted.includes('outer') && NK < P) jobs.push(gram());
    jobs.push(dense(wanted.filter((k) => k !== 'outer' || NK >= P)));
    await Promise.all(jobs);
    return { params: P, ...result, seconds };
  }
  const sub = ctx.subspace;
  const useGram = wanted.includes('outer') && NK < sub.outer.length;
  const onSubspace = wanted.filter((k) => k !== 'outer' || !useGram);
  const jobs: Promise<void>[] = [];
  if (useGram) jobs.push(gram());
  if (onSubspace.length > 0) {
    jobs.push((async () => {
      const w = { loss: onSubspace.includes('loss'), outer: onSubspace.includes('outer'), functional: onSubspace.includes('functional') };
      // The closed form is one task (a few seconds even at P 99,120), so its triangles need no
      // joining copy; products, should they be needed, split their rows across the backend's
      // workers: each row is computed the same way whatever the split, so results do not depend on it.
      const parts = Math.max(1, Math.min(opts.parallel ?? 1, sub.size));
      const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((sub.size * i) / parts));
      const [rows, probe] = await Promise.all([
        timed('rows', () => backend.subspaceRows(problem, w, 0, sub.size).then((r) => [r])),
        timed('probe', () => backend.subspaceProbe(problem, w)),
      ]);
      const sizes: Record<HessianKind, number> = { loss: sub.size, functional: sub.functional.length, outer: sub.outer.length };
      const refused: HessianKind[] = [];
      const spectrumOf = async (kind: HessianKind, parts: readonly SubspaceRows[]): Promise<{ eigenvalues: Float64Array; reach: number; mismatch: number }> => {
        const n = sizes[kind];
        const packed = joinRows(parts, kind, n);
        const eigenvalues = n > 0 ? await timed('eigen', () => backend.eigenvalues(packed, n)) : new Float64Array(0);
        const reach = Math.max(0, ...parts.map((r) => r.outside[kind] ?? 0), probe[kind] ?? 0);
        return { eigenvalues, reach, mismatch: Math.max(0, ...parts.map((r) => r.mismatch?.[kind] ?? 0)) };
      };
      await Promise.all(onSubspace.map(async (kind) => {
        let got = await spectrumOf(kind, rows);
        let method: string | undefined;
        if (!closedFormAgrees(got.eigenvalues, got.mismatch)) {
          // The closed form disagreed with the sampled products: every row from products instead.
          const only = { loss: kind === 'loss', outer: kind === 'outer', functional: kind === 'functional' };
          const exact = await timed('products', () => Promise.all(bounds.slice(0, -1).map((c0, i) => backend.subspaceRows(problem, only, c0, bounds[i + 1] - c0, 'products'))));
          got = await spectrumOf(kind, exact);
          method = `subspace ${sizes[kind]} (from products: the closed form disagreed)`;
        }
        const s = subspaceSpectrum(got.eigenvalues, got.reach, sizes[kind], P);
        if (s) result[kind] = method ? { ...s, method } : s;
        else refused.push(kind);
      }));
      if (refused.length > 0) await dense(refused, 'the subspace check failed');
    })());
  }
  await Promise.all(jobs);
  return { params: P, ...result, seconds };
}

/**
 * Whether the closed form's entries agree with the sampled products (closed.ts): their largest
 * difference per row within SUBSPACE_CHECK of s_max moves no eigenvalue across any tolerance hrank
 * accepts, like the subspace check itself.
 */
function closedFormAgrees(eigenvalues: Float64Array, mismatch: number): boolean {
  let smax = 0;
  for (const v of eigenvalues) smax = Math.max(smax, Math.abs(v));
  return mismatch <= SUBSPACE_CHECK * smax;
}

/** One kind's packed triangle from the parts' consecutive row slices. */
function joinRows(rows: readonly SubspaceRows[], kind: HessianKind, n: number): Float64Array {
  if (rows.length === 1 && rows[0]![kind]!.length === (n * (n + 1)) / 2) return rows[0]![kind]!;
  const out = new Float64Array((n * (n + 1)) / 2);
  let at = 0;
  for (const r of rows) {
    const part = r[kind]!;
    out.set(part, at);
    at += part.length;
  }
  if (at !== out.length) throw new Error(`subspace: ${kind} rows cover ${at} of ${out.length} entries`);
  return out;
}
