/**
 * All ranks of one study point, choosing per Hessian the cheapest exact-enough route:
 * - small P: dense P x P matrices from Hessian-vector products, one symmetric eigensolve each;
 * - H_O with N*K < P: the N*K x N*K Gram matrix (same nonzero spectrum, tolerance on n = P);
 * - H_L, H_F with P large: an adaptive sparse sketch (see hessian/sketch.ts), falling back to
 *   dense when the Hessian turns out (nearly) full-rank.
 * Dense O(P^3) eigensolves in JavaScript take minutes at P = 7,280; these routes keep a width-56
 * point within seconds. The heavy pieces go through a RanksBackend (inline by default; the engine
 * runs them on worker threads). See docs/design.md.
 */
import { symmetricEigenvalues } from './linalg/eigen.js';
import { gemmTN } from './linalg/gemm.js';
import { paramCount } from './network.js';
import { numericalRank, type RankResult } from './rank.js';
import { symmetrize } from './hessian/dense.js';
import { inlineBackend, type RankProblem, type RanksBackend } from './hessian/backend.js';
import { sketchRanks } from './hessian/sketch.js';
import type { Dataset, HessianKind, LossName, Network } from './types.js';

/** Use dense matrices for every Hessian when P is at most this (default of RankOptions.denseMaxParams). */
export const DENSE_MAX_PARAMS = 1200;

export interface RankOptions {
  /** Samples per accumulation batch (memory only). */
  readonly batchSize?: number;
  /** Use dense matrices for every Hessian when P <= this (default DENSE_MAX_PARAMS). */
  readonly denseMaxParams?: number;
  /** Force a route: 'auto' (default) or 'dense' (reference; O(P^3)). */
  readonly route?: 'auto' | 'dense';
  /** Rank hints to size the first sketch (e.g. the predictions); never decide a rank. */
  readonly sketchHint?: number | { readonly loss?: number; readonly functional?: number };
  readonly sketchSeed?: number;
  /** How many backend calls to run at once (the engine's worker count). */
  readonly parallel?: number;
}

export interface PointRanks {
  readonly params: number;
  readonly loss?: RankResult;
  readonly outer?: RankResult;
  readonly functional?: RankResult;
  /** Seconds spent per phase, for timings.json. */
  readonly seconds: Record<string, number>;
}

/** rank(X^T X) with the same rule, n = d. */
export function inputCovarianceRank(data: Dataset): RankResult {
  const { d, n, x } = data;
  const cov = new Float64Array(d * d);
  gemmTN(d, d, n, 1, x, 0, x, 0, cov, 0);
  symmetrize(cov, d);
  return numericalRank(symmetricEigenvalues(cov, d, { overwrite: true }), d);
}

/** First sketch sizes from rank hints: hint + 32 (twice the stopping margin). */
function sketchStart(hint: RankOptions['sketchHint']): { initial?: number; initialByKind?: { loss?: number; functional?: number } } {
  if (hint === undefined) return {};
  if (typeof hint === 'number') return { initial: hint + 32 };
  const plus = (h: number | undefined): number | undefined => (h === undefined ? undefined : h + 32);
  return { initialByKind: { loss: plus(hint.loss), functional: plus(hint.functional) } };
}

export function usesDenseRoute(params: number, opts: RankOptions = {}): boolean {
  return opts.route === 'dense' || params <= (opts.denseMaxParams ?? DENSE_MAX_PARAMS);
}

export async function hessianRanks(
  net: Network, data: Dataset, loss: LossName, which: readonly HessianKind[], opts: RankOptions = {}, backend: RanksBackend = inlineBackend(),
): Promise<PointRanks> {
  const P = paramCount(net);
  const seconds: Record<string, number> = {};
  const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try { return await fn(); } finally { seconds[label] = (seconds[label] ?? 0) + (performance.now() - t0) / 1000; }
  };
  const problem: RankProblem = { net, data, loss, batchSize: opts.batchSize };
  const result: { -readonly [K in HessianKind]?: RankResult } = {};
  const NK = data.n * data.k;
  const dense = async (kinds: readonly HessianKind[]): Promise<void> => {
    await Promise.all(kinds.map(async (kind) => {
      result[kind] = numericalRank(await timed('dense', () => backend.denseEigenvalues(problem, kind)), P, 'dense');
    }));
  };

  if (usesDenseRoute(P, opts)) {
    await dense(which);
    return { params: P, ...result, seconds };
  }
  const jobs: Promise<void>[] = [];
  if (which.includes('outer')) {
    jobs.push(NK < P
      ? timed('gram', () => backend.outerGramEigenvalues(problem)).then((e) => { result.outer = numericalRank(e, P, `gram ${NK}`); })
      : dense(['outer']));
  }
  const wantL = which.includes('loss'), wantF = which.includes('functional');
  if (wantL || wantF) {
    jobs.push((async () => {
      const sk = await timed('sketch', () => sketchRanks(problem, { loss: wantL, functional: wantF }, backend, {
        ...sketchStart(opts.sketchHint),
        seed: opts.sketchSeed,
        parallel: opts.parallel,
      }));
      if (sk) {
        if (wantL) result.loss = sk.loss;
        if (wantF) result.functional = sk.functional;
      } else {
        await dense([...(wantL ? ['loss' as const] : []), ...(wantF ? ['functional' as const] : [])]);
      }
    })());
  }
  await Promise.all(jobs);
  return { params: P, ...result, seconds };
}
