/**
 * The derivation of a point's predictions with its own numbers, as `hrank explain` prints it and
 * report.html shows it per point: r (how it was computed), K' and why, s, q and what limits it,
 * each term of the formulas of H_O, H_F and H_L and its value, P, the assumptions (linear, bias,
 * generic weights) and whether the point meets them, then what was measured (route, tolerance,
 * s_max, rank, gap, margins, inertia, check). A pure function of the point's settings and its
 * results row; the formulas themselves live in science/predictions.ts.
 */
import type { Cell, PointDetail, RankDetail, Results } from '../engine/kinds/collect.js';
import type { Config, HessianKind, Study } from '../pipeline/types.js';
import { expandSweep } from '../pipeline/expand.js';
import { networkSpecOf, outputCount } from '../engine/kinds/settings.js';
import { ALL_BIAS_REASON, CONV_SETTING_REASON, effectiveOutputs, formulaTerms, outerWithBias, predictRanks, type Prediction } from '../science/predictions.js';
import type { ConvDataRanks } from '../science/conv-predictions.js';
import type { ConvStack } from '../science/types.js';
import { HESSIAN_SYMBOL, KINDS, checkText } from './model.js';

/** How an input rank was computed. */
export interface InputRankDerivation {
  readonly rank: number;
  /** What matrix, with what rule. */
  readonly how: string;
  readonly tolerance?: number;
  readonly s_max?: number;
  readonly gap?: number | null;
  readonly ambiguous?: boolean;
}

export interface FormulaLine {
  /** The formula in the code's notation. */
  readonly formula: string;
  /** The formula with the point's numbers, e.g. `10 (41 + 10 - 10)`. */
  readonly substituted: string;
  /** Named terms and their values. */
  readonly terms: Readonly<Record<string, number>>;
  readonly value: number;
}

export interface Assumption {
  readonly name: 'linear' | 'bias' | 'generic weights' | 'one conv layer into the outputs';
  /** true met, false not met, null assumed (cannot be checked from the outside). */
  readonly met: boolean | null;
  readonly note: string;
}

export interface MeasuredRank {
  readonly rank: number;
  readonly predicted: number | null;
  /** As the table shows it: `=`, `differs`, `ambiguous`, `~ +2.1%`, `n/a`. */
  readonly check: string | null;
  readonly route: string;
  readonly tolerance: number;
  readonly rtol_rule: string;
  readonly s_max: number;
  readonly gap: number | null;
  readonly kept_margin: number | null;
  readonly dropped_margin: number | null;
  readonly ambiguous: boolean;
  readonly positive: number;
  readonly negative: number;
}

export interface Derivation {
  readonly point: string;
  readonly setting: {
    readonly activation: string; readonly bias: boolean | 'first'; readonly loss: string; readonly hidden: readonly number[];
    readonly samples: number; readonly input_dim: number; readonly outputs: number; readonly params: number;
    /** Conv layers before the dense ones (absent without). */
    readonly conv?: readonly { readonly channels: number; readonly kernel: number; readonly stride: number; readonly padding: string }[];
  };
  /** r = rank(X^T X). */
  readonly input_rank: InputRankDerivation;
  /** rank([X 1]^T [X 1]) (with biases). */
  readonly augmented_input_rank: InputRankDerivation | null;
  /** The r the formulas use, and why that one. */
  readonly r: { readonly value: number; readonly why: string };
  readonly k_prime: { readonly value: number; readonly why: string };
  readonly s: { readonly value: number; readonly formula: string };
  readonly q: { readonly value: number; readonly formula: string; readonly limited_by: string };
  /** The formulas with the point's numbers; H_F and H_L are null with a bias in every layer, all three with conv layers (no verified formula). */
  readonly formulas: { readonly outer: FormulaLine | null; readonly functional: FormulaLine | null; readonly loss: FormulaLine | null };
  readonly prediction: { readonly kind: 'exact' | 'estimate' | null; readonly basis: string };
  readonly assumptions: readonly Assumption[];
  /** Null when the study has not been run (no results row for the point). */
  readonly measured: Partial<Record<HessianKind, MeasuredRank>> | null;
}

export interface DerivationInput {
  readonly id: string;
  readonly config: Config;
  readonly inputDim: number;
  readonly outputs: number;
  readonly params: number;
  readonly inputRank: InputRankDerivation;
  /** Needed with biases. */
  readonly augmentedInputRank?: InputRankDerivation;
  /** A conv network's layer stack, and its data ranks when the conv formulas cover it (conv-predictions.ts). */
  readonly convStack?: ConvStack;
  readonly convRanks?: ConvDataRanks;
  /** The point's results row and details, when the study has been run. */
  readonly result?: { readonly row: Readonly<Record<string, Cell>>; readonly detail: PointDetail } | null;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** `numpy.linalg.matrix_rank`'s rule, as used for a rank's tolerance. */
function rtolRule(d: RankDetail, params: number): string {
  return d.tolerance > 0 && d.s_max > 0 && Math.abs(d.tolerance / (d.s_max * params * 2.220446049250313e-16) - 1) < 1e-9
    ? `s_max * P * eps = ${fmt(d.s_max)} * ${params} * 2.22e-16`
    : 'rank.rtol / rank.atol of the pipeline file';
}

function fmt(x: number): string {
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6 ? String(Number(x.toPrecision(6))) : x.toExponential(3);
}

/** The conv formulas with the point's numbers (predictions.ts convPrediction); null where none is verified. */
function convFormulas(pred: Prediction, ranks: ConvDataRanks | undefined, C: number, kp: number): Derivation['formulas'] {
  if (!pred.applicable || !ranks) return { outer: null, functional: null, loss: null };
  return {
    outer: pred.outer === null ? null : {
      formula: "K' r_c (rho_H = r_c: the conv features reach the covered input rank)",
      substituted: `${kp} * ${ranks.coveredRank}`, terms: { "K'": kp, r_c: ranks.coveredRank, rho_H: ranks.featureRank }, value: pred.outer,
    },
    functional: pred.functional === null ? null : {
      formula: '2 C beta', substituted: `2 * ${C} * ${ranks.gradientPatchRank}`, terms: { C, beta: ranks.gradientPatchRank }, value: pred.functional,
    },
    loss: null,
  };
}

export function derivePoint(inp: DerivationInput): Derivation {
  const cfg = inp.config;
  const hidden = cfg.model.hidden;
  const K = inp.outputs;
  const kp = effectiveOutputs(K, cfg.loss);
  const bias = cfg.model.bias;
  const linear = cfg.model.activation === 'linear';
  const augmented = bias === 'first';
  if (bias !== false && !inp.augmentedInputRank) throw new RangeError(`derivation of ${inp.id}: a network with bias needs the augmented input rank`);
  const r = augmented ? inp.augmentedInputRank!.rank : inp.inputRank.rank;
  const t = formulaTerms(r, K, hidden, cfg.loss);
  const limits: [string, number][] = [['r', r], ["K'", kp], ...hidden.map((m, i): [string, number] => [`m_${i + 1}`, m])];
  const limitedBy = limits.filter(([, v]) => v === t.q).map(([n]) => n).join(', ');

  const withBias = bias === true ? outerWithBias(r, inp.augmentedInputRank!.rank, kp, t.q) : null;
  const outer: FormulaLine = withBias
    ? {
      formula: "q (r + K' - q) + e, e = K' if r1 = r + 1, K' - q if r1 = r and q < r, else 0",
      substituted: `${t.q} (${r} + ${kp} - ${t.q}) + ${withBias.extra} (${withBias.why})`,
      terms: { q: t.q, "r + K' - q": r + kp - t.q, e: withBias.extra },
      value: withBias.value,
    }
    : {
      formula: "q (r + K' - q)",
      substituted: `${t.q} (${r} + ${kp} - ${t.q})`,
      terms: { q: t.q, "r + K' - q": r + kp - t.q },
      value: t.outer,
    };
  const conv = cfg.model.conv;
  const pred = predictRanks({
    inputRank: inp.inputRank.rank, ...(bias !== false ? { augmentedInputRank: inp.augmentedInputRank!.rank } : {}),
    outputs: K, hidden, loss: cfg.loss, activation: cfg.model.activation, bias,
    ...(inp.convStack ? { conv: inp.convStack } : {}), ...(inp.convRanks ? { convRanks: inp.convRanks } : {}),
  });
  const formulas = conv !== undefined ? convFormulas(pred, inp.convRanks, conv[0]?.channels ?? 0, kp) : bias === true ? { outer, functional: null, loss: null } : {
    outer,
    functional: {
      formula: '2 q sum(m) + 2 q s - L q^2',
      substituted: `2 * ${t.q} * ${t.sumM} + 2 * ${t.q} * ${t.s} - ${t.layers} * ${t.q}^2 = ${t.functionalTerms[0]} + ${t.functionalTerms[1]} - ${t.functionalTerms[2]}`,
      terms: { '2 q sum(m)': t.functionalTerms[0], '2 q s': t.functionalTerms[1], 'L q^2': t.functionalTerms[2] },
      value: t.functional,
    },
    loss: {
      formula: 'rank(H_F) + rank(H_O) + q (q - 2 s)',
      substituted: `${t.functional} + ${t.outer} + ${t.q} (${t.q} - 2 * ${t.s}) = ${t.functional} + ${t.outer} + (${t.lossCorrection})`,
      terms: { 'rank(H_F)': t.functional, 'rank(H_O)': t.outer, 'q (q - 2 s)': t.lossCorrection },
      value: t.loss,
    },
  };

  const assumptions: Assumption[] = [
    {
      name: 'linear', met: linear,
      note: linear ? 'linear activation: the formulas are theorems here'
        : `${cfg.model.activation} activation: the formulas give the ranks of the linear network of the same shape, shown as an estimate`,
    },
    {
      name: 'bias', met: bias !== true,
      note: bias === false ? 'no bias (the paper\'s setting)'
        : bias === 'first' ? 'bias in the first layer only: the no-bias network on [x; 1] (W_1 x + b_1 = [W_1 b_1] [x; 1]), so r is the rank of the augmented input covariance'
          : `bias in every layer: H_O has a derived and verified formula; ${ALL_BIAS_REASON}`,
    },
    {
      name: 'generic weights', met: null,
      note: `assumed: ${cfg.model.init} initialisation with seed ${cfg.seed} draws weights off the measure-zero set where the ranks drop; an exact prediction missed at an unambiguous point would say otherwise`,
    },
  ];

  if (conv !== undefined) {
    const covered = conv.length === 1 && hidden.length === 0 && bias === false && linear;
    assumptions.unshift({
      name: 'one conv layer into the outputs', met: covered,
      note: covered ? 'a single conv layer feeds the output layer directly (linear, no bias): the setting of the conv formulas (docs/theory.md#convolutions)' : CONV_SETTING_REASON,
    });
  }
  const kind = pred.applicable ? pred.kind : null;
  const basis = pred.applicable ? `${pred.basis}${pred.missing ? `; ${pred.missing}` : ''}` : pred.reason;

  let measured: Partial<Record<HessianKind, MeasuredRank>> | null = null;
  if (inp.result) {
    const { row, detail } = inp.result;
    const columns = Object.keys(row);
    const one: Results = { columns, rows: [columns.map((c) => row[c] ?? null)], details: [detail] };
    measured = {};
    for (const k of KINDS) {
      const d = detail.ranks[k];
      if (!d) continue;
      const pred = row[`pred_${k}`];
      measured[k] = {
        rank: d.rank, predicted: typeof pred === 'number' ? pred : null, check: checkText(one, 0, k),
        route: d.method, tolerance: d.tolerance, rtol_rule: rtolRule(d, inp.params), s_max: d.s_max, gap: d.gap,
        kept_margin: d.kept_margin, dropped_margin: d.dropped_margin, ambiguous: d.ambiguous, positive: d.positive, negative: d.negative,
      };
    }
  }

  return {
    point: inp.id,
    setting: {
      activation: cfg.model.activation, bias, loss: cfg.loss, hidden: [...hidden],
      samples: cfg.dataset.samples, input_dim: inp.inputDim, outputs: K, params: inp.params,
      ...(conv !== undefined ? { conv: conv.map((c) => ({ ...c })) } : {}),
    },
    input_rank: inp.inputRank,
    augmented_input_rank: bias !== false ? (inp.augmentedInputRank ?? null) : null,
    r: {
      value: r,
      why: augmented ? 'the augmented rank: a first-layer bias makes the network\'s input [x; 1]'
        : bias === true ? 'rank(X^T X); with a bias in every layer the augmented rank r1 enters through the term e'
          : 'rank(X^T X), the rank of the uncentred input covariance',
    },
    k_prime: {
      value: kp,
      why: cfg.loss === 'cross-entropy'
        ? `K - 1 = ${K} - 1: softmax does not change when every output moves by the same amount, so the loss has no curvature along the all-ones output direction`
        : `K = ${K}: the ${cfg.loss} loss curves along every output direction`,
    },
    s: { value: t.s, formula: `min(r, K') = min(${r}, ${kp})` },
    q: { value: t.q, formula: `min(${limits.map(([n]) => n).join(', ')}) = min(${limits.map(([, v]) => v).join(', ')})`, limited_by: limitedBy },
    formulas,
    prediction: { kind, basis },
    assumptions,
    measured,
  };
}

function rankLine(label: string, d: InputRankDerivation): string {
  const extra = d.tolerance !== undefined ? `; tolerance ${fmt(d.tolerance)} (s_max ${fmt(d.s_max ?? 0)})${d.gap !== undefined && d.gap !== null ? `, gap ${d.gap.toFixed(2)} decades` : ''}${d.ambiguous ? ', AMBIGUOUS' : ''}` : '';
  return `${label} = ${d.rank}: ${d.how}${extra}`;
}

/** The derivation as text for a terminal or a details row. */
export function derivationText(d: Derivation): string {
  const s = d.setting;
  const lines: string[] = [];
  lines.push(`point ${d.point}`);
  const convText = s.conv ? `${s.conv.map((c) => `conv ${c.channels}ch k${c.kernel}${c.stride !== 1 ? ` s${c.stride}` : ''}${c.padding !== 'valid' ? ` ${c.padding}` : ''}`).join(' -> ')} -> ` : '';
  lines.push(`  network: d ${s.input_dim} -> ${convText}[${s.hidden.join(', ')}] -> K ${s.outputs}, ${s.activation}, bias ${String(s.bias)}; loss ${s.loss}; N ${s.samples}; P = ${s.params} parameters${s.bias === false ? '' : ' (biases included)'}`);
  lines.push('', 'quantities');
  lines.push(`  ${rankLine('rank(X^T X)', d.input_rank)}`);
  if (d.augmented_input_rank) lines.push(`  ${rankLine('rank([X 1]^T [X 1])', d.augmented_input_rank)}`);
  lines.push(`  r  = ${d.r.value}: ${d.r.why}`);
  lines.push(`  K' = ${d.k_prime.value}: ${d.k_prime.why}`);
  lines.push(`  s  = ${d.s.formula} = ${d.s.value}`);
  lines.push(`  q  = ${d.q.formula} = ${d.q.value} (set by ${d.q.limited_by})`);
  if (s.conv) lines.push(`  L  = ${s.conv.length + s.hidden.length + 1} weight layers (${s.conv.length} conv, ${s.hidden.length + 1} dense), sum(m) of the dense ones = ${sum(s.hidden)}`);
  else lines.push(`  L  = len(m) + 1 = ${s.hidden.length + 1} weight layers, sum(m) = ${sum(s.hidden)}`);
  lines.push('', `prediction: ${d.prediction.kind === null ? `none: ${d.prediction.basis}` : d.prediction.basis}`);
  for (const k of ['outer', 'functional', 'loss'] as const) {
    const f = d.formulas[k];
    if (f === null) {
      lines.push(`  rank(${HESSIAN_SYMBOL[k]}): no verified formula ${s.conv ? 'for this conv network' : 'with a bias in every layer'}`);
      continue;
    }
    lines.push(`  rank(${HESSIAN_SYMBOL[k]}) = ${f.formula}`);
    lines.push(`             = ${f.substituted} = ${f.value}`);
  }
  lines.push('', 'assumptions');
  for (const a of d.assumptions) lines.push(`  ${a.met === true ? 'met    ' : a.met === false ? 'NOT met' : 'assumed'}  ${a.name}: ${a.note}`);
  lines.push('', 'measured');
  if (d.measured === null) lines.push('  not run yet: `hrank run` computes the ranks');
  else {
    for (const k of KINDS) {
      const m = d.measured[k];
      if (!m) continue;
      const margins = [m.kept_margin !== null ? `kept ${m.kept_margin.toFixed(2)}` : null, m.dropped_margin !== null ? `dropped ${m.dropped_margin.toFixed(2)}` : null].filter((x) => x !== null).join(', ');
      lines.push(`  ${HESSIAN_SYMBOL[k]}: rank ${m.rank}${m.predicted !== null ? ` against ${m.predicted}` : ''}, check ${m.check ?? ''}`);
      lines.push(`       route ${m.route}; tolerance ${fmt(m.tolerance)} = ${m.rtol_rule}; s_max ${fmt(m.s_max)}`);
      lines.push(`       gap ${m.gap === null ? 'none (nothing dropped above rounding level)' : `${m.gap.toFixed(2)} decades`}${margins ? `; margins (decades) ${margins}` : ''}${m.ambiguous ? '; AMBIGUOUS' : ''}; inertia +${m.positive} / -${m.negative}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The derivations of a study's results rows, from the rows alone (report.html's per-point
 * details): r from rank_input_cov, the augmented rank from details.json. Points whose settings
 * are not in the pipeline file (stale results) are left out.
 */
export function resultDerivations(study: Study, results: Results, limit = Infinity): Derivation[] {
  // Settings of the points derived (at most `limit`: a report of 100,000 points derives its first rows).
  const wanted = new Set(results.details.slice(0, Math.min(results.details.length, limit)).map((d) => d.id));
  const configs = new Map<string, Config>();
  for (const p of expandSweep(study)) if (wanted.has(p.id)) configs.set(p.id, p.config);
  const out: Derivation[] = [];
  results.rows.forEach((cells, i) => {
    if (i >= limit) return;
    const detail = results.details[i];
    const cfg = detail ? configs.get(detail.id) : undefined;
    if (!detail || !cfg) return;
    const row = Object.fromEntries(results.columns.map((c, j) => [c, cells[j] ?? null])) as Record<string, Cell>;
    const r = row.rank_input_cov, P = row.params, d = row.input_dim;
    if (typeof r !== 'number' || typeof P !== 'number' || typeof d !== 'number') return;
    const aug = detail.prediction.augmented_input_rank;
    if (cfg.model.bias !== false && aug === undefined) return;
    const how = 'eigenvalues of the uncentred input covariance, numpy.linalg.matrix_rank\'s rule';
    out.push(derivePoint({
      id: detail.id, config: cfg, inputDim: d, outputs: outputCount(cfg), params: P,
      inputRank: { rank: r, how, tolerance: detail.input_cov.tolerance, s_max: detail.input_cov.s_max, gap: detail.input_cov.gap, ambiguous: detail.input_cov.ambiguous },
      ...(aug !== undefined ? { augmentedInputRank: { rank: aug, how: 'eigenvalues of the covariance of the augmented inputs [x; 1], same rule' } } : {}),
      ...(cfg.model.conv !== undefined ? { convStack: networkSpecOf(cfg).conv! } : {}),
      ...(detail.prediction.conv_ranks ? { convRanks: detail.prediction.conv_ranks } : {}),
      result: { row, detail },
    }));
  });
  return out;
}
