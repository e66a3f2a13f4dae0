/**
 * The outer-product Hessian's nonzero spectrum from a small Gram matrix.
 *
 * H_O = sum_i J_i^T A_i J_i = B^T B with B = blockdiag(F_i^T) J (N K x P), A_i = F_i F_i^T.
 * Its nonzero eigenvalues are those of G = B B^T (N K x N K). G is built from the layer
 * structure without forming J: the row of B for (sample i, column k of F_i) restricted to W_l is
 * delta_l^{(i,k)} a_{l-1,i}^T, so G = sum_l (D_l D_l^T) o (a_{l-1} a_{l-1}^T [+ 1 with bias]).
 */
import { gemmNN, gemmNT } from '../linalg/gemm.js';
import type { Loss } from '../losses.js';
import { checkShapes, forward, hasConv, layerLayout } from '../network.js';
import type { Dataset, Network } from '../types.js';

export function outerGram(net: Network, data: Dataset, loss: Loss): { gram: Float64Array; size: number } {
  // The Gram matrix of a network with convolutions is not its Toeplitz expansion's (J_T J_T^T != I).
  if (hasConv(net)) throw new RangeError('gram route: not for networks with convolutions');
  checkShapes(net, data);
  const layers = layerLayout(net);
  const L = layers.length, N = data.n, K = data.k, NK = N * K;
  const fp = forward(net, data.x, 0, N);
  const out = fp.a[L];
  // Seeds: row (i, k) of D_L is column k of F_i.
  let D = new Float64Array(NK * K);
  const f = new Float64Array(K * K);
  for (let i = 0; i < N; i++) {
    loss.outputHessianFactor(out, data.y, i * K, K, f);
    for (let k = 0; k < K; k++) for (let j = 0; j < K; j++) D[(i * K + k) * K + j] = f[j * K + k];
  }
  const G = new Float64Array(NK * NK);
  const DDt = new Float64Array(NK * NK);
  const C = new Float64Array(N * N);
  for (let l = L; l >= 1; l--) {
    const { rows, cols, w, b } = layers[l - 1];
    DDt.fill(0);
    gemmNT(NK, NK, rows, 1, D, 0, D, 0, DDt, 0);
    C.fill(b >= 0 ? 1 : 0);
    gemmNT(N, N, cols, 1, fp.a[l - 1], 0, fp.a[l - 1], 0, C, 0);
    for (let r = 0; r < NK; r++) {
      const ci = ((r / K) | 0) * N;
      for (let s = 0; s < NK; s++) G[r * NK + s] += DDt[r * NK + s] * C[ci + ((s / K) | 0)];
    }
    if (l === 1) break;
    // D_{l-1} = (D_l W_l) o s'(z_{l-1}) with sample i's s' applied to its K rows.
    const next = new Float64Array(NK * cols);
    gemmNN(NK, cols, rows, 1, D, 0, net.theta, w, next, 0);
    const s1 = fp.d1[l - 1];
    for (let r = 0; r < NK; r++) {
      const si = ((r / K) | 0) * cols;
      for (let j = 0; j < cols; j++) next[r * cols + j] *= s1[si + j];
    }
    D = next;
  }
  return { gram: G, size: NK };
}
