/** Dense P x P Hessians, built a chunk of rows at a time from exact Hessian-vector products. */
import { unitDirections } from './operator.js';
import type { ProductOperator } from './tied.js';
import type { HessianKind } from '../types.js';

export type DenseHessians = Partial<Record<HessianKind, Float64Array>>;

/** Rows of unit directions per operator call: bounds the R-op workspace (chunk x n x width). */
export const DENSE_CHUNK = 64;

/**
 * H_L, H_O and/or H_F as row-major P x P matrices (exactly symmetric up to rounding, since
 * row i is H e_i). Only the requested matrices are held. With `addTo`, each is added into the
 * given P x P matrix of its kind instead (running sums: no new P x P array per batch).
 */
export function denseHessians(op: ProductOperator, which: readonly HessianKind[], chunk = DENSE_CHUNK, addTo?: DenseHessians): DenseHessians {
  const P = op.params;
  const out: DenseHessians = {};
  for (const kind of which) out[kind] = addTo?.[kind] ?? new Float64Array(P * P);
  const dirs = unitDirections(0, P);
  const req = { loss: which.includes('loss'), outer: which.includes('outer'), functional: which.includes('functional') };
  for (let c0 = 0; c0 < P; c0 += chunk) {
    const kc = Math.min(chunk, P - c0);
    const prod = op.apply(dirs, c0, kc, req);
    for (const kind of which) {
      const rows = prod[kind]!, o = out[kind]!, at = c0 * P;
      if (addTo) for (let i = 0; i < rows.length; i++) o[at + i] += rows[i];
      else o.set(rows, at);
    }
  }
  return out;
}

/** Overwrites m (n x n) with (m + m^T) / 2, removing the rounding asymmetry of separately computed rows. */
export function symmetrize(m: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (m[i * n + j] + m[j * n + i]);
      m[i * n + j] = v;
      m[j * n + i] = v;
    }
  }
}
