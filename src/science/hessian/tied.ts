/**
 * Hessian-vector products of a network with convolutions (weight-shared layers): the products of
 * its dense Toeplitz expansion pulled back through the linear map of the parameters,
 *   H v = J_T^T H_dense (J_T v)
 * for H_L, H_O and H_F alike (J_T is linear, so it adds no second-derivative term; conv.ts).
 * Directions are mapped into the dense network's parameters (a unit direction becomes the sparse
 * direction of every entry its weight holds), the dense operator runs unchanged, and each product
 * row is summed back over the entries sharing a weight.
 */
import type { Loss } from '../losses.js';
import { denseNetwork, gatherTied, hasConv, paramCount, scatterTied, toeplitzExpansion, type ToeplitzExpansion } from '../network.js';
import type { Dataset, Network } from '../types.js';
import { HessianOperator, type Directions, type OperatorOptions, type ProductRequest, type Products } from './operator.js';

/** What the routes need of an operator: exact products of the three Hessians, and J v. */
export interface ProductOperator {
  readonly params: number;
  apply(dirs: Directions, c0: number, kc: number, req: ProductRequest): Products;
  accumulate(dirs: Directions, c0: number, kc: number, F: Float64Array | undefined, O: Float64Array | undefined): void;
  outputs(): Float64Array;
}

/** The operator of any network: the R-operator itself, or through the Toeplitz expansion for convolutions. */
export function productOperator(net: Network, data: Dataset, loss: Loss, opts: OperatorOptions = {}): ProductOperator {
  return hasConv(net) ? new TiedOperator(net, data, loss, opts) : new HessianOperator(net, data, loss, opts);
}

export class TiedOperator implements ProductOperator {
  readonly params: number;
  readonly expansion: ToeplitzExpansion;
  readonly dense: HessianOperator;

  constructor(readonly net: Network, readonly data: Dataset, loss: Loss, opts: OperatorOptions = {}) {
    this.params = paramCount(net);
    if (net.theta.length !== this.params) throw new RangeError(`network: expected ${this.params} params, got ${net.theta.length}`);
    this.expansion = toeplitzExpansion(net);
    this.dense = new HessianOperator(denseNetwork(net), data, loss, opts);
  }

  /** Rows [c0, c0 + kc) of dirs as directions of the dense network: J_T v. */
  private expand(dirs: Directions, c0: number, kc: number): Directions {
    const { index, start, at, maxOccurrences } = this.expansion;
    const P = this.params, Pd = index.length;
    if (dirs.kind === 'dense') {
      if (dirs.data.length !== dirs.count * P) throw new RangeError(`hessian: expected ${dirs.count} x ${P} directions, got ${dirs.data.length} values`);
      const data = new Float64Array(kc * Pd);
      for (let c = 0; c < kc; c++) scatterTied(this.expansion, dirs.data, (c0 + c) * P, data, c * Pd);
      return { kind: 'dense', count: kc, data };
    }
    // A sparse row of nnz weights becomes nnz * maxOccurrences dense entries, padded with zeros
    // (value 0 entries are skipped by the operator).
    const nnz = dirs.nnz * Math.max(1, maxOccurrences);
    const outIndex = new Int32Array(kc * nnz), outValue = new Float64Array(kc * nnz);
    for (let c = 0; c < kc; c++) {
      let t = c * nnz;
      for (let s = 0; s < dirs.nnz; s++) {
        const p = dirs.index[(c0 + c) * dirs.nnz + s], v = dirs.value[(c0 + c) * dirs.nnz + s];
        if (v === 0) continue;
        for (let o = start[p]; o < start[p + 1]; o++) { outIndex[t] = at[o]; outValue[t++] = v; }
      }
    }
    return { kind: 'sparse', count: kc, nnz, index: outIndex, value: outValue };
  }

  /** J_T^T of each of kc rows of a kc x P_dense matrix, into kc x P. */
  private gather(rows: Float64Array, kc: number, out: Float64Array = new Float64Array(kc * this.params)): Float64Array {
    const Pd = this.expansion.index.length, P = this.params;
    for (let c = 0; c < kc; c++) gatherTied(this.expansion, rows, c * Pd, out, c * P);
    return out;
  }

  apply(dirs: Directions, c0: number, kc: number, req: ProductRequest): Products {
    if (c0 < 0 || kc < 0 || c0 + kc > dirs.count) throw new RangeError(`hessian: direction rows ${c0}..${c0 + kc} outside 0..${dirs.count}`);
    const prod = this.dense.apply(this.expand(dirs, c0, kc), 0, kc, req);
    const out: Products = {};
    if (prod.loss) out.loss = this.gather(prod.loss, kc);
    if (prod.outer) out.outer = this.gather(prod.outer, kc);
    if (prod.functional) out.functional = this.gather(prod.functional, kc);
    if (prod.jv) out.jv = prod.jv;
    return out;
  }

  accumulate(dirs: Directions, c0: number, kc: number, F: Float64Array | undefined, O: Float64Array | undefined): void {
    const P = this.params;
    for (const out of [F, O]) if (out && out.length < kc * P) throw new RangeError(`hessian: ${kc} x ${P} sums need ${kc * P} values, got ${out.length}`);
    const prod = this.dense.apply(this.expand(dirs, c0, kc), 0, kc, { functional: !!F, outer: !!O });
    if (F) this.gather(prod.functional!, kc, F);
    if (O) this.gather(prod.outer!, kc, O);
  }

  outputs(): Float64Array {
    return this.dense.outputs();
  }
}
