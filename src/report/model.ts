/**
 * What the report is made of, read from the results: cells by column name, the per-point,
 * per-Hessian comparison with the prediction, the names and colours of the Hessians, and the
 * spectra (sorted |eigenvalues| and tolerance) a spectrum plot draws.
 */
import type { Cell, Results } from '../engine/kinds/collect.js';
import { formatValue } from '../pipeline/expand.js';
import type { HessianKind, Study, SweepValue } from '../pipeline/types.js';
import type { Provenance } from './results.js';

export const KINDS: readonly HessianKind[] = ['loss', 'outer', 'functional'];

/** Short names, as the paper writes them. */
export const HESSIAN_SYMBOL: Readonly<Record<HessianKind, string>> = { loss: 'H_L', outer: 'H_O', functional: 'H_F' };

/** Legend labels. */
export const HESSIAN_LABEL: Readonly<Record<HessianKind, string>> = {
  loss: 'H_L (loss)',
  outer: 'H_O (outer)',
  functional: 'H_F (functional)',
};

/** One hue per Hessian, the same in every plot (lines, dots, tolerance rules). */
export const HESSIAN_COLOR: Readonly<Record<HessianKind, string>> = { loss: '#1f77b4', outer: '#ff7f0e', functional: '#2ca02c' };

/**
 * How an empirical rank compares with its prediction:
 * `=` equal; `differs`; `ambiguous` the rank itself is numerically ambiguous (a kept or dropped
 * value close to the tolerance, or a small gap: see AMBIGUITY in src/science/rank.ts), whatever the prediction;
 * `~` the prediction is an estimate (the linear formulas for a nonlinear network: never `=` or `differs`);
 * `n/a` no prediction applies.
 */
export type Check = '=' | 'differs' | 'ambiguous' | '~' | 'n/a' | 'outside';

export const CHECK_MEANING: Readonly<Record<Check, string>> = {
  '=': 'the empirical rank equals the prediction',
  differs: 'the empirical rank differs from the prediction',
  ambiguous: 'the rank is numerically ambiguous: a kept or dropped value lies close to the tolerance, or the gap around it is small',
  '~': 'the prediction is an estimate (the linear network\'s formulas for a nonlinear one); shown with the relative difference (rank - estimate) / estimate',
  'n/a': 'no prediction applies (H_F and H_L of a network with a bias in every layer: no verified formula)',
  outside: 'training left the point outside the formula\'s assumptions (a residual Omega no longer of generic rank, or H_F shrunk below H_L\'s tolerance: see details.json); not compared',
};

/** The spectrum a rank was read from (a `RankResult` is one). */
export interface Spectrum {
  /** Sorted descending |eigenvalues| (or singular values). */
  readonly values: Float64Array;
  readonly tolerance: number;
  readonly rank: number;
  readonly method: string;
  /** Kept eigenvalues that are positive / negative (absent for singular values). */
  readonly positive?: number;
  readonly negative?: number;
}

/** Spectra of one point, by Hessian. */
export type PointSpectra = Partial<Record<HessianKind, Spectrum>>;

/** Everything a report is built from. */
export interface ReportInput {
  readonly study: Study;
  readonly results: Results;
  /**
   * Per results row: the spectra of its Hessians; only read when the study asks for spectra
   * (`report.spectra: true`). Null or absent: no spectrum plots (the report says why).
   */
  readonly spectra?: readonly PointSpectra[] | null;
  /** The run's provenance; null when there is none (the report says so). */
  readonly provenance: Provenance | null;
}

/** Index of a column; -1 when absent. */
export function columnIndex(results: Results, name: string): number {
  return results.columns.indexOf(name);
}

export function cellOf(results: Results, row: number, name: string): Cell {
  const i = columnIndex(results, name);
  return i < 0 ? null : (results.rows[row]?.[i] ?? null);
}

export function numberOf(results: Results, row: number, name: string): number | null {
  const c = cellOf(results, row, name);
  return typeof c === 'number' ? c : null;
}

/** A cell as text: lists as the sweep writes them (`[8, 8]`), null as ''. */
export function cellText(c: Cell): string {
  if (c === null) return '';
  if (Array.isArray(c)) return formatValue(c as SweepValue);
  return String(c);
}

/** The Hessians with at least one rank in the results, in canonical order. */
export function presentKinds(results: Results): HessianKind[] {
  return KINDS.filter((k) => results.rows.some((_, i) => numberOf(results, i, `rank_${k}`) !== null));
}

/** The comparison of one point's Hessian with its prediction; null when that rank was not computed. */
export function checkOf(results: Results, row: number, kind: HessianKind): Check | null {
  const rank = numberOf(results, row, `rank_${kind}`);
  if (rank === null) return null;
  if (results.details[row]?.ranks[kind]?.ambiguous) return 'ambiguous';
  if (results.details[row]?.prediction.outside?.[kind]) return 'outside';
  const pred = numberOf(results, row, `pred_${kind}`);
  if (pred === null) return 'n/a';
  if (cellOf(results, row, 'pred_kind') === 'estimate') return '~';
  return rank === pred ? '=' : 'differs';
}

/** (rank - estimate) / estimate as a signed percentage (`+2.1%`, `-0.4%`, `0%`); null without both. */
export function relativeDifference(results: Results, row: number, kind: HessianKind): string | null {
  const rank = numberOf(results, row, `rank_${kind}`), pred = numberOf(results, row, `pred_${kind}`);
  if (rank === null || pred === null) return null;
  if (pred === 0) return rank === 0 ? '0%' : null;
  const rel = (100 * (rank - pred)) / pred;
  if (rel === 0) return '0%';
  const digits = Math.abs(rel) >= 10 ? 0 : 1;
  return `${rel > 0 ? '+' : '-'}${Math.abs(rel).toFixed(digits)}%`;
}

/** The check as the table shows it: `~ +2.1%` for an estimate, else the check itself. */
export function checkText(results: Results, row: number, kind: HessianKind): string | null {
  const c = checkOf(results, row, kind);
  if (c !== '~') return c;
  const rel = relativeDifference(results, row, kind);
  return rel === null ? '~' : `~ ${rel}`;
}

/** How a count of each check reads: `5 equal`, `1 differs`. */
export const CHECK_COUNT_WORDS: Readonly<Record<Check, string>> = { '=': 'equal', differs: 'differ', ambiguous: 'ambiguous', '~': 'against an estimate', 'n/a': 'without prediction', outside: 'outside the assumptions' };

/** `5 equal, 1 differ`: the non-zero counts of a Hessian's checks. */
export function checkSummary(counts: Readonly<Record<Check, number>>): string {
  const order: readonly Check[] = ['=', 'differs', 'ambiguous', '~', 'n/a', 'outside'];
  return order.filter((c) => counts[c] > 0).map((c) => `${counts[c]} ${CHECK_COUNT_WORDS[c]}`).join(', ') || 'no points';
}

/** Counts of each check per Hessian. */
export function checkCounts(results: Results, kind: HessianKind): Record<Check, number> {
  const counts: Record<Check, number> = { '=': 0, differs: 0, ambiguous: 0, '~': 0, 'n/a': 0, outside: 0 };
  results.rows.forEach((_, i) => {
    const c = checkOf(results, i, kind);
    if (c !== null) counts[c]++;
  });
  return counts;
}

/** The sweep axis paths, in file order. */
export function axisPaths(study: Study): string[] {
  return study.sweep.axes.map((a) => a.path);
}

/** Where a study's predictions come from: the paper's formulas, or (conv layers) hrank's own, derived and verified in docs/theory.md. */
export function predictionSource(results: Results): string {
  const conv = results.details.some((d) => d?.prediction.conv_ranks !== undefined);
  const dense = results.details.some((d) => d?.prediction.applicable && d.prediction.conv_ranks === undefined);
  const paper = 'Singh, Bachmann and Hofmann 2021';
  const ours = 'conv layers: docs/theory.md#convolutions';
  return conv && dense ? `${paper}; ${ours}` : conv ? ours : paper;
}
