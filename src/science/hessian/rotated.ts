/**
 * Exact Hessian-vector products of a LINEAR network in the coordinates of a HessianSubspace:
 * for a basis vector q = left_a (x) right_b of layer l0 it returns G^T H_F q and G^T H_O q, where
 * G is the orthogonal change of basis of every layer ([W_l | b_l] -> left^T [W_l | b_l] right).
 * Row (l, a, b) of an output, at w_l + a c_l + b, is the product's coordinate on basis vector
 * (l, a, b), so an entry of T = Q^T H Q is one read, and the coordinates outside the subspace
 * measure how far H's range reaches out of it (checkSubspace).
 *
 * The same R-operator as operator.ts, written for s(z) = z (s' = 1, s'' = 0) and rank-one
 * directions: R{z_l0} = left_a (right_b . a~_{l0-1}) per sample, nothing below l0 moves forward,
 * and R{delta} is nonzero only below l0. The rotations are applied to the per-sample factors
 * before each layer's outer product (n x M^2 per direction), which costs less than rotating the
 * M x c output blocks when batches are small (a sample-size chain adds 10 samples at a time).
 */
import { gemmNN, gemmNT, gemmTN } from '../linalg/gemm.js';
import { scratch } from '../linalg/scratch.js';
import { outputDerivatives, type Loss } from '../losses.js';
import { checkShapes, forward, layerLayout, type LayerLayout } from '../network.js';
import type { Dataset, Network } from '../types.js';
import type { HessianSubspace, SubspaceBlock } from './subspace.js';

interface RotatedBlock {
  readonly layout: LayerLayout;
  readonly rows: number;
  readonly cols: number;
  /** c_l = cols (+1 with bias). */
  readonly c: number;
  /** left basis, vector-major (rows x rows); null when it is the identity. */
  readonly left: Float64Array | null;
  /** right basis, vector-major (c x c); null when it is the identity. */
  readonly right: Float64Array | null;
  /** The first `cols` entries of each right vector, contiguous (c x cols). */
  readonly rightTop: Float64Array;
}

interface Batch {
  readonly n: number;
  /** Rotated augmented inputs of layer l: a~_{l-1} right (n x c_l), index l - 1. */
  readonly inRot: Float64Array[];
  /** delta_l (n x M_l) and delta_l left (n x M_l), index l - 1. */
  readonly delta: Float64Array[];
  readonly deltaRot: Float64Array[];
  /** Output Hessians A_i, n x K x K. */
  readonly outHess: Float64Array;
}

export interface RotatedProducts {
  functional?: Float64Array;
  outer?: Float64Array;
}

export class SubspaceOperator {
  readonly params: number;
  private readonly blocks: RotatedBlock[];
  private readonly batches: Batch[] = [];

  constructor(readonly net: Network, readonly data: Dataset, readonly loss: Loss, readonly subspace: HessianSubspace, opts: { readonly batchSize?: number } = {}) {
    if (net.activation !== 'linear') throw new RangeError(`subspace operator: linear networks only, not ${net.activation}`);
    checkShapes(net, data);
    this.params = net.theta.length;
    const layouts = layerLayout(net);
    this.blocks = subspace.blocks.map((bl, l) => rotatedBlock(bl, layouts[l]));
    const bs = Math.max(1, Math.min(opts.batchSize ?? data.n, data.n));
    for (let start = 0; start < data.n; start += bs) this.batches.push(this.prepare(start, Math.min(bs, data.n - start)));
  }

  private prepare(start: number, n: number): Batch {
    const { net, data, loss, blocks } = this;
    const K = data.k, L = blocks.length;
    const fp = forward(net, data.x, start, n);
    const out = fp.a[L];
    const { g, outHess } = outputDerivatives(loss, out, data.y.subarray(start * K, (start + n) * K), n, K);
    const inRot: Float64Array[] = [], delta: Float64Array[] = new Array(L), deltaRot: Float64Array[] = new Array(L);
    for (let l = 0; l < L; l++) {
      const bl = blocks[l];
      const aug = new Float64Array(n * bl.c);
      const a0 = fp.a[l];
      for (let i = 0; i < n; i++) {
        aug.set(a0.subarray(i * bl.cols, (i + 1) * bl.cols), i * bl.c);
        if (bl.c > bl.cols) aug[i * bl.c + bl.cols] = 1;
      }
      inRot.push(rotate(aug, n, bl.c, bl.right));
    }
    delta[L - 1] = g;
    for (let l = L - 1; l > 0; l--) {
      const { rows, cols, layout } = blocks[l];
      const prev = new Float64Array(n * cols);
      gemmNN(n, cols, rows, 1, delta[l], 0, net.theta, layout.w, prev, 0);
      delta[l - 1] = prev;
    }
    for (let l = 0; l < L; l++) deltaRot[l] = rotate(delta[l], n, blocks[l].rows, blocks[l].left);
    return { n, inRot, delta, deltaRot, outHess };
  }

  /** Products for basis vectors [c0, c0 + kc): kc x P each, in rotated coordinates, fresh. */
  apply(c0: number, kc: number, want: { readonly functional?: boolean; readonly outer?: boolean }): RotatedProducts {
    const P = this.params;
    const res: RotatedProducts = {};
    if (want.functional) res.functional = new Float64Array(kc * P);
    if (want.outer) res.outer = new Float64Array(kc * P);
    this.accumulate(c0, kc, res.functional, res.outer);
    return res;
  }

  /** Adds the products of basis vectors [c0, c0 + kc) into F and/or O (kc x P, row c at c * P). */
  accumulate(c0: number, kc: number, F: Float64Array | undefined, O: Float64Array | undefined): void {
    const sub = this.subspace;
    if (c0 < 0 || kc < 0 || c0 + kc > sub.size) throw new RangeError(`subspace operator: basis vectors ${c0}..${c0 + kc} outside 0..${sub.size}`);
    // Runs of consecutive basis vectors in one layer (the basis is ordered by layer).
    for (let s = c0; s < c0 + kc;) {
      const l0 = sub.block[s];
      let e = s + 1;
      while (e < c0 + kc && sub.block[e] === l0) e++;
      for (const batch of this.batches) this.applyRun(batch, l0, s, e - s, F, O, (s - c0) * this.params);
      s = e;
    }
  }

  private backward(batch: Batch, z: Float64Array, from: number, kc: number, out: Float64Array, outOff: number, name: string): void {
    backwardInto(this.blocks, this.net.theta, batch, z, from, kc, out, outOff, this.params, name);
  }

  private applyRun(batch: Batch, l0: number, s0: number, kc: number, F: Float64Array | undefined, O: Float64Array | undefined, outOff: number): void {
    const { blocks, params: P, net } = this;
    const theta = net.theta;
    const sub = this.subspace;
    const L = blocks.length, K = this.data.k, n = batch.n, kn = kc * n;
    const b0 = blocks[l0];

    // R-forward: R{z_l} for l >= l0 (kc x n x M_l).
    const Rz: Float64Array[] = new Array(L);
    {
      const rz = scratch(`rot.rz.${l0}`, kn * b0.rows, { zero: false });
      const inR = batch.inRot[l0];
      for (let c = 0; c < kc; c++) {
        const a = sub.a[s0 + c], b = sub.b[s0 + c];
        for (let i = 0; i < n; i++) {
          const s = inR[i * b0.c + b], o = (c * n + i) * b0.rows;
          if (b0.left) { const lo = a * b0.rows; for (let r = 0; r < b0.rows; r++) rz[o + r] = s * b0.left[lo + r]; }
          else { rz.fill(0, o, o + b0.rows); rz[o + a] = s; }
        }
      }
      Rz[l0] = rz;
    }
    for (let l = l0 + 1; l < L; l++) {
      const { rows, cols, layout } = blocks[l];
      const rz = scratch(`rot.rz.${l}`, kn * rows);
      gemmNT(kn, rows, cols, 1, Rz[l - 1], 0, theta, layout.w, rz, 0);
      Rz[l] = rz;
    }

    if (F) {
      // Layers above l0: delta_l R{a~_{l-1}}^T, rotated: (delta_l left)^T ([Rz_{l-1}; 0] right).
      for (let l = l0 + 1; l < L; l++) {
        const bl = blocks[l];
        const zr = scratch('rot.zr', kn * bl.c);
        gemmNT(kn, bl.c, bl.cols, 1, Rz[l - 1], 0, bl.rightTop, 0, zr, 0);
        for (let c = 0; c < kc; c++) gemmTN(bl.rows, bl.c, n, 1, batch.deltaRot[l], 0, zr, c * n * bl.c, F, outOff + c * P + bl.layout.w);
      }
      // Layers below l0: R{delta_l} a~_{l-1}^T, with R{delta_{l0-1}} = delta_l0 dW_l0[:, :cols].
      if (l0 > 0) {
        const rd = scratch(`rot.rd.${l0 - 1}`, kn * b0.cols, { zero: false });
        const dr = batch.deltaRot[l0];
        for (let c = 0; c < kc; c++) {
          const a = sub.a[s0 + c], b = sub.b[s0 + c], to = b * b0.cols;
          for (let i = 0; i < n; i++) {
            const s = dr[i * b0.rows + a], o = (c * n + i) * b0.cols;
            for (let j = 0; j < b0.cols; j++) rd[o + j] = s * b0.rightTop[to + j];
          }
        }
        this.backward(batch, rd, l0 - 1, kc, F, outOff, 'rot.rd');
      }
    }

    if (O) {
      // u_L = A (J v); u_{l-1} = u_l W_l[:, :cols]; block l gets (u_l left)^T (a~_{l-1} right).
      const u = scratch('rot.u.top', kn * K, { zero: false });
      const A = batch.outHess, jv = Rz[L - 1];
      for (let c = 0; c < kc; c++) {
        for (let i = 0; i < n; i++) {
          const o = (c * n + i) * K, ao = i * K * K;
          for (let r = 0; r < K; r++) {
            let acc = 0;
            for (let t = 0; t < K; t++) acc += A[ao + r * K + t] * jv[o + t];
            u[o + r] = acc;
          }
        }
      }
      this.backward(batch, u, L - 1, kc, O, outOff, 'rot.u');
    }
  }
}

/**
 * A linear network's backward pass of per-sample cotangents Z_l (kc x n x M_l, at layer `from`)
 * down to the first layer, Z_{l-1} = Z_l W_l[:, :cols]: each layer's block of `out` gets
 * (Z_l left)^T (a~_{l-1} right), per direction. Serves R{delta} (H_F below the direction's layer)
 * and the outer part's u = A J v alike.
 */
function backwardInto(
  blocks: readonly RotatedBlock[], theta: Float64Array, batch: Batch, z: Float64Array, from: number, kc: number, out: Float64Array, outOff: number, P: number, name: string,
): void {
  const n = batch.n, kn = kc * n;
  let zl = z;
  for (let l = from; l >= 0; l--) {
    const bl = blocks[l];
    const rotated = bl.left ? rotateInto(zl, kn, bl.rows, bl.left, `${name}.rot`) : zl;
    for (let c = 0; c < kc; c++) gemmTN(bl.rows, bl.c, n, 1, rotated, c * n * bl.rows, batch.inRot[l], 0, out, outOff + c * P + bl.layout.w);
    if (l === 0) break;
    const next = scratch(`${name}.${l - 1}`, kn * bl.cols);
    gemmNN(kn, bl.cols, bl.rows, 1, zl, 0, theta, bl.layout.w, next, 0);
    zl = next;
  }
}

function rotatedBlock(bl: SubspaceBlock, layout: LayerLayout): RotatedBlock {
  const { rows, cols: c } = bl;
  const cols = layout.cols;
  const rightTop = new Float64Array(c * cols);
  for (let b = 0; b < c; b++) rightTop.set(bl.right.subarray(b * c, b * c + cols), b * cols);
  return { layout, rows, cols, c, left: isIdentity(bl.left, rows) ? null : bl.left, right: isIdentity(bl.right, c) ? null : bl.right, rightTop };
}

function isIdentity(m: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (m[i * n + j] !== (i === j ? 1 : 0)) return false;
  return true;
}

/** X basis^T: row i of the result holds X's row i in the basis' coordinates (fresh). */
function rotate(x: Float64Array, n: number, m: number, basis: Float64Array | null): Float64Array {
  if (!basis) return x;
  const out = new Float64Array(n * m);
  gemmNT(n, m, m, 1, x, 0, basis, 0, out, 0);
  return out;
}

function rotateInto(x: Float64Array, n: number, m: number, basis: Float64Array, name: string): Float64Array {
  const out = scratch(name, n * m);
  gemmNT(n, m, m, 1, x, 0, basis, 0, out, 0);
  return out;
}
