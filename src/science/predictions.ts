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
 * - a bias in every layer: only rank(H_O), derived below (outerWithBias) and verified against
 *   computed ranks on random architectures (test/science/bias.test.ts). For H_F and H_L the
 *   candidates tried failed at unambiguous points (docs/theory.md), so those stay empty.
 * - convolutions: a linear network without bias whose one conv layer feeds the outputs gets
 *   rank(H_F) and, where the conv features reach the covered input rank, rank(H_O) from the data
 *   ranks of conv-predictions.ts (convPrediction below); other conv networks none.
 */
import type { ConvDataRanks } from './conv-predictions.js';
import type { Activation, Bias, ConvStack, LossName } from './types.js';

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
  /** The network's leading conv layers (conv.ts), if any. */
  readonly conv?: ConvStack;
  /**
   * The data ranks the conv formulas need (conv-predictions.ts `convDataRanks(data, conv, loss)`),
   * for a network with convolutions. Without them a conv network gets no prediction (CONV_REASON).
   */
  readonly convRanks?: ConvDataRanks;
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
    readonly applicable: true; readonly kind: PredictionKind;
    /** Null where no formula is verified (H_L and H_F with a bias in every layer; H_L, and H_O off its domain, with a convolution: see `missing`). */
    readonly loss: number | null; readonly outer: number | null; readonly functional: number | null;
    /** Why a rank above is null. */
    readonly missing?: string;
    /** Why the formulas apply, and how (exact, augmented input, or estimate). */
    readonly basis: string;
    /** The r the formulas used (the augmented rank with a first-layer bias). */
    readonly inputRank: number;
    readonly augmented: boolean;
    /** rank([X 1]^T [X 1]), given with biases. */
    readonly augmentedInputRank?: number;
    /** A conv network's data ranks the conv formulas used (conv-predictions.ts). */
    readonly convRanks?: ConvDataRanks;
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

/** Why H_F and H_L have no formula with a bias in every layer (shown in details.json and by `hrank explain`). */
export const ALL_BIAS_REASON = 'no formula for H_F and H_L is verified for a bias in every layer (the candidates tried fail at unambiguous points: docs/theory.md#bias); H_O has one, and bias: first has all three';

/**
 * rank(H_O) of a linear network with a bias in every layer. f(x) = A x + c with A = W_L ... W_1
 * (rank limited by the narrowest layer, as without bias) and c free (b_L alone moves it), so the
 * output perturbations are dA X + dc 1^T with dA in the tangent space of A's rank stratum and dc
 * any vector (of the K' output directions the loss curves along). The dA X part has the paper's
 * dimension q (r + K' - q). The dc 1^T part adds:
 *   - K' when the all-ones row is outside the row space of X (augmented rank r1 = r + 1);
 *   - else 1^T = w^T X, and dc w^T adds what the tangent space lacks: its normal space is
 *     (I - P_U) M (I - P_V), and (I - P_V) w != 0 for generic weights when q < r, which adds
 *     K' - q; when q = r the tangent space is everything (+ 0).
 * Verified against computed ranks (test/science/bias.test.ts).
 */
export function outerWithBias(r: number, augmentedRank: number, kp: number, q: number): { value: number; extra: number; why: string } {
  const base = q * (r + kp - q);
  if (augmentedRank > r) return { value: base + kp, extra: kp, why: "r1 = r + 1: the ones row is outside the inputs' row space, dc 1^T adds K'" };
  if (q < r) return { value: base + kp - q, extra: kp - q, why: "r1 = r, q < r: dc 1^T reaches the K' - q normal directions the rank-q tangent space lacks" };
  return { value: base, extra: 0, why: 'r1 = r, q = r: the tangent space already holds dc 1^T' };
}

/** Why a network with convolutions has no prediction (shown in details.json and by `hrank explain`). */
export const CONV_REASON = 'no formula for convolutional layers is verified against computed ranks yet (docs/theory.md#convolutions): the ranks are computed exactly, without a prediction beside them';

/** Why a conv network outside the verified setting (one conv layer straight into the outputs, linear, no bias) has no prediction. */
export const CONV_SETTING_REASON = 'no formula is verified for this convolutional network (docs/theory.md#convolutions): ranks are predicted only for a linear network without bias whose single conv layer feeds the output layer directly';

/** Why H_L has no formula with a convolution. */
export const CONV_LOSS_REASON = 'no formula for H_L is verified for a convolutional network (the candidates tried fail at unambiguous points: docs/theory.md#convolutions)';

/** Why H_O has no formula when the generic conv features do not reach the covered input rank. */
export const CONV_OUTER_REASON = "no formula for H_O is verified when the conv features' rank rho_H is below the covered input rank r_c (the candidate K' rho_H + min(K' (r_c - rho_H), C rho - min(C, rho)^2) fails at unambiguous points: docs/theory.md#convolutions)";

/**
 * Whether a network with convolutions is in the setting the conv formulas cover (one conv layer
 * straight into the outputs, linear, no bias): only then does the prediction need
 * `convRanks = convDataRanks(data, conv, loss)` (conv-predictions.ts).
 */
export function needsConvRanks(inp: Pick<PredictionInput, 'conv' | 'hidden' | 'bias' | 'activation'>): boolean {
  return inp.conv?.layers.length === 1 && inp.hidden.length === 0 && inp.bias === false && inp.activation === 'linear';
}

/**
 * Ranks of a linear network without bias whose one conv layer (C output channels) feeds the
 * K outputs directly, from the data ranks of conv-predictions.ts:
 * - rank(H_F) = 2 C beta: H_F = [[0, I_C (x) B_0], [., 0]] (proved), beta = rank(B_0) for generic
 *   gradients (verified: the network's gradients reach it on every unambiguous random case);
 * - rank(H_O) = K' r_c when rho_H = r_c (proved: the readout alone moves the outputs through every
 *   linear map of the covered pixels' span, and no output change can leave it); else none;
 * - rank(H_L): none.
 */
export function convPrediction(inp: PredictionInput): Prediction {
  const conv = inp.conv!;
  if (!needsConvRanks(inp)) return { applicable: false, reason: CONV_SETTING_REASON };
  const ranks = inp.convRanks;
  if (!ranks) return { applicable: false, reason: CONV_REASON };
  const kp = effectiveOutputs(inp.outputs, inp.loss);
  const C = conv.layers[0]!.channels;
  const functional = 2 * C * ranks.gradientPatchRank;
  const outer = ranks.featureRank === ranks.coveredRank ? kp * ranks.coveredRank : null;
  const missing = outer === null ? `${CONV_LOSS_REASON}; ${CONV_OUTER_REASON}` : CONV_LOSS_REASON;
  const basis = `exact for ${outer === null ? 'H_F' : 'H_O and H_F'}: a linear network without bias, one conv layer (C = ${C}) into the outputs; r_c = ${ranks.coveredRank}, rho_H = ${ranks.featureRank}, beta = ${ranks.gradientPatchRank} (data ranks for generic weights; derived, and verified on random architectures)`;
  return { applicable: true, kind: 'exact', loss: null, outer, functional, missing, basis, inputRank: inp.inputRank, augmented: false, convRanks: ranks };
}

export function predictRanks(inp: PredictionInput): Prediction {
  if ((inp.conv?.layers.length ?? 0) > 0) return convPrediction(inp);
  const augmented = inp.bias === 'first';
  if (inp.bias !== false && inp.augmentedInputRank === undefined) throw new RangeError('predictions: a network with bias needs the rank of the augmented input covariance');
  if (inp.bias === true) {
    const t = formulaTerms(inp.inputRank, inp.outputs, inp.hidden, inp.loss);
    const outer = outerWithBias(inp.inputRank, inp.augmentedInputRank!, t.kp, t.q).value;
    const linear = inp.activation === 'linear';
    const basis = linear
      ? 'exact for H_O only: a linear network with a bias in every layer (derived, and verified on random architectures)'
      : `estimate for H_O only: the linear network's rank with a bias in every layer; a ${inp.activation} network has no closed form`;
    return { applicable: true, kind: linear ? 'exact' : 'estimate', loss: null, outer, functional: null, missing: ALL_BIAS_REASON, basis, inputRank: inp.inputRank, augmented: false, augmentedInputRank: inp.augmentedInputRank! };
  }
  const r = augmented ? inp.augmentedInputRank! : inp.inputRank;
  const t = formulaTerms(r, inp.outputs, inp.hidden, inp.loss);
  const linear = inp.activation === 'linear';
  const setting = augmented ? 'a first-layer bias is the no-bias network on [x; 1], so r is the rank of the augmented input covariance' : 'no bias';
  const basis = linear
    ? `exact: a linear network, ${setting} (Singh, Bachmann and Hofmann 2021)`
    : `estimate: the ranks of the linear network of the same shape (${setting}); a ${inp.activation} network has no closed form`;
  return {
    applicable: true, kind: linear ? 'exact' : 'estimate', loss: t.loss, outer: t.outer, functional: t.functional, basis, inputRank: r, augmented,
    ...(augmented ? { augmentedInputRank: r } : {}),
  };
}
