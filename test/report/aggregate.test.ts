/**
 * Reports of large sweeps: `report.plots[].aggregate` (mean rank as a line, min-max band across
 * an axis, predictions as dots), the automatic aggregation that keeps a figure small however
 * many points, and the table that shows the first rows beyond TABLE_MAX_ROWS.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { FIXED_COLUMNS, type Cell, type PointDetail, type RankDetail, type Results } from '../../src/engine/kinds/collect.js';
import { parsePipeline } from '../../src/pipeline/load.js';
import type { Study } from '../../src/pipeline/types.js';
import { PLOT_MAX_PANELS, PLOT_MAX_X, rankFigure, reportFigures } from '../../src/report/plots.js';
import { compileSpec, renderSvg } from '../../src/report/render.js';
import { reportHtml } from '../../src/report/html.js';
import { reportTable, tableMarkdown, TABLE_FIRST_ROWS, TABLE_MAX_ROWS } from '../../src/report/table.js';
import { markGroups, paths } from './helpers.js';

function study(text: string): Study {
  const r = parsePipeline(text, 'big.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.study;
}

const rankDetail = (rank: number): RankDetail => ({ rank, method: 'dense', gap: 10, kept_margin: 1, dropped_margin: 1, ambiguous: false, tolerance: 1e-12, s_max: 1, positive: rank, negative: 0 });

/**
 * Results of a grid over `axes` (values per axis), one row per combination; the ranks of each
 * row come from `rank(values)` (loss, outer, functional) and the predictions from `pred(values)`.
 */
function syntheticResults(axes: readonly (readonly [string, readonly Cell[]])[], rank: (v: readonly Cell[]) => [number, number, number], pred: (v: readonly Cell[]) => [number, number, number]): Results {
  let combos: Cell[][] = [[]];
  for (const [, values] of axes) combos = combos.flatMap((c) => values.map((v) => [...c, v]));
  const rows: Cell[][] = [];
  const details: PointDetail[] = [];
  for (const v of combos) {
    const [l, o, f] = rank(v);
    const [pl, po, pf] = pred(v);
    rows.push([...v, 8, 3, 2, 15, 3, l, o, f, pl, po, pf, 10, 10, 10, l, 0, o, 0, f, 0]);
    details.push({ id: axes.map(([a], i) => `${a}=${String(v[i])}`).join(','), prediction: { applicable: true }, ranks: { loss: rankDetail(l), outer: rankDetail(o), functional: rankDetail(f) }, input_cov: rankDetail(3) });
  }
  return { columns: [...axes.map(([a]) => a), ...FIXED_COLUMNS], rows, details };
}

const SEEDS_STUDY = `version: 1
name: seeds
dataset: {source: gaussian-mixture, dim: 3, samples: 8, classes: 2}
model: {width: 2, depth: 1}
sweep:
  model.width: [2, 4, 6]
  seed: {from: 1, to: 10}
report:
  plots:
    - {x: model.width, aggregate: seed}
`;

type Datum = Record<string, unknown>;

test('aggregate: seed: per width and Hessian the mean rank as a line, its min-max band, the predictions as dots', async () => {
  const s = study(SEEDS_STUDY);
  assert.equal(s.report.plots[0]!.aggregate, 'seed');
  // H_L's rank is the width plus (seed mod 3): 0, 1 or 2 above; H_O and H_F equal the prediction.
  const results = syntheticResults([['model.width', [2, 4, 6]], ['seed', Array.from({ length: 10 }, (_, i) => i + 1)]],
    ([w, seed]) => [(w as number) + ((seed as number) % 3), w as number, 2 * (w as number)],
    ([w]) => [w as number, w as number, 2 * (w as number)]);
  const [figure] = reportFigures(s, results, null);
  assert.ok(figure);
  assert.equal(figure.id, 'ranks-model.width-mean-over-seed');
  const values = (figure.static as { data: { values: Datum[] } }).data.values;
  const stats = values.filter((d) => d.role === 'stat');
  // 3 widths x 3 Hessians, each over 10 seeds.
  assert.equal(stats.length, 9);
  for (const w of [2, 4, 6]) {
    const loss = stats.find((d) => d.x === w && d.hessian === 'H_L (loss)')!;
    // seeds 1..10 mod 3 = 1,2,0,1,2,0,1,2,0,1: sum 10, min 0, max 2.
    assert.equal(loss.mean, w + 1);
    assert.equal(loss.min, w);
    assert.equal(loss.max, w + 2);
    assert.equal(loss.n, 10);
    assert.equal((loss.tip as Record<string, string>).equal, '3 of 10');
    const outer = stats.find((d) => d.x === w && d.hessian === 'H_O (outer)')!;
    assert.deepEqual([outer.mean, outer.min, outer.max], [w, w, w]);
  }
  // One dot per width and Hessian: the prediction does not depend on the seed.
  const dots = values.filter((d) => d.role === 'prediction');
  assert.equal(dots.length, 9);
  assert.equal(figure.expected.dots, 9);
  assert.equal(figure.expected.lines, 3);
  // Drawn: three lines, three bands, nine dots; no warning from vega-lite.
  const messages = { warnings: [] as string[] };
  const svg = await renderSvg(compileSpec(figure.static, messages));
  assert.deepEqual(messages.warnings, []);
  assert.equal(markGroups(svg, 'line', 'empirical_marks').length, 3);
  assert.equal(markGroups(svg, 'area', 'band_marks').length, 3);
  assert.equal(markGroups(svg, 'symbol', 'predicted_marks').reduce((n, g) => n + paths(g), 0), 9);
  assert.match(figure.caption, /mean rank of each Hessian across seed; bands: min to max/);
  // The interactive spec: hover targets with the counts.
  assert.match(JSON.stringify(compileSpec(figure.interactive)), /equal to the prediction/);
});

test('aggregate names a sweep axis other than x: anything else is an error at the key', () => {
  const bad = parsePipeline(SEEDS_STUDY.replace('aggregate: seed', 'aggregate: sede'), 'big.yaml');
  assert.equal(bad.ok, false);
  const text = JSON.stringify(!bad.ok && bad.problems);
  assert.match(text, /aggregate/);
  assert.match(text, /did you mean 'seed'/);
  const same = parsePipeline(SEEDS_STUDY.replace('aggregate: seed', 'aggregate: model.width'), 'big.yaml');
  assert.equal(same.ok, false);
  assert.match(JSON.stringify(!same.ok && same.problems), /the plot's x itself/);
});

test('a figure of 6,000 points stays small: x binned, one panel per other combination, every point counted', async () => {
  const s = study(`version: 1
name: many
dataset: {source: gaussian-mixture, dim: 3, samples: 8, classes: 2, two_class_targets: onehot}
model: {hidden: [2]}
sweep:
  seed: {from: 1, to: 1000}
  model.hidden: [[2], [3]]
  loss: [mse, cross-entropy, cosh]
`);
  const results = syntheticResults([['seed', Array.from({ length: 1000 }, (_, i) => i + 1)], ['model.hidden', [[2], [3]]], ['loss', ['mse', 'cross-entropy', 'cosh']]],
    ([seed]) => [10 + ((seed as number) % 2), 6, 8], () => [10, 6, 8]);
  const [figure] = reportFigures(s, results, null);
  assert.ok(figure);
  const values = (figure.static as { data: { values: Datum[] } }).data.values;
  const stats = values.filter((d) => d.role === 'stat');
  // 6 panels (hidden x loss) x PLOT_MAX_X bins x 3 Hessians; every point in exactly one bin.
  assert.equal(new Set(stats.map((d) => d.group)).size, 6);
  assert.ok(6 <= PLOT_MAX_PANELS);
  assert.equal(stats.length, 6 * PLOT_MAX_X * 3);
  assert.equal(stats.filter((d) => d.hessian === 'H_L (loss)').reduce((n, d) => n + (d.n as number), 0), 6000);
  assert.match(figure.caption, /bins of equal width/);
  const svg = await renderSvg(compileSpec(figure.static));
  assert.ok(svg.length < 2_000_000, `SVG of ${svg.length} bytes`);
  // Point by point below the limits: the figure of a small sweep is unchanged.
  const small = syntheticResults([['seed', [1, 2, 3]], ['model.hidden', [[2], [3]]], ['loss', ['mse']]], () => [10, 6, 8], () => [10, 6, 8]);
  const f = rankFigure(s, small, { x: 'seed', y: 'rank', normalize: 'none', title: null });
  assert.equal((f.static as { data: { values: Datum[] } }).data.values.length, 6 * 3);
});

test('table.md and report.html show the first rows of a big sweep, the counts of every row, and point to results.csv', () => {
  const s = study(SEEDS_STUDY.replace('to: 10}', 'to: 400}'));
  // 1,200 rows: H_L differs from the prediction at every seed divisible by 4.
  const results = syntheticResults([['model.width', [2, 4, 6]], ['seed', Array.from({ length: 400 }, (_, i) => i + 1)]],
    ([w, seed]) => [(w as number) + ((seed as number) % 4 === 0 ? 1 : 0), w as number, 2 * (w as number)],
    ([w]) => [w as number, w as number, 2 * (w as number)]);
  assert.ok(results.rows.length > TABLE_MAX_ROWS);
  const table = reportTable(s, results);
  assert.equal(table.rows.length, TABLE_FIRST_ROWS);
  assert.equal(table.total, 1200);
  const md = tableMarkdown(s, results);
  assert.match(md, /H_L \(`check_loss`\): 900 equal, 300 differ/);
  assert.match(md, /The first 100 of 1,200 rows; every row is in results\.csv and results\.json\./);
  // The header, its rule and the first rows.
  assert.equal(md.split('\n').filter((l) => l.startsWith('| ')).length, 2 + TABLE_FIRST_ROWS);
  const html = reportHtml({ study: s, results, spectra: null, provenance: null }, []);
  assert.match(html, /H_L: 900 equal, 300 differ/);
  assert.match(html, /The first 100 of 1,200 rows/);
  const body = html.slice(html.indexOf('<table class="results">'));
  const tbody = body.slice(body.indexOf('<tbody>'), body.indexOf('</tbody>'));
  assert.equal((tbody.match(/<tr>/g) ?? []).length, TABLE_FIRST_ROWS);
  // The derivations likewise: the first rows' points, and where to get any other.
  assert.equal((html.match(/<details class="derivation"/g) ?? []).length, TABLE_FIRST_ROWS);
  assert.match(html, /The first 100 of 1,200 points; <code>hrank explain .*big\.yaml --point ID<\/code> derives any other/);
  const small = reportHtml({ study: s, results: { ...results, rows: results.rows.slice(0, 30), details: results.details.slice(0, 30) }, spectra: null, provenance: null }, []);
  assert.equal((small.match(/<details class="derivation"/g) ?? []).length, 30);
  assert.doesNotMatch(small, /derives any other/);
  // At the limit, every row.
  assert.equal(reportTable(s, { ...results, rows: results.rows.slice(0, TABLE_MAX_ROWS), details: results.details.slice(0, TABLE_MAX_ROWS) }).rows.length, TABLE_MAX_ROWS);
});
