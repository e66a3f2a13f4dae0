/**
 * The figures of a report, as vega-lite specs (data inline):
 *
 * - the paper's figure, per `report.plots` entry (by default one per numeric sweep axis): x = the
 *   axis, the empirical ranks of H_L, H_O, H_F as lines, the predictions as dots of the same
 *   hue, one legend naming the Hessians and both mark kinds; `normalize: params` plots
 *   rank / #params. With `y: difference`, empirical minus predicted rank around a rule at 0
 *   instead. Ranks that differ from the prediction or are ambiguous carry a marker (a cross, a
 *   ring) of their hue. Other axes that vary (grid sweeps) split the figure into facets, one per
 *   combination of their values.
 * - with `report.spectra: true`, a spectrum per point: sorted |eigenvalues| on a log axis, the
 *   tolerance of each Hessian as a dashed rule of its hue.
 *
 * Each figure comes twice: `static` for SVG and PNG, `interactive` for report.html (tooltips on
 * hover through invisible hover targets). Marks have names, so tests can count them: lines
 * `empirical_marks`, dots `predicted_marks`, markers `flagged_marks`, zero rules `zero_marks`,
 * spectra `spectrum_marks`, rules `tolerance_<hessian>_marks`, hover targets `hover_marks`.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Results } from '../engine/kinds/collect.js';
import type { HessianKind, PlotSpec, Study } from '../pipeline/types.js';
import { FONT_FAMILY } from './fonts.js';
import {
  HESSIAN_COLOR, HESSIAN_LABEL, HESSIAN_SYMBOL, KINDS, cellOf, cellText, checkOf, numberOf, predictionSource, presentKinds, type PointSpectra,
} from './model.js';

export interface Figure {
  /** File stem (`ranks-model.width`, `spectrum-model.width-8`), unique within a report. */
  readonly id: string;
  readonly kind: 'ranks' | 'spectrum';
  readonly title: string;
  /** One line saying what is drawn. */
  readonly caption: string;
  readonly static: TopLevelSpec;
  readonly interactive: TopLevelSpec;
  /**
   * What the marks must be (tests): lines per panel and Hessian, dots per exact prediction, diamonds per estimate, markers
   * per differing or ambiguous rank, zero rules per panel (`y: difference`).
   */
  readonly expected: { readonly lines: number; readonly dots: number; readonly estimates?: number; readonly flags: number; readonly zeroRules: number };
}

/** Font stack of the plots: DejaVu Sans everywhere (resvg gets the file; a browser falls back). */
const FONT = `${FONT_FAMILY}, Verdana, Arial, sans-serif`;

const CONFIG = {
  font: FONT,
  background: 'white',
  padding: 8,
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: '#555', anchor: 'start', offset: 10 },
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal', grid: true, gridColor: '#e6e6e6', domainColor: '#888', tickColor: '#888' },
  legend: { labelFontSize: 12, titleFontSize: 12, symbolSize: 110, rowPadding: 5, labelLimit: 320 },
  header: { labelFontSize: 13, labelFontWeight: 'bold', titleFontSize: 13 },
  view: { stroke: '#ccc' },
} as const;

const SINGLE = { width: 440, height: 300 };
const SPECTRUM = { width: 400, height: 260 };
const PANEL = { width: 290, height: 210 };
/** Height of the training-loss panel under a rank figure against train.checkpoint. */
const LOSS_PANEL_HEIGHT = 150;
const MAX_COLUMNS = 3;

const colorScale = (kinds: readonly HessianKind[]) => ({ domain: kinds.map((k) => HESSIAN_LABEL[k]), range: kinds.map((k) => HESSIAN_COLOR[k]) });

/**
 * Where Hessians share a value their marks coincide, and the one drawn last (order H_L, H_O,
 * H_F) would hide the others. A mark that others cover is drawn wider (lines) or larger (dots,
 * markers) by how many cover it, so each stays visible as a rim; marks that nothing covers keep
 * the base size.
 */
const LINE_WIDTH = 2.4;
const LINE_WIDTH_STEP = 2.2;
const DOT_SIZE = 70;
const DOT_SIZE_STEP = 1.3;
/** A marker is larger than a dot, so a ring surrounds the line's vertex and a dot on it. */
const FLAG_SIZE = 210;
const FLAG_SIZE_STEP = 0.8;
const FLAG_STROKE = 1.8;

/** Legend label of the prediction dots. */
const PREDICTION = 'prediction';
/** Legend label of the estimates (the linear formulas for a nonlinear network): hollow, dashed diamonds, never a prediction's dot. */
const ESTIMATE = 'estimate (linear formula)';

/** The checks a rank figure marks: those a reader must look at twice. */
export type Flag = 'differs' | 'ambiguous';
const FLAGS: readonly Flag[] = ['differs', 'ambiguous'];

/** Legend labels of the markers. */
export const FLAG_LABEL: Readonly<Record<Flag, string>> = { differs: 'differs from the prediction', ambiguous: 'ambiguous' };

/**
 * Marker shapes, open so the line and a dot stay visible through them, in the hue of their
 * Hessian: a diagonal cross (an SVG path in vega's unit square; vega's own `cross` is an upright
 * plus, which reads as "more") where the rank differs, a ring where it is ambiguous.
 */
const FLAG_SHAPE: Readonly<Record<Flag, string>> = { differs: 'M-0.8,-0.8L0.8,0.8M-0.8,0.8L0.8,-0.8', ambiguous: 'circle' };

const FLAG_CAPTION: Readonly<Record<Flag, string>> = { differs: 'crosses: the rank differs from the prediction', ambiguous: 'rings: the rank is numerically ambiguous' };

const identity = (field: string) => ({ field, type: 'quantitative' as const, scale: null, legend: null });

/** A sanitized file stem. */
function stem(text: string): string {
  return text.replace(/=/g, '-').replace(/,/g, '_').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+|[._-]+$/g, '') || 'plot';
}

function uniqueIds<T extends { id: string }>(items: T[]): T[] {
  const used = new Map<string, number>();
  return items.map((it) => {
    const n = (used.get(it.id) ?? 0) + 1;
    used.set(it.id, n);
    return n === 1 ? it : { ...it, id: `${it.id}-${n}` };
  });
}

/** The plots the study asks for, or by default one per numeric sweep axis (one per axis when none is numeric). */
export function plotList(study: Study, results: Results): PlotSpec[] {
  if (study.report.plots.length > 0) return [...study.report.plots];
  const axes = study.sweep.axes.map((a) => a.path);
  const numeric = axes.filter((a) => results.rows.every((_, i) => typeof cellOf(results, i, a) === 'number'));
  return (numeric.length > 0 ? numeric : axes).map((x) => ({ x, y: 'rank', normalize: 'none', title: null }));
}

interface RankDatum {
  // Data rows are built once, then `coverage` sets lineWidth, dotSize and flagSize.
  readonly x: number | string;
  readonly group: string;
  readonly hessian: string;
  /** Stroke width of this point's line (its series): wider when later lines coincide with it. */
  lineWidth: number;
  /** Area of this point's prediction dot: larger when later dots coincide with it. */
  dotSize: number;
  /** Area of this point's marker: larger when later markers coincide with it. */
  flagSize: number;
  readonly point: string;
  readonly rank: number;
  readonly prediction: number | null;
  /** Plotted value: rank, or rank - prediction (`y: difference`); divided by params with `normalize: params`. */
  readonly value: number;
  /** Where the prediction's dot sits; null: no dot (no prediction, or `y: difference`). */
  readonly predicted: number | null;
  /** The prediction is an estimate (drawn hollow). */
  readonly estimate: boolean;
  readonly params: number | null;
  readonly check: string;
  /** The marker's legend label; null: not marked. */
  readonly flag: string | null;
  readonly method: string;
  /** Tooltip texts ('' where there is nothing to say). */
  readonly tip: Readonly<Record<'prediction' | 'value' | 'params' | 'gap', string>>;
}

/**
 * Sets line widths, dot and marker sizes so that coinciding marks stay visible: a series is
 * covered by each later series (same panel) that shares its value at some x; a dot by each
 * later dot at the same panel, x and value; a marker likewise by later markers.
 */
function coverage(data: RankDatum[]): void {
  const series = new Map<string, RankDatum[]>();
  for (const d of data) {
    const key = `${d.group}\u0000${d.hessian}`;
    const list = series.get(key) ?? [];
    list.push(d);
    series.set(key, list);
  }
  const all = [...series.values()];
  all.forEach((s, i) => {
    const at = new Map(s.map((d) => [String(d.x), d.value]));
    const covering = all.slice(i + 1).filter((t) => t[0]!.group === s[0]!.group && t.some((d) => at.get(String(d.x)) === d.value)).length;
    for (const d of s) d.lineWidth = LINE_WIDTH + LINE_WIDTH_STEP * covering;
  });
  // Later marks at the same place, counted from the end (linear in the data).
  const dotsAfter = new Map<string, number>();
  const flagsAfter = new Map<string, number>();
  for (let i = data.length - 1; i >= 0; i--) {
    const d = data[i]!;
    const place = `${d.group}\u0000${String(d.x)}`;
    if (d.predicted !== null) {
      const key = `${place}\u0000${d.predicted}`;
      const later = dotsAfter.get(key) ?? 0;
      d.dotSize = DOT_SIZE * (1 + DOT_SIZE_STEP * later);
      dotsAfter.set(key, later + 1);
    }
    if (d.flag !== null) {
      const key = `${place}\u0000${d.value}`;
      const later = flagsAfter.get(key) ?? 0;
      d.flagSize = FLAG_SIZE * (1 + FLAG_SIZE_STEP * later);
      flagsAfter.set(key, later + 1);
    }
  }
}

/** The tooltip's text of a plotted value ('' where it is the rank itself). */
function plottedText(value: number, plot: PlotSpec): string {
  const perParams = plot.normalize === 'params';
  if (plot.y === 'difference') return perParams ? String(Number(value.toPrecision(4))) : String(value);
  return perParams ? value.toFixed(4) : '';
}

/**
 * A row's plotted values, one per Hessian with a rank: the rank (or rank - prediction with
 * `y: difference`), divided by #params with `normalize: params`, and the prediction on the same
 * scale (none on a difference figure). A difference figure leaves out the ranks without a
 * prediction and counts them in `leftOut`. The point-by-point and the aggregated figures both
 * read their values here.
 */
function plottedValues(
  results: Results, row: number, plot: PlotSpec, kinds: readonly HessianKind[], leftOut: Map<HessianKind, number>,
): { kind: HessianKind; rank: number; prediction: number | null; value: number; predicted: number | null; params: number | null }[] {
  const difference = plot.y === 'difference';
  const params = numberOf(results, row, 'params');
  const scale = (v: number | null): number | null => (v === null ? null : plot.normalize === 'params' ? (params ? v / params : null) : v);
  const out: ReturnType<typeof plottedValues> = [];
  for (const kind of kinds) {
    const rank = numberOf(results, row, `rank_${kind}`);
    if (rank === null) continue;
    const prediction = numberOf(results, row, `pred_${kind}`);
    if (difference && prediction === null) {
      leftOut.set(kind, (leftOut.get(kind) ?? 0) + 1);
      continue;
    }
    const value = scale(difference ? rank - (prediction ?? 0) : rank);
    if (value === null) continue;
    out.push({ kind, rank, prediction, value, predicted: difference ? null : scale(prediction), params });
  }
  return out;
}

/**
 * The data of a rank figure, one datum per point and Hessian, with the sizes that keep
 * coinciding marks visible; with `y: difference`, the count per Hessian of the ranks left out
 * for want of a prediction.
 */
function rankData(
  results: Results, plot: PlotSpec, numericX: boolean, groupOf: (row: number) => string,
): { data: RankDatum[]; leftOut: Map<HessianKind, number> } {
  const kinds = presentKinds(results);
  const data: RankDatum[] = [];
  const leftOut = new Map<HessianKind, number>();
  results.rows.forEach((_, i) => {
    for (const { kind: k, rank, prediction, value, predicted, params } of plottedValues(results, i, plot, kinds, leftOut)) {
      const check = checkOf(results, i, k);
      const xCell = cellOf(results, i, plot.x);
      data.push({
        x: numericX ? (xCell as number) : cellText(xCell),
        group: groupOf(i),
        hessian: HESSIAN_LABEL[k],
        lineWidth: LINE_WIDTH,
        dotSize: DOT_SIZE,
        flagSize: FLAG_SIZE,
        point: results.details[i]?.id ?? String(i),
        rank, prediction, value, predicted, params,
        estimate: cellOf(results, i, 'pred_kind') === 'estimate',
        check: check ?? '',
        flag: check === 'differs' || check === 'ambiguous' ? FLAG_LABEL[check] : null,
        method: results.details[i]?.ranks[k]?.method ?? '',
        tip: {
          prediction: prediction === null ? 'none' : cellOf(results, i, 'pred_kind') === 'estimate' ? `${prediction} (estimate)` : String(prediction),
          value: plottedText(value, plot),
          params: params === null ? '' : String(params),
          gap: ((g) => (g === null ? 'none (nothing dropped)' : `${g.toFixed(2)} decades`))(numberOf(results, i, `gap_${k}`)),
        },
      });
    }
  });
  coverage(data);
  return { data, leftOut };
}

/** `4 points of H_F, 1 point of H_L`. */
function pointCounts(counts: ReadonlyMap<HessianKind, number>): string {
  return KINDS.filter((k) => counts.has(k)).map((k) => `${counts.get(k)} ${counts.get(k) === 1 ? 'point' : 'points'} of ${HESSIAN_SYMBOL[k]}`).join(', ');
}

/** The y axis title of a rank figure. */
function yTitleOf(plot: PlotSpec): string {
  const perParams = plot.normalize === 'params';
  if (plot.y === 'difference') return perParams ? '(rank - prediction) / #params' : 'rank - prediction';
  return perParams ? 'rank / #params' : 'rank';
}


/** A figure's layers in one panel per group (facets, at most MAX_COLUMNS a row), or in one panel when `groups` is null. */
function panels(common: Record<string, unknown>, layer: readonly unknown[], groups: readonly string[] | null): TopLevelSpec {
  if (groups) {
    return {
      ...common,
      facet: { field: 'group', type: 'nominal', sort: groups, title: null, header: { labelLimit: 400 } },
      columns: Math.min(MAX_COLUMNS, groups.length),
      spec: { ...PANEL, layer },
    } as TopLevelSpec;
  }
  return { ...common, ...SINGLE, layer } as TopLevelSpec;
}
/**
 * The rank figure of one plot entry: the paper's figure (`y: rank`: ranks as lines, the
 * predictions as dots), or the empirical minus the predicted rank around a rule at 0
 * (`y: difference`; ranks without a prediction have no difference and are left out). Either
 * way, points whose check is `differs` or `ambiguous` carry a marker.
 */
export function rankFigure(study: Study, results: Results, plot: PlotSpec): Figure {
  const axes = study.sweep.axes.map((a) => a.path);
  const numericX = results.rows.every((_, i) => typeof cellOf(results, i, plot.x) === 'number');
  const xOrder = [...new Set(results.rows.map((_, i) => cellText(cellOf(results, i, plot.x))))];
  // Facets: the other axes that vary, in a grid sweep (in a zip sweep they move with x).
  const varying = axes.filter((a) => a !== plot.x && new Set(results.rows.map((_, i) => cellText(cellOf(results, i, a)))).size > 1);
  const reduced = reduction(study, results, plot, varying, numericX, xOrder.length);
  if (reduced) return aggregateFigure(study, results, plot, reduced, numericX, xOrder);
  const others = study.sweep.mode === 'zip' ? [] : varying;
  const groupOf = (row: number): string => others.map((a) => `${a} = ${cellText(cellOf(results, row, a))}`).join(', ');
  const faceted = new Set(results.rows.map((_, i) => groupOf(i))).size > 1;
  const perParams = plot.normalize === 'params';
  const difference = plot.y === 'difference';
  const { data, leftOut } = rankData(results, plot, numericX, groupOf);
  const kinds = KINDS.filter((k) => data.some((d) => d.hessian === HESSIAN_LABEL[k]));
  // The panels drawn: a panel whose ranks all lack a prediction has no difference to draw.
  const groups = [...new Set(data.map((d) => d.group))];
  const flags = FLAGS.filter((f) => data.some((d) => d.flag === FLAG_LABEL[f]));
  const hasPredictions = data.some((d) => d.predicted !== null);
  const hasExact = data.some((d) => d.predicted !== null && !d.estimate);
  const hasEstimates = data.some((d) => d.predicted !== null && d.estimate);
  const yTitle = yTitleOf(plot);
  const integerX = numericX && data.every((d) => Number.isInteger(d.x));
  const x = numericX
    ? { field: 'x', type: 'quantitative' as const, title: plot.x, scale: { zero: false, nice: false, padding: 12 }, axis: integerX ? { tickMinStep: 1 } : {} }
    : { field: 'x', type: 'ordinal' as const, title: plot.x, sort: xOrder, axis: { labelAngle: 0 }, scale: { padding: 0.5 } };
  // Every difference 0 (the prediction holds everywhere): a domain around 0, not a point.
  const flat = difference && data.every((d) => d.value === 0);
  const y = {
    field: 'value', type: 'quantitative' as const, title: yTitle,
    axis: perParams ? (difference ? {} : { format: '.2f' }) : { format: 'd', tickMinStep: 1 },
    scale: flat ? { domain: perParams ? [-0.01, 0.01] : [-1, 1] } : { zero: true },
  };
  // Without dots the legend would take its symbol from the open markers: show the lines' instead.
  const colorLegend = hasPredictions ? { order: 0 } : { order: 0, symbolType: 'stroke', symbolSize: 300, symbolStrokeWidth: 3 };
  const color = { field: 'hessian', type: 'nominal' as const, title: 'Hessian', scale: colorScale(kinds), legend: kinds.length > 0 ? colorLegend : null };
  const tooltip = [
    { field: 'point', type: 'nominal' as const, title: 'point' },
    { field: 'hessian', type: 'nominal' as const, title: 'Hessian' },
    { field: 'rank', type: 'nominal' as const, title: 'rank' },
    { field: 'tip.prediction', type: 'nominal' as const, title: 'prediction' },
    { field: 'check', type: 'nominal' as const, title: 'check' },
    { field: 'tip.value', type: 'nominal' as const, title: yTitle },
    { field: 'tip.params', type: 'nominal' as const, title: '#params' },
    { field: 'tip.gap', type: 'nominal' as const, title: 'gap' },
    { field: 'method', type: 'nominal' as const, title: 'method' },
  ];

  // Dots and markers share one shape scale, so one legend names both; its symbols are styled
  // per entry as the marks are drawn (a filled dot, open markers).
  const shapes = [...(hasExact ? [{ label: PREDICTION, shape: 'circle' }] : []), ...(hasEstimates ? [{ label: ESTIMATE, shape: 'diamond' }] : []), ...flags.map((f) => ({ label: FLAG_LABEL[f], shape: FLAG_SHAPE[f] }))];
  const isDot = `datum.value === '${PREDICTION}'`;
  const shape = {
    field: 'shape', type: 'nominal' as const, title: null,
    scale: { domain: shapes.map((s) => s.label), range: shapes.map((s) => s.shape) },
    legend: {
      order: 2,
      // vega lays legends out by one symbol size and stroke width (no per-entry ones).
      symbolSize: 130,
      symbolStrokeWidth: FLAG_STROKE,
      encoding: {
        symbols: {
          fill: { condition: { test: isDot, value: '#444' }, value: 'transparent' },
          stroke: { condition: { test: isDot, value: 'white' }, value: '#444' },
          // Stated, so the filled dots and the open markers ask the same of the shared legend.
          fillOpacity: { value: 1 },
        },
      },
    },
  };
  const layers = (interactive: boolean) => {
    // One rule per panel: the aggregate leaves one row per group.
    const zero = {
      name: 'zero',
      mark: { type: 'rule' as const, color: '#555', strokeWidth: 1.2 },
      transform: [{ aggregate: [{ op: 'count' as const, as: 'n' }], groupby: ['group'] }],
      encoding: { y: { datum: 0, type: 'quantitative' as const } },
    };
    const line = {
      name: 'empirical',
      mark: { type: 'line' as const, interpolate: 'linear' as const },
      encoding: {
        x, y, color, strokeWidth: identity('lineWidth'),
        ...(hasPredictions ? { strokeDash: { field: 'line', type: 'nominal' as const, title: null, scale: { domain: ['empirical rank'], range: [[1, 0]] }, legend: { symbolType: 'stroke', symbolStrokeColor: '#444', symbolSize: 300, order: 1 } } } : {}),
      },
      transform: [{ calculate: "'empirical rank'", as: 'line' }],
    };
    // Exact predictions as filled dots; estimates as hollow dashed diamonds in the Hessian's hue,
    // so no one mistakes them for the paper's exact results.
    const predictionLayer = (name: string, mark: Record<string, unknown>, estimate: boolean, label: string) => ({
      name,
      mark: { type: 'point' as const, opacity: 1, ...mark },
      transform: [{ filter: `isValid(datum.predicted) && ${estimate ? '' : '!'}datum.estimate` }, { calculate: `'${label}'`, as: 'shape' }],
      encoding: {
        x, color, size: identity('dotSize'), shape,
        y: { field: 'predicted', type: 'quantitative' as const },
        ...(interactive ? { tooltip } : {}),
      },
    });
    const dots = predictionLayer('predicted', { filled: true, stroke: 'white', strokeWidth: 1 }, false, PREDICTION);
    const estimated = predictionLayer('estimated', { filled: false, strokeWidth: FLAG_STROKE, strokeDash: [2, 1.5] }, true, ESTIMATE);
    const marked = {
      name: 'flagged',
      mark: { type: 'point' as const, filled: false, opacity: 1, strokeWidth: FLAG_STROKE },
      transform: [{ filter: 'isValid(datum.flag)' }, { calculate: 'datum.flag', as: 'shape' }],
      encoding: { x, y, color, size: identity('flagSize'), shape },
    };
    const hover = {
      name: 'hover',
      mark: { type: 'point' as const, filled: true, size: 260, opacity: 0 },
      encoding: { x, y: { field: 'value', type: 'quantitative' as const }, color, tooltip },
    };
    return [
      ...(difference ? [zero] : []), line, ...(hasExact ? [dots] : []), ...(hasEstimates ? [estimated] : []), ...(flags.length > 0 ? [marked] : []),
      ...(interactive ? [hover] : []),
    ];
  };

  const title = plot.title ?? (difference
    ? `Empirical minus predicted Hessian rank${perParams ? ' / #params' : ''} against ${plot.x}`
    : `Hessian ${yTitle} against ${plot.x}`);
  const missing = leftOut.size > 0 ? `left out, no prediction applies: ${pointCounts(leftOut)}` : '';
  const subtitle = difference
    ? [
      `${study.name}: empirical minus predicted rank${perParams ? ', divided by #params' : ''}; on the rule at 0 the prediction holds`,
      ...(data.length === 0 ? ['no rank has a prediction (a bias in every layer): nothing to draw'] : missing ? [missing] : []),
    ]
    : `${study.name}: lines are empirical ranks${hasExact ? `, dots the predictions (${predictionSource(results)})` : ''}${hasEstimates ? ', hollow diamonds the linear formulas as estimates' : ''}${hasPredictions ? '' : '; no prediction applies'}`;
  // Ranks along training: the training loss on a second panel below, on the same steps.
  const lossData = plot.x === 'train.checkpoint' && numericX && !faceted
    ? results.rows.flatMap((_, i) => { const v = numberOf(results, i, 'train_loss'); const xv = cellOf(results, i, plot.x); return v !== null && v > 0 && typeof xv === 'number' ? [{ x: xv, loss: v }] : []; })
    : [];
  const lossPanel = (interactive: boolean) => ({
    width: SINGLE.width, height: LOSS_PANEL_HEIGHT, data: { values: lossData },
    layer: [{
      name: 'train_loss',
      mark: { type: 'line' as const, color: '#444', strokeWidth: 2, point: { filled: true, size: 30, color: '#444' } },
      encoding: {
        x: { ...x, title: 'training step (train.checkpoint)' },
        y: { field: 'loss', type: 'quantitative' as const, title: 'training loss (mean)', scale: { type: 'log' as const }, axis: { format: '.0e' } },
        ...(interactive ? { tooltip: [{ field: 'x', type: 'quantitative' as const, title: 'step' }, { field: 'loss', type: 'quantitative' as const, title: 'loss', format: '.3e' }] } : {}),
      },
    }],
  });
  const spec = (interactive: boolean): TopLevelSpec => {
    const common = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, title: { text: title, subtitle }, data: { values: data } };
    if (lossData.length > 0) {
      return { ...common, vconcat: [{ ...SINGLE, layer: layers(interactive) }, lossPanel(interactive)], resolve: { scale: { color: 'independent' } } } as TopLevelSpec;
    }
    return panels(common, layers(interactive), faceted && groups.length > 0 ? groups : null);
  };
  const id = `ranks-${stem(plot.x)}${difference ? '-difference' : ''}${perParams ? '-per-params' : ''}`;
  const marks = flags.map((f) => `; ${FLAG_CAPTION[f]}`).join('');
  const lines = difference
    ? `Lines: empirical minus predicted rank${perParams ? ' / #params' : ''} of each Hessian; the rule at 0: the prediction holds${marks}${missing ? `. ${missing[0]!.toUpperCase()}${missing.slice(1)}` : ''}`
    : `Lines: empirical ranks${hasExact ? '; dots: predictions of the same hue' : ''}${hasEstimates ? '; hollow diamonds: estimates (the linear formulas for a nonlinear network)' : ''}${marks}`;
  return {
    id, kind: 'ranks', title,
    caption: `${title}${faceted ? `, one panel per ${others.join(' and ')}` : ''}. ${lines}.${lossData.length > 0 ? ' Below: the mean training loss at each checkpoint (log scale).' : ''}`,
    static: spec(false), interactive: spec(true),
    expected: {
      lines: new Set(data.map((d) => `${d.group}\u0000${d.hessian}`)).size,
      dots: data.filter((d) => d.predicted !== null && !d.estimate).length,
      estimates: data.filter((d) => d.predicted !== null && d.estimate).length,
      flags: data.filter((d) => d.flag !== null).length,
      zeroRules: difference ? groups.length : 0,
    },
  };
}

/** Most marks a rank figure draws point by point (points x Hessians); beyond, it is aggregated. */
export const PLOT_MAX_DATA = 3000;
/** Most panels of a figure; beyond, the facet axis with the most values is averaged over. */
export const PLOT_MAX_PANELS = 12;
/** Most x positions of an aggregated line; beyond, numeric x values are binned. */
export const PLOT_MAX_X = 100;

/** How a figure is aggregated: the axes averaged over (asked for, then added to keep it small), the facet axes left, x bins. */
interface Reduction {
  readonly over: readonly string[];
  /** The axes of `over` that hrank added (the figure was too big), for the caption. */
  readonly added: readonly string[];
  readonly facets: readonly string[];
  /** Numeric x values binned into this many bins (null: each x value its own position). */
  readonly bins: number | null;
}

/**
 * Whether and how a rank figure is aggregated: over `plot.aggregate` when asked; and, so that
 * plots stay small however large the sweep, over the facet axis with the most values while
 * there are more than PLOT_MAX_PANELS panels or PLOT_MAX_DATA marks, and into PLOT_MAX_X bins of
 * x when x has more values than that. Null: drawn point by point, as always.
 */
function reduction(study: Study, results: Results, plot: PlotSpec, varying: readonly string[], numericX: boolean, xCount: number): Reduction | null {
  const zip = study.sweep.mode === 'zip';
  const asked = plot.aggregate && plot.aggregate !== plot.x ? [plot.aggregate] : [];
  const over = [...asked];
  const added: string[] = [];
  let facets = zip ? [] : varying.filter((a) => !over.includes(a));
  const kinds = Math.max(1, presentKinds(results).length);
  const rows = results.rows.length;
  const distinct = (a: string): number => new Set(results.rows.map((_, i) => cellText(cellOf(results, i, a)))).size;
  const panels = (list: readonly string[]): number => new Set(results.rows.map((_, i) => list.map((a) => cellText(cellOf(results, i, a))).join('\u0000'))).size;
  // Too many marks: numeric x values are binned first (each panel keeps its own line); only
  // when x cannot be binned (its values are names) is another axis averaged over.
  const binnable = numericX && xCount > PLOT_MAX_X;
  const tooMany = (): boolean => over.length === 0 && !binnable && rows * kinds > PLOT_MAX_DATA;
  while (facets.length > 0 && (panels(facets) > PLOT_MAX_PANELS || tooMany())) {
    const most = [...facets].sort((a, b) => distinct(b) - distinct(a))[0]!;
    over.push(most);
    added.push(most);
    facets = facets.filter((a) => a !== most);
  }
  const big = over.length > 0 || rows * kinds > PLOT_MAX_DATA;
  const bins = numericX && big && xCount > PLOT_MAX_X ? PLOT_MAX_X : null;
  if (over.length === 0 && bins === null) return null;
  return { over, added, facets, bins };
}

interface Cell {
  x: number | string;
  xSum: number;
  readonly group: string;
  readonly hessian: string;
  n: number;
  sum: number;
  min: number;
  max: number;
  equal: number;
  differs: number;
  ambiguous: number;
  readonly predictions: Set<number>;
}

/**
 * A rank figure aggregated (see `reduction`): per panel, x position and Hessian, the mean of the
 * plotted value as a line, its min-max band across the points averaged over, and the
 * predictions as dots (one per distinct predicted value), as in the point-by-point figure.
 */
function aggregateFigure(study: Study, results: Results, plot: PlotSpec, r: Reduction, numericX: boolean, xOrder: readonly string[]): Figure {
  const perParams = plot.normalize === 'params';
  const difference = plot.y === 'difference';
  const kinds = presentKinds(results);
  const groupOf = (row: number): string => r.facets.map((a) => `${a} = ${cellText(cellOf(results, row, a))}`).join(', ');
  let lo = Infinity, hi = -Infinity;
  if (r.bins !== null) {
    for (let i = 0; i < results.rows.length; i++) {
      const v = numberOf(results, i, plot.x)!;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const binOf = (v: number): number => (hi > lo ? Math.min(r.bins! - 1, Math.floor(((v - lo) / (hi - lo)) * r.bins!)) : 0);
  const cells = new Map<string, Cell>();
  const leftOut = new Map<HessianKind, number>();
  for (let i = 0; i < results.rows.length; i++) {
    const xCell = cellOf(results, i, plot.x);
    const xKey = r.bins !== null ? String(binOf(xCell as number)) : cellText(xCell);
    const group = groupOf(i);
    for (const { kind: k, value, predicted } of plottedValues(results, i, plot, kinds, leftOut)) {
      const key = `${group}\u0000${xKey}\u0000${k}`;
      let c = cells.get(key);
      if (!c) {
        c = { x: numericX ? 0 : cellText(xCell), xSum: 0, group, hessian: HESSIAN_LABEL[k], n: 0, sum: 0, min: Infinity, max: -Infinity, equal: 0, differs: 0, ambiguous: 0, predictions: new Set() };
        cells.set(key, c);
      }
      c.n++;
      c.sum += value;
      c.min = Math.min(c.min, value);
      c.max = Math.max(c.max, value);
      if (numericX) c.xSum += xCell as number;
      const check = checkOf(results, i, k);
      if (check === '=') c.equal++;
      else if (check === 'differs') c.differs++;
      else if (check === 'ambiguous') c.ambiguous++;
      if (predicted !== null) c.predictions.add(predicted);
    }
  }
  const round = (v: number): number => Number(v.toPrecision(6));
  const stats: Record<string, unknown>[] = [];
  const dots: Record<string, unknown>[] = [];
  for (const c of cells.values()) {
    const x = numericX ? round(c.xSum / c.n) : c.x;
    const mean = c.sum / c.n;
    stats.push({
      role: 'stat', x, group: c.group, hessian: c.hessian, mean: round(mean), min: round(c.min), max: round(c.max), n: c.n,
      tip: {
        mean: String(round(mean)), range: c.min === c.max ? String(round(c.min)) : `${round(c.min)} to ${round(c.max)}`,
        equal: `${c.equal} of ${c.n}`, flagged: [c.differs ? `${c.differs} differ` : '', c.ambiguous ? `${c.ambiguous} ambiguous` : ''].filter(Boolean).join(', ') || 'none',
      },
    });
    for (const p of c.predictions) dots.push({ role: 'prediction', x, group: c.group, hessian: c.hessian, predicted: p, shape: PREDICTION });
  }
  const groups = [...new Set(stats.map((d) => d.group as string))];
  const faceted = groups.length > 1;
  const xPositions = new Set(stats.map((d) => d.x)).size / Math.max(1, groups.length);
  const kindsDrawn = KINDS.filter((k) => stats.some((d) => d.hessian === HESSIAN_LABEL[k]));
  const hasPredictions = dots.length > 0;
  const yTitle = yTitleOf(plot);
  const integerX = numericX && r.bins === null && stats.every((d) => Number.isInteger(d.x));
  const x = numericX
    ? { field: 'x', type: 'quantitative' as const, title: r.bins !== null ? `${plot.x} (binned)` : plot.x, scale: { zero: false, nice: false, padding: 12 }, axis: integerX ? { tickMinStep: 1 } : {} }
    : { field: 'x', type: 'ordinal' as const, title: plot.x, sort: [...xOrder], axis: { labelAngle: 0 }, scale: { padding: 0.5 } };
  const y = (field: string) => ({
    field, type: 'quantitative' as const, title: `${yTitle} (mean, min-max band)`,
    axis: perParams ? (difference ? {} : { format: '.2f' }) : { format: 'd', tickMinStep: 1 }, scale: { zero: true },
  });
  // The bands are faint: the legend's symbols are not.
  const colorLegend = hasPredictions ? { order: 0, symbolOpacity: 1 } : { order: 0, symbolOpacity: 1, symbolType: 'stroke', symbolSize: 300, symbolStrokeWidth: 3 };
  const color = { field: 'hessian', type: 'nominal' as const, title: 'Hessian', scale: colorScale(kindsDrawn), legend: kindsDrawn.length > 0 ? colorLegend : null };
  const overText = r.over.join(' and ');
  const tooltip = [
    { field: 'hessian', type: 'nominal' as const, title: 'Hessian' },
    { field: 'x', type: numericX ? ('quantitative' as const) : ('nominal' as const), title: plot.x },
    { field: 'n', type: 'quantitative' as const, title: 'points' },
    { field: 'tip.mean', type: 'nominal' as const, title: `mean ${yTitle}` },
    { field: 'tip.range', type: 'nominal' as const, title: 'min to max' },
    { field: 'tip.equal', type: 'nominal' as const, title: 'equal to the prediction' },
    { field: 'tip.flagged', type: 'nominal' as const, title: 'flagged' },
  ];
  const isStat = "datum.role === 'stat'";
  const layers = (interactive: boolean) => [
    ...(difference ? [{
      name: 'zero',
      mark: { type: 'rule' as const, color: '#555', strokeWidth: 1.2 },
      transform: [{ aggregate: [{ op: 'count' as const, as: 'n' }], groupby: ['group'] }],
      encoding: { y: { datum: 0, type: 'quantitative' as const } },
    }] : []),
    {
      name: 'band',
      mark: { type: 'area' as const, opacity: 0.2, interpolate: 'linear' as const },
      transform: [{ filter: isStat }],
      encoding: { x, y: y('min'), y2: { field: 'max' }, color },
    },
    {
      name: 'empirical',
      mark: { type: 'line' as const, interpolate: 'linear' as const, strokeWidth: LINE_WIDTH },
      transform: [{ filter: isStat }, { calculate: "'mean rank'", as: 'line' }],
      encoding: {
        x, y: y('mean'), color,
        ...(hasPredictions ? { strokeDash: { field: 'line', type: 'nominal' as const, title: null, scale: { domain: ['mean rank'], range: [[1, 0]] }, legend: { symbolType: 'stroke', symbolStrokeColor: '#444', symbolSize: 300, order: 1 } } } : {}),
      },
    },
    ...(hasPredictions ? [{
      name: 'predicted',
      // Many x positions: smaller dots, so the line stays visible between them.
      mark: { type: 'point' as const, filled: true, opacity: 1, stroke: 'white', strokeWidth: xPositions > 30 ? 0.5 : 1, size: xPositions > 30 ? DOT_SIZE / 3 : DOT_SIZE },
      transform: [{ filter: "datum.role === 'prediction'" }],
      encoding: {
        x, color, y: { field: 'predicted', type: 'quantitative' as const },
        shape: { field: 'shape', type: 'nominal' as const, title: null, scale: { domain: [PREDICTION], range: ['circle'] }, legend: { order: 2, symbolSize: 130, symbolFillColor: '#444', symbolStrokeColor: 'white' } },
        ...(interactive ? { tooltip: [{ field: 'hessian', type: 'nominal' as const, title: 'Hessian' }, { field: 'predicted', type: 'quantitative' as const, title: 'prediction' }] } : {}),
      },
    }] : []),
    ...(interactive ? [{
      name: 'hover',
      mark: { type: 'point' as const, filled: true, size: 260, opacity: 0 },
      transform: [{ filter: isStat }],
      encoding: { x, y: { field: 'mean', type: 'quantitative' as const }, color, tooltip },
    }] : []),
  ];
  const how = overText ? `mean over ${overText}${r.bins !== null ? `, ${plot.x} binned` : ''}` : `${plot.x} binned`;
  const title = plot.title ?? (difference
    ? `Empirical minus predicted Hessian rank${perParams ? ' / #params' : ''} against ${plot.x}, ${how}`
    : `Hessian ${yTitle} against ${plot.x}, ${how}`);
  const missing = leftOut.size > 0 ? `left out, no prediction applies: ${pointCounts(leftOut)}` : '';
  const why = r.added.length > 0 || r.bins !== null ? `aggregated to stay small: ${results.rows.length.toLocaleString('en-US')} points` : '';
  const subtitle = [
    `${study.name}: lines are the mean ${difference ? 'difference' : 'rank'}${r.over.length > 0 ? ` across ${overText}` : ''}, bands its min to max${hasPredictions ? ', dots the predictions' : ''}`,
    ...(why ? [why] : []), ...(missing ? [missing] : []),
  ];
  const spec = (interactive: boolean): TopLevelSpec => {
    const common = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, title: { text: title, subtitle }, data: { values: [...stats, ...dots] } };
    return panels(common, layers(interactive), faceted ? groups : null);
  };
  const asked = plot.aggregate && r.over.includes(plot.aggregate) ? `-mean-over-${stem(plot.aggregate)}` : '';
  const id = `ranks-${stem(plot.x)}${asked}${difference ? '-difference' : ''}${perParams ? '-per-params' : ''}`;
  const binned = r.bins !== null ? `; x in ${r.bins} bins of equal width, each point at the mean x of its bin` : '';
  const added = r.added.length > 0 ? `; averaged over ${r.added.join(' and ')} too, so that the figure stays small (every point is in results.csv)` : '';
  return {
    id, kind: 'ranks', title,
    caption: `${title}${faceted ? `, one panel per ${r.facets.join(' and ')}` : ''}. Lines: the mean ${difference ? 'difference' : 'rank'} of each Hessian${r.over.length > 0 ? ` across ${overText}` : ''}; bands: min to max${hasPredictions ? '; dots: predictions of the same hue' : ''}${binned}${added}.`,
    static: spec(false), interactive: spec(true),
    expected: {
      lines: new Set(stats.map((d) => `${d.group as string}\u0000${d.hessian as string}`)).size,
      dots: dots.length,
      flags: 0,
      zeroRules: difference ? groups.length : 0,
    },
  };
}

/** Dash length of the tolerance rules. */
const DASH = 5;

/** Most values drawn per spectrum: beyond it they are thinned evenly, keeping those around the rank cut. */
export const SPECTRUM_MAX_VALUES = 400;
/** Values kept on each side of the cut when thinning. */
const CUT_WINDOW = 12;

/** Indices (0-based) of the values a spectrum line draws. */
export function spectrumIndices(length: number, rank: number, max = SPECTRUM_MAX_VALUES): number[] {
  if (length <= max) return Array.from({ length }, (_, i) => i);
  const keep = new Set<number>([0, length - 1]);
  const stride = Math.ceil(length / max);
  for (let i = 0; i < length; i += stride) keep.add(i);
  for (let i = Math.max(0, rank - CUT_WINDOW); i < Math.min(length, rank + CUT_WINDOW); i++) keep.add(i);
  return [...keep].sort((a, b) => a - b);
}

/** The spectrum figure of one point. */
export function spectrumFigure(study: Study, results: Results, row: number, spectra: PointSpectra): Figure {
  const point = results.details[row]?.id ?? String(row);
  const kinds = KINDS.filter((k) => spectra[k] !== undefined);
  const values: { i: number; value: number; hessian: string; kept: string }[] = [];
  const rules: { kind: HessianKind; hessian: string; tolerance: number; rank: number; method: string }[] = [];
  let dropped = 0;
  for (const k of kinds) {
    const s = spectra[k]!;
    for (const i of spectrumIndices(s.values.length, s.rank)) {
      const v = s.values[i]!;
      if (!(v > 0)) { dropped++; continue; }
      values.push({ i: i + 1, value: v, hessian: HESSIAN_LABEL[k], kept: i < s.rank ? 'yes' : 'no (not above the tolerance)' });
    }
    rules.push({ kind: k, hessian: HESSIAN_LABEL[k], tolerance: s.tolerance, rank: s.rank, method: s.method });
  }
  // The predicted count of nonzero eigenvalues, as a vertical rule after that many values.
  const column = (name: string): number => results.columns.indexOf(name);
  const predicted = kinds.flatMap((k) => {
    const v = results.rows[row]?.[column(`pred_${k}`)];
    return typeof v === 'number' ? [{ kind: k, hessian: HESSIAN_LABEL[k], predicted: v, at: v + 0.5 }] : [];
  });
  const color = { field: 'hessian', type: 'nominal' as const, title: 'Hessian', scale: colorScale(kinds), legend: { order: 0 } };
  const dash = { field: 'line', type: 'nominal' as const, title: null, scale: { domain: ['sorted |eigenvalues|', 'tolerance'], range: [[1, 0], [DASH, DASH]] }, legend: { symbolType: 'stroke', symbolStrokeColor: '#444', symbolSize: 300, order: 1 } };
  const y = { field: 'value', type: 'quantitative' as const, title: '|eigenvalue|', scale: { type: 'log' as const }, axis: { format: '.0e', tickCount: 8 } };
  const x = { field: 'i', type: 'quantitative' as const, title: 'index (sorted, largest first)', scale: { nice: false } };
  const layers = (interactive: boolean) => [
    {
      name: 'spectrum',
      data: { values },
      transform: [{ calculate: "'sorted |eigenvalues|'", as: 'line' }],
      mark: { type: 'line' as const, strokeWidth: 1.8 },
      encoding: { x, y, color, strokeDash: dash },
    },
    ...rules.map((rule, j) => ({
      name: `tolerance_${rule.kind}`,
      data: { values: [rule] },
      // Rules of several Hessians often coincide: equal dashes, offset per Hessian, interleave.
      mark: { type: 'rule' as const, strokeWidth: 1.8, strokeDash: [DASH, DASH * (rules.length - 1) || DASH], strokeDashOffset: -j * DASH },
      encoding: {
        y: { field: 'tolerance', type: 'quantitative' as const }, color,
        ...(interactive ? {
          tooltip: [
            { field: 'hessian', type: 'nominal' as const, title: 'Hessian' }, { field: 'tolerance', type: 'quantitative' as const, title: 'tolerance', format: '.3e' },
            { field: 'rank', type: 'nominal' as const, title: 'rank' }, { field: 'method', type: 'nominal' as const, title: 'method' },
          ],
        } : {}),
      },
    })),
    ...predicted.map((p, j) => ({
      name: `predicted_${p.kind}`,
      data: { values: [p] },
      mark: { type: 'rule' as const, strokeWidth: 1.4, strokeDash: [2, 3], strokeDashOffset: -j * 2 },
      encoding: {
        x: { field: 'at', type: 'quantitative' as const }, color,
        ...(interactive ? { tooltip: [{ field: 'hessian', type: 'nominal' as const, title: 'Hessian' }, { field: 'predicted', type: 'quantitative' as const, title: 'predicted rank' }] } : {}),
      },
    })),
    ...(interactive ? [{
      name: 'hover',
      data: { values },
      mark: { type: 'point' as const, filled: true, size: 60, opacity: 0 },
      encoding: {
        x, y, color,
        tooltip: [
          { field: 'hessian', type: 'nominal' as const, title: 'Hessian' }, { field: 'i', type: 'nominal' as const, title: 'index' },
          { field: 'value', type: 'quantitative' as const, title: '|eigenvalue|', format: '.4e' }, { field: 'kept', type: 'nominal' as const, title: 'counted in the rank' },
        ],
      },
    }] : []),
  ];
  const title = `Spectrum at ${point}`;
  const ranks = kinds.map((k) => {
    const s = spectra[k]!;
    const inertia = s.positive !== undefined && s.negative !== undefined ? ` = ${s.positive} positive + ${s.negative} negative` : '';
    return `${HESSIAN_LABEL[k].split(' ')[0]} rank ${s.rank}${inertia} (${s.method})`;
  }).join(', ');
  // A nonlinear network's "prediction" is the linear formula, an estimate: said so wherever it is drawn.
  const predictedWord = results.rows[row]?.[column('pred_kind')] === 'estimate' ? 'the linear formula\'s estimate (not a prediction: a nonlinear network)' : 'the predicted rank';
  const subtitle = [`${study.name}: values above the dashed tolerance of their Hessian count${predicted.length > 0 ? `; dotted: ${predictedWord}` : ''}`, ranks];
  if (dropped > 0) subtitle.push(`${dropped} values exactly 0 are not drawn (log axis)`);
  const spec = (interactive: boolean): TopLevelSpec => ({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: { text: title, subtitle },
    ...SPECTRUM,
    layer: layers(interactive),
  }) as TopLevelSpec;
  return {
    id: `spectrum-${stem(point)}`, kind: 'spectrum', title,
    caption: `${title}: sorted |eigenvalues| of each Hessian (log axis), dashed: its tolerance (s_max * P * eps unless rank.rtol / rank.atol say otherwise)${predicted.length > 0 ? `, dotted vertical: ${predictedWord}` : ''}.`,
    static: spec(false), interactive: spec(true),
    expected: { lines: kinds.length, dots: 0, flags: 0, zeroRules: 0 },
  };
}

/** Every figure of a report: the rank figures, then (when asked for and available) one spectrum per point. */
export function reportFigures(study: Study, results: Results, spectra: readonly PointSpectra[] | null | undefined): Figure[] {
  const figures: Figure[] = [];
  if (results.rows.length > 0 && presentKinds(results).length > 0) {
    for (const plot of plotList(study, results)) figures.push(rankFigure(study, results, plot));
  }
  if (study.report.spectra && spectra) {
    spectra.forEach((s, row) => {
      if (KINDS.some((k) => s[k] !== undefined)) figures.push(spectrumFigure(study, results, row, s));
    });
  }
  return uniqueIds(figures);
}
