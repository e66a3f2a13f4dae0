/**
 * The subspace route (linear networks): T_kind = Q_kind^T H_kind Q_kind for the basis Q of a
 * HessianSubspace, as packed lower triangles, from exact products in rotated coordinates.
 * Since the subspace holds range(H_kind), T_kind's eigenvalues are H_kind's nonzero eigenvalues
 * plus zeros (Rayleigh-Ritz is exact there), so ranks, gaps, margins and inertia are H's own.
 *
 * Row g of a triangle holds T[g][h] for h <= g: basis vector h's coordinate of H q_g, one read
 * each (exactly symmetric by construction, as the dense route's symmetrised matrix). The rows of
 * H_F's and H_O's triangles are those of their own basis vectors, in the same order, so a range
 * of g gives a contiguous slice of each triangle and workers can split the rows.
 */
import type { HessianKind } from '../types.js';
import type { SubspaceOperator } from './rotated.js';
import type { HessianSubspace, SubspaceIndex } from './subspace.js';

/** Directions per operator call: bounds the R-op workspace. */
export const SUBSPACE_CHUNK = 64;

export interface SubspaceWhich {
  readonly loss: boolean;
  readonly outer: boolean;
  readonly functional: boolean;
}

/** Slices of the packed triangles for rows [c0, c0 + kc), and how far the products left the subspace. */
export interface SubspaceRows {
  readonly loss?: Float64Array;
  readonly functional?: Float64Array;
  readonly outer?: Float64Array;
  /**
   * Per kind, the largest norm over these rows of the product's coordinates outside the kind's
   * subspace (zero in exact arithmetic: H's range lies inside it).
   */
  readonly outside: Partial<Record<HessianKind, number>>;
  /**
   * Closed-form rows only (closed.ts): per kind, the largest norm over the sampled rows of the
   * difference between the closed form's entries and the products'.
   */
  readonly mismatch?: Partial<Record<HessianKind, number>>;
}

/** Number of members of `list` (ascending) below `g`. */
export function countBelow(pos: Int32Array, g: number): number {
  // pos[i] is the position among the members, or -1: the count below g is the position of the
  // first member at or after g.
  for (let i = g; i < pos.length; i++) if (pos[i] >= 0) return pos[i];
  let n = 0;
  for (let i = 0; i < pos.length; i++) if (pos[i] >= 0) n = pos[i] + 1;
  return n;
}

/** Packed triangles' row slices for basis vectors [c0, c0 + kc), and where H_F's and H_O's start. */
export interface TriangleSlices {
  readonly L?: Float64Array;
  readonly F?: Float64Array;
  readonly O?: Float64Array;
  /** Position among H_F's (H_O's) basis vectors of the slice's first one. */
  readonly f0: number;
  readonly o0: number;
}

export const tri = (n: number): number => (n * (n + 1)) / 2;

export function triangleSlices(idx: SubspaceIndex, which: SubspaceWhich, c0: number, kc: number): TriangleSlices {
  const f0 = countBelow(idx.functionalPos, c0), f1 = countBelow(idx.functionalPos, c0 + kc);
  const o0 = countBelow(idx.outerPos, c0), o1 = countBelow(idx.outerPos, c0 + kc);
  return {
    L: which.loss ? new Float64Array(tri(c0 + kc) - tri(c0)) : undefined,
    F: which.functional ? new Float64Array(tri(f1) - tri(f0)) : undefined,
    O: which.outer ? new Float64Array(tri(o1) - tri(o0)) : undefined,
    f0, o0,
  };
}

export function subspaceRows(
  op: SubspaceOperator, sub: HessianSubspace, idx: SubspaceIndex, which: SubspaceWhich, c0: number, kc: number, chunk = SUBSPACE_CHUNK,
): SubspaceRows {
  if (c0 < 0 || kc < 0 || c0 + kc > sub.size) throw new RangeError(`subspace rows ${c0}..${c0 + kc} outside 0..${sub.size}`);
  const P = op.params;
  const { L, F, O, f0, o0 } = triangleSlices(idx, which, c0, kc);
  const outside: Partial<Record<HessianKind, number>> = {};
  const needF = which.loss || which.functional, needO = which.loss || which.outer;
  const { coord, functionalPos, outerPos, mask } = idx;
  const sum = new Float64Array(P);
  for (let a = 0; a < kc; a += chunk) {
    const kk = Math.min(chunk, kc - a);
    const prod = op.apply(c0 + a, kk, { functional: needF, outer: needO });
    for (let c = 0; c < kk; c++) {
      const g = c0 + a + c, off = c * P;
      const zF = prod.functional, zO = prod.outer;
      if (L) {
        let at = tri(g) - tri(c0);
        for (let h = 0; h <= g; h++) { const k = off + coord[h]; L[at++] = zF![k] + zO![k]; }
        for (let t = 0; t < P; t++) sum[t] = zF![off + t] + zO![off + t];
        outside.loss = Math.max(outside.loss ?? 0, outsideNorm(sum, 0, P, mask.loss));
      }
      if (F) {
        const pg = functionalPos[g];
        if (pg >= 0) {
          let at = tri(pg) - tri(f0);
          for (let h = 0; h <= g; h++) if (functionalPos[h] >= 0) F[at++] = zF![off + coord[h]];
        }
        outside.functional = Math.max(outside.functional ?? 0, outsideNorm(zF!, off, P, mask.functional));
      }
      if (O) {
        const pg = outerPos[g];
        if (pg >= 0) {
          let at = tri(pg) - tri(o0);
          for (let h = 0; h <= g; h++) if (outerPos[h] >= 0) O[at++] = zO![off + coord[h]];
        }
        outside.outer = Math.max(outside.outer ?? 0, outsideNorm(zO!, off, P, mask.outer));
      }
    }
  }
  return { loss: L, functional: F, outer: O, outside };
}

/** Norm of z[off .. off + P) over the coordinates outside the mask. */
export function outsideNorm(z: Float64Array, off: number, P: number, mask: Uint8Array): number {
  let s = 0;
  for (let t = 0; t < P; t++) if (mask[t] === 0) { const v = z[off + t]; s += v * v; }
  return Math.sqrt(s);
}
