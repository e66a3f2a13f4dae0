/**
 * The figures of a report, as vega-lite specs (data inline):
 *
 * - the paper's figure, per `report.plots` entry (by default one per numeric sweep axis): x = the
 *   axis, the empirical ranks of H_L, H_O, H_F as lines, the predictions as dots of the same
 *   hue, one legend naming the Hessians and both mark kinds; `normalize: params` plots
 *   rank / #params. Other axes that vary (grid sweeps) split the figure into facets, one per
 *   combination of their values.
 * - with `report.spectra: true`, a spectrum per point: sorted |eigenvalues| on a log axis, the
 *   tolerance of each Hessian as a dashed rule of its hue.
 *
 * Each figure comes twice: `static` for SVG and PNG, `interactive` for report.html (tooltips on
 * hover through invisible hover targets). Marks have names, so tests can count them: lines
 * `empirical_marks`, dots `predicted_marks`, spectra `spectrum_marks`, rules
 * `tolerance_<hessian>_marks`, hover targets `hover_marks`.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Results } from '../engine/kinds/collect.js';
import type { HessianKind, PlotSpec, Study } from '../pipeline/types.js';
import { FONT_FAMILY } from './fonts.js';
import {
  HESSIAN_COLOR, HESSIAN_LABEL, KINDS, cellOf, cellText, checkOf, numberOf, presentKinds, type PointSpectra,
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
  /** What the marks must be (tests): lines per panel and Hessian, dots per prediction. */
  readonly expected: { readonly lines: number; readonly dots: number };
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
const MAX_COLUMNS = 3;

const colorScale = (kinds: readonly HessianKind[]) => ({ domain: kinds.map((k) => HESSIAN_LABEL[k]), range: kinds.map((k) => HESSIAN_COLOR[k]) });

/**
 * Where Hessians share a value their marks coincide, and the one drawn last (order H_L, H_O,
 * H_F) would hide the others. A mark that others cover is drawn wider (lines) or larger (dots)
 * by how many cover it, so each stays visible as a rim; marks that nothing covers keep the
 * base size.
 */
const LINE_WIDTH = 2.4;
const LINE_WIDTH_STEP = 2.2;
const DOT_SIZE = 70;
const DOT_SIZE_STEP = 1.3;

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
  return (numeric.length > 0 ? numeric : axes).map((x) => ({ x, normalize: 'none', title: null }));
}

interface RankDatum {
  // Data rows are built once, then `coverage` sets lineWidth and dotSize.
  readonly x: number | string;
  readonly group: string;
  readonly hessian: string;
  /** Stroke width of this point's line (its series): wider when later lines coincide with it. */
  lineWidth: number;
  /** Area of this point's prediction dot: larger when later dots coincide with it. */
  dotSize: number;
  readonly point: string;
  readonly rank: number;
  readonly prediction: number | null;
  /** Plotted value: rank, or rank / params. */
  readonly value: number;
  readonly predicted: number | null;
  readonly params: number | null;
  readonly check: string;
  readonly method: string;
  /** Tooltip texts ('' where there is nothing to say). */
  readonly tip: Readonly<Record<'prediction' | 'value' | 'params' | 'gap', string>>;
}

/**
 * Sets line widths and dot sizes so that coinciding marks stay visible: a series is covered by
 * each later series (same panel) that shares its value at some x; a dot by each later dot at
 * the same panel, x and value.
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
  data.forEach((d, i) => {
    if (d.predicted === null) return;
    const covering = data.slice(i + 1).filter((e) => e.group === d.group && String(e.x) === String(d.x) && e.predicted === d.predicted).length;
    d.dotSize = DOT_SIZE * (1 + DOT_SIZE_STEP * covering);
  });
}

/** The paper's figure for one plot entry. */
export function rankFigure(study: Study, results: Results, plot: PlotSpec): Figure {
  const axes = study.sweep.axes.map((a) => a.path);
  const kinds = presentKinds(results);
  const numericX = results.rows.every((_, i) => typeof cellOf(results, i, plot.x) === 'number');
  const xOrder = [...new Set(results.rows.map((_, i) => cellText(cellOf(results, i, plot.x))))];
  // Facets: the other axes that vary, in a grid sweep (in a zip sweep they move with x).
  const others = study.sweep.mode === 'zip' ? [] : axes.filter((a) => a !== plot.x && new Set(results.rows.map((_, i) => cellText(cellOf(results, i, a)))).size > 1);
  const groupOf = (row: number): string => others.map((a) => `${a} = ${cellText(cellOf(results, row, a))}`).join(', ');
  const groups = [...new Set(results.rows.map((_, i) => groupOf(i)))];
  const perParams = plot.normalize === 'params';

  const data: RankDatum[] = [];
  results.rows.forEach((_, i) => {
    const params = numberOf(results, i, 'params');
    const scale = (v: number | null): number | null => (v === null ? null : perParams ? (params ? v / params : null) : v);
    for (const k of kinds) {
      const rank = numberOf(results, i, `rank_${k}`);
      const value = scale(rank);
      if (rank === null || value === null) continue;
      const prediction = numberOf(results, i, `pred_${k}`);
      const xCell = cellOf(results, i, plot.x);
      data.push({
        x: numericX ? (xCell as number) : cellText(xCell),
        group: groupOf(i),
        hessian: HESSIAN_LABEL[k],
        lineWidth: LINE_WIDTH,
        dotSize: DOT_SIZE,
        point: results.details[i]?.id ?? String(i),
        rank, prediction, value, predicted: scale(prediction), params,
        check: checkOf(results, i, k) ?? '',
        method: results.details[i]?.ranks[k]?.method ?? '',
        tip: {
          prediction: prediction === null ? 'none' : String(prediction),
          value: perParams ? value.toFixed(4) : '',
          params: params === null ? '' : String(params),
          gap: ((g) => (g === null ? 'none (nothing dropped)' : `${g.toFixed(2)} decades`))(numberOf(results, i, `gap_${k}`)),
        },
      });
    }
  });
  coverage(data);
  const hasPredictions = data.some((d) => d.predicted !== null);
  const yTitle = perParams ? 'rank / #params' : 'rank';
  const integerX = numericX && data.every((d) => Number.isInteger(d.x));
  const x = numericX
    ? { field: 'x', type: 'quantitative' as const, title: plot.x, scale: { zero: false, nice: false, padding: 12 }, axis: integerX ? { tickMinStep: 1 } : {} }
    : { field: 'x', type: 'ordinal' as const, title: plot.x, sort: xOrder, axis: { labelAngle: 0 }, scale: { padding: 0.5 } };
  const color = { field: 'hessian', type: 'nominal' as const, title: 'Hessian', scale: colorScale(kinds), legend: { order: 0 } };
  const tooltip = [
    { field: 'point', type: 'nominal' as const, title: 'point' },
    { field: 'hessian', type: 'nominal' as const, title: 'Hessian' },
    { field: 'rank', type: 'nominal' as const, title: 'rank' },
    { field: 'tip.prediction', type: 'nominal' as const, title: 'prediction' },
    { field: 'check', type: 'nominal' as const, title: 'check' },
    { field: 'tip.value', type: 'nominal' as const, title: 'rank / #params' },
    { field: 'tip.params', type: 'nominal' as const, title: '#params' },
    { field: 'tip.gap', type: 'nominal' as const, title: 'gap' },
    { field: 'method', type: 'nominal' as const, title: 'method' },
  ];

  const layers = (interactive: boolean) => {
    const line = {
      name: 'empirical',
      mark: { type: 'line' as const, interpolate: 'linear' as const },
      encoding: {
        x, color, strokeWidth: identity('lineWidth'),
        y: { field: 'value', type: 'quantitative' as const, title: yTitle, axis: perParams ? { format: '.2f' } : { format: 'd', tickMinStep: 1 }, scale: { zero: true } },
        ...(hasPredictions ? { strokeDash: { field: 'line', type: 'nominal' as const, title: null, scale: { domain: ['empirical rank'], range: [[1, 0]] }, legend: { symbolType: 'stroke', symbolStrokeColor: '#444', symbolSize: 300, order: 1 } } } : {}),
      },
      transform: [{ calculate: "'empirical rank'", as: 'line' }],
    };
    const dots = {
      name: 'predicted',
      mark: { type: 'point' as const, filled: true, opacity: 1, stroke: 'white', strokeWidth: 1 },
      transform: [{ filter: 'isValid(datum.predicted)' }, { calculate: "'prediction'", as: 'dot' }],
      encoding: {
        x, color, size: identity('dotSize'),
        y: { field: 'predicted', type: 'quantitative' as const },
        shape: { field: 'dot', type: 'nominal' as const, title: null, scale: { domain: ['prediction'], range: ['circle'] }, legend: { symbolFillColor: '#444', symbolStrokeColor: 'white', order: 2 } },
        ...(interactive ? { tooltip } : {}),
      },
    };
    const hover = {
      name: 'hover',
      mark: { type: 'point' as const, filled: true, size: 260, opacity: 0 },
      encoding: { x, y: { field: 'value', type: 'quantitative' as const }, color, tooltip },
    };
    return [line, ...(hasPredictions ? [dots] : []), ...(interactive ? [hover] : [])];
  };

  const title = plot.title ?? `Hessian ${yTitle} against ${plot.x}`;
  const subtitle = `${study.name}: lines are empirical ranks${hasPredictions ? ', dots the predictions (Singh, Bachmann and Hofmann 2021)' : '; no prediction applies'}`;
  const spec = (interactive: boolean): TopLevelSpec => {
    const common = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, title: { text: title, subtitle }, data: { values: data } };
    if (groups.length > 1) {
      return {
        ...common,
        facet: { field: 'group', type: 'nominal', sort: groups, title: null, header: { labelLimit: 400 } },
        columns: Math.min(MAX_COLUMNS, groups.length),
        spec: { ...PANEL, layer: layers(interactive) },
      } as TopLevelSpec;
    }
    return { ...common, ...SINGLE, layer: layers(interactive) } as TopLevelSpec;
  };
  const id = `ranks-${stem(plot.x)}${perParams ? '-per-params' : ''}`;
  return {
    id, kind: 'ranks', title,
    caption: `${title}${groups.length > 1 ? `, one panel per ${others.join(' and ')}` : ''}. Lines: empirical ranks${hasPredictions ? '; dots: predictions of the same hue' : ''}.`,
    static: spec(false), interactive: spec(true),
    expected: { lines: groups.length * kinds.length, dots: data.filter((d) => d.predicted !== null).length },
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
  const subtitle = [`${study.name}: values above the dashed tolerance of their Hessian count${predicted.length > 0 ? '; dotted: the predicted rank' : ''}`, ranks];
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
    caption: `${title}: sorted |eigenvalues| of each Hessian (log axis), dashed: its tolerance (s_max * P * eps unless rank.rtol / rank.atol say otherwise)${predicted.length > 0 ? ', dotted vertical: the predicted rank' : ''}.`,
    static: spec(false), interactive: spec(true),
    expected: { lines: kinds.length, dots: 0 },
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
