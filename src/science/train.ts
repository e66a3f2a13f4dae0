/**
 * Training a network in float64: full-batch gradient descent (gd), minibatch SGD (sgd) and Adam
 * (adam), as pure functions (a state in, a new state out; nothing is modified in place), plus
 * what a checkpoint is measured by (loss, gradient norm, the residual Omega and its rank).
 *
 * Conventions (one home for each):
 * - The optimiser follows the gradient of the MEAN per-sample loss over its batch (gd: every
 *   sample), as ordinary training loops do, so `lr` does not scale with the number of samples.
 *   (The Hessians are those of the summed loss, N times the mean's: the same ranks.)
 * - Minibatches (sgd, adam) are a function of (seed, step) alone: epoch e = floor(step / B_e)
 *   with B_e = floor(N / batch) batches per epoch (the remainder of a shuffle is dropped), its
 *   order a permutation drawn from the stream `train/epoch/<e>` of Rng(seed). So training resumed
 *   from a stored state gives bit for bit the weights of one uninterrupted run.
 * - A state carries everything the next step needs (weights, Adam's moments, the step count), so
 *   a checkpoint is a complete resumption point.
 * - A loss or weight that is NaN or infinite stops training with `TrainingDiverged`, naming the
 *   step; no state past the last finite one is returned.
 */
import { checkShapes, forward, lossAndGradient, lossAndGradientOn } from './network.js';
import { getLoss, type Loss } from './losses.js';
import { numericalRank, type RankResult } from './rank.js';
import { Rng } from './random.js';
import type { Dataset, LossName, Network } from './types.js';

export type Optimizer = 'gd' | 'sgd' | 'adam';
export const OPTIMIZERS: readonly Optimizer[] = ['gd', 'sgd', 'adam'];

/** Adam's constants (Kingma & Ba's defaults, as torch.optim.Adam and optax.adam). */
export const ADAM = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

export interface TrainSettings {
  readonly optimizer: Optimizer;
  /** Learning rate, > 0. */
  readonly lr: number;
  /** Samples per minibatch (sgd, adam); null or ignored for gd. */
  readonly batchSize: number | null;
  /** Seed of the minibatch order (sgd, adam). */
  readonly seed: number;
}

/** A network during training: its weights and the optimiser's state after `step` updates. */
export interface TrainState extends Network {
  /** Updates applied since initialisation. */
  readonly step: number;
  /** Adam's first and second moment estimates (empty for gd and sgd). */
  readonly m: Float64Array;
  readonly v: Float64Array;
}

export class TrainingDiverged extends Error {
  override readonly name = 'TrainingDiverged';
  readonly code = 'diverged';
  constructor(readonly step: number, readonly what: string) {
    super(`training diverged: ${what} at step ${step}`);
  }
}

/** The state before the first update. */
export function initialState(net: Network, optimizer: Optimizer): TrainState {
  const P = net.theta.length;
  const adam = optimizer === 'adam';
  return {
    sizes: [...net.sizes], activation: net.activation, bias: net.bias, ...(net.conv ? { conv: net.conv } : {}), theta: Float64Array.from(net.theta), step: 0,
    m: new Float64Array(adam ? P : 0), v: new Float64Array(adam ? P : 0),
  };
}

/** Checks that the settings describe a training run on `data`; throws a RangeError naming the setting. */
export function checkTrainSettings(s: TrainSettings, samples: number): void {
  if (!OPTIMIZERS.includes(s.optimizer)) throw new RangeError(`train: unknown optimizer '${String(s.optimizer)}' (allowed: ${OPTIMIZERS.join(', ')})`);
  if (!(s.lr > 0) || !Number.isFinite(s.lr)) throw new RangeError(`train: lr must be a finite number > 0, got ${s.lr}`);
  if (s.optimizer !== 'gd') {
    const b = s.batchSize;
    if (b === null || !Number.isInteger(b) || b < 1 || b > samples) throw new RangeError(`train: batch_size must be an integer in [1, ${samples}] for ${s.optimizer}, got ${b}`);
  }
}

/** The sample indices of minibatch `step` (see the module comment); a pure function of (seed, step). */
export function minibatch(seed: number, step: number, samples: number, batch: number): Int32Array {
  const perEpoch = Math.floor(samples / batch);
  const epoch = Math.floor(step / perEpoch);
  const j = step - epoch * perEpoch;
  const rng = new Rng(seed, `train/epoch/${epoch}`);
  // Fisher-Yates on 0..N-1, then the j-th slice.
  const perm = new Int32Array(samples);
  for (let i = 0; i < samples; i++) perm[i] = i;
  for (let i = samples - 1; i > 0; i--) {
    const k = rng.int(i + 1);
    const t = perm[i]; perm[i] = perm[k]; perm[k] = t;
  }
  return perm.slice(j * batch, (j + 1) * batch);
}

/** Mean loss over rows `idx` of the data (all rows when idx is null) and its gradient w.r.t. theta. */
export function meanLossAndGradient(net: Network, data: Dataset, loss: Loss, idx: Int32Array | null): { value: number; grad: Float64Array } {
  if (idx === null) {
    const { value, grad } = lossAndGradient(net, data, loss);
    const inv = 1 / data.n;
    for (let i = 0; i < grad.length; i++) grad[i] *= inv;
    return { value: value * inv, grad };
  }
  checkShapes(net, data);
  const { d, k } = data;
  const n = idx.length;
  const x = new Float64Array(n * d), y = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    x.set(data.x.subarray(idx[r] * d, idx[r] * d + d), r * d);
    y.set(data.y.subarray(idx[r] * k, idx[r] * k + k), r * k);
  }
  const { value, grad } = lossAndGradientOn(net, x, y, n, k, loss);
  const inv = 1 / n;
  for (let i = 0; i < grad.length; i++) grad[i] *= inv;
  return { value: value * inv, grad };
}

/**
 * The state after training `from` up to `to` updates (to >= from.step). A new state; `from` is
 * untouched. `onStep(done)` is called every `every` updates (progress, cancellation: it may throw).
 */
export function train(from: TrainState, data: Dataset, lossName: LossName, s: TrainSettings, to: number, onStep?: (step: number) => void, every = 100): TrainState {
  if (!Number.isInteger(to) || to < from.step) throw new RangeError(`train: cannot train from step ${from.step} to step ${to}`);
  checkTrainSettings(s, data.n);
  const loss = getLoss(lossName);
  const theta = Float64Array.from(from.theta);
  const m = Float64Array.from(from.m), v = Float64Array.from(from.v);
  const net: Network = { sizes: from.sizes, activation: from.activation, bias: from.bias, ...(from.conv ? { conv: from.conv } : {}), theta };
  const P = theta.length;
  for (let step = from.step; step < to; step++) {
    const idx = s.optimizer === 'gd' ? null : minibatch(s.seed, step, data.n, s.batchSize!);
    const { value, grad } = meanLossAndGradient(net, data, loss, idx);
    if (!Number.isFinite(value)) throw new TrainingDiverged(step, `the ${s.optimizer === 'gd' ? '' : 'minibatch '}loss is ${value}`);
    if (s.optimizer === 'adam') {
      const t = step + 1;
      const c1 = 1 - ADAM.beta1 ** t, c2 = 1 - ADAM.beta2 ** t;
      for (let i = 0; i < P; i++) {
        const gi = grad[i];
        m[i] = ADAM.beta1 * m[i] + (1 - ADAM.beta1) * gi;
        v[i] = ADAM.beta2 * v[i] + (1 - ADAM.beta2) * gi * gi;
        theta[i] -= (s.lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + ADAM.eps);
      }
    } else {
      for (let i = 0; i < P; i++) theta[i] -= s.lr * grad[i];
    }
    for (let i = 0; i < P; i++) {
      if (!Number.isFinite(theta[i])) throw new TrainingDiverged(step + 1, `a weight is ${theta[i]}`);
    }
    if (onStep && (step + 1) % every === 0) onStep(step + 1);
  }
  return { ...net, sizes: [...from.sizes], step: to, m, v };
}

/** What a checkpoint is measured by, over every sample of the data. */
export interface CheckpointMetrics {
  /** Mean per-sample loss. */
  readonly loss: number;
  /** |gradient of the mean loss w.r.t. theta| (Euclidean). */
  readonly gradNorm: number;
  /** |Omega|: Frobenius norm of the N x K matrix of dl/df per sample (of the summed loss, as the paper). */
  readonly residualNorm: number;
  /** Rank of Omega (NumPy's rule on its singular values, tolerance max(N, K) eps s_max; one-sided Jacobi SVD). */
  readonly residualRank: RankResult;
  /** Rank Omega has for generic outputs: min(N, K), or min(N, K - 1) for cross-entropy (rows sum to 0). */
  readonly genericResidualRank: number;
}

export function checkpointMetrics(net: Network, data: Dataset, lossName: LossName): CheckpointMetrics {
  const loss = getLoss(lossName);
  const { value, grad } = meanLossAndGradient(net, data, loss, null);
  const fp = forward(net, data.x, 0, data.n);
  const out = fp.a[fp.a.length - 1];
  const { n, k } = data;
  const omega = new Float64Array(n * k);
  for (let i = 0; i < n; i++) loss.valueAndGrad(out, data.y, i * k, k, omega);
  let r2 = 0;
  for (const w of omega) r2 += w * w;
  let g2 = 0;
  for (const gi of grad) g2 += gi * gi;
  const sv = singularValues(omega, n, k);
  const generic = lossName === 'cross-entropy' ? Math.min(n, Math.max(k - 1, 0)) : Math.min(n, k);
  return { loss: value, gradNorm: Math.sqrt(g2), residualNorm: Math.sqrt(r2), residualRank: numericalRank(sv, Math.max(n, k), 'svd'), genericResidualRank: generic };
}

/**
 * Singular values of an n x k row-major matrix (k small: a network's outputs) by one-sided Jacobi
 * (Hestenes): plane rotations make the columns orthogonal, their norms are then the singular
 * values, accurate to rounding relative to the largest. Not from the Gram matrix, whose
 * eigenvalues carry eps * s_max^2 of noise, i.e. sqrt(eps) * s_max in a singular value, far above
 * the rank tolerance. Written here because the eigensolver is for symmetric matrices and no npm
 * package gives a float64 SVD without native code.
 */
export function singularValues(a: Float64Array, n: number, k: number): Float64Array {
  // Columns, contiguous.
  const c = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) c[j * n + i] = a[i * k + j];
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < k - 1; p++) {
      for (let q = p + 1; q < k; q++) {
        let alpha = 0, beta = 0, gamma = 0;
        for (let i = 0; i < n; i++) {
          const x = c[p * n + i], y = c[q * n + i];
          alpha += x * x; beta += y * y; gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const cs = 1 / Math.sqrt(1 + t * t), sn = cs * t;
        for (let i = 0; i < n; i++) {
          const x = c[p * n + i], y = c[q * n + i];
          c[p * n + i] = cs * x - sn * y;
          c[q * n + i] = sn * x + cs * y;
        }
      }
    }
    if (!rotated) break;
  }
  const out = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += c[j * n + i] * c[j * n + i];
    out[j] = Math.sqrt(s);
  }
  return out.sort().reverse();
}

/**
 * Floating-point operations of `updates` training steps on batches of `batch` samples and the
 * checkpoint's metrics over `samples`, for a network of `params` parameters: a forward pass is
 * about 2 n P, a backward pass 4 n P (the time estimate's model; measured in npm run bench).
 */
export function trainingFlops(updates: number, batch: number, samples: number, params: number): number {
  return updates * 6 * batch * params + 8 * samples * params;
}

/**
 * How many of H_F's kept eigenvalues lie at or below H_L's tolerance: directions of H_F too small
 * to count in rank(H_L) (near a minimum H_F shrinks with the residual while H_O does not). The
 * formula for rank(H_L) assumes every direction of H_F adds to H_L; where this is > 0 that
 * assumption fails numerically, and rank(H_L) falls towards rank(H_O).
 */
export function functionalBelowLossTolerance(functional: RankResult, loss: RankResult): number {
  let n = 0;
  for (let i = 0; i < functional.rank; i++) if (functional.values[i] <= loss.tolerance) n++;
  return n;
}
