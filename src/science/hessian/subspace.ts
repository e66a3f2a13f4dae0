/**
 * A subspace that provably holds the range of every Hessian of a linear network (any loss, any
 * biases), built from small matrices, with an orthonormal basis of Kronecker vectors.
 *
 * Write each layer's parameters as the M_l x c_l matrix [W_l | b_l] (c_l = M_{l-1}, plus one
 * column with a bias) acting on the augmented activation a~ = [a_{l-1}; 1]. For a linear network
 * f(x) = A_{>l} z_l(x) + const with A_{>l} = W_L ... W_{l+1} (K x M_l), so:
 *   - J's rows restricted to layer l are A_{>l}^T e_k a~_i^T: columns in O_l = range(A_{>l}^T),
 *     rows in X_l = span{a~_{l-1,i}}; so range(H_O) lies in the sum over l of O_l (x) X_l;
 *   - f is linear in each layer separately, so H_F has no diagonal blocks, and its (l, l') block
 *     (l < l') is the bilinear form tr(A_{>l'} D' E A_(l,l') D N_l) with N_l = sum_i a~_{l-1,i} g_i^T
 *     (g_i = dloss/df at sample i). Its derivative in D has rows in V_l = range(N_l) (any
 *     columns); its derivative in D' has columns in U_l' = A_{>l'}^T range(N_l^T) (any rows).
 * Hence range(H_F) lies in the sum over l of [R^{M_l} (x) V_l (l < L)] + [U_l (x) R^{c_l} (l > 1)],
 * and range(H_L) in that plus the O_l (x) X_l. With U_l inside O_l and V_l inside X_l, one
 * orthogonal basis per side adapted to the nesting, left = [U | O minus U | rest] and right =
 * [V | X minus V | rest], makes all three subspaces coordinate sets: T = Q^T H Q is a principal
 * submatrix, and Rayleigh-Ritz on a subspace holding range(H) gives H's nonzero eigenvalues
 * exactly (to rounding), inertia included. For generic weights the dimensions equal the paper's
 * ranks (width 56: 2,450 = rank H_L), so this costs what a sketch of that size costs, with no
 * random numbers and no stopping rule.
 *
 * The spans are built by Gram-Schmidt of their generators; a generator is dropped only when its
 * part outside the span so far is below DEPENDENT * eps of its own norm, i.e. it is numerically
 * inside the span (a direction that small moves no eigenvalue above the rank tolerance, which is
 * at least P eps s_max). Keeping a spurious direction would only cost time. `checkSubspace`
 * (structured.ts) verifies the claim on every run, from the products it computes anyway.
 */
import { forward, hasConv, layerHasBias, layerLayout, type LayerLayout } from '../network.js';
import type { Loss } from '../losses.js';
import type { Bias, Dataset, Network } from '../types.js';

/** A generator whose residual is below this many eps of its norm lies in the span (see file comment). */
const DEPENDENT = 64;
const EPS = 2.220446049250313e-16;

/** One layer's adapted orthonormal bases (vector-major: vector a is left[a * rows .. (a + 1) * rows)). */
export interface SubspaceBlock {
  readonly layout: LayerLayout;
  /** M_l. */
  readonly rows: number;
  /** c_l = M_{l-1}, plus 1 with a bias (its column is the last). */
  readonly cols: number;
  /** rows x rows orthogonal: [U (nu) | O minus U (no) | rest]. */
  readonly left: Float64Array;
  /** cols x cols orthogonal: [V (nv) | X minus V (nx) | rest]. */
  readonly right: Float64Array;
  readonly nu: number;
  readonly no: number;
  readonly nv: number;
  readonly nx: number;
  /** Layer has a later layer (its V part counts for H_F) / an earlier one (its U part counts). */
  readonly hasV: boolean;
  readonly hasU: boolean;
}

/** The subspace's basis: vector i is left[a_i] (x) right[b_i] of block[i]. */
export interface HessianSubspace {
  readonly params: number;
  /**
   * Per block, the sample that added each X vector of the right basis (superset mode): the X
   * part of block l at N samples is its first `xFrom[l].filter(i => i < N).length` vectors.
   */
  readonly xFrom?: readonly Int32Array[];
  readonly blocks: readonly SubspaceBlock[];
  /** Number of basis vectors (the range of H_L lies in their span). */
  readonly size: number;
  readonly block: Int32Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
  /** Positions (ascending) of the basis vectors spanning the subspaces of H_F and H_O. */
  readonly functional: Int32Array;
  readonly outer: Int32Array;
}

/** Which coordinate sets a (a, b) pair of a block belongs to. */
export function pairKinds(bl: SubspaceBlock, a: number, b: number): { functional: boolean; outer: boolean } {
  const functional = (bl.hasV && b < bl.nv) || (bl.hasU && a < bl.nu);
  const outer = a < bl.nu + bl.no && b < bl.nv + bl.nx;
  return { functional, outer };
}

/** The small matrices the subspaces are built from, at (net, data, loss). */
export interface LinearStructure {
  readonly layers: readonly LayerLayout[];
  /** Augmented activations a~_{l-1} (n x c_l) per block. */
  readonly act: readonly Float64Array[];
  /** N_l = sum_i a~_{l-1,i} g_i^T (c_l x K) per block. */
  readonly N: readonly Float64Array[];
  /** A_{>l} = W_L ... W_{l+1} (K x M_l) per block. */
  readonly after: readonly Float64Array[];
}

export function linearStructure(net: Network, data: Dataset, loss: Loss): LinearStructure | undefined {
  // Networks with convolutions have no Kronecker structure per parameter (lastlayer.ts serves them).
  if (net.activation !== 'linear' || hasConv(net)) return undefined;
  const layers = layerLayout(net);
  const L = layers.length, K = data.k, n = data.n;
  const fp = forward(net, data.x, 0, n);
  const out = fp.a[L];
  const g = new Float64Array(n * K);
  for (let i = 0; i < n; i++) loss.valueAndGrad(out, data.y, i * K, K, g);
  const act: Float64Array[] = [], Nl: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    const { cols, b } = layers[l];
    const c = cols + (b >= 0 ? 1 : 0);
    const a0 = fp.a[l];
    const A = new Float64Array(n * c);
    for (let i = 0; i < n; i++) {
      A.set(a0.subarray(i * cols, (i + 1) * cols), i * c);
      if (b >= 0) A[i * c + cols] = 1;
    }
    act.push(A);
    const N = new Float64Array(c * K);
    for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) { const v = A[i * c + j]; if (v !== 0) for (let k = 0; k < K; k++) N[j * K + k] += v * g[i * K + k]; }
    Nl.push(N);
  }
  // A_{>l} (K x M_l), from the last layer down: A_{>L} = I.
  const after: Float64Array[] = new Array(L);
  after[L - 1] = identity(K);
  for (let l = L - 2; l >= 0; l--) {
    const next = layers[l + 1];
    // A_{>l} = A_{>l+1} W_{l+1}: (K x M_{l+1}) (M_{l+1} x M_l).
    const m = next.rows, c = next.cols, prev = after[l + 1];
    const out2 = new Float64Array(K * c);
    for (let k = 0; k < K; k++) for (let t = 0; t < m; t++) {
      const v = prev[k * m + t];
      if (v === 0) continue;
      for (let j = 0; j < c; j++) out2[k * c + j] += v * net.theta[next.w + t * c + j];
    }
    after[l] = out2;
  }
  return { layers, act, N: Nl, after };
}

/**
 * Orthonormal bases of U_l and V_l per block (vector-major; empty where the block has none):
 * V_l = range(N_l) for blocks with a later layer, U_l = A_{>l}^T (span of the rows of N_{l'},
 * l' < l) for blocks with an earlier one. range(H_F) lies in the sum of R^{M_l} (x) V_l and
 * U_l (x) R^{c_l}.
 */
export function functionalSpans(st: LinearStructure, K: number): { U: Float64Array[][]; V: Float64Array[][] } {
  const L = st.layers.length;
  const U: Float64Array[][] = [], V: Float64Array[][] = [];
  const earlier = new Span(K);
  for (let l = 0; l < L; l++) {
    const layout = st.layers[l];
    const rows = layout.rows, cols = layout.cols + (layout.b >= 0 ? 1 : 0);
    const u = new Span(rows), v = new Span(cols);
    if (l > 0) for (const r of earlier.vectors()) u.add(mulTransposed(st.after[l], K, rows, r));
    if (l < L - 1) for (let k = 0; k < K; k++) v.add(column(st.N[l], cols, K, k));
    U.push([...u.vectors()]);
    V.push([...v.vectors()]);
    for (let j = 0; j < cols; j++) earlier.add(row(st.N[l], K, j));
  }
  return { U, V };
}

/**
 * An orthonormal basis of `vecs`' span completed to the whole space (vector-major, dim x dim):
 * the first vectors span `vecs`, the rest its complement.
 */
export function completedBasis(vecs: readonly ArrayLike<number>[], dim: number): { basis: Float64Array; count: number } {
  const s = new Span(dim);
  for (const v of vecs) s.add(v);
  const count = s.size;
  s.complete();
  return { basis: s.matrix(), count };
}

/**
 * The subspace of a linear network's Hessians at (net, data, loss); undefined for other
 * activations (their Hessians have no such structure).
 *
 * `superset`: a subspace that holds the ranges of the Hessians of every prefix of the samples
 * (sample-size chains): U is widened to O and V to X (both data-free or nested), and X is built
 * sample by sample, so a prefix's subspace is a coordinate subset (see `prefixCounts`).
 */
export function linearHessianSubspace(net: Network, data: Dataset, loss: Loss, opts: { readonly superset?: boolean } = {}): HessianSubspace | undefined {
  const st = linearStructure(net, data, loss);
  if (!st) return undefined;
  const { layers, act, N: Nl, after } = st;
  const L = layers.length, K = data.k, n = data.n;
  // R_g(l) = span of the columns of N_{l'}^T (in R^K) over earlier layers l' < l.
  const blocks: SubspaceBlock[] = [];
  const xFrom: Int32Array[] = [];
  const earlier = new Span(K);
  const superset = opts.superset === true;
  for (let l = 0; l < L; l++) {
    const layout = layers[l];
    const rows = layout.rows, cols = layout.cols + (layout.b >= 0 ? 1 : 0);
    const hasU = l > 0, hasV = l < L - 1;
    const Aft = after[l]; // K x rows
    // Left: U = A_{>l}^T R_g, then O = range(A_{>l}^T), then the rest.
    // Left: U = A_{>l}^T R_g, then O = range(A_{>l}^T), then the rest. Superset mode: U is all of O.
    const left = new Span(rows);
    if (hasU && !superset) for (const r of earlier.vectors()) left.add(mulTransposed(Aft, K, rows, r));
    const uCount = left.size;
    for (let k = 0; k < K; k++) left.add(Aft.subarray(k * rows, (k + 1) * rows));
    const oCount = left.size;
    left.complete();
    // Right: V = range(N_l), then X = span of the activations (sample by sample), then the rest.
    // Superset mode: V is all of X.
    const right = new Span(cols);
    const N = Nl[l];
    if (hasV && !superset) for (let k = 0; k < K; k++) right.add(column(N, cols, K, k));
    const vCount = right.size;
    const A = act[l];
    const from: number[] = [];
    for (let i = 0; i < n && right.size < cols; i++) {
      const before = right.size;
      right.add(A.subarray(i * cols, (i + 1) * cols));
      if (right.size > before) from.push(i);
    }
    xFrom.push(Int32Array.from(from));
    const xCount = right.size;
    right.complete();
    const [nu, no] = superset ? [oCount, 0] : [uCount, oCount - uCount];
    const [nv, nx] = superset ? [xCount, 0] : [vCount, xCount - vCount];
    blocks.push({ layout, rows, cols, left: left.matrix(), right: right.matrix(), nu, no, nv, nx, hasV, hasU });
    for (let j = 0; j < cols; j++) earlier.add(row(N, K, j));
  }

  const block: number[] = [], as: number[] = [], bs: number[] = [], fun: number[] = [], outr: number[] = [];
  blocks.forEach((bl, l) => {
    for (let a = 0; a < bl.rows; a++) {
      for (let b = 0; b < bl.cols; b++) {
        const kinds = pairKinds(bl, a, b);
        if (!kinds.functional && !kinds.outer) continue;
        const i = block.length;
        block.push(l); as.push(a); bs.push(b);
        if (kinds.functional) fun.push(i);
        if (kinds.outer) outr.push(i);
      }
    }
  });
  return {
    params: net.theta.length,
    ...(superset ? { xFrom } : {}),
    blocks,
    size: block.length,
    block: Int32Array.from(block),
    a: Int32Array.from(as),
    b: Int32Array.from(bs),
    functional: Int32Array.from(fun),
    outer: Int32Array.from(outr),
  };
}

/**
 * An orthonormal set grown by Gram-Schmidt (classical, twice, and a third time when the second
 * pass still removed a lot): generators numerically inside the span are skipped.
 */
export class Span {
  private readonly vecs: Float64Array[] = [];
  /** `dependent`: a generator whose residual is below this many eps of its norm lies in the span. */
  constructor(readonly dim: number, private readonly dependent = DEPENDENT) {}

  get size(): number { return this.vecs.length; }

  vectors(): readonly Float64Array[] { return this.vecs; }

  add(gen: ArrayLike<number>): void {
    if (this.vecs.length >= this.dim) return;
    const v = Float64Array.from(gen);
    const norm0 = norm(v);
    if (!(norm0 > 0) || !Number.isFinite(norm0)) return;
    let before = norm0;
    for (let pass = 0; pass < 3; pass++) {
      const coef = this.vecs.map((q) => dot(q, v));
      this.vecs.forEach((q, i) => { const c = coef[i]; for (let t = 0; t < v.length; t++) v[t] -= c * q[t]; });
      const after = norm(v);
      if (after <= this.dependent * EPS * norm0) return;
      const settled = after > 0.5 * before;
      before = after;
      if (settled && pass >= 1) break;
    }
    const s = 1 / before;
    for (let t = 0; t < v.length; t++) v[t] *= s;
    this.vecs.push(v);
  }

  /** Completes to an orthonormal basis of the whole space with unit vectors. */
  complete(): void {
    for (let i = 0; i < this.dim && this.vecs.length < this.dim; i++) {
      const e = new Float64Array(this.dim);
      e[i] = 1;
      this.add(e);
    }
    if (this.vecs.length !== this.dim) throw new Error(`subspace: could not complete a basis of R^${this.dim}`);
  }

  matrix(): Float64Array {
    const m = new Float64Array(this.dim * this.vecs.length);
    this.vecs.forEach((q, i) => m.set(q, i * this.dim));
    return m;
  }
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

function identity(k: number): Float64Array {
  const m = new Float64Array(k * k);
  for (let i = 0; i < k; i++) m[i * k + i] = 1;
  return m;
}

/** M^T r for M (K x m) and r in R^K. */
function mulTransposed(M: Float64Array, K: number, m: number, r: ArrayLike<number>): Float64Array {
  const out = new Float64Array(m);
  for (let k = 0; k < K; k++) { const v = r[k]; if (v !== 0) for (let j = 0; j < m; j++) out[j] += v * M[k * m + j]; }
  return out;
}

function column(M: Float64Array, rows: number, cols: number, j: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = M[i * cols + j];
  return out;
}

function row(M: Float64Array, cols: number, i: number): Float64Array {
  return M.slice(i * cols, (i + 1) * cols);
}

/** Where each basis vector sits: its coordinate in the rotated parameter vector, and its position in each kind's list. */
export interface SubspaceIndex {
  /** coord[i] = w_l + a c_l + b: the rotated coordinate of basis vector i. */
  readonly coord: Int32Array;
  /** Position of basis vector i among the functional (outer) ones, or -1. */
  readonly functionalPos: Int32Array;
  readonly outerPos: Int32Array;
  /** Per rotated coordinate: 1 when it belongs to the kind's subspace. */
  readonly mask: { readonly loss: Uint8Array; readonly functional: Uint8Array; readonly outer: Uint8Array };
}

export function subspaceIndex(sub: HessianSubspace): SubspaceIndex {
  const coord = new Int32Array(sub.size);
  for (let i = 0; i < sub.size; i++) {
    const bl = sub.blocks[sub.block[i]];
    coord[i] = bl.layout.w + sub.a[i] * bl.cols + sub.b[i];
  }
  const pos = (list: Int32Array): Int32Array => {
    const p = new Int32Array(sub.size).fill(-1);
    list.forEach((g, i) => { p[g] = i; });
    return p;
  };
  const mask = (list: ArrayLike<number>): Uint8Array => {
    const m = new Uint8Array(sub.params);
    for (let i = 0; i < list.length; i++) m[coord[list[i]]] = 1;
    return m;
  };
  return {
    coord,
    functionalPos: pos(sub.functional),
    outerPos: pos(sub.outer),
    mask: { loss: mask(Int32Array.from({ length: sub.size }, (_, i) => i)), functional: mask(sub.functional), outer: mask(sub.outer) },
  };
}

/** Per block, how many of a superset-mode subspace's X vectors come from the first `n` samples. */
export function prefixXCounts(sub: HessianSubspace, n: number): number[] {
  if (!sub.xFrom) throw new RangeError('prefix sets: the subspace was not built in superset mode');
  return sub.xFrom.map((from) => { let c = 0; while (c < from.length && from[c] < n) c++; return c; });
}

/**
 * The basis vectors (positions, ascending) whose span holds each Hessian's range at the first
 * `n` samples, for a superset-mode subspace built on at least n samples: the pairs of the
 * general rule with V = X(n), U = O.
 */
export function prefixSets(sub: HessianSubspace, n: number): { loss: Int32Array; functional: Int32Array; outer: Int32Array } {
  const nx = prefixXCounts(sub, n);
  const loss: number[] = [], functional: number[] = [], outer: number[] = [];
  for (let i = 0; i < sub.size; i++) {
    const l = sub.block[i], bl = sub.blocks[l], a = sub.a[i], b = sub.b[i];
    const f = (bl.hasV && b < nx[l]) || (bl.hasU && a < bl.nu);
    const o = a < bl.nu && b < nx[l];
    if (f) functional.push(i);
    if (o) outer.push(i);
    if (f || o) loss.push(i);
  }
  return { loss: Int32Array.from(loss), functional: Int32Array.from(functional), outer: Int32Array.from(outer) };
}

/**
 * The dimension of H_O's subspace, the sum over layers of O_l (x) X_l, bounded from the shapes:
 * O_l is the range of the layers after l (at most their narrowest width), X_l the span of the
 * layer's inputs (at most `r`, the rank of the augmented inputs, and every width before it, plus
 * `extra` for a bias column there). `sizes` = [d, hidden..., K].
 */
export function outerSubspaceBound(sizes: readonly number[], r: number, extra: number): number {
  let outer = 0;
  for (let l = 1; l < sizes.length; l++) {
    const o = Math.min(...sizes.slice(l));
    const x = Math.min(r, ...sizes.slice(1, l).map((w) => w + extra));
    outer += o * x;
  }
  return outer;
}

/**
 * An upper bound of the subspace's dimension from the shapes alone (no data), for memory
 * estimates: per layer, V and U hold at most K vectors, X at most N, O at most K.
 */
export function subspaceSizeBound(sizes: readonly number[], samples: number, bias: Bias, superset = false): number {
  const L = sizes.length - 1, K = sizes[L]!;
  let total = 0;
  for (let l = 0; l < L; l++) {
    const rows = sizes[l + 1]!, cols = sizes[l]! + (layerHasBias(bias, l + 1) ? 1 : 0);
    const x = Math.min(samples, cols), o = Math.min(K, rows);
    const v = l < L - 1 ? (superset ? x : Math.min(K, cols)) : 0;
    const u = l > 0 ? o : 0;
    // all x V + U x rest + O x X, capped by the block.
    total += Math.min(rows * cols, rows * v + u * (cols - v) + o * x);
  }
  return total;
}
