/**
 * The collect step: one results row per point, columns in the contract's order, plus details
 * (route, margins, ambiguity) that the results table does not carry.
 */
import type { HessianKind, PointRanks, Prediction, RankResult } from '../../science/index.js';
import type { SweepValue } from '../../pipeline/types.js';

export const FIXED_COLUMNS = [
  'samples', 'input_dim', 'classes', 'params', 'rank_input_cov',
  'rank_loss', 'rank_outer', 'rank_functional', 'pred_loss', 'pred_outer', 'pred_functional', 'pred_kind',
  'gap_loss', 'gap_outer', 'gap_functional',
  'pos_loss', 'neg_loss', 'pos_outer', 'neg_outer', 'pos_functional', 'neg_functional',
] as const;

export type Cell = string | number | boolean | null | readonly SweepValue[];

export interface CollectParams {
  readonly axes: readonly string[];
  readonly points: readonly {
    readonly id: string; readonly values: readonly SweepValue[]; readonly samples: number; readonly params: number;
    readonly inputDim: number; readonly outputs: number; readonly classes: number; readonly hessians: readonly HessianKind[];
  }[];
}

/** One rank in details.json: snake_case, as the CSV's columns. */
export interface RankDetail {
  readonly rank: number;
  readonly method: string;
  readonly gap: number | null;
  readonly kept_margin: number | null;
  readonly dropped_margin: number | null;
  readonly ambiguous: boolean;
  readonly tolerance: number;
  readonly s_max: number;
  /** Kept eigenvalues that are positive / negative. */
  readonly positive: number;
  readonly negative: number;
}

/** A point's prediction in details.json: whether one applies, of what kind, and why (or why not). */
export interface PredictionDetail {
  readonly applicable: boolean;
  /** exact (proved) or estimate (the linear formulas for a nonlinear network); absent when none applies. */
  readonly kind?: 'exact' | 'estimate';
  readonly basis?: string;
  readonly reason?: string;
  /** Why some Hessians have no prediction although others do (a bias in every layer: H_O only). */
  readonly missing?: string;
  /** The input rank the formulas used: r, or the augmented rank with a first-layer bias. */
  readonly input_rank?: number;
  readonly augmented?: boolean;
  /** rank([X 1]^T [X 1]), with biases. */
  readonly augmented_input_rank?: number;
}

export interface PointDetail {
  readonly id: string;
  readonly prediction: PredictionDetail;
  readonly ranks: Partial<Record<HessianKind, RankDetail>>;
  readonly input_cov: RankDetail;
}

export interface Results {
  readonly columns: readonly string[];
  /** One row per point, cells in column order. */
  readonly rows: readonly (readonly Cell[])[];
  readonly details: readonly PointDetail[];
}

export interface PointValues {
  readonly inputRank: RankResult;
  readonly prediction: Prediction;
  readonly ranks: PointRanks;
}

const KINDS: readonly HessianKind[] = ['loss', 'outer', 'functional'];

/** Gaps in decades with 2 decimals; empty (null) when a side of the threshold is empty. */
function gapCell(r: RankResult | undefined): number | null {
  return r && r.gap !== null ? Number(r.gap.toFixed(2)) : null;
}

function detail(r: RankResult): RankDetail {
  return {
    rank: r.rank, method: r.method, gap: r.gap, kept_margin: r.keptMargin, dropped_margin: r.droppedMargin,
    ambiguous: r.ambiguous, tolerance: r.tolerance, s_max: r.smax, positive: r.positive, negative: r.negative,
  };
}

export function collectResults(params: CollectParams, values: readonly PointValues[]): Results {
  const columns = [...params.axes, ...FIXED_COLUMNS];
  const rows: Cell[][] = [];
  const details: PointDetail[] = [];
  params.points.forEach((p, i) => {
    const v = values[i];
    const pred = v.prediction;
    const rank = (k: HessianKind): number | null => v.ranks[k]?.rank ?? null;
    const predicted = (k: HessianKind): number | null => (pred.applicable && p.hessians.includes(k) ? pred[k] : null);
    rows.push([
      ...p.values as Cell[],
      p.samples, p.inputDim, p.classes, p.params, v.inputRank.rank,
      rank('loss'), rank('outer'), rank('functional'),
      predicted('loss'), predicted('outer'), predicted('functional'),
      pred.applicable && KINDS.some((k) => predicted(k) !== null) ? pred.kind : null,
      gapCell(v.ranks.loss), gapCell(v.ranks.outer), gapCell(v.ranks.functional),
      ...KINDS.flatMap((k) => [v.ranks[k]?.positive ?? null, v.ranks[k]?.negative ?? null]),
    ]);
    const ranks: Partial<Record<HessianKind, RankDetail>> = {};
    for (const k of KINDS) if (v.ranks[k]) ranks[k] = detail(v.ranks[k]!);
    details.push({
      id: p.id,
      prediction: pred.applicable
        ? { applicable: true, kind: pred.kind, basis: pred.basis, input_rank: pred.inputRank, augmented: pred.augmented,
          ...(pred.augmentedInputRank !== undefined ? { augmented_input_rank: pred.augmentedInputRank } : {}), ...(pred.missing ? { missing: pred.missing } : {}) }
        : { applicable: false, reason: pred.reason },
      ranks,
      input_cov: detail(v.inputRank),
    });
  });
  return { columns, rows, details };
}
