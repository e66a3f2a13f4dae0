/**
 * Numerical rank with numpy.linalg.matrix_rank's rule, plus how far the decision was from the
 * threshold: count values > s_max * n * eps (eps = 2^-52, n = matrix size), where the values are
 * singular values, or |eigenvalues| of a symmetric matrix.
 */
export const EPS = 2.220446049250313e-16;

/**
 * When a rank is numerically ambiguous: a kept value within KEPT decades above the tolerance, a
 * dropped value within DROPPED decades below it, or kept and dropped values less than GAP decades
 * apart. Values that are exactly zero in exact arithmetic come out around c * eps * s_max with c
 * small, while the tolerance is n * eps * s_max: for small n they sit only ~1 decade below it,
 * hence the tighter bound on the dropped side. The paper's knife-edge points (a value within a
 * factor 0.75 - 1 of the tolerance, or a few values spread over 1 - 2 decades around it) are
 * all caught.
 */
export const AMBIGUITY = { kept: 1, dropped: 0.5, gap: 3 } as const;

export interface RankResult {
  readonly rank: number;
  /** Matrix size n used in the tolerance (P for every Hessian, whatever route computed it). */
  readonly size: number;
  readonly smax: number;
  readonly tolerance: number;
  /** Smallest value above the tolerance, or null when none is kept. */
  readonly smallestKept: number | null;
  /** Largest value at or below the tolerance, or null when nothing was dropped (or it is exactly 0). */
  readonly largestDropped: number | null;
  /** log10(smallestKept / largestDropped): the gap, in decades, the rank decision sits in; null when one side is empty. */
  readonly gap: number | null;
  /** log10(smallestKept / tolerance). */
  readonly keptMargin: number | null;
  /** log10(tolerance / largestDropped). */
  readonly droppedMargin: number | null;
  /** True when a margin or the gap is below its AMBIGUITY bound. */
  readonly ambiguous: boolean;
  /** The values the rank was read from, sorted descending (|eigenvalues| or singular values). */
  readonly values: Float64Array;
  /** How the values were obtained, e.g. "dense", "gram 1000", "sketch 2600". */
  readonly method: string;
}

/**
 * Rank of a matrix of size n from its singular values (or eigenvalues: absolute values are taken).
 * `values` may be fewer than n (a Gram matrix or a sketch computes only some of them).
 */
export function numericalRank(values: ArrayLike<number>, n: number, method = 'dense'): RankResult {
  const abs = Float64Array.from(values, Math.abs).sort().reverse();
  const smax = abs.length > 0 ? abs[0] : 0;
  const tolerance = smax * n * EPS;
  let rank = 0;
  while (rank < abs.length && abs[rank] > tolerance) rank++;
  const smallestKept = rank > 0 ? abs[rank - 1] : null;
  const dropped = rank < abs.length ? abs[rank] : null;
  const largestDropped = dropped !== null && dropped > 0 ? dropped : null;
  const keptMargin = smallestKept !== null && tolerance > 0 ? Math.log10(smallestKept / tolerance) : null;
  const droppedMargin = largestDropped !== null ? Math.log10(tolerance / largestDropped) : null;
  const gap = smallestKept !== null && largestDropped !== null ? Math.log10(smallestKept / largestDropped) : null;
  const ambiguous = (keptMargin !== null && keptMargin < AMBIGUITY.kept)
    || (droppedMargin !== null && droppedMargin < AMBIGUITY.dropped)
    || (gap !== null && gap < AMBIGUITY.gap);
  return { rank, size: n, smax, tolerance, smallestKept, largestDropped, gap, keptMargin, droppedMargin, ambiguous, values: abs, method };
}
