/**
 * Convolutional layers as weight-shared dense layers.
 *
 * A convolution is a linear map of its input image: out = T(w) x, where T(w) is a Toeplitz-
 * structured matrix whose entries are kernel weights (or zero), each weight appearing at every
 * output position. The map w -> T(w) is linear, so a network with convolutions is the dense
 * network of the Toeplitz matrices composed with a linear map of the parameters, theta_dense =
 * J_T theta. Its Hessians (H_L, H_O, H_F alike, since J_T has no second derivative) are
 * J_T^T H_dense J_T, its gradient J_T^T g_dense. hrank computes them so: the expansion is exact
 * (no approximation), and every product runs through the same R-operator as dense layers.
 *
 * Layout: images are channel-major (c, y, x), flattened as PyTorch's NCHW flatten does. A conv
 * layer's parameters are its kernel, C_out x C_in x k x k row-major, then (with bias) one bias
 * per output channel, shared by every position.
 */
import type { ConvLayer, ConvLayerSpec, ConvStack, ImageShape, Padding } from './types.js';

/** Why a stack of conv layers cannot be built, and which layer (0-based) and setting is at fault. */
export class ConvShapeError extends RangeError {
  constructor(readonly layer: number, readonly key: 'channels' | 'kernel' | 'stride' | 'padding', message: string) {
    super(message);
    this.name = 'ConvShapeError';
  }
}

export function describeShape(s: ImageShape): string {
  return `${s.channels} x ${s.height} x ${s.width}`;
}

/** One side of a conv layer's output, or a reason it has none. */
function outputSide(side: number, k: number, stride: number, padding: Padding): { out: number; pad: number } | string {
  if (padding === 'same') {
    // TensorFlow's 'same': ceil(in / stride) outputs, the padding split with the extra row below.
    const out = Math.ceil(side / stride);
    const total = Math.max((out - 1) * stride + k - side, 0);
    return { out, pad: Math.floor(total / 2) };
  }
  if (k > side) return `kernel ${k} is larger than its ${side}-pixel input`;
  if ((side - k) % stride !== 0) {
    const out = Math.floor((side - k) / stride) + 1;
    const left = side - ((out - 1) * stride + k);
    return `stride ${stride} does not fit a ${side}-pixel input with kernel ${k}: (${side} - ${k}) is not a multiple of ${stride}, so the last ${left} pixel(s) would be ignored (the output would be ${out}); use a stride that divides ${side - k}, or padding: same`;
  }
  return { out: (side - k) / stride + 1, pad: 0 };
}

/** Resolves every layer's shapes from the input image; throws ConvShapeError naming the layer. */
export function convStack(input: ImageShape, specs: readonly ConvLayerSpec[]): ConvStack {
  for (const [key, v] of [['channels', input.channels], ['height', input.height], ['width', input.width]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`conv: input ${key} must be a positive integer, got ${v}`);
  }
  const layers: ConvLayer[] = [];
  let shape = input;
  for (const [i, s] of specs.entries()) {
    for (const key of ['channels', 'kernel', 'stride'] as const) {
      if (!Number.isSafeInteger(s[key]) || s[key] < 1) throw new ConvShapeError(i, key, `conv layer ${i + 1}: ${key} must be a positive integer, got ${s[key]}`);
    }
    if (s.padding !== 'valid' && s.padding !== 'same') throw new ConvShapeError(i, 'padding', `conv layer ${i + 1}: padding must be valid or same, got ${String(s.padding)}`);
    const rows = outputSide(shape.height, s.kernel, s.stride, s.padding);
    const cols = outputSide(shape.width, s.kernel, s.stride, s.padding);
    for (const r of [rows, cols]) {
      if (typeof r === 'string') {
        const key = r.startsWith('kernel') ? 'kernel' : 'stride';
        throw new ConvShapeError(i, key, `conv layer ${i + 1} (input ${describeShape(shape)}): ${r}`);
      }
    }
    const { out: height, pad: padTop } = rows as { out: number; pad: number };
    const { out: width, pad: padLeft } = cols as { out: number; pad: number };
    const output = { channels: s.channels, height, width };
    layers.push({ channels: s.channels, kernel: s.kernel, stride: s.stride, padding: s.padding, input: shape, output, padTop, padLeft });
    shape = output;
  }
  return { input, layers };
}

export function shapeSize(s: ImageShape): number {
  return s.channels * s.height * s.width;
}

/** Kernel weights of a conv layer (shared: counted once). */
export function kernelSize(l: ConvLayer): number {
  return l.channels * l.input.channels * l.kernel * l.kernel;
}

/**
 * For each entry (row o, column j) of the layer's Toeplitz matrix T (rows: output pixels, columns:
 * input pixels, both channel-major), the kernel weight it holds: calls visit(o, j, weightIndex)
 * once per nonzero entry. Padding zeros hold no weight, so border outputs see fewer entries.
 */
export function forEachToeplitzEntry(l: ConvLayer, visit: (o: number, j: number, weight: number) => void): void {
  const { input: inp, output: out, kernel: k, stride, padTop, padLeft } = l;
  const inPlane = inp.height * inp.width, outPlane = out.height * out.width;
  for (let co = 0; co < out.channels; co++) {
    for (let oy = 0; oy < out.height; oy++) {
      for (let ox = 0; ox < out.width; ox++) {
        const o = co * outPlane + oy * out.width + ox;
        for (let ci = 0; ci < inp.channels; ci++) {
          for (let ky = 0; ky < k; ky++) {
            const iy = oy * stride + ky - padTop;
            if (iy < 0 || iy >= inp.height) continue;
            for (let kx = 0; kx < k; kx++) {
              const ix = ox * stride + kx - padLeft;
              if (ix < 0 || ix >= inp.width) continue;
              visit(o, ci * inPlane + iy * inp.width + ix, ((co * inp.channels + ci) * k + ky) * k + kx);
            }
          }
        }
      }
    }
  }
}
