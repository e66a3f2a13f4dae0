/**
 * Fully connected networks f(x) = W_L s(W_{L-1} ... s(W_1 x + b_1) ...) + b_L: parameter
 * layout, seeded initialisation, forward pass and gradient.
 */
import { applyActivation } from './activations.js';
import { gemmNN, gemmNT, gemmTN } from './linalg/gemm.js';
import { Rng } from './random.js';
import { convStack, forEachToeplitzEntry, shapeSize } from './conv.js';
import type { Activation, Bias, ConvLayerSpec, Dataset, ImageShape, Init, Network, NetworkSpec } from './types.js';
import type { Loss } from './losses.js';

export interface LayerLayout {
  /** Output size M_l. */
  readonly rows: number;
  /** Input size M_{l-1}. */
  readonly cols: number;
  /** Offset of W_l (rows x cols, row-major) in theta. */
  readonly w: number;
  /** Offset of b_l in theta, or -1 without bias. */
  readonly b: number;
}

/** Whether layer l (1-based: 1 is the first weight layer) has a bias under the bias setting. */
export function layerHasBias(bias: Bias, layer: number): boolean {
  return bias === true || (bias === 'first' && layer === 1);
}

export function networkSpec(inputDim: number, hidden: readonly number[], outputs: number, activation: Activation, bias: Bias): NetworkSpec {
  const sizes = [inputDim, ...hidden, outputs];
  for (const [i, s] of sizes.entries()) {
    if (!Number.isInteger(s) || s < 1) throw new RangeError(`network: layer size ${i} must be a positive integer, got ${s}`);
  }
  return { sizes, activation, bias };
}

/**
 * A network whose first layers are convolutions on `input` (conv.ts), then fully connected
 * layers of the given widths, then K outputs.
 */
export function convNetworkSpec(input: ImageShape, convs: readonly ConvLayerSpec[], hidden: readonly number[], outputs: number, activation: Activation, bias: Bias): NetworkSpec {
  const conv = convStack(input, convs);
  const base = networkSpec(shapeSize(input), [...conv.layers.map((l) => shapeSize(l.output)), ...hidden], outputs, activation, bias);
  return conv.layers.length === 0 ? base : { ...base, conv };
}

/** Whether the network has convolutions (its parameters are then not one per dense weight). */
export function hasConv(spec: NetworkSpec): boolean {
  return (spec.conv?.layers.length ?? 0) > 0;
}

/** Where a layer's own parameters sit in theta: a dense weight matrix or a conv kernel, then its bias. */
export interface ParamLayout {
  readonly kind: 'dense' | 'conv';
  /** Offset of the weights (dense: rows x cols; conv: C_out x C_in x k x k), row-major. */
  readonly w: number;
  /** Number of weights. */
  readonly count: number;
  /** The weight array's shape. */
  readonly shape: readonly number[];
  /** Offset of the bias (per output unit, or per output channel for a conv layer), or -1. */
  readonly b: number;
  /** Bias entries (0 without bias). */
  readonly biasCount: number;
}

/** Each weight layer's own parameters in theta (for dense networks the same offsets as layerLayout). */
export function paramLayout(spec: NetworkSpec): ParamLayout[] {
  const convs = spec.conv?.layers ?? [];
  const out: ParamLayout[] = [];
  let off = 0;
  for (let l = 1; l < spec.sizes.length; l++) {
    const c = convs[l - 1];
    const shape = c ? [c.channels, c.input.channels, c.kernel, c.kernel] : [spec.sizes[l], spec.sizes[l - 1]];
    const count = shape.reduce((a, b) => a * b, 1);
    const w = off;
    off += count;
    const biasCount = layerHasBias(spec.bias, l) ? (c ? c.channels : spec.sizes[l]) : 0;
    const b = biasCount > 0 ? off : -1;
    off += biasCount;
    out.push({ kind: c ? 'conv' : 'dense', w, count, shape, b, biasCount });
  }
  return out;
}

/**
 * The dense network of a network with convolutions: each conv layer replaced by its Toeplitz
 * matrix (conv.ts). `index[i]` is the parameter of the conv network that dense parameter i holds
 * (-1: a structural zero), so theta_dense = J_T theta is a gather by index, and J_T^T a
 * scatter-add. For a network without convolutions it is the network itself, index the identity.
 */
export interface ToeplitzExpansion {
  readonly spec: NetworkSpec;
  readonly index: Int32Array;
  /** For each conv-network parameter, the dense parameters that hold it (CSR: start[p] .. start[p + 1] of at). */
  readonly start: Int32Array;
  readonly at: Int32Array;
  /** Most dense parameters any one parameter appears as. */
  readonly maxOccurrences: number;
}

const expansions = new WeakMap<NetworkSpec, ToeplitzExpansion>();

export function toeplitzExpansion(spec: NetworkSpec): ToeplitzExpansion {
  const known = expansions.get(spec);
  if (known) return known;
  const dense: NetworkSpec = { sizes: [...spec.sizes], activation: spec.activation, bias: spec.bias };
  const layouts = layerLayout(dense);
  const own = paramLayout(spec);
  const convs = spec.conv?.layers ?? [];
  const index = new Int32Array(paramCount(dense)).fill(-1);
  for (const [i, d] of layouts.entries()) {
    const p = own[i]!, c = convs[i];
    if (c) {
      forEachToeplitzEntry(c, (o, j, weight) => { index[d.w + o * d.cols + j] = p.w + weight; });
      const plane = c.output.height * c.output.width;
      if (d.b >= 0) for (let o = 0; o < d.rows; o++) index[d.b + o] = p.b + Math.floor(o / plane);
    } else {
      for (let t = 0; t < d.rows * d.cols; t++) index[d.w + t] = p.w + t;
      if (d.b >= 0) for (let o = 0; o < d.rows; o++) index[d.b + o] = p.b + o;
    }
  }
  const P = paramCount(spec);
  const start = new Int32Array(P + 1);
  for (const p of index) if (p >= 0) start[p + 1]++;
  let maxOccurrences = 0;
  for (let p = 0; p < P; p++) { maxOccurrences = Math.max(maxOccurrences, start[p + 1]); start[p + 1] += start[p]; }
  const at = new Int32Array(start[P]);
  const fill = start.slice(0, P);
  for (let i = 0; i < index.length; i++) if (index[i] >= 0) at[fill[index[i]]++] = i;
  const e = { spec: dense, index, start, at, maxOccurrences };
  expansions.set(spec, e);
  return e;
}

/** The dense network with the same function (theta_dense = J_T theta); the network itself without convolutions. */
export function denseNetwork(net: Network): Network {
  if (!hasConv(net)) return net;
  const e = toeplitzExpansion(net);
  const theta = new Float64Array(e.index.length);
  scatterTied(e, net.theta, 0, theta, 0);
  return { ...e.spec, sizes: [...e.spec.sizes], theta };
}

/** dense[denseOff + i] = v[vOff + index[i]] for every dense parameter i that holds one (J_T v; structural zeros untouched). */
export function scatterTied(e: ToeplitzExpansion, v: Float64Array, vOff: number, dense: Float64Array, denseOff: number): void {
  const { index } = e;
  for (let i = 0; i < index.length; i++) if (index[i] >= 0) dense[denseOff + i] = v[vOff + index[i]];
}

/** out[p] (+)= sum of dense[i] over the dense parameters i holding parameter p: J_T^T applied to rows of a count x P_dense matrix. */
export function gatherTied(e: ToeplitzExpansion, dense: Float64Array, denseOff: number, out: Float64Array, outOff: number): void {
  const { start, at } = e;
  const P = start.length - 1;
  for (let p = 0; p < P; p++) {
    let acc = 0;
    for (let t = start[p]; t < start[p + 1]; t++) acc += dense[denseOff + at[t]];
    out[outOff + p] += acc;
  }
}

export function layerLayout(spec: NetworkSpec): LayerLayout[] {
  // The dense layers' layout: a network with convolutions has no W_l of its own (its Hessians
  // run on the Toeplitz expansion), so a caller reaching here with one has missed a route.
  if (hasConv(spec)) throw new Error('network: layerLayout of a network with convolutions (use toeplitzExpansion)');
  const layers: LayerLayout[] = [];
  let off = 0;
  for (let l = 1; l < spec.sizes.length; l++) {
    const rows = spec.sizes[l], cols = spec.sizes[l - 1];
    const w = off;
    off += rows * cols;
    let b = -1;
    if (layerHasBias(spec.bias, l)) { b = off; off += rows; }
    layers.push({ rows, cols, w, b });
  }
  return layers;
}

export function paramCount(spec: NetworkSpec): number {
  if (hasConv(spec)) return paramLayout(spec).reduce((a, l) => a + l.count + l.biasCount, 0);
  let p = 0;
  for (let l = 1; l < spec.sizes.length; l++) p += spec.sizes[l] * spec.sizes[l - 1] + (layerHasBias(spec.bias, l) ? spec.sizes[l] : 0);
  return p;
}

/** 1 / std of a standard normal truncated to [-2, 2], as in jax.nn.initializers.variance_scaling. */
const TRUNC_STD_CORRECTION = 0.87962566103423978;

/**
 * Seeded initial weights. Each layer draws from its own stream `init/<l>` of `Rng(seed)`.
 * - glorot: truncated normal (|z| <= 2), variance 2 / (fan_in + fan_out) (JAX glorot_normal);
 * - he: truncated normal, variance 2 / fan_in (JAX he_normal);
 * - uniform: U[0, 1) / fan_in (the paper's code);
 * - orthogonal: Q of the QR of a Gaussian matrix with R's diagonal made positive (JAX orthogonal).
 * Biases start at zero.
 */
export function initNetwork(spec: NetworkSpec, init: Init, seed: number): Network {
  const theta = new Float64Array(paramCount(spec));
  for (const [l, layer] of paramLayout(spec).entries()) {
    const rng = new Rng(seed, `init/${l + 1}`);
    // A conv kernel initialises as the C_out x (C_in k k) matrix it is: fan_in C_in k^2, fan_out
    // C_out k^2 (as JAX and Keras count a convolution's fans).
    const [c0, ...rest] = layer.shape;
    const rf = layer.kind === 'conv' ? layer.shape[2]! * layer.shape[3]! : 1;
    const rows = c0!, cols = rest.reduce((a, b) => a * b, 1);
    const { w, count } = layer;
    switch (init) {
      case 'glorot':
      case 'he': {
        const variance = init === 'glorot' ? 2 / (cols + rows * rf) : 2 / cols;
        const std = Math.sqrt(variance) / TRUNC_STD_CORRECTION;
        for (let i = 0; i < count; i++) theta[w + i] = std * rng.truncatedNormal(2);
        break;
      }
      case 'uniform':
        for (let i = 0; i < count; i++) theta[w + i] = rng.uniform() / cols;
        break;
      case 'orthogonal':
        theta.set(orthogonal(rows, cols, rng), w);
        break;
      default: {
        const never: never = init;
        throw new Error(`network: unknown init '${String(never)}'`);
      }
    }
  }
  return { ...spec, sizes: [...spec.sizes], theta };
}

/**
 * A rows x cols matrix with orthonormal rows (rows <= cols) or columns (rows > cols): modified
 * Gram-Schmidt, run twice for accuracy, on the columns of a tall Gaussian matrix; Gram-Schmidt
 * yields R with a positive diagonal, which is the sign convention JAX applies after its QR.
 */
function orthogonal(rows: number, cols: number, rng: Rng): Float64Array {
  const tall = Math.max(rows, cols), narrow = Math.min(rows, cols);
  // q holds narrow column vectors of length tall, each contiguous.
  const q = new Float64Array(tall * narrow);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let j = 0; j < narrow; j++) {
    const qj = j * tall;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const qk = k * tall;
        let dot = 0;
        for (let t = 0; t < tall; t++) dot += q[qk + t] * q[qj + t];
        for (let t = 0; t < tall; t++) q[qj + t] -= dot * q[qk + t];
      }
    }
    let norm = 0;
    for (let t = 0; t < tall; t++) norm += q[qj + t] * q[qj + t];
    norm = Math.sqrt(norm);
    for (let t = 0; t < tall; t++) q[qj + t] /= norm;
  }
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      // rows > cols: W = Q (columns orthonormal); else W = Q^T (rows orthonormal).
      out[i * cols + j] = rows > cols ? q[j * tall + i] : q[i * tall + j];
    }
  }
  return out;
}

/** Activations of one forward pass over n samples, all sample-major (n x M_l). */
export interface ForwardPass {
  readonly n: number;
  /** a[0] = inputs; a[l] = s(z[l]) for hidden layers; a[L] = z[L] = outputs. */
  readonly a: Float64Array[];
  /** z[l] pre-activations (z[0] unused). */
  readonly z: Float64Array[];
  /** s'(z[l]) and s''(z[l]) for hidden layers (empty arrays elsewhere). */
  readonly d1: Float64Array[];
  readonly d2: Float64Array[];
}

/** Forward pass on rows [start, start + n) of x (row-major, width d). */
export function forward(net: Network, x: Float64Array, start: number, n: number): ForwardPass {
  if (hasConv(net)) return forward(denseNetwork(net), x, start, n);
  const layers = layerLayout(net);
  const d = net.sizes[0];
  const a: Float64Array[] = [x.subarray(start * d, (start + n) * d)];
  const z: Float64Array[] = [new Float64Array(0)];
  const d1: Float64Array[] = [new Float64Array(0)];
  const d2: Float64Array[] = [new Float64Array(0)];
  const L = layers.length;
  for (let l = 1; l <= L; l++) {
    const { rows, cols, w, b } = layers[l - 1];
    const zl = new Float64Array(n * rows);
    if (b >= 0) for (let i = 0; i < n; i++) zl.set(net.theta.subarray(b, b + rows), i * rows);
    gemmNT(n, rows, cols, 1, a[l - 1], 0, net.theta, w, zl, 0);
    z.push(zl);
    if (l === L) {
      a.push(zl); d1.push(new Float64Array(0)); d2.push(new Float64Array(0));
    } else {
      const al = new Float64Array(n * rows), s1 = new Float64Array(n * rows), s2 = new Float64Array(n * rows);
      applyActivation(net.activation, zl, al, s1, s2);
      a.push(al); d1.push(s1); d2.push(s2);
    }
  }
  return { n, a, z, d1, d2 };
}

/** Output-layer cotangents g (n x K) backpropagated: delta[l] = dLoss/dz[l], n x M_l. */
export function backward(net: Network, fp: ForwardPass, g: Float64Array): Float64Array[] {
  const layers = layerLayout(net);
  const L = layers.length;
  const delta: Float64Array[] = new Array(L + 1);
  delta[L] = g;
  for (let l = L; l > 1; l--) {
    const { rows, cols, w } = layers[l - 1];
    const prev = new Float64Array(fp.n * cols);
    gemmNN(fp.n, cols, rows, 1, delta[l], 0, net.theta, w, prev, 0);
    const s1 = fp.d1[l - 1];
    for (let i = 0; i < prev.length; i++) prev[i] *= s1[i];
    delta[l - 1] = prev;
  }
  delta[0] = new Float64Array(0);
  return delta;
}

/** Adds the parameter gradient implied by delta (from `backward`) into grad. */
export function accumulateGradient(net: Network, fp: ForwardPass, delta: Float64Array[], grad: Float64Array): void {
  for (const [i, { rows, cols, w, b }] of layerLayout(net).entries()) {
    const l = i + 1;
    gemmTN(rows, cols, fp.n, 1, delta[l], 0, fp.a[l - 1], 0, grad, w);
    if (b >= 0) {
      const dl = delta[l];
      for (let s = 0; s < fp.n; s++) for (let r = 0; r < rows; r++) grad[b + r] += dl[s * rows + r];
    }
  }
}

/** Summed loss and its gradient w.r.t. theta over the whole dataset. */
export function lossAndGradient(net: Network, data: Dataset, loss: Loss): { value: number; grad: Float64Array } {
  checkShapes(net, data);
  return lossAndGradientOn(net, data.x, data.y, data.n, data.k, loss);
}

/**
 * Summed loss over n rows of x and y and its gradient w.r.t. theta; a network with convolutions
 * through its dense expansion, the gradient gathered back onto the shared weights (J_T^T g).
 */
export function lossAndGradientOn(net: Network, x: Float64Array, y: Float64Array, n: number, k: number, loss: Loss): { value: number; grad: Float64Array } {
  const dnet = denseNetwork(net);
  const fp = forward(dnet, x, 0, n);
  const out = fp.a[fp.a.length - 1];
  const g = new Float64Array(out.length);
  let value = 0;
  for (let i = 0; i < n; i++) value += loss.valueAndGrad(out, y, i * k, k, g);
  const dgrad = new Float64Array(dnet.theta.length);
  accumulateGradient(dnet, fp, backward(dnet, fp, g), dgrad);
  if (dnet === net) return { value, grad: dgrad };
  const grad = new Float64Array(net.theta.length);
  gatherTied(toeplitzExpansion(net), dgrad, 0, grad, 0);
  return { value, grad };
}

export function checkShapes(net: NetworkSpec & { theta?: Float64Array }, data: Dataset): void {
  const d = net.sizes[0], k = net.sizes[net.sizes.length - 1];
  if (data.d !== d) throw new RangeError(`network: expected input dim ${d}, data has ${data.d}`);
  if (data.k !== k) throw new RangeError(`network: expected ${k} outputs, data has ${data.k} target columns`);
  if (net.theta && net.theta.length !== paramCount(net)) {
    throw new RangeError(`network: expected ${paramCount(net)} params, got ${net.theta.length}`);
  }
}
