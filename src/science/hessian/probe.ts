/**
 * The second half of the subspace route's check. The products of the basis vectors show how far
 * H q reaches outside the subspace for q inside it (structured.ts, `outside`); what remains is H
 * on the orthogonal complement, which must vanish too. A few Gaussian vectors of the complement,
 * multiplied by the general operator (operator.ts, independent of the rotated one), bound it:
 * for a Gaussian probe, |H v| / |v| is of the order of the largest eigenvalue H has there.
 */
import { Rng } from '../random.js';
import type { HessianKind } from '../types.js';
import type { HessianOperator } from './operator.js';
import type { SubspaceWhich } from './structured.js';
import type { HessianSubspace, SubspaceIndex } from './subspace.js';

/** Probe vectors per check. */
export const PROBES = 2;

/**
 * `count` unit vectors (count x P, parameter coordinates) with Gaussian coordinates on every
 * rotated coordinate outside the subspace and none inside; undefined when the subspace is the
 * whole parameter space.
 */
export function probeDirections(sub: HessianSubspace, idx: SubspaceIndex, count = PROBES): Float64Array | undefined {
  const P = sub.params;
  let outside = 0;
  for (let t = 0; t < P; t++) if (idx.mask.loss[t] === 0) outside++;
  if (outside === 0) return undefined;
  const rng = new Rng(0, 'subspace-probe');
  const out = new Float64Array(count * P);
  for (let c = 0; c < count; c++) {
    const v = out.subarray(c * P, (c + 1) * P);
    for (const bl of sub.blocks) {
      const { rows, cols, left, right, layout } = bl;
      // Coefficients in rotated coordinates (rows x cols), zero inside the subspace.
      const coef = new Float64Array(rows * cols);
      for (let a = 0; a < rows; a++) for (let b = 0; b < cols; b++) {
        if (idx.mask.loss[layout.w + a * cols + b] === 0) coef[a * cols + b] = rng.normal();
      }
      // To parameter coordinates: sum over (a, b) of coef[a][b] left_a right_b^T.
      const tmp = new Float64Array(rows * cols); // tmp[r][b] = sum_a left_a[r] coef[a][b]
      for (let a = 0; a < rows; a++) for (let r = 0; r < rows; r++) {
        const l = left[a * rows + r];
        if (l !== 0) for (let b = 0; b < cols; b++) tmp[r * cols + b] += l * coef[a * cols + b];
      }
      const c0 = layout.cols;
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let b = 0; b < cols; b++) s += tmp[r * cols + b] * right[b * cols + j];
        if (j < c0) v[layout.w + r * c0 + j] = s;
        else v[layout.b + r] = s;
      }
    }
    let n2 = 0;
    for (let t = 0; t < P; t++) n2 += v[t] * v[t];
    const s = 1 / Math.sqrt(n2);
    for (let t = 0; t < P; t++) v[t] *= s;
  }
  return out;
}

/** Largest |H_kind v| over unit probes v (see probeDirections); all zero when there is nothing outside. */
export function probeNorms(F: Float64Array | undefined, O: Float64Array | undefined, count: number, P: number, which: SubspaceWhich): Partial<Record<HessianKind, number>> {
  const out: Partial<Record<HessianKind, number>> = {};
  for (let c = 0; c < count; c++) {
    const norm = (f: (t: number) => number): number => { let s = 0; for (let t = 0; t < P; t++) { const v = f(t); s += v * v; } return Math.sqrt(s); };
    const o = c * P;
    if (which.functional) out.functional = Math.max(out.functional ?? 0, norm((t) => F![o + t]));
    if (which.outer) out.outer = Math.max(out.outer ?? 0, norm((t) => O![o + t]));
    if (which.loss) out.loss = Math.max(out.loss ?? 0, norm((t) => F![o + t] + O![o + t]));
  }
  return out;
}

export function probeOutside(op: HessianOperator, sub: HessianSubspace, idx: SubspaceIndex, which: SubspaceWhich): Partial<Record<HessianKind, number>> {
  const dirs = probeDirections(sub, idx);
  if (!dirs) return { ...(which.loss ? { loss: 0 } : {}), ...(which.outer ? { outer: 0 } : {}), ...(which.functional ? { functional: 0 } : {}) };
  const P = sub.params, count = dirs.length / P;
  const needF = which.loss || which.functional, needO = which.loss || which.outer;
  const prod = op.apply({ kind: 'dense', count, data: dirs }, 0, count, { functional: needF, outer: needO });
  return probeNorms(prod.functional, prod.outer, count, P, which);
}
