/**
 * Numerical rank with numpy.linalg.matrix_rank's rule, plus how far the decision was from the
 * threshold: count values > tol, where the values are singular values, or |eigenvalues| of a
 * symmetric matrix, and tol = max(atol, rtol * s_max) with rtol = n * eps by default (eps = 2^-52,
 * n = matrix size), NumPy's `matrix_rank(A, rtol=..., atol=...)`. For symmetric matrices the
 * inertia comes along: how many kept eigenvalues are positive and how many negative.
 */
export const EPS = 2.220446049250313e-16;

/**
 * The smallest relative tolerance hrank accepts: values below ~10 eps s_max are rounding noise
 * of whichever route computed them, so a tolerance down there would count noise as rank.
 */
export const MIN_RTOL = 1e-14;

/** How a rank is read from values: NumPy's `rtol` (default n * eps) and `atol` (default 0). */
export interface RankControls {
  readonly rtol?: number | null;
  readonly atol?: number;
}

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

/**
 * Dropped values at or below ROUNDING * eps * s_max (or a tenth of the tolerance, when that is
 * lower) are rounding-level zeros: what a route computes for an eigenvalue that is exactly zero
 * (measured: at most 3 eps s_max on the dense route, 1 on the subspace route; the subspace route
 * leaves structural zeros out altogether). They are not reported as dropped values, so the gap,
 * the margins and the ambiguity flag describe the Hessian's own spectrum, whatever the route.
 */
export const ROUNDING = 16;

export interface RankResult {
  readonly rank: number;
  /** Matrix size n used in the tolerance (P for every Hessian, whatever route computed it). */
  readonly size: number;
  readonly smax: number;
  readonly tolerance: number;
  /** Smallest value above the tolerance, or null when none is kept. */
  readonly smallestKept: number | null;
  /** Largest value at or below the tolerance, or null when nothing was dropped above rounding level (see ROUNDING). */
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
  /** How the values were obtained, e.g. "dense", "gram 1000", "subspace 2450". */
  readonly method: string;
  /** Kept eigenvalues that are positive / negative (a symmetric matrix's inertia above the tolerance). */
  readonly positive: number;
  readonly negative: number;
  /** The relative tolerance used (rtol; n * eps unless set) and the absolute floor (atol). */
  readonly rtol: number;
  readonly atol: number;
}

/**
 * Rank of a matrix of size n from its singular values or signed eigenvalues (absolute values are
 * compared; signs give the inertia). `values` may be fewer than n: a Gram matrix or a subspace
 * computes the nonzero spectrum, the other values being exactly zero.
 */
export function numericalRank(values: ArrayLike<number>, n: number, method = 'dense', controls: RankControls = {}): RankResult {
  const abs = Float64Array.from(values, Math.abs).sort().reverse();
  const smax = abs.length > 0 ? abs[0] : 0;
  const rtol = controls.rtol ?? n * EPS;
  const atol = controls.atol ?? 0;
  const tolerance = Math.max(atol, rtol * smax);
  let rank = 0;
  while (rank < abs.length && abs[rank] > tolerance) rank++;
  let positive = 0, negative = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Math.abs(v) > tolerance) { if (v > 0) positive++; else negative++; }
  }
  const smallestKept = rank > 0 ? abs[rank - 1] : null;
  const dropped = rank < abs.length ? abs[rank] : null;
  const floor = Math.min(ROUNDING * EPS * smax, tolerance / 10);
  const largestDropped = dropped !== null && dropped > floor ? dropped : null;
  const keptMargin = smallestKept !== null && tolerance > 0 ? Math.log10(smallestKept / tolerance) : null;
  const droppedMargin = largestDropped !== null ? Math.log10(tolerance / largestDropped) : null;
  const gap = smallestKept !== null && largestDropped !== null ? Math.log10(smallestKept / largestDropped) : null;
  const ambiguous = (keptMargin !== null && keptMargin < AMBIGUITY.kept)
    || (droppedMargin !== null && droppedMargin < AMBIGUITY.dropped)
    || (gap !== null && gap < AMBIGUITY.gap);
  return { rank, size: n, smax, tolerance, smallestKept, largestDropped, gap, keptMargin, droppedMargin, ambiguous, values: abs, method, positive, negative, rtol, atol };
}
