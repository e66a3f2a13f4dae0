/**
 * What a route hands back for one Hessian (its eigenvalues as computed) and the rule that decides
 * whether the subspace route's eigenvalues are the Hessian's own.
 */
import { MIN_RTOL } from './rank.js';

/** The eigenvalues of one Hessian, as computed, and how. */
export interface Spectrum {
  /** Signed eigenvalues, ascending: all P (dense), or the nonzero spectrum and rounding-level values (gram, subspace: the other values are exactly zero). */
  readonly eigenvalues: Float64Array;
  /** The Hessian's size P (the tolerance's n). */
  readonly size: number;
  /** "dense", "gram 1000", "subspace 2450", or "dense (<why the subspace route was not used>)". */
  readonly method: string;
  /** Subspace route: the largest |H v| seen outside the subspace, relative to s_max (the check's value). */
  readonly outside?: number;
}

export interface PointSpectra {
  readonly params: number;
  readonly loss?: Spectrum;
  readonly outer?: Spectrum;
  readonly functional?: Spectrum;
  /** Seconds spent per phase, for timings.json. */
  readonly seconds: Record<string, number>;
}

/**
 * The subspace route's check passes when H reaches out of the subspace by at most this fraction
 * of s_max: an eighth of the smallest tolerance hrank accepts (MIN_RTOL * s_max), so what the
 * subspace leaves out moves no eigenvalue across any rank tolerance. Rounding leaves ~1e-3 of the
 * default tolerance there (measured).
 */
export const SUBSPACE_CHECK = MIN_RTOL / 8;

/** The subspace route's verdict: its spectrum when H's reach outside the subspace passes the check, else undefined. */
export function subspaceSpectrum(eigenvalues: Float64Array, reach: number, n: number, params: number): Spectrum | undefined {
  let smax = 0;
  for (const v of eigenvalues) smax = Math.max(smax, Math.abs(v));
  const outside = smax > 0 ? reach / smax : reach === 0 ? 0 : Infinity;
  return outside <= SUBSPACE_CHECK ? { eigenvalues, size: params, method: `subspace ${n}`, outside } : undefined;
}
