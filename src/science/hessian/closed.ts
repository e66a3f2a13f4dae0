/**
 * The subspace route's matrices T = Q^T H Q of a LINEAR network in closed form, from small
 * matrices, instead of one Hessian-vector product per basis vector.
 *
 * A basis vector q = u_a (x) v_b of layer l (u_a the a-th left vector, v_b the b-th right one;
 * subspace.ts) perturbs [W_l | b_l] by D = u_a v_b^T. With A_{>l} = W_L ... W_{l+1} (K x M_l),
 * a~_{l-1,i} the augmented input of layer l at sample i, g_i = dloss/df_i and A_i = d2loss/df_i^2:
 *
 *   J_i q = A_{>l} u_a (v_b . a~_{l-1,i}) = p_l[:, a] s_l[i, b],
 *   so  q^T H_O q' = sum_i s_l[i, b] s_l'[i, d] p_l[:, a]^T A_i p_l'[:, c]   (q' = u_c (x) v_d of l'),
 *
 * and, f being linear in each layer, H_F vanishes within a layer while for l < l'
 *
 *   q^T H_F q' = sum_i g_i^T A_{>l'} u_c (vtop_d^T A_(l,l') u_a) (v_b . a~_{l-1,i})
 *              = C1[d, a] C2[c, b],   C1 = Vtop_l' A_(l,l') U_l^T,   C2 = p_l'^T N_l^T V_l^T,
 *
 * where A_(l,l') = W_{l'-1} ... W_{l+1} (the identity when l' = l + 1), vtop_d the weight part of
 * v_d (the bias slot of a~_{l'-1} does not move) and N_l = sum_i a~_{l-1,i} g_i^T. So an entry of
 * T_F costs one multiplication and T_O is one GEMM over the (few) vectors of H_O's subspace:
 * O(k^2) in all, against O(k N P) for the products. The engine checks these entries against the
 * exact R-operator products of sampled basis vectors on every run (`closedRows`).
 *
 * Within a block pair the outer entries need only the first nu + no left and nv + nx right
 * vectors (p and s vanish outside O_l and X_l), so T_O costs per block pair nO nO' GEMMs of
 * (nX x N) (N x nX'), a few hundred million operations at width 56.
 *
 * Hand-written: no library knows these structures.
 */
import { gemmNN, gemmNT, gemmTN } from '../linalg/gemm.js';
import { outputDerivatives, type Loss } from '../losses.js';
import { forward } from '../network.js';
import type { Dataset, HessianKind, Network } from '../types.js';
import type { SubspaceOperator } from './rotated.js';
import { outsideNorm, tri, triangleSlices, type SubspaceRows, type SubspaceWhich } from './structured.js';
import { linearStructure, type HessianSubspace, type SubspaceIndex } from './subspace.js';

/** Basis vectors per row slice whose products are compared with the closed form. */
export const CLOSED_CHECK_SAMPLES = 32;

export class ClosedFormSubspace {
  /** p_l = A_{>l} U_l^T (K x M_l), columns outside O_l exactly zero. */
  private readonly p: Float64Array[] = [];
  /** C1 and C2 per pair l < l' (index l * L + l'). */
  private readonly c1: (Float64Array | undefined)[];
  private readonly c2: (Float64Array | undefined)[];
  /** T_O over H_O's basis vectors (outer order), dense kO x kO. */
  private readonly tO: Float64Array;
  private readonly kO: number;

  constructor(net: Network, data: Dataset, loss: Loss, readonly sub: HessianSubspace, readonly idx: SubspaceIndex) {
    const st = linearStructure(net, data, loss);
    if (!st) throw new RangeError(`closed form: linear networks only, not ${net.activation}`);
    const L = sub.blocks.length, K = data.k, n = data.n;
    const s: Float64Array[] = [], nv: Float64Array[] = [];
    for (let l = 0; l < L; l++) {
      const bl = sub.blocks[l], { rows, cols: c } = bl;
      // p_l[k][a] = (A_{>l} u_a)_k, zero for u_a outside O_l (orthogonal to range(A_{>l}^T)).
      const px = new Float64Array(K * (bl.nu + bl.no));
      gemmNT(K, bl.nu + bl.no, rows, 1, st.after[l], 0, bl.left, 0, px, 0);
      this.p.push(spread(px, K, rows, bl.nu + bl.no));
      // s_l[i][b] = v_b . a~_{l-1,i}, zero for v_b outside X_l.
      const sx = new Float64Array(n * (bl.nv + bl.nx));
      gemmNT(n, bl.nv + bl.nx, c, 1, st.act[l], 0, bl.right, 0, sx, 0);
      s.push(spread(sx, n, c, bl.nv + bl.nx));
      // nv_l[k][b] = (N_l^T v_b)_k, zero for v_b outside V_l (range(N_l) lies in V_l).
      const nvx = new Float64Array(K * bl.nv);
      if (bl.nv > 0) gemmTNsmall(c, K, bl.nv, st.N[l], bl.right, nvx);
      nv.push(spread(nvx, K, c, bl.nv));
    }
    this.c1 = new Array(L * L);
    this.c2 = new Array(L * L);
    for (let l = 0; l < L; l++) {
      const bl = sub.blocks[l];
      if (!bl.hasV) continue;
      // X = A_(l,l') U_l^T, grown one layer at a time: (M_{l'-1} x M_l).
      let X = transpose(bl.left, bl.rows, bl.rows);
      for (let lp = l + 1; lp < L; lp++) {
        const bp = sub.blocks[lp], layout = bp.layout;
        if (lp > l + 1) {
          const prev = sub.blocks[lp - 1].layout;
          const next = new Float64Array(prev.rows * bl.rows);
          gemmNN(prev.rows, bl.rows, prev.cols, 1, net.theta.subarray(prev.w, prev.w + prev.rows * prev.cols), 0, X, 0, next, 0);
          X = next;
        }
        // C1 = Vtop_l' X: (c_l' x cols_l') (cols_l' x M_l).
        const c1 = new Float64Array(bp.cols * bl.rows);
        gemmNN(bp.cols, bl.rows, layout.cols, 1, topRows(bp.right, bp.cols, layout.cols), 0, X, 0, c1, 0);
        // C2 = p_l'^T nv_l: (M_l' x K) (K x c_l).
        const c2 = new Float64Array(bp.rows * bl.cols);
        gemmNN(bp.rows, bl.cols, K, 1, transpose(this.p[lp], K, bp.rows), 0, nv[l], 0, c2, 0);
        this.c1[l * L + lp] = c1;
        this.c2[l * L + lp] = c2;
      }
    }
    // T_O over H_O's basis vectors, block pair by block pair: for left vectors a of l and c of
    // l', Q_i[a, c] = p_l[:, a]^T A_i p_l'[:, c], and the entries for every (b, d) are
    // sum_i Q_i[a, c] s_l[i, b] s_l'[i, d]: one small GEMM per (a, c).
    const kO = sub.outer.length;
    this.kO = kO;
    this.tO = new Float64Array(kO * kO);
    const { outHess } = outputDerivatives(loss, forward(net, data.x, 0, n).a[L], data.y, n, K);
    const outerAt = sub.blocks.map((bl) => new Int32Array(bl.rows * bl.cols).fill(-1));
    for (let j = 0; j < kO; j++) { const g = sub.outer[j], bl = sub.blocks[sub.block[g]]; outerAt[sub.block[g]][sub.a[g] * bl.cols + sub.b[g]] = j; }
    for (let l = 0; l < L; l++) {
      const bl = sub.blocks[l], nO = bl.nu + bl.no, nX = bl.nv + bl.nx;
      for (let lp = l; lp < L; lp++) {
        const bp = sub.blocks[lp], nOp = bp.nu + bp.no, nXp = bp.nv + bp.nx;
        if (nO === 0 || nX === 0 || nOp === 0 || nXp === 0) continue;
        // Q[i][a][c], n x nO x nOp.
        const Q = new Float64Array(n * nO * nOp), Ap = new Float64Array(K * nOp);
        const pl = this.p[l], pp = this.p[lp];
        for (let i = 0; i < n; i++) {
          Ap.fill(0);
          for (let k = 0; k < K; k++) for (let t = 0; t < K; t++) {
            const v = outHess[i * K * K + k * K + t];
            if (v !== 0) for (let c = 0; c < nOp; c++) Ap[k * nOp + c] += v * pp[t * bp.rows + c];
          }
          for (let a = 0; a < nO; a++) for (let c = 0; c < nOp; c++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc += pl[k * bl.rows + a] * Ap[k * nOp + c];
            Q[(i * nO + a) * nOp + c] = acc;
          }
        }
        const sl = compact(s[l], n, bl.cols, nX), sp = compact(s[lp], n, bp.cols, nXp);
        const scaled = new Float64Array(n * nX), M = new Float64Array(nX * nXp);
        for (let a = 0; a < nO; a++) for (let c = 0; c < nOp; c++) {
          for (let i = 0; i < n; i++) { const q = Q[(i * nO + a) * nOp + c]; for (let b = 0; b < nX; b++) scaled[i * nX + b] = q * sl[i * nX + b]; }
          M.fill(0);
          gemmTN(nX, nXp, n, 1, scaled, 0, sp, 0, M, 0);
          for (let b = 0; b < nX; b++) {
            const x = outerAt[l][a * bl.cols + b];
            if (x < 0) continue;
            for (let d = 0; d < nXp; d++) {
              const y = outerAt[lp][c * bp.cols + d];
              if (y < 0) continue;
              this.tO[x * kO + y] = M[b * nXp + d];
              this.tO[y * kO + x] = M[b * nXp + d];
            }
          }
        }
      }
    }
  }

  /** q_g^T H_F q_h. */
  functional(g: number, h: number): number {
    const sub = this.sub, L = sub.blocks.length;
    const l = sub.block[g], lp = sub.block[h];
    if (l === lp) return 0;
    if (l < lp) {
      const c1 = this.c1[l * L + lp]!, c2 = this.c2[l * L + lp]!;
      return c1[sub.b[h] * sub.blocks[l].rows + sub.a[g]] * c2[sub.a[h] * sub.blocks[l].cols + sub.b[g]];
    }
    const c1 = this.c1[lp * L + l]!, c2 = this.c2[lp * L + l]!;
    return c1[sub.b[g] * sub.blocks[lp].rows + sub.a[h]] * c2[sub.a[g] * sub.blocks[lp].cols + sub.b[h]];
  }

  /** q_g^T H_O q_h. */
  outer(g: number, h: number): number {
    const pg = this.idx.outerPos[g], ph = this.idx.outerPos[h];
    return pg < 0 || ph < 0 ? 0 : this.tO[pg * this.kO + ph];
  }

  /**
   * Row g of T_F over basis vectors [0, upto) into out[0 .. upto) (the loss row adds T_O): per
   * block of h, two gathered columns of C1 and C2 (the basis is ordered by block, so each block's
   * vectors are a contiguous run).
   */
  functionalRow(g: number, upto: number, out: Float64Array): void {
    const sub = this.sub, L = sub.blocks.length, l = sub.block[g], a = sub.a[g], b = sub.b[g];
    out.fill(0, 0, upto);
    for (let h0 = 0; h0 < upto;) {
      const lp = sub.block[h0];
      let h1 = h0;
      while (h1 < upto && sub.block[h1] === lp) h1++;
      if (lp !== l) {
        const lo = Math.min(l, lp), hi = Math.max(l, lp);
        const c1 = this.c1[lo * L + hi]!, c2 = this.c2[lo * L + hi]!;
        const rowsLo = sub.blocks[lo].rows, colsLo = sub.blocks[lo].cols;
        const ha = sub.a, hb = sub.b;
        if (l < lp) {
          // C1[d_h, a] C2[c_h, b].
          for (let h = h0; h < h1; h++) out[h] = c1[hb[h] * rowsLo + a] * c2[ha[h] * colsLo + b];
        } else {
          // C1[b, a_h] C2[a, b_h].
          const r1 = b * rowsLo, r2 = a * colsLo;
          for (let h = h0; h < h1; h++) out[h] = c1[r1 + ha[h]] * c2[r2 + hb[h]];
        }
      }
      h0 = h1;
    }
  }

  /** Rows [c0, c0 + kc) of the packed lower triangles, laid out as structured.ts's subspaceRows. */
  rows(which: SubspaceWhich, c0: number, kc: number): Pick<SubspaceRows, HessianKind> {
    const { idx, sub } = this;
    const { L: Lr, F, O, f0, o0 } = triangleSlices(idx, which, c0, kc);
    const { functionalPos, outerPos } = idx;
    const row = new Float64Array(sub.size);
    const kO = this.kO, tO = this.tO, outer = sub.outer;
    for (let g = c0; g < c0 + kc; g++) {
      const needF = Lr !== undefined || (F !== undefined && functionalPos[g] >= 0);
      if (needF) this.functionalRow(g, g + 1, row);
      if (F && functionalPos[g] >= 0) {
        let at = tri(functionalPos[g]) - tri(f0);
        for (let h = 0; h <= g; h++) if (functionalPos[h] >= 0) F[at++] = row[h];
      }
      const pg = outerPos[g];
      if (Lr) {
        const at = tri(g) - tri(c0);
        Lr.set(row.subarray(0, g + 1), at);
        // T_O's row: nonzero only at H_O's basis vectors (outer is ascending).
        if (pg >= 0) for (let j = 0; j <= pg; j++) Lr[at + outer[j]] += tO[pg * kO + j];
      }
      if (O && pg >= 0) O.set(tO.subarray(pg * kO, pg * kO + pg + 1), tri(pg) - tri(o0));
    }
    return { loss: Lr, functional: F, outer: O };
  }
}

/**
 * Rows [c0, c0 + kc) in closed form, checked: the products of up to CLOSED_CHECK_SAMPLES basis
 * vectors of the slice (spread evenly) give their full rows of T, compared entry by entry with the
 * closed form (`mismatch`: per kind, the largest norm of a row's differences), and how far H q reaches
 * outside the subspace (`outside`, as the product route reports it for every row).
 */
export function closedRows(
  closed: ClosedFormSubspace, op: SubspaceOperator, which: SubspaceWhich, c0: number, kc: number, samples = CLOSED_CHECK_SAMPLES,
): SubspaceRows {
  const { sub, idx } = closed;
  const out = closed.rows(which, c0, kc);
  const outside: Partial<Record<HessianKind, number>> = {};
  const mismatch: Partial<Record<HessianKind, number>> = {};
  const P = sub.params, count = Math.min(samples, kc);
  const needF = which.loss || which.functional, needO = which.loss || which.outer;
  const sum = new Float64Array(which.loss ? P : 0);
  for (let s = 0; s < count; s++) {
    const g = c0 + Math.floor(((s + 0.5) * kc) / count);
    const prod = op.apply(g, 1, { functional: needF, outer: needO });
    const zF = prod.functional, zO = prod.outer;
    let dL = 0, dF = 0, dO = 0;
    for (let h = 0; h < sub.size; h++) {
      const t = idx.coord[h];
      const f = closed.functional(g, h), o = closed.outer(g, h);
      if (which.loss) { const d = zF![t] + zO![t] - f - o; dL += d * d; }
      if (which.functional && idx.functionalPos[g] >= 0 && idx.functionalPos[h] >= 0) { const d = zF![t] - f; dF += d * d; }
      if (which.outer && idx.outerPos[g] >= 0 && idx.outerPos[h] >= 0) { const d = zO![t] - o; dO += d * d; }
    }
    if (which.loss) mismatch.loss = Math.max(mismatch.loss ?? 0, Math.sqrt(dL));
    if (which.functional) mismatch.functional = Math.max(mismatch.functional ?? 0, Math.sqrt(dF));
    if (which.outer) mismatch.outer = Math.max(mismatch.outer ?? 0, Math.sqrt(dO));
    // How far H q reaches outside each subspace, as structured.ts reports it for every row.
    if (which.loss) {
      for (let t = 0; t < P; t++) sum[t] = zF![t] + zO![t];
      outside.loss = Math.max(outside.loss ?? 0, outsideNorm(sum, 0, P, idx.mask.loss));
    }
    if (which.functional) outside.functional = Math.max(outside.functional ?? 0, outsideNorm(zF!, 0, P, idx.mask.functional));
    if (which.outer) outside.outer = Math.max(outside.outer ?? 0, outsideNorm(zO!, 0, P, idx.mask.outer));
  }
  return { ...out, outside, mismatch };
}

/** The first `used` columns of m (rows x cols), contiguous. */
function compact(m: Float64Array, rows: number, cols: number, used: number): Float64Array {
  const out = new Float64Array(rows * used);
  for (let i = 0; i < rows; i++) out.set(m.subarray(i * cols, i * cols + used), i * used);
  return out;
}

/** A (rows x cols, row-major) transposed. */
function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

/** The first `top` entries of each of the `count` vectors of length `len` (vector-major), contiguous. */
function topRows(v: Float64Array, count: number, top: number, len = v.length / count): Float64Array {
  const out = new Float64Array(count * top);
  for (let i = 0; i < count; i++) out.set(v.subarray(i * len, i * len + top), i * top);
  return out;
}

/** m (rows x used) widened to rows x cols with zero columns after `used`. */
function spread(m: Float64Array, rows: number, cols: number, used: number): Float64Array {
  if (used === cols) return m.length === rows * cols ? m : m.slice(0, rows * cols);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) out.set(m.subarray(i * used, (i + 1) * used), i * cols);
  return out;
}

/** out[k][b] = sum_j N[j][k] right[b][j] for b < nv (N: c x K, right: vector-major c x c). */
function gemmTNsmall(c: number, K: number, nvCount: number, N: Float64Array, right: Float64Array, out: Float64Array): void {
  for (let b = 0; b < nvCount; b++) {
    for (let j = 0; j < c; j++) {
      const r = right[b * c + j];
      if (r === 0) continue;
      for (let k = 0; k < K; k++) out[k * nvCount + b] += N[j * K + k] * r;
    }
  }
}
