/**
 * H_F of a sample-size chain on its own, smaller subspace. The chain's subspace (superset mode)
 * widens V_l to the activations' span and U_l to O_l, so that one basis serves every prefix; for
 * H_F that roughly doubles the eigensolve's size (hidden [10, 10]: 640 instead of 300, eight
 * times the work). The prefix's exact subspace, sum over l of R^{M_l} (x) V_l + U_l (x) R^{c_l}
 * (subspace.ts), lies inside the chain's, so its basis is a set of Kronecker vectors in the
 * chain's coordinates: family A = e_a (x) beta_j (beta: V_l), family B = alpha_i (x) gamma_j
 * (alpha: U_l, gamma: the complement of V_l). T_F = C^T Z C is contracted from the chain's
 * summed products Z one Kronecker factor at a time, so it costs far less than the eigensolve it
 * shrinks. Checked like every subspace: the part of a product outside the smaller subspace
 * (measured on sampled rows) must be rounding.
 */
import { gemmNN, gemmNT } from '../linalg/gemm.js';
import { scratch } from '../linalg/scratch.js';
import type { Loss } from '../losses.js';
import type { Dataset, Network } from '../types.js';
import { completedBasis, functionalSpans, linearStructure, type HessianSubspace, type SubspaceIndex } from './subspace.js';

/** Rows of the chain's products whose part outside the prefix's H_F subspace is measured. */
const CHECKED_ROWS = 24;

interface Family {
  /** Left factors (chain coordinates of R^{M_l}), vector-major, p x rows; null: every unit vector. */
  readonly left: Float64Array | null;
  readonly p: number;
  /** Right factors (chain coordinates of R^{c_l}), vector-major, q x cols. */
  readonly right: Float64Array;
  readonly q: number;
}

interface BlockFamilies {
  readonly rows: number;
  readonly cols: number;
  readonly w: number;
  readonly families: Family[];
}

export interface FunctionalProjection {
  readonly n: number;
  readonly packed: Float64Array;
  /** Largest norm, over the sampled rows, of a product's part outside the prefix's H_F subspace. */
  readonly reach: number;
}

/**
 * T_F at the first `n` samples of `data` from the chain's summed functional products `Z` (one row
 * of P rotated coordinates per chain basis vector); `nx[l]`: the chain's X vectors of block l at n.
 */
export function prefixFunctional(
  net: Network, data: Dataset, loss: Loss, sub: HessianSubspace, idx: SubspaceIndex, Z: Float64Array, nx: readonly number[],
): FunctionalProjection | undefined {
  const st = linearStructure(net, data, loss);
  if (!st) return undefined;
  const K = data.k;
  const spans = functionalSpans(st, K);
  const P = sub.params;
  // Chain basis position of rotated coordinate t, or -1.
  const rowOf = new Int32Array(P).fill(-1);
  for (let g = 0; g < sub.size; g++) rowOf[idx.coord[g]] = g;

  const blocks: BlockFamilies[] = sub.blocks.map((bl, l) => {
    const { rows, cols } = bl;
    const toChain = (vecs: readonly Float64Array[], basis: Float64Array, dim: number, keep: number): Float64Array[] => vecs.map((v) => {
      const c = new Float64Array(dim);
      for (let a = 0; a < keep; a++) { let s = 0; for (let t = 0; t < dim; t++) s += basis[a * dim + t] * v[t]; c[a] = s; }
      return c; // coordinates past `keep` are zero in exact arithmetic (V in X, U in O): left out
    });
    const beta = toChain(spans.V[l], bl.right, cols, nx[l]);
    const alpha = toChain(spans.U[l], bl.left, rows, bl.nu);
    const families: Family[] = [];
    if (bl.hasV && beta.length > 0) families.push({ left: null, p: rows, right: pack(beta, cols), q: beta.length });
    if (bl.hasU && alpha.length > 0) {
      const { basis, count } = completedBasis(bl.hasV ? beta : [], cols);
      const q = cols - count;
      if (q > 0) families.push({ left: pack(alpha, rows), p: alpha.length, right: basis.slice(count * cols), q });
    }
    return { rows, cols, w: bl.layout.w, families };
  });
  const n = blocks.reduce((s, b) => s + b.families.reduce((t, f) => t + f.p * f.q, 0), 0);

  // W[r][col] = (family factors of the column's block) contracted with row r's block: Lf^T Z_l Rf,
  // for the chain rows r the row families reach (in chain order: a row block's (a, b) pairs with
  // the same a are consecutive, b from 0). One GEMM per block and family over all those rows.
  const rowsUsed: number[] = [];
  for (let g = 0; g < sub.size; g++) if (blocks[sub.block[g]].families.length > 0) rowsUsed.push(g);
  const R = rowsUsed.length;
  const rowPos = new Int32Array(sub.size).fill(-1);
  rowsUsed.forEach((g, r) => { rowPos[g] = r; });
  const W = scratch('functional.W', R * n, { zero: false });
  let col = 0;
  for (const b of blocks) {
    const size = b.rows * b.cols;
    const Zb = scratch('functional.Zb', R * size, { zero: false });
    for (let r = 0; r < R; r++) Zb.set(Z.subarray(rowsUsed[r] * P + b.w, rowsUsed[r] * P + b.w + size), r * size);
    for (const f of b.families) {
      const pq = f.p * f.q;
      const out = scratch('functional.out', R * pq);
      if (!f.left) {
        // (R rows x a) x c times right^T: out[r][a][j].
        gemmNT(R * b.rows, f.q, b.cols, 1, Zb, 0, f.right, 0, out, 0);
      } else {
        const tmp = scratch('functional.tmp', f.p * b.cols);
        for (let r = 0; r < R; r++) {
          tmp.fill(0);
          gemmNN(f.p, b.cols, b.rows, 1, f.left, 0, Zb, r * size, tmp, 0);
          gemmNT(f.p, f.q, b.cols, 1, tmp, 0, f.right, 0, out, r * pq);
        }
      }
      for (let r = 0; r < R; r++) W.set(out.subarray(r * pq, (r + 1) * pq), r * n + col);
      col += pq;
    }
  }
  // E[row][:] = the row family's factors contracted with W over the row block's (a, b).
  const E = scratch('functional.E', n * n);
  let rowAt = 0;
  for (const [l, b] of blocks.entries()) {
    for (const f of b.families) {
      // Chain row of (a, 0) in this block, and how many consecutive b follow it there.
      const first = new Int32Array(b.rows).fill(-1), run = new Int32Array(b.rows);
      for (let a = 0; a < b.rows; a++) {
        const g = rowOf[b.w + a * b.cols];
        if (g < 0 || sub.block[g] !== l) continue;
        first[a] = rowPos[g];
        let c = 0;
        while (c < b.cols && rowOf[b.w + a * b.cols + c] === g + c) c++;
        run[a] = c;
      }
      // Y[a][j][:] = sum_c right[j][c] W[(a, c)][:], over the chain's rows of (a, c).
      const Y = scratch('functional.Y', b.rows * f.q * n);
      const rt = scratch('functional.rt', f.q * b.cols, { zero: false });
      for (let a = 0; a < b.rows; a++) {
        if (first[a] < 0) continue;
        const m = run[a];
        for (let j = 0; j < f.q; j++) for (let c = 0; c < m; c++) rt[j * m + c] = f.right[j * b.cols + c];
        gemmNN(f.q, n, m, 1, rt, 0, W, first[a] * n, Y, a * f.q * n);
      }
      if (!f.left) {
        E.set(Y.subarray(0, b.rows * f.q * n), rowAt * n);
      } else {
        gemmNN(f.p, f.q * n, b.rows, 1, f.left, 0, Y, 0, E, rowAt * n);
      }
      rowAt += f.p * f.q;
    }
  }
  // Symmetrised, packed lower triangle.
  const packed = new Float64Array((n * (n + 1)) / 2);
  for (let i = 0, at = 0; i < n; i++) for (let j = 0; j <= i; j++) packed[at++] = 0.5 * (E[i * n + j] + E[j * n + i]);

  // The check: sampled rows' parts outside the prefix's H_F subspace.
  let reach = 0;
  const step = Math.max(1, Math.floor(sub.size / CHECKED_ROWS));
  for (let g = 0; g < sub.size; g += step) {
    let s = 0;
    for (const [l, b] of blocks.entries()) {
      const bl = sub.blocks[l];
      const zo = g * P + b.w;
      s += outsideSquared(Z, zo, b, bl.hasV, bl.hasU);
    }
    reach = Math.max(reach, Math.sqrt(s));
  }
  return { n, packed, reach };
}

function pack(vecs: readonly Float64Array[], dim: number): Float64Array {
  const m = new Float64Array(vecs.length * dim);
  vecs.forEach((v, i) => m.set(v, i * dim));
  return m;
}

/** |Z_l - P(Z_l)|^2 for one block of one row, P the projector onto the block's H_F subspace. */
function outsideSquared(Z: Float64Array, zo: number, b: BlockFamilies, hasV: boolean, hasU: boolean): number {
  const { rows, cols } = b;
  const R = Float64Array.from(Z.subarray(zo, zo + rows * cols));
  const A = hasV ? b.families.find((f) => f.left === null) : undefined;
  const B = hasU ? b.families.find((f) => f.left !== null) : undefined;
  // Remove the A part, R <- R (I - beta beta^T); then the B part, R <- (I - alpha alpha^T) R on the
  // complement of V (R's rows are already there).
  if (A) {
    for (let a = 0; a < rows; a++) {
      const ro = a * cols;
      for (let j = 0; j < A.q; j++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += R[ro + c] * A.right[j * cols + c];
        for (let c = 0; c < cols; c++) R[ro + c] -= s * A.right[j * cols + c];
      }
    }
  }
  if (B) {
    for (let i = 0; i < B.p; i++) {
      const coef = new Float64Array(cols);
      for (let a = 0; a < rows; a++) { const l = B.left![i * rows + a]; if (l !== 0) for (let c = 0; c < cols; c++) coef[c] += l * R[a * cols + c]; }
      for (let a = 0; a < rows; a++) { const l = B.left![i * rows + a]; if (l !== 0) for (let c = 0; c < cols; c++) R[a * cols + c] -= l * coef[c]; }
    }
  }
  return sumSquares(R);
}

function sumSquares(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return s;
}
