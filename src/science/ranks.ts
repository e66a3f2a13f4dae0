/**
 * All ranks of one study point, choosing per Hessian the cheapest exact-enough route:
 * - small P: dense P x P matrices from Hessian-vector products, one symmetric eigensolve each;
 * - H_O with N*K < P: the N*K x N*K Gram matrix (same nonzero spectrum, tolerance on n = P);
 * - H_L, H_F with P large: an adaptive sparse sketch (see hessian/sketch.ts), falling back to
 *   dense when the Hessian turns out (nearly) full-rank.
 * Dense O(P^3) eigensolves in JavaScript take minutes at P = 7,280; these routes keep a width-56
 * point within a minute. See docs/design.md.
 */
import { symmetricEigenvalues } from './linalg/eigen.js';
import { gemmTN } from './linalg/gemm.js';
import { getLoss } from './losses.js';
import { paramCount } from './network.js';
import { numericalRank, type RankResult } from './rank.js';
import { denseHessians, symmetrize } from './hessian/dense.js';
import { outerGram } from './hessian/gram.js';
import { HessianOperator } from './hessian/operator.js';
import { sketchRanks } from './hessian/sketch.js';
import type { Dataset, HessianKind, LossName, Network } from './types.js';

export interface RankOptions {
  /** Samples per accumulation batch (memory only). */
  readonly batchSize?: number;
  /** Use dense matrices for every Hessian when P <= this (default 1200). */
  readonly denseMaxParams?: number;
  /** Force a route: 'auto' (default) or 'dense' (reference; O(P^3)). */
  readonly route?: 'auto' | 'dense';
  /** Rank hint to size the first sketch (e.g. a prediction); never decides a rank. */
  readonly sketchHint?: number;
  readonly sketchSeed?: number;
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

export function hessianRanks(net: Network, data: Dataset, lossName: LossName, which: readonly HessianKind[], opts: RankOptions = {}): PointRanks {
  const loss = getLoss(lossName);
  const P = paramCount(net);
  const seconds: Record<string, number> = {};
  const timed = <T>(label: string, fn: () => T): T => {
    const t0 = performance.now();
    try { return fn(); } finally { seconds[label] = (seconds[label] ?? 0) + (performance.now() - t0) / 1000; }
  };
  const op = timed('setup', () => new HessianOperator(net, data, loss, { batchSize: opts.batchSize }));
  const result: { -readonly [K in HessianKind]?: RankResult } = {};
  const dense = opts.route === 'dense' || P <= (opts.denseMaxParams ?? 1200);
  const NK = data.n * data.k;

  const denseRoute = (kinds: HessianKind[]): void => {
    if (kinds.length === 0) return;
    // One kind at a time keeps a single P x P matrix alive.
    for (const kind of kinds) {
      const m = timed('products', () => denseHessians(op, [kind])[kind]!);
      symmetrize(m, P);
      result[kind] = timed('eigen', () => numericalRank(symmetricEigenvalues(m, P, { overwrite: true }), P, 'dense'));
    }
  };

  if (dense) {
    denseRoute([...which]);
  } else {
    if (which.includes('outer')) {
      if (NK < P) {
        const { gram, size } = timed('gram', () => outerGram(net, data, loss));
        result.outer = timed('eigen', () => numericalRank(symmetricEigenvalues(gram, size, { overwrite: true }), P, `gram ${size}`));
      } else {
        denseRoute(['outer']);
      }
    }
    const wantL = which.includes('loss'), wantF = which.includes('functional');
    if (wantL || wantF) {
      const sk = timed('sketch', () => sketchRanks(op, loss, { loss: wantL, functional: wantF }, {
        initial: opts.sketchHint !== undefined ? opts.sketchHint + 32 : undefined,
        seed: opts.sketchSeed,
      }));
      if (sk) {
        if (wantL) result.loss = sk.loss;
        if (wantF) result.functional = sk.functional;
      } else {
        denseRoute([...(wantL ? ['loss' as const] : []), ...(wantF ? ['functional' as const] : [])]);
      }
    }
  }
  return { params: P, ...result, seconds };
}
