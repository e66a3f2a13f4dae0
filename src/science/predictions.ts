/**
 * Closed-form ranks of Singh, Bachmann and Hofmann (NeurIPS 2021) for deep linear networks
 * without bias, generic weights. r = rank(X^T X), K' = K (K - 1 for cross-entropy),
 * m = hidden widths, s = min(r, K'), q = min(r, K', m_1, ..., m_{L-1}):
 *   rank(H_O) = q (r + K' - q)
 *   rank(H_F) = 2 q sum(m) + 2 q s - (len(m) + 1) q^2
 *   rank(H_L) = rank(H_F) + rank(H_O) + q (q - 2 s)
 */
import type { Activation, LossName } from './types.js';

export interface PredictionInput {
  readonly inputRank: number;
  readonly outputs: number;
  readonly hidden: readonly number[];
  readonly loss: LossName;
  readonly activation: Activation;
  readonly bias: boolean;
}

export type Prediction =
  | { readonly applicable: true; readonly loss: number; readonly outer: number; readonly functional: number }
  | { readonly applicable: false; readonly reason: string };

export function predictRanks(inp: PredictionInput): Prediction {
  if (inp.activation !== 'linear') return { applicable: false, reason: `the formulas hold for linear networks, not ${inp.activation}` };
  if (inp.bias) return { applicable: false, reason: 'the formulas hold for networks without bias' };
  const r = inp.inputRank;
  const kp = inp.loss === 'cross-entropy' ? inp.outputs - 1 : inp.outputs;
  const m = inp.hidden;
  const s = Math.min(r, kp);
  const q = Math.min(r, kp, ...m);
  const sumM = m.reduce((a, b) => a + b, 0);
  const outer = q * (r + kp - q);
  const functional = 2 * q * sumM + 2 * q * s - (m.length + 1) * q * q;
  const loss = functional + outer + q * (q - 2 * s);
  return { applicable: true, loss, outer, functional };
}
