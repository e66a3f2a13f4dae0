/**
 * Exact Hessian-vector products of the summed loss, batched over many directions at once.
 *
 * For directions v (a vector per parameter), with J = df/dtheta and A = d^2 l/df^2:
 *   functional: H_F v = sum_i sum_k (dl/df_k)(x_i) d^2 f_k(x_i)/dtheta^2 v   (R-op, seed 0)
 *   outer:      H_O v = J^T A J v                                           (VJP of A J v)
 *   loss:       H_L v = H_F v + H_O v
 * and J v itself. The R-op (Pearlmutter) propagates R{z} forward and R{delta} backward; all
 * directions of a chunk share each matrix product, so the work runs as large GEMMs.
 */
import { scratch } from '../linalg/scratch.js';
import { gemmNN, gemmNT, gemmTN } from '../linalg/gemm.js';
import { outputDerivatives, type Loss } from '../losses.js';
import { checkShapes, forward, layerLayout, paramCount, type ForwardPass, type LayerLayout } from '../network.js';
import type { Dataset, Network } from '../types.js';

/** Directions as rows of a matrix (count x P): dense, or sparse with a fixed number of nonzeros per row. */
export type Directions =
  | { readonly kind: 'dense'; readonly count: number; readonly data: Float64Array }
  | { readonly kind: 'sparse'; readonly count: number; readonly nnz: number; readonly index: Int32Array; readonly value: Float64Array };

/** The unit vectors e_start .. e_{start+count-1} as sparse directions. */
export function unitDirections(start: number, count: number): Directions {
  const index = new Int32Array(count);
  for (let i = 0; i < count; i++) index[i] = start + i;
  return { kind: 'sparse', count, nnz: 1, index, value: new Float64Array(count).fill(1) };
}

export interface ProductRequest {
  readonly loss?: boolean;
  readonly outer?: boolean;
  readonly functional?: boolean;
  /** J v, laid out count x (N x K). */
  readonly jv?: boolean;
}

export interface Products {
  loss?: Float64Array;
  outer?: Float64Array;
  functional?: Float64Array;
  jv?: Float64Array;
}

interface Batch {
  readonly start: number;
  readonly n: number;
  readonly fp: ForwardPass;
  /** delta[l] = dLoss/dz_l (n x M_l). */
  readonly delta: Float64Array[];
  /** e[l] = delta[l+1] W_{l+1} before the s'(z_l) factor (n x M_l), for hidden l. */
  readonly e: Float64Array[];
  /** Output Hessians A_i, n x K x K. */
  readonly outHess: Float64Array;
}

export interface OperatorOptions {
  /** Samples per accumulation batch (memory only; default: all). */
  readonly batchSize?: number;
}

export class HessianOperator {
  readonly params: number;
  readonly layers: LayerLayout[];
  private readonly batches: Batch[] = [];

  constructor(readonly net: Network, readonly data: Dataset, readonly loss: Loss, opts: OperatorOptions = {}) {
    checkShapes(net, data);
    this.params = paramCount(net);
    this.layers = layerLayout(net);
    const bs = Math.max(1, Math.min(opts.batchSize ?? data.n, data.n));
    for (let start = 0; start < data.n; start += bs) this.batches.push(this.prepare(start, Math.min(bs, data.n - start)));
  }

  private prepare(start: number, n: number): Batch {
    const { net, data, loss, layers } = this;
    const K = data.k, L = layers.length;
    const fp = forward(net, data.x, start, n);
    const out = fp.a[L];
    const { g, outHess } = outputDerivatives(loss, out, data.y.subarray(start * K, (start + n) * K), n, K);
    const delta: Float64Array[] = new Array(L + 1);
    const e: Float64Array[] = new Array(L + 1);
    delta[L] = g;
    for (let l = L; l > 1; l--) {
      const { rows, cols, w } = layers[l - 1];
      const el = new Float64Array(n * cols);
      gemmNN(n, cols, rows, 1, delta[l], 0, net.theta, w, el, 0);
      const s1 = fp.d1[l - 1];
      const dl = new Float64Array(n * cols);
      for (let i = 0; i < el.length; i++) dl[i] = el[i] * s1[i];
      e[l - 1] = el;
      delta[l - 1] = dl;
    }
    return { start, n, fp, delta, e, outHess };
  }

  /**
   * Products for directions rows [c0, c0 + kc) of dirs. Outputs are kc x P (jv: kc x N*K),
   * freshly allocated, summed over all samples.
   */
  apply(dirs: Directions, c0: number, kc: number, req: ProductRequest): Products {
    const P = this.params, NK = this.data.n * this.data.k;
    if (dirs.kind === 'dense' && dirs.data.length !== dirs.count * P) {
      throw new RangeError(`hessian: expected ${dirs.count} x ${P} directions, got ${dirs.data.length} values`);
    }
    if (c0 < 0 || kc < 0 || c0 + kc > dirs.count) throw new RangeError(`hessian: direction rows ${c0}..${c0 + kc} outside 0..${dirs.count}`);
    const needF = !!(req.functional || req.loss);
    const needO = !!(req.outer || req.loss);
    const res: Products = {};
    const F = needF ? new Float64Array(kc * P) : undefined;
    const O = needO ? new Float64Array(kc * P) : undefined;
    const jv = req.jv || needO ? new Float64Array(kc * NK) : undefined;
    for (const batch of this.batches) this.applyBatch(batch, dirs, c0, kc, F, O, jv);
    if (req.functional) res.functional = F;
    if (req.outer) res.outer = O;
    if (req.loss) {
      const Lr = req.functional ? new Float64Array(F!) : F!;
      for (let i = 0; i < Lr.length; i++) Lr[i] += O![i];
      res.loss = Lr;
    }
    if (req.jv) res.jv = jv;
    return res;
  }

  /**
   * Adds H_F v and/or H_O v for direction rows [c0, c0 + kc) of dirs into F and O (kc x P each,
   * row c at c * P), over all samples: running sums grow in place, with no product arrays of
   * their own (a chain of sample prefixes adds one part's products at a time).
   */
  accumulate(dirs: Directions, c0: number, kc: number, F: Float64Array | undefined, O: Float64Array | undefined): void {
    const P = this.params;
    if (c0 < 0 || kc < 0 || c0 + kc > dirs.count) throw new RangeError(`hessian: direction rows ${c0}..${c0 + kc} outside 0..${dirs.count}`);
    for (const out of [F, O]) if (out && out.length < kc * P) throw new RangeError(`hessian: ${kc} x ${P} sums need ${kc * P} values, got ${out.length}`);
    for (const batch of this.batches) this.applyBatch(batch, dirs, c0, kc, F, O, undefined);
  }

  private applyBatch(
    batch: Batch, dirs: Directions, c0: number, kc: number,
    F: Float64Array | undefined, O: Float64Array | undefined, jvOut: Float64Array | undefined,
  ): void {
    const { net, layers, params: P } = this;
    const theta = net.theta;
    const { n, fp, delta, e } = batch;
    const L = layers.length, K = this.data.k, NK = this.data.n * K;
    const kn = kc * n;
    const vdata = dirs.kind === 'dense' ? dirs.data : theta; // only read for dense directions

    // R-forward: Rz[l], Ra[l] (kc x n x M_l).
    const Rz: Float64Array[] = new Array(L + 1);
    const Ra: Float64Array[] = new Array(L + 1);
    for (let l = 1; l <= L; l++) {
      const { rows, cols, w, b } = layers[l - 1];
      const rz = scratch(`op.rz.${l}`, kn * rows);
      if (l > 1) gemmNT(kn, rows, cols, 1, Ra[l - 1], 0, theta, w, rz, 0);
      this.forEachDirectionBlock(dirs, c0, kc, layers[l - 1], {
        dense: (c, off) => {
          gemmNT(n, rows, cols, 1, fp.a[l - 1], 0, vdata, off + w, rz, c * n * rows);
          if (b >= 0) addRows(rz, c * n * rows, n, rows, vdata, off + b);
        },
        weight: (c, i, j, v) => {
          const a0 = fp.a[l - 1];
          for (let s = 0, o = c * n * rows + i; s < n; s++, o += rows) rz[o] += v * a0[s * cols + j];
        },
        bias: (c, i, v) => {
          for (let s = 0, o = c * n * rows + i; s < n; s++, o += rows) rz[o] += v;
        },
      });
      Rz[l] = rz;
      if (l < L) {
        const s1 = fp.d1[l], ra = scratch(`op.ra.${l}`, kn * rows, { zero: false }), m = n * rows;
        for (let c = 0; c < kc; c++) for (let t = 0, o = c * m; t < m; t++, o++) ra[o] = rz[o] * s1[t];
        Ra[l] = ra;
      } else {
        Ra[l] = rz;
      }
    }
    const jvb = Rz[L];
    if (jvOut) {
      for (let c = 0; c < kc; c++) jvOut.set(jvb.subarray(c * n * K, (c + 1) * n * K), c * NK + batch.start * K);
    }

    // Functional part: R-backward with R{delta_L} = 0.
    if (F) {
      let rd: Float64Array | undefined; // R{delta_l}, kc x n x M_l; undefined means zero
      for (let l = L; l >= 1; l--) {
        const { rows, cols, w, b } = layers[l - 1];
        for (let c = 0; c < kc; c++) {
          if (rd) gemmTN(rows, cols, n, 1, rd, c * n * rows, fp.a[l - 1], 0, F, c * P + w);
          if (l > 1) gemmTN(rows, cols, n, 1, delta[l], 0, Ra[l - 1], c * n * cols, F, c * P + w);
          if (b >= 0 && rd) sumRows(rd, c * n * rows, n, rows, F, c * P + b);
        }
        if (l === 1) break;
        const next = scratch(`op.rd.${l - 1}`, kn * cols);
        if (rd) gemmNN(kn, cols, rows, 1, rd, 0, theta, w, next, 0);
        const dl = delta[l];
        this.forEachDirectionBlock(dirs, c0, kc, layers[l - 1], {
          dense: (c, off) => gemmNN(n, cols, rows, 1, dl, 0, vdata, off + w, next, c * n * cols),
          weight: (c, i, j, v) => {
            for (let s = 0, o = c * n * cols + j; s < n; s++, o += cols) next[o] += v * dl[s * rows + i];
          },
          bias: () => undefined,
        });
        const s1 = fp.d1[l - 1], s2 = fp.d2[l - 1], el = e[l - 1], rzp = Rz[l - 1], m = n * cols;
        for (let c = 0; c < kc; c++) {
          for (let t = 0, o = c * m; t < m; t++, o++) next[o] = s1[t] * next[o] + s2[t] * rzp[o] * el[t];
        }
        rd = next;
      }
    }

    // Outer part: backpropagate u_L = A (J v) through the Jacobian transpose.
    if (O) {
      let u = scratch('op.u', kn * K, { zero: false });
      const A = batch.outHess;
      for (let c = 0; c < kc; c++) {
        for (let s = 0; s < n; s++) {
          const o = (c * n + s) * K, ao = s * K * K;
          for (let i = 0; i < K; i++) {
            let acc = 0;
            for (let j = 0; j < K; j++) acc += A[ao + i * K + j] * jvb[o + j];
            u[o + i] = acc;
          }
        }
      }
      for (let l = L; l >= 1; l--) {
        const { rows, cols, w, b } = layers[l - 1];
        for (let c = 0; c < kc; c++) {
          gemmTN(rows, cols, n, 1, u, c * n * rows, fp.a[l - 1], 0, O, c * P + w);
          if (b >= 0) sumRows(u, c * n * rows, n, rows, O, c * P + b);
        }
        if (l === 1) break;
        const next = scratch(`op.u.${l - 1}`, kn * cols);
        gemmNN(kn, cols, rows, 1, u, 0, theta, w, next, 0);
        const s1 = fp.d1[l - 1], m = n * cols;
        for (let c = 0; c < kc; c++) for (let t = 0, o = c * m; t < m; t++, o++) next[o] *= s1[t];
        u = next;
      }
    }
  }

  /** Network outputs for all samples (N x K), in sample order. */
  outputs(): Float64Array {
    const K = this.data.k, L = this.layers.length;
    const out = new Float64Array(this.data.n * K);
    for (const b of this.batches) out.set(b.fp.a[L], b.start * K);
    return out;
  }

  /** Visits the part of each direction that falls in one layer: as a dense block, or nonzero by nonzero. */
  private forEachDirectionBlock(
    dirs: Directions, c0: number, kc: number, layer: LayerLayout,
    visit: {
      dense: (c: number, rowOffset: number) => void;
      weight: (c: number, i: number, j: number, v: number) => void;
      bias: (c: number, i: number, v: number) => void;
    },
  ): void {
    if (dirs.kind === 'dense') {
      for (let c = 0; c < kc; c++) visit.dense(c, (c0 + c) * this.params);
      return;
    }
    const { rows, cols, w, b } = layer;
    const wEnd = w + rows * cols;
    for (let c = 0; c < kc; c++) {
      const base = (c0 + c) * dirs.nnz;
      for (let t = 0; t < dirs.nnz; t++) {
        const idx = dirs.index[base + t], v = dirs.value[base + t];
        if (v === 0) continue;
        if (idx >= w && idx < wEnd) {
          const r = idx - w;
          visit.weight(c, (r / cols) | 0, r % cols, v);
        } else if (b >= 0 && idx >= b && idx < b + rows) {
          visit.bias(c, idx - b, v);
        }
      }
    }
  }

}

/** dst[off + s*rows + r] += src[srcOff + r] for every sample row s. */
function addRows(dst: Float64Array, off: number, n: number, rows: number, src: Float64Array, srcOff: number): void {
  for (let s = 0; s < n; s++) for (let r = 0; r < rows; r++) dst[off + s * rows + r] += src[srcOff + r];
}

/** out[outOff + r] += sum_s src[off + s*rows + r]. */
function sumRows(src: Float64Array, off: number, n: number, rows: number, out: Float64Array, outOff: number): void {
  for (let s = 0; s < n; s++) for (let r = 0; r < rows; r++) out[outOff + r] += src[off + s * rows + r];
}

