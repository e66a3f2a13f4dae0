/**
 * Estimates (the linear formulas for a nonlinear network) are never shown as predictions: the
 * check is `~` with the relative difference, the figures draw them as hollow diamonds in their own
 * layer (not the prediction dots), and the spectrum figure names them estimates.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Results } from '../../src/engine/kinds/collect.js';
import type { Study } from '../../src/pipeline/types.js';
import { checkOf, checkText, relativeDifference, type PointSpectra } from '../../src/report/model.js';
import { rankFigure, spectrumFigure } from '../../src/report/plots.js';
import { compileSpec, renderSvg } from '../../src/report/render.js';
import { reportTable, tableMarkdown } from '../../src/report/table.js';
import { loadPlan, openCache, resultsFromCache } from '../../src/study/study.js';
import { markGroups, paths, runFixture, type Fixture } from './helpers.js';

const BODY = `dataset: {source: gaussian-mixture, dim: 5, samples: 12, classes: 3}
model: {width: 3, depth: 1}
sweep:
  model.activation: [linear, tanh]
  model.width: [2, 3]
report:
  spectra: true
`;

let fx: Fixture;
let study: Study;
let results: Results;
let spectra: readonly PointSpectra[];
before(async () => {
  fx = await runFixture(BODY, 'estimates');
  const plan = await loadPlan(fx.file);
  study = plan.study;
  ({ results, spectra } = await resultsFromCache(plan, openCache(fx.cache)));
});
after(() => rmSync(fx.root, { recursive: true, force: true }));

const col = (name: string): number => results.columns.indexOf(name);

test('pred_kind: exact for the linear points, estimate for the tanh ones; the checks follow', () => {
  const kinds = results.rows.map((r) => [r[col('model.activation')], r[col('pred_kind')]]);
  assert.deepEqual(kinds, [['linear', 'exact'], ['linear', 'exact'], ['tanh', 'estimate'], ['tanh', 'estimate']]);
  const table = reportTable(study, results);
  const check = table.columns.findIndex((c) => c.name === 'check_functional');
  results.rows.forEach((r, i) => {
    const c = checkOf(results, i, 'functional');
    if (r[col('pred_kind')] === 'estimate') {
      assert.ok(c === '~' || c === 'ambiguous', `row ${i}: ${c}`);
      if (c === '~') {
        const rank = r[col('rank_functional')] as number, pred = r[col('pred_functional')] as number;
        const pct = (100 * (rank - pred)) / pred;
        assert.equal(table.rows[i]![check], `~ ${relativeDifference(results, i, 'functional')}`);
        assert.match(table.rows[i]![check]!, pct === 0 ? /^~ 0%$/ : pct > 0 ? /^~ \+\d/ : /^~ -\d/);
      }
    } else assert.ok(c === '=' || c === 'ambiguous', `row ${i}: ${c}`);
  });
  assert.match(tableMarkdown(study, results), /- `~`: the prediction is an estimate/);
});

test('relative differences: signed percent, one decimal below 10%', () => {
  const r: Results = {
    columns: ['rank_loss', 'pred_loss', 'pred_kind', 'rank_outer', 'pred_outer', 'rank_functional', 'pred_functional'],
    rows: [[942, 850, 'estimate', 150, 188, 96, 96]],
    details: [{ id: 'x', prediction: { applicable: true, kind: 'estimate' }, ranks: {}, input_cov: undefined as never }],
  };
  assert.equal(checkText(r, 0, 'loss'), '~ +11%');
  assert.equal(checkText(r, 0, 'outer'), '~ -20%');
  assert.equal(checkText(r, 0, 'functional'), '~ 0%');
  assert.equal(relativeDifference({ ...r, rows: [[101, 100, 'estimate', null, null, null, null]] }, 0, 'loss'), '+1.0%');
});

test('figures: estimates are hollow diamonds in their own layer, never prediction dots', async () => {
  const f = rankFigure(study, results, { x: 'model.width', y: 'rank', normalize: 'none', title: null });
  const svg = await renderSvg(compileSpec(f.static));
  // Counted by their labels: a panel's empty mark group is written self-closed, which the
  // group-slicing helper would read into the next group.
  const dots = (svg.match(/aria-label="[^"]*shape: prediction"/g) ?? []).length;
  const diamonds = (svg.match(/aria-label="[^"]*shape: estimate \(linear formula\)"/g) ?? []).length;
  assert.ok(markGroups(svg, 'symbol', 'estimated_marks').length > 0 && paths(svg) > 0);
  assert.equal(dots, f.expected.dots);
  assert.equal(diamonds, f.expected.estimates);
  assert.equal(dots, 2 * 3, 'two linear points x three Hessians');
  assert.equal(diamonds, 2 * 3, 'two tanh points x three Hessians');
  assert.ok(svg.includes('>estimate (linear formula)<'), 'the legend names the estimates');
  // Hollow (no fill of their own under the root's fill="none") and dashed; the dots are filled.
  const estimatePaths = [...svg.matchAll(/<path aria-label="[^"]*shape: estimate \(linear formula\)"[^>]*>/g)].map((m) => m[0]);
  for (const p of estimatePaths) { assert.doesNotMatch(p, / fill="/); assert.match(p, /stroke-dasharray=/); }
  const dotPaths = [...svg.matchAll(/<path aria-label="[^"]*shape: prediction"[^>]*>/g)].map((m) => m[0]);
  for (const p of dotPaths) assert.match(p, / fill="#/);
  assert.match(f.caption, /hollow diamonds: estimates/);
  const tanhRow = results.rows.findIndex((r) => r[col('model.activation')] === 'tanh');
  const spectrum = spectrumFigure(study, results, tanhRow, spectra[tanhRow]!);
  assert.match(spectrum.caption, /dotted vertical: the linear formula's estimate/);
});
