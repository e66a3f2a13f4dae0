/** Activation functions with their first and second derivatives, applied elementwise in place. */
import type { Activation } from './types.js';

export const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'tanh', 'sigmoid', 'elu', 'leaky_relu'];

/** Negative-side slope of leaky_relu (PyTorch's and JAX's default). */
export const LEAKY_SLOPE = 0.01;

/**
 * For pre-activations z[0..len), write s(z) into out, s'(z) into d1 and s''(z) into d2.
 * relu / leaky_relu take the derivative at 0 from the negative side (as autodiff does).
 */
export function applyActivation(
  act: Activation, z: Float64Array, out: Float64Array, d1: Float64Array, d2: Float64Array,
): void {
  const len = z.length;
  switch (act) {
    case 'linear':
      out.set(z); d1.fill(1); d2.fill(0);
      return;
    case 'relu':
      for (let i = 0; i < len; i++) {
        const v = z[i];
        out[i] = v > 0 ? v : 0; d1[i] = v > 0 ? 1 : 0; d2[i] = 0;
      }
      return;
    case 'leaky_relu':
      for (let i = 0; i < len; i++) {
        const v = z[i];
        out[i] = v > 0 ? v : LEAKY_SLOPE * v; d1[i] = v > 0 ? 1 : LEAKY_SLOPE; d2[i] = 0;
      }
      return;
    case 'tanh':
      for (let i = 0; i < len; i++) {
        const t = Math.tanh(z[i]);
        const s1 = 1 - t * t;
        out[i] = t; d1[i] = s1; d2[i] = -2 * t * s1;
      }
      return;
    case 'sigmoid':
      for (let i = 0; i < len; i++) {
        const v = z[i];
        // Evaluate on the side where exp cannot overflow.
        const s = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
        const s1 = s * (1 - s);
        out[i] = s; d1[i] = s1; d2[i] = s1 * (1 - 2 * s);
      }
      return;
    case 'elu':
      for (let i = 0; i < len; i++) {
        const v = z[i];
        if (v > 0) { out[i] = v; d1[i] = 1; d2[i] = 0; }
        else { const e = Math.exp(v); out[i] = e - 1; d1[i] = e; d2[i] = e; }
      }
      return;
    default: {
      const never: never = act;
      throw new Error(`activation: unknown activation '${String(never)}'`);
    }
  }
}
