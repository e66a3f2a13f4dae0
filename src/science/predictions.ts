/**
 * Closed-form ranks of Singh, Bachmann and Hofmann (NeurIPS 2021) for deep linear networks
 * without bias, generic weights. r = rank(X^T X), K' = K (K - 1 for cross-entropy),
 * m = hidden widths, s = min(r, K'), q = min(r, K', m_1, ..., m_{L-1}):
 *   rank(H_O) = q (r + K' - q)
 *   rank(H_F) = 2 q sum(m) + 2 q s - (len(m) + 1) q^2
 *   rank(H_L) = rank(H_F) + rank(H_O) + q (q - 2 s)
 *
 * Where they apply:
 * - exact: a linear network without bias (the paper's theorems), and a linear network with a bias
 *   in the first layer only, which IS the no-bias network on the augmented input [x; 1]
 *   (W_1 x + b_1 = [W_1 b_1] [x; 1]: same parameters, same Hessians), so the same formulas hold
 *   with r = rank of the augmented covariance [X 1]^T [X 1] (test/science/bias.test.ts checks the
 *   Hessians entry for entry and the ranks on random cases);
 * - estimate: a nonlinear network (relu, tanh, ...) gets the linear network's ranks as an
 *   estimate of its numerical rank (the paper's claim, not a theorem);
 * - none: a bias in every layer. Formulas for it were tried against computed ranks and failed at
 *   unambiguous points (docs/theory.md, test/science/bias.test.ts), so none ships.
 */
import type { Activation, Bias, LossName } from './types.js';

export interface PredictionInput {
  /** r = rank(X^T X). */
  readonly inputRank: number;
  /** rank([X 1]^T [X 1]), the rank of the augmented inputs; needed when bias is 'first'. */
  readonly augmentedInputRank?: number;
  readonly outputs: number;
  readonly hidden: readonly number[];
  readonly loss: LossName;
  readonly activation: Activation;
  readonly bias: Bias;
}

/** exact: proved (the paper's linear, no-bias setting or its augmented-input form); estimate: the linear formulas for a nonlinear network. */
export type PredictionKind = 'exact' | 'estimate';

/** The quantities the formulas are made of, with the point's own numbers. */
export interface FormulaTerms {
  /** The input rank the formulas use: r, or the augmented rank with a first-layer bias. */
  readonly r: number;
  /** K' = K, or K - 1 for cross-entropy. */
  readonly kp: number;
  /** s = min(r, K'). */
  readonly s: number;
  /** q = min(r, K', m_1, ..., m_{L-1}). */
  readonly q: number;
  /** sum(m), len(m) + 1 (= L, the number of weight layers). */
  readonly sumM: number;
  readonly layers: number;
  /** rank(H_O) = q (r + K' - q). */
  readonly outer: number;
  /** rank(H_F) = 2 q sum(m) + 2 q s - L q^2: its three terms. */
  readonly functionalTerms: readonly [number, number, number];
  readonly functional: number;
  /** rank(H_L) = rank(H_F) + rank(H_O) + q (q - 2 s): the last term. */
  readonly lossCorrection: number;
  readonly loss: number;
}

export type Prediction =
  | {
    readonly applicable: true; readonly kind: PredictionKind; readonly loss: number; readonly outer: number; readonly functional: number;
    /** Why the formulas apply, and how (exact, augmented input, or estimate). */
    readonly basis: string;
    /** The r the formulas used (the augmented rank with a first-layer bias). */
    readonly inputRank: number;
    readonly augmented: boolean;
  }
  | { readonly applicable: false; readonly reason: string };

/** K' = K, or K - 1 for cross-entropy (softmax is invariant to adding a constant to every output, so one output direction has zero curvature). */
export function effectiveOutputs(outputs: number, loss: LossName): number {
  return loss === 'cross-entropy' ? outputs - 1 : outputs;
}

/** The paper's formulas and their terms for input rank r. */
export function formulaTerms(r: number, outputs: number, hidden: readonly number[], loss: LossName): FormulaTerms {
  const kp = effectiveOutputs(outputs, loss);
  const m = hidden;
  const s = Math.min(r, kp);
  const q = Math.min(r, kp, ...m);
  const sumM = m.reduce((a, b) => a + b, 0);
  const layers = m.length + 1;
  const outer = q * (r + kp - q);
  const functionalTerms = [2 * q * sumM, 2 * q * s, layers * q * q] as const;
  const functional = functionalTerms[0] + functionalTerms[1] - functionalTerms[2];
  const lossCorrection = q * (q - 2 * s);
  return { r, kp, s, q, sumM, layers, outer, functionalTerms, functional, lossCorrection, loss: functional + outer + lossCorrection };
}

/** Why no formula covers a bias in every layer (shown in details.json and by `hrank explain`). */
export const ALL_BIAS_REASON = 'no formula is verified for a bias in every layer (the candidates tried fail at unambiguous points: docs/theory.md); bias: first has exact predictions';

export function predictRanks(inp: PredictionInput): Prediction {
  if (inp.bias === true) return { applicable: false, reason: ALL_BIAS_REASON };
  const augmented = inp.bias === 'first';
  if (augmented && inp.augmentedInputRank === undefined) throw new RangeError('predictions: a first-layer bias needs the rank of the augmented input covariance');
  const r = augmented ? inp.augmentedInputRank! : inp.inputRank;
  const t = formulaTerms(r, inp.outputs, inp.hidden, inp.loss);
  const linear = inp.activation === 'linear';
  const setting = augmented ? 'a first-layer bias is the no-bias network on [x; 1], so r is the rank of the augmented input covariance' : 'no bias';
  const basis = linear
    ? `exact: a linear network, ${setting} (Singh, Bachmann and Hofmann 2021)`
    : `estimate: the ranks of the linear network of the same shape (${setting}); a ${inp.activation} network has no closed form`;
  return { applicable: true, kind: linear ? 'exact' : 'estimate', loss: t.loss, outer: t.outer, functional: t.functional, basis, inputRank: r, augmented };
}
