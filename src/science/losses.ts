/**
 * Per-sample losses l(f, y) with their first and second derivatives w.r.t. the outputs f.
 * The study's loss is the SUM over samples. A = d^2 l / df^2 is given both as a K x K matrix
 * and as a factor F with A = F F^T, which lets rank(H_O) come from a Gram matrix.
 */
import type { LossName } from './types.js';

export const LOSSES: readonly LossName[] = ['mse', 'cross-entropy', 'cosh'];

export interface Loss {
  readonly name: LossName;
  /** Loss of sample rows f[off..off+k), y[off..off+k); writes dl/df into g[off..off+k). */
  valueAndGrad(f: Float64Array, y: Float64Array, off: number, k: number, g: Float64Array): number;
  /** Writes A = d^2 l/df^2 (k x k, row-major) into out[0..k*k). */
  outputHessian(f: Float64Array, y: Float64Array, off: number, k: number, out: Float64Array): void;
  /** Writes F (k x k, row-major) with A = F F^T into out[0..k*k). */
  outputHessianFactor(f: Float64Array, y: Float64Array, off: number, k: number, out: Float64Array): void;
}

const mse: Loss = {
  name: 'mse',
  valueAndGrad(f, y, off, k, g) {
    let v = 0;
    for (let i = off; i < off + k; i++) { const r = f[i] - y[i]; g[i] = r; v += 0.5 * r * r; }
    return v;
  },
  outputHessian(_f, _y, _off, k, out) { identity(k, out); },
  outputHessianFactor(_f, _y, _off, k, out) { identity(k, out); },
};

/** log cosh r, stable for large |r|: |r| + log1p(exp(-2|r|)) - log 2. */
function logCosh(r: number): number {
  const a = Math.abs(r);
  return a + Math.log1p(Math.exp(-2 * a)) - Math.LN2;
}

const cosh: Loss = {
  name: 'cosh',
  valueAndGrad(f, y, off, k, g) {
    let v = 0;
    for (let i = off; i < off + k; i++) { const r = f[i] - y[i]; g[i] = Math.tanh(r); v += logCosh(r); }
    return v;
  },
  outputHessian(f, y, off, k, out) {
    out.fill(0, 0, k * k);
    for (let i = 0; i < k; i++) { const t = Math.tanh(f[off + i] - y[off + i]); out[i * k + i] = 1 - t * t; }
  },
  outputHessianFactor(f, y, off, k, out) {
    out.fill(0, 0, k * k);
    for (let i = 0; i < k; i++) { const t = Math.tanh(f[off + i] - y[off + i]); out[i * k + i] = Math.sqrt(1 - t * t); }
  },
};

/** softmax of f[off..off+k) into p[0..k), shifted by the max for stability; returns log-sum-exp. */
function softmax(f: Float64Array, off: number, k: number, p: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < k; i++) m = Math.max(m, f[off + i]);
  let s = 0;
  for (let i = 0; i < k; i++) { p[i] = Math.exp(f[off + i] - m); s += p[i]; }
  for (let i = 0; i < k; i++) p[i] /= s;
  return m + Math.log(s);
}

function targetMass(y: Float64Array, off: number, k: number): number {
  let t = 0;
  for (let i = off; i < off + k; i++) t += y[i];
  return t;
}

function crossEntropy(): Loss {
  let p = new Float64Array(16);
  const probs = (f: Float64Array, off: number, k: number): number => {
    if (p.length < k) p = new Float64Array(k);
    return softmax(f, off, k, p);
  };
  return {
    name: 'cross-entropy',
    valueAndGrad(f, y, off, k, g) {
      const lse = probs(f, off, k);
      const t = targetMass(y, off, k);
      let v = 0;
      // l = -sum_i y_i (f_i - lse); dl/df_j = t p_j - y_j.
      for (let i = 0; i < k; i++) { v -= y[off + i] * (f[off + i] - lse); g[off + i] = t * p[i] - y[off + i]; }
      return v;
    },
    outputHessian(f, y, off, k, out) {
      probs(f, off, k);
      const t = targetMass(y, off, k);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[i * k + j] = t * ((i === j ? p[i] : 0) - p[i] * p[j]);
    },
    outputHessianFactor(f, y, off, k, out) {
      // diag(p) - p p^T = (I - p 1^T) diag(p) (I - 1 p^T), so F = sqrt(t) (I - p 1^T) diag(sqrt p).
      probs(f, off, k);
      const st = Math.sqrt(targetMass(y, off, k));
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[i * k + j] = st * ((i === j ? 1 : 0) - p[i]) * Math.sqrt(p[j]);
    },
  };
}

/**
 * Per sample i of outputs `out` (n x K) and targets `y` (n x K): g = dl/df (n x K) and the output
 * Hessian A_i = d^2 l / df^2 (n x K x K), what every Hessian product starts from.
 */
export function outputDerivatives(loss: Loss, out: Float64Array, y: Float64Array, n: number, K: number): { g: Float64Array; outHess: Float64Array } {
  const g = new Float64Array(n * K);
  const outHess = new Float64Array(n * K * K);
  const tmp = new Float64Array(K * K);
  for (let i = 0; i < n; i++) {
    loss.valueAndGrad(out, y, i * K, K, g);
    loss.outputHessian(out, y, i * K, K, tmp);
    outHess.set(tmp, i * K * K);
  }
  return { g, outHess };
}

function identity(k: number, out: Float64Array): void {
  out.fill(0, 0, k * k);
  for (let i = 0; i < k; i++) out[i * k + i] = 1;
}

export function getLoss(name: LossName): Loss {
  switch (name) {
    case 'mse': return mse;
    case 'cosh': return cosh;
    case 'cross-entropy': return crossEntropy();
    default: {
      const never: never = name;
      throw new RangeError(`loss: unknown loss '${String(never)}' (allowed: ${LOSSES.join(', ')})`);
    }
  }
}
