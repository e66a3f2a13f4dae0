/**
 * The collect step: one results row per point, columns in the contract's order, plus details
 * (route, margins, ambiguity) that the results table does not carry.
 */
import { functionalBelowLossTolerance, type HessianKind, type PointRanks, type Prediction, type RankResult } from '../../science/index.js';
import type { SweepValue } from '../../pipeline/types.js';
import type { Checkpoint } from './values.js';
import type { ConvDataRanks } from '../../science/conv-predictions.js';

export const FIXED_COLUMNS = [
  'samples', 'input_dim', 'classes', 'params', 'rank_input_cov',
  'rank_loss', 'rank_outer', 'rank_functional', 'pred_loss', 'pred_outer', 'pred_functional', 'pred_kind',
  'gap_loss', 'gap_outer', 'gap_functional',
  'pos_loss', 'neg_loss', 'pos_outer', 'neg_outer', 'pos_functional', 'neg_functional',
] as const;

/**
 * Columns of a study that trains (after the fixed ones): the checkpoint (unless it is a sweep
 * axis, whose column comes first), the mean training loss, |grad| of the mean loss, |Omega| (the
 * N x K matrix of dl/df of the summed loss) and rank(Omega).
 */
export const TRAIN_COLUMNS = ['train.checkpoint', 'train_loss', 'grad_norm', 'residual_norm', 'rank_residual'] as const;

export type Cell = string | number | boolean | null | readonly SweepValue[];

export interface CollectParams {
  readonly axes: readonly string[];
  readonly points: readonly {
    readonly id: string; readonly values: readonly SweepValue[]; readonly samples: number; readonly params: number;
    readonly inputDim: number; readonly outputs: number; readonly classes: number; readonly hessians: readonly HessianKind[];
    /** The checkpoint of a trained point (absent: not trained). */
    readonly checkpoint?: number;
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
  /** A conv network's data ranks behind the conv formulas (r_c, rho, rho_H, beta: conv-predictions.ts). */
  readonly conv_ranks?: ConvDataRanks;
  /**
   * Per Hessian, why the point lies outside its formula's assumptions although they apply to its
   * network (training left the residual rank-deficient, or shrank H_F below H_L's tolerance);
   * those ranks are not compared.
   */
  readonly outside?: Partial<Record<HessianKind, string>>;
}

export interface PointDetail {
  readonly id: string;
  readonly prediction: PredictionDetail;
  /** A trained point's checkpoint and how far training got. */
  readonly train?: {
    readonly checkpoint: number; readonly loss: number; readonly grad_norm: number; readonly residual_norm: number;
    readonly rank_residual: number; readonly generic_rank_residual: number; readonly residual: RankDetail;
  };
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
  /** The point's checkpoint (trained points only). */
  readonly train?: Checkpoint;
}

const KINDS: readonly HessianKind[] = ['loss', 'outer', 'functional'];

const NO_VALUES = new Float64Array(0);

/**
 * What the collect step keeps of an input (by its role, `<point>/<kind>`) while the others
 * arrive: all the rows and details read. A sweep of 100,000 points holds 300,000 inputs until the
 * last one comes, and most of their bytes are sorted spectra (a Float64Array per Hessian) that no
 * row reads; of H_F's, the rows read the kept values (training's below-tolerance count).
 */
export function collectedInput(role: string, value: unknown): unknown {
  const kind = role.slice(role.indexOf('/') + 1);
  if (kind === 'input-rank') return { ...(value as RankResult), values: NO_VALUES };
  if (kind !== 'ranks') return value;
  const r = value as PointRanks;
  const out: { -readonly [K in keyof PointRanks]: PointRanks[K] } = { ...r };
  for (const k of KINDS) {
    const h = r[k];
    if (h) out[k] = { ...h, values: k === 'functional' ? h.values.slice(0, h.rank) : NO_VALUES };
  }
  return out;
}

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
  const trained = params.points.some((p) => p.checkpoint !== undefined);
  const trainColumns = trained ? TRAIN_COLUMNS.filter((c) => !params.axes.includes(c)) : [];
  const columns = [...params.axes, ...FIXED_COLUMNS, ...trainColumns];
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
      ...trainColumns.map((c): Cell => {
        const m = v.train?.metrics;
        if (!m) return null;
        switch (c) {
          case 'train.checkpoint': return p.checkpoint ?? null;
          case 'train_loss': return m.loss;
          case 'grad_norm': return m.gradNorm;
          case 'residual_norm': return m.residualNorm;
          case 'rank_residual': return m.residualRank.rank;
        }
      }),
    ]);
    const ranks: Partial<Record<HessianKind, RankDetail>> = {};
    for (const k of KINDS) if (v.ranks[k]) ranks[k] = detail(v.ranks[k]!);
    const m = v.train?.metrics;
    const outside: Partial<Record<HessianKind, string>> = {};
    if (m && m.residualRank.rank < m.genericResidualRank) {
      const why = `training left the residual Omega rank-deficient (rank ${m.residualRank.rank}, generic ${m.genericResidualRank}); the formula assumes a generic one`;
      outside.loss = why;
      outside.functional = why;
    }
    const below = m && v.ranks.functional && v.ranks.loss ? functionalBelowLossTolerance(v.ranks.functional, v.ranks.loss) : 0;
    if (below > 0) outside.loss ??= `training shrank H_F: ${below} of its ${v.ranks.functional!.rank} directions lie below H_L's tolerance, so they cannot count in rank(H_L); the formula assumes they all do`;
    details.push({
      id: p.id,
      prediction: pred.applicable
        ? { applicable: true, kind: pred.kind, basis: pred.basis, input_rank: pred.inputRank, augmented: pred.augmented,
          ...(pred.augmentedInputRank !== undefined ? { augmented_input_rank: pred.augmentedInputRank } : {}), ...(pred.missing ? { missing: pred.missing } : {}),
          ...(pred.convRanks ? { conv_ranks: pred.convRanks } : {}),
          ...(Object.keys(outside).length > 0 ? { outside } : {}) }
        : { applicable: false, reason: pred.reason },
      ...(m && p.checkpoint !== undefined ? {
        train: {
          checkpoint: p.checkpoint, loss: m.loss, grad_norm: m.gradNorm, residual_norm: m.residualNorm,
          rank_residual: m.residualRank.rank, generic_rank_residual: m.genericResidualRank, residual: detail(m.residualRank),
        },
      } : {}),
      ranks,
      input_cov: detail(v.inputRank),
    });
  });
  return { columns, rows, details };
}
