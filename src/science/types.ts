/** Typed data shared across the numerical core. Everything numeric is float64. */

/** A prepared dataset: the first N samples, flattened, with targets. */
export interface Dataset {
  /** N x d inputs, row-major (sample i occupies x[i*d .. i*d+d)). */
  readonly x: Float64Array;
  /** N x K targets, row-major: one-hot, or +-1 in a single column for the 2-class mode. */
  readonly y: Float64Array;
  /** The class label of each sample (0-based). */
  readonly labels: Int32Array;
  /** Number of samples N. */
  readonly n: number;
  /** Input dimension d. */
  readonly d: number;
  /** Number of outputs K (1 in the 2-class +-1 mode). */
  readonly k: number;
  /** Number of classes kept (2 in the 2-class mode even though k = 1). */
  readonly classes: number;
  /** Human-readable origin, e.g. "mnist (embedded), 100 samples, 8x8". */
  readonly description: string;
}

export type Activation = 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'elu' | 'leaky_relu';
export type Init = 'glorot' | 'orthogonal' | 'uniform' | 'he';
export type LossName = 'mse' | 'cross-entropy' | 'cosh';
export type HessianKind = 'loss' | 'outer' | 'functional';

/**
 * Which layers carry a bias: false none, true every layer, 'first' the first layer only (the
 * no-bias network on the augmented input [x; 1]).
 */
export type Bias = boolean | 'first';

/** An image's shape: channels x height x width (flattened channel-major, as PyTorch's NCHW). */
export interface ImageShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export type Padding = 'valid' | 'same';

/** A conv layer as a pipeline file states it. */
export interface ConvLayerSpec {
  /** Output channels C_out. */
  readonly channels: number;
  /** Square kernel side k. */
  readonly kernel: number;
  readonly stride: number;
  readonly padding: Padding;
}

/** A conv layer with its shapes resolved. */
export interface ConvLayer extends ConvLayerSpec {
  readonly input: ImageShape;
  readonly output: ImageShape;
  /** Zero rows above and columns left of the input ('same' pads (k - 1) / 2 there, TensorFlow's rule). */
  readonly padTop: number;
  readonly padLeft: number;
}

/** The leading conv layers of a network: the input image and each layer's shapes. */
export interface ConvStack {
  readonly input: ImageShape;
  readonly layers: readonly ConvLayer[];
}

/**
 * Architecture of a network: sizes = [d, hidden..., K], the size of every layer's output. With
 * `conv`, the first conv.layers.length weight layers are convolutions (sizes[l] = C_l H_l W_l:
 * each is the dense layer of its Toeplitz matrix, with shared weights; see conv.ts); the rest
 * are fully connected, the first of them flattening the image.
 */
export interface NetworkSpec {
  readonly sizes: readonly number[];
  readonly activation: Activation;
  readonly bias: Bias;
  readonly conv?: ConvStack;
}

/** A network with concrete parameters. theta holds, per layer l, W_l (M_l x M_{l-1}, row-major) then b_l (M_l) when layer l has a bias (layerHasBias). */
export interface Network extends NetworkSpec {
  readonly theta: Float64Array;
}
