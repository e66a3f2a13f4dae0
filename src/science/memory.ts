/**
 * The memory one spectrum computation needs, from its shapes alone: the rule follows what the
 * routes of ranks.ts and hessian/chain.ts allocate (all float64, 8 bytes), so it lives beside
 * them. The engine's memory guard sums it over the steps a run holds at once.
 *
 * - dense route (P <= 1,200, `rank.route: dense`, nonlinear activations): one P x P Hessian at a
 *   time, eigensolved in place, plus the one before it not yet collected: about 2 - 3 P^2 (one
 *   more per extra Hessian, up to 3);
 * - subspace route (linear networks): per Hessian its k x k projection as a packed triangle, the
 *   eigensolver's copy and the rows in flight: about 1.5 k^2, with k bounded from the shapes
 *   (`subspaceSizeBound`); should its check fail, the dense route (as above);
 * - prefix-sum chains (sample-size sweeps): linear networks sum the products of the chain's
 *   subspace, 2 k P (H_F and H_O), plus the projections; other networks running P x P sums per
 *   Hessian and a copy to eigensolve: under (2 h + 1) P^2;
 * - H_O by its N K x N K Gram matrix (two of them and the layer products) when that is smaller;
 * - the R-operator workspace of a chunk of 64 directions: 3 x 64 P products, 64 N K for J v and
 *   about 4 x 64 n (sum of widths) per batch of n samples, plus the forward pass of every batch
 *   (6 N sum of widths) and the data, per worker thread.
 */
import { DENSE_CHUNK } from './hessian/dense.js';
import { outerSubspaceBound, subspaceSizeBound } from './hessian/subspace.js';
import { DENSE_MAX_PARAMS } from './ranks.js';
import { shapeSize } from './conv.js';
import { lastLayerApplies, lastLayerSizeBound } from './hessian/lastlayer.js';
import { paramCount } from './network.js';
import type { Bias, ConvStack } from './types.js';

const F64 = 8;
/** Directions per R-operator call. */
const CHUNK = DENSE_CHUNK;

/** The sizes a step's estimate depends on. */
export interface StepShape {
  /** Parameters P. */
  readonly params: number;
  /** Samples N, input dim d, outputs K. */
  readonly samples: number;
  readonly inputDim: number;
  readonly outputs: number;
  readonly hidden: readonly number[];
  readonly hessians: readonly string[];
  /** Linear activation on the automatic route: the subspace route applies. */
  readonly linear: boolean;
  readonly bias: Bias;
  /** `rank.route: dense`. */
  readonly dense: boolean;
  /** Samples per accumulation batch (default N). */
  readonly batchSize?: number;
  /** A prefix-sum chain member. */
  readonly chain?: boolean;
  /** Worker threads the step's pieces may use at once (subspace route). */
  readonly jobs: number;
  /** The network's leading conv layers (then `hidden` are the dense widths after them). */
  readonly conv?: ConvStack;
}

/** What the conv rules below read of a shape. */
type NetShape = Pick<StepShape, 'inputDim' | 'hidden' | 'outputs' | 'conv' | 'params' | 'bias' | 'dense' | 'samples'>;

/** Layer sizes [d, conv outputs..., hidden..., K] of a step's network. */
export function shapeSizes(s: NetShape): number[] {
  return [s.inputDim, ...(s.conv?.layers ?? []).map((l) => shapeSize(l.output)), ...s.hidden, s.outputs];
}

/** Parameters of the dense network a shape runs its products on (a conv layer's Toeplitz matrix counts whole). */
export function productParams(s: NetShape): number {
  if (!s.conv || s.conv.layers.length === 0) return s.params;
  return paramCount({ sizes: shapeSizes(s), activation: 'linear', bias: s.bias });
}

/** Whether a conv shape takes the last-layer subspace route (ranks.ts), and its size bound. */
export function convRoute(s: NetShape): { lastLayer: boolean; k: number; R: number; lastWidth: number } {
  const sizes = shapeSizes(s);
  const lastWidth = sizes[sizes.length - 2]!;
  const lastLayer = !s.dense && s.params > DENSE_MAX_PARAMS && lastLayerApplies(s.params, s.outputs, lastWidth, s.samples);
  return { lastLayer, k: lastLayerSizeBound(s.params, s.outputs, lastWidth, s.samples), R: s.params - s.outputs * lastWidth, lastWidth };
}

/** The R-operator workspace of one operator (one worker), plus the data it holds. */
function operatorBytes(s: StepShape): number {
  const sumW = shapeSizes(s).reduce((a, b) => a + b, 0);
  const Pd = productParams(s);
  const n = Math.min(s.batchSize ?? s.samples, s.samples);
  const NK = s.samples * s.outputs;
  return F64 * (3 * CHUNK * Pd + CHUNK * NK + 4 * CHUNK * n * sumW + 6 * s.samples * sumW + s.samples * (s.inputDim + s.outputs) + s.params + (Pd === s.params ? 0 : 3 * CHUNK * s.params + 2 * Pd));
}

/** Bytes one spectrum step may hold at once, and how that was reached. */
export function spectrumStepBytes(s: StepShape): { bytes: number; route: string } {
  const P = s.params;
  const P2 = F64 * P * P;
  const h = s.hessians.length;
  const ws = operatorBytes(s);
  const sizes = [s.inputDim, ...s.hidden, s.outputs];
  if (s.chain) {
    if (s.linear && !s.dense) {
      const k = subspaceSizeBound(sizes, s.samples, s.bias, true);
      return { bytes: F64 * (2 * k * P + 1.5 * h * k * k) + 2 * ws, route: `prefix sums on a subspace k <= ${k} of P ${P}` };
    }
    return { bytes: (2 * h + 1) * P2 + ws, route: `prefix sums, P ${P}` };
  }
  if (s.dense || P <= DENSE_MAX_PARAMS) return { bytes: Math.min(3, h + 1) * P2 + ws, route: `dense P ${P}` };
  if (s.conv && s.conv.layers.length > 0) {
    const c = convRoute(s);
    if (!c.lastLayer) return { bytes: Math.min(3, h + 1) * P2 + ws, route: `dense P ${P}` };
    // lastlayer.ts: the products H e_c (2 R P), U (u K M), Z and Y (2 u N K), T_UU (u^2), per
    // Hessian its W_L block of the products, T's triangle and the eigensolver's copy.
    const { k, R, lastWidth } = c, u = k - R, KM = s.outputs * lastWidth, NK = s.samples * s.outputs;
    const bytes = F64 * (2 * R * P + u * KM + 2 * u * NK + u * u + R * KM + u * R + 1.5 * h * k * k) + ws;
    return { bytes, route: `last-layer subspace k <= ${k} of P ${P}` };
  }
  const N = s.samples;
  const NK = N * s.outputs;
  const maxW = Math.max(s.inputDim, ...s.hidden, s.outputs);
  const gram = F64 * (2 * NK * NK + N * N + 2 * NK * maxW);
  if (!s.linear) {
    const outerOnGram = s.hessians.includes('outer') && NK < P;
    const denseKinds = s.hessians.filter((x) => x !== 'outer' || !outerOnGram).length;
    return { bytes: (outerOnGram ? gram : 0) + Math.min(3, denseKinds + 1) * P2 + ws, route: `dense P ${P}${outerOnGram ? `, gram ${NK}` : ''}` };
  }
  const k = subspaceSizeBound(sizes, N, s.bias);
  // H_O's own subspace, with the inputs' rank at most min(N, d) (plus a bias column); ranks.ts
  // sends H_O to its Gram matrix when N K is smaller, and then forms no T_O.
  const kOuter = outerSubspaceBound(sizes, Math.min(N, s.inputDim) + (s.bias === false ? 0 : 1), s.bias === true ? 1 : 0);
  const outerOnGram = s.hessians.includes('outer') && NK < Math.min(k, kOuter);
  const onSubspace = s.hessians.filter((x) => x !== 'outer' || !outerOnGram).length;
  const sub = F64 * 1.5 * onSubspace * k * k;
  return { bytes: (outerOnGram ? gram : 0) + sub + ws * Math.max(1, s.jobs), route: `subspace k <= ${k} of P ${P}` };
}
