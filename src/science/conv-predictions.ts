/**
 * Data ranks for the rank formulas of a linear network with one convolution straight into the
 * output layer (docs/theory.md#convolutions). Each is computed from the dataset and the layer's
 * shapes alone, never from a network's weights or outputs:
 *
 * - covered rank r_c: rank of the inputs restricted to the pixels some patch covers (= r unless a
 *   stride larger than the kernel skips pixels); the rank of every linear map a conv network can
 *   reach is K' r_c at most.
 * - patch rank rho: rank of the patch covariance sum_{i,p} z_ip z_ip^T (C_in k^2 square), z_ip the
 *   im2col patch p of sample i (padding zeros included).
 * - feature rank rho_H: rank of the conv layer's outputs over the samples (the N x C Q matrix of
 *   features) for generic filters: it holds for almost every filter, so it is computed with
 *   filters drawn here (a fixed seed, standard normal), not the network's. It has no closed form
 *   in r and the shapes (multi-channel Toeplitz matrices lose rank in ways that depend on the
 *   geometry, and data supported on part of the image lose more).
 * - gradient patch rank beta: rank of the D x K Q matrix B_0 = [Z_p^T g_k] (Z_p the N x D patches
 *   at position p, g_k in R^N the loss gradient of output k over the samples) for generic
 *   gradients g: drawn here (fixed seed), centred over the outputs for cross-entropy (softmax
 *   gradients sum to zero), so it is the rank of the im2col matrix of K' generic images from the
 *   inputs' row space. H_F = [[0, I_C (x) B_0], [(I_C (x) B_0)^T, 0]] in (kernel, readout)
 *   coordinates, so rank(H_F) = 2 C rank(B_0); that the network's own gradients reach the
 *   generic rank is verified, not proved (test/science/conv-predictions.test.ts).
 *
 * Every rank uses NumPy's rule on a symmetric Gram matrix of the smaller side, as the input rank
 * r = rank(X^T X) does (ranks.ts), so the tolerance is the same kind of decision.
 */
import { forEachToeplitzEntry } from './conv.js';
import { symmetricEigenvalues } from './linalg/eigen.js';
import { numericalRank, type RankControls } from './rank.js';
import { Rng } from './random.js';
import type { ConvLayer, ConvStack, Dataset, LossName } from './types.js';

/** rank(A) for A rows x cols (row-major), from the eigenvalues of the smaller Gram matrix (n = its size). */
export function gramRank(A: Float64Array, rows: number, cols: number, controls: RankControls = {}): number {
  const n = Math.min(rows, cols);
  if (n === 0) return 0;
  const G = new Float64Array(n * n);
  if (cols <= rows) {
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < cols; i++) {
        const a = A[r * cols + i]!;
        if (a === 0) continue;
        for (let j = 0; j < cols; j++) G[i * n + j]! += a * A[r * cols + j]!;
      }
    }
  } else {
    for (let i = 0; i < rows; i++) {
      for (let j = i; j < rows; j++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += A[i * cols + c]! * A[j * cols + c]!;
        G[i * n + j] = s;
        G[j * n + i] = s;
      }
    }
  }
  return numericalRank(symmetricEigenvalues(G, n, { overwrite: true }), n, 'dense', controls).rank;
}

/** The layer's patch geometry: for each patch p and kernel slot j (c_in, ky, kx), the input pixel it reads, or -1 (padding). */
function patchIndex(l: ConvLayer): { Q: number; D: number; pixel: Int32Array } {
  const Q = l.output.height * l.output.width, D = l.input.channels * l.kernel * l.kernel;
  const pixel = new Int32Array(Q * D).fill(-1);
  // One output channel: the Toeplitz entry (o, j, weight) of channel 0 is patch o's slot `weight`.
  forEachToeplitzEntry({ ...l, channels: 1, output: { ...l.output, channels: 1 } }, (o, j, w) => { pixel[o * D + w] = j; });
  return { Q, D, pixel };
}

/** Stacked im2col patches of every sample: (N Q) x D, row i Q + p is sample i's patch p; and the pixel each slot reads (patchIndex). */
export function patchMatrix(data: Dataset, l: ConvLayer): { Z: Float64Array; Q: number; D: number; pixel: Int32Array } {
  const { Q, D, pixel } = patchIndex(l);
  const { n, d, x } = data;
  const Z = new Float64Array(n * Q * D);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < Q * D; t++) if (pixel[t]! >= 0) Z[i * Q * D + t] = x[i * d + pixel[t]!]!;
  }
  return { Z, Q, D, pixel };
}

export interface ConvDataRanks {
  /** r_c: rank of the inputs on the pixels some patch covers. */
  readonly coveredRank: number;
  /** rho: rank of the stacked patch matrix (of the patch covariance). */
  readonly patchRank: number;
  /** rho_H: rank of the conv features for generic filters (drawn here, not the network's). */
  readonly featureRank: number;
  /** beta: rank of B_0 for generic loss gradients (drawn here, not the network's). */
  readonly gradientPatchRank: number;
}

/** Seed of the generic filters and gradients behind featureRank and gradientPatchRank (fixed: the ranks are the same for almost every draw). */
export const GENERIC_SEED = 19;

/**
 * The data ranks the conv formulas need, for a network whose only conv layer is `stack.layers[0]`.
 * The engine calls this once per dataset and conv geometry (it depends on the output channels C
 * through rho_H only).
 */
export function convDataRanks(data: Dataset, stack: ConvStack, loss: LossName, controls: RankControls = {}): ConvDataRanks {
  if (stack.layers.length !== 1) throw new RangeError(`conv predictions: one conv layer is supported, got ${stack.layers.length}`);
  const l = stack.layers[0]!;
  const { n, d, x } = data;
  const { Z, Q, D, pixel } = patchMatrix(data, l);
  const patchRank = gramRank(Z, n * Q, D, controls);
  const covered = new Uint8Array(d);
  for (const j of pixel) if (j >= 0) covered[j] = 1;
  const cols = Array.from(covered.keys()).filter((j) => covered[j] === 1);
  const Xc = new Float64Array(n * cols.length);
  for (let i = 0; i < n; i++) for (const [t, j] of cols.entries()) Xc[i * cols.length + t] = x[i * d + j]!;
  const coveredRank = gramRank(Xc, n, cols.length, controls);
  // Features for generic filters: F[i, (c, p)] = z_ip . w_c.
  const C = l.channels;
  const rng = new Rng(GENERIC_SEED, 'conv-feature-rank');
  const W = Float64Array.from({ length: C * D }, () => rng.normal());
  const F = new Float64Array(n * C * Q);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < Q; p++) {
      const z = (i * Q + p) * D;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += Z[z + j]! * W[c * D + j]!;
        F[i * C * Q + c * Q + p] = s;
      }
    }
  }
  const featureRank = gramRank(F, n, C * Q, controls);
  // B_0[j, (k, p)] = sum_i g_ik Z_ip[j] for generic gradients g (K columns; centred for cross-entropy).
  const K = data.k;
  const grng = new Rng(GENERIC_SEED, 'conv-gradient-patch-rank');
  const G = Float64Array.from({ length: n * K }, () => grng.normal());
  if (loss === 'cross-entropy') {
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let k = 0; k < K; k++) m += G[i * K + k]! / K;
      for (let k = 0; k < K; k++) G[i * K + k]! -= m;
    }
  }
  const B0 = new Float64Array(D * K * Q);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < K; k++) {
      const g = G[i * K + k]!;
      for (let p = 0; p < Q; p++) {
        const z = (i * Q + p) * D;
        for (let j = 0; j < D; j++) B0[j * K * Q + k * Q + p]! += g * Z[z + j]!;
      }
    }
  }
  const gradientPatchRank = gramRank(B0, D, K * Q, controls);
  return { coveredRank, patchRank, featureRank, gradientPatchRank };
}
