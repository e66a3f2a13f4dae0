import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Results } from '../../src/engine/kinds/collect.js';
import { loadPlan, openCache, resultsFromCache } from '../../src/study/study.js';
import type { Study } from '../../src/pipeline/types.js';
import { readFontMetrics, fontDir, textWidth } from '../../src/report/fonts.js';
import { parsePipeline } from '../../src/pipeline/load.js';
import { HESSIAN_COLOR, HESSIAN_LABEL, KINDS, checkOf, type PointSpectra } from '../../src/report/model.js';
import { FLAG_LABEL, plotList, type Flag, rankFigure, reportFigures, spectrumFigure, spectrumIndices } from '../../src/report/plots.js';
import { compileSpec, renderSvg, svgToPng, PNG_SCALE } from '../../src/report/render.js';
import { markGroups, paths, pngSize, runFixture, svgSize, type Fixture } from './helpers.js';

let fx: Fixture;
let study: Study;
let results: Results;
let spectra: readonly PointSpectra[];

before(async () => {
  fx = await runFixture();
  const plan = await loadPlan(fx.file);
  study = plan.study;
  ({ results, spectra } = await resultsFromCache(plan, openCache(fx.cache)));
});
after(() => rmSync(fx.root, { recursive: true, force: true }));

describe('rank figures', () => {
  test('the listed plots, each faceted by the other axis: one line per Hessian and panel, one dot per prediction', async () => {
    const figures = reportFigures(study, results, null);
    assert.deepEqual(figures.map((f) => f.id), ['ranks-model.width-per-params', 'ranks-model.width']);
    for (const f of figures) {
      const messages = { warnings: [] as string[] };
      const svg = await renderSvg(compileSpec(f.static, messages));
      assert.deepEqual(messages.warnings, [], `${f.id}: vega-lite warnings`);
      // 2 panels (loss = mse, cross-entropy) x 3 Hessians; every line a single path.
      const lines = markGroups(svg, 'line', 'empirical_marks');
      assert.equal(lines.length, f.expected.lines);
      assert.equal(lines.length, 2 * 3);
      for (const l of lines) assert.equal(paths(l), 1);
      // Linear network: a prediction per point and Hessian, 4 points x 3.
      const dots = markGroups(svg, 'symbol', 'predicted_marks').reduce((n, g) => n + paths(g), 0);
      assert.equal(dots, f.expected.dots);
      assert.equal(dots, results.rows.length * 3);
      // Panels are named by the other axis; the legend names the Hessians and both mark kinds.
      for (const text of ['loss = mse', 'loss = cross-entropy', 'H_L (loss)', 'H_O (outer)', 'H_F (functional)', 'empirical rank', 'prediction']) {
        assert.ok(svg.includes(`>${text}<`), `${f.id}: '${text}' drawn`);
      }
    }
  });

  test('rank / #params: the dots sit at prediction / params', async () => {
    const f = rankFigure(study, results, { x: 'model.width', y: 'rank', normalize: 'params', title: null });
    const svg = await renderSvg(compileSpec(f.static));
    assert.match(svg, />rank \/ #params</);
    const labels = [...svg.matchAll(/aria-label="([^"]*)"/g)].map((m) => m[1]!).filter((l) => l.includes('predicted:'));
    assert.equal(labels.length, results.rows.length * 3);
    const params = results.columns.indexOf('params');
    const predLoss = results.columns.indexOf('pred_loss');
    const want = results.rows.map((r) => (r[predLoss] as number) / (r[params] as number));
    for (const w of want) assert.ok(labels.some((l) => l.includes(`predicted: ${String(Number(w.toPrecision(12)))}`)), `a dot at ${w}`);
  });

  test('an interactive spec adds hover targets with tooltips; the static one has none', () => {
    const f = rankFigure(study, results, { x: 'model.width', y: 'rank', normalize: 'none', title: null });
    assert.doesNotMatch(JSON.stringify(compileSpec(f.static)), /tooltip/);
    const vega = JSON.stringify(compileSpec(f.interactive));
    assert.match(vega, /hover_marks/);
    assert.match(vega, /"tooltip"/);
  });

  test('default plots: one per numeric sweep axis', () => {
    const noPlots = { ...study, report: { plots: [], spectra: false } };
    assert.deepEqual(plotList(noPlots, results).map((p) => p.x), ['model.width']);
    const figures = reportFigures(noPlots, results, spectra);
    assert.deepEqual(figures.map((f) => f.id), ['ranks-model.width']);
  });

  test('zip sweeps draw one panel (the other axes move with x)', async () => {
    const zipped = { ...study, sweep: { ...study.sweep, mode: 'zip' as const } };
    const f = rankFigure(zipped, results, { x: 'model.width', y: 'rank', normalize: 'none', title: null });
    assert.equal(f.expected.lines, 3);
  });
});

/**
 * The fixture's results edited so every check occurs: row 1's H_L rank one above its
 * prediction (differs), row 2's H_O ambiguous, rows 2 and 3 without an H_F prediction.
 */
function edited(): Results {
  const col = (name: string): number => results.columns.indexOf(name);
  const rows = results.rows.map((r) => [...r]);
  const details = results.details.map((d) => ({ ...d, ranks: { ...d.ranks } }));
  rows[1]![col('rank_loss')] = (rows[1]![col('pred_loss')] as number) + 1;
  details[1]!.ranks.loss = { ...details[1]!.ranks.loss!, ambiguous: false };
  details[2]!.ranks.outer = { ...details[2]!.ranks.outer!, ambiguous: true };
  for (const r of [2, 3]) rows[r]![col('pred_functional')] = null;
  return { ...results, rows, details };
}

/** The aria-labels of the paths in a figure's marker groups. */
function markerLabels(svg: string): string[] {
  return markGroups(svg, 'symbol', 'flagged_marks').flatMap((g) => [...g.matchAll(/<path aria-label="([^"]*)"[^>]*stroke="([^"]*)"/g)].map((m) => `${m[1]} @${m[2]}`));
}

describe('markers on ranks that differ or are ambiguous', () => {
  test('one marker per differing or ambiguous rank, in its Hessian\'s hue, named in the legend; static and interactive', async () => {
    const res = edited();
    const flagged = res.rows.flatMap((_, i) => KINDS.filter((k) => ['differs', 'ambiguous'].includes(checkOf(res, i, k) ?? '')).map((k) => ({ i, k, check: checkOf(res, i, k)! })));
    assert.ok(flagged.some((f) => f.check === 'differs') && flagged.some((f) => f.check === 'ambiguous'), 'the fixture has both');
    const f = rankFigure(study, res, { x: 'model.width', y: 'rank', normalize: 'none', title: null });
    assert.equal(f.expected.flags, flagged.length);
    for (const spec of [f.static, f.interactive]) {
      const messages = { warnings: [] as string[] };
      const svg = await renderSvg(compileSpec(spec, messages));
      assert.deepEqual(messages.warnings, []);
      const labels = markerLabels(svg);
      assert.equal(labels.length, flagged.length);
      for (const { i, k, check } of flagged) {
        const rank = results.columns.indexOf(`rank_${k}`);
        const want = `rank: ${res.rows[i]![rank]}; Hessian: ${HESSIAN_LABEL[k]}`;
        const label = labels.find((l) => l.includes(want) && l.includes(`shape: ${FLAG_LABEL[check as Flag]}`));
        assert.ok(label, `a ${check} marker for row ${i}, ${k}: ${labels.join(' | ')}`);
        assert.ok(label.endsWith(`@${HESSIAN_COLOR[k]}`), `${label}: drawn in the hue of ${k}`);
      }
      for (const text of ['differs from the prediction', 'ambiguous', 'prediction']) assert.ok(svg.includes(`>${text}<`), `legend: ${text}`);
      // The dots are unchanged: one per prediction.
      assert.equal(markGroups(svg, 'symbol', 'predicted_marks').reduce((n, g) => n + paths(g), 0), f.expected.dots);
    }
    assert.match(f.caption, /crosses: the rank differs from the prediction; rings: the rank is numerically ambiguous/);
  });

  test('no marker and no legend entry where every rank is as predicted', async () => {
    const allEqual: Results = { ...results, details: results.details.map((d) => ({ ...d, ranks: Object.fromEntries(Object.entries(d.ranks).map(([k, r]) => [k, { ...r!, ambiguous: false }])) })) };
    assert.ok(allEqual.rows.every((_, i) => KINDS.every((k) => checkOf(allEqual, i, k) === '=')));
    const f = rankFigure(study, allEqual, { x: 'model.width', y: 'rank', normalize: 'none', title: null });
    const svg = await renderSvg(compileSpec(f.static));
    assert.equal(f.expected.flags, 0);
    assert.deepEqual(markGroups(svg, 'symbol', 'flagged_marks'), []);
    assert.ok(!svg.includes('>differs from the prediction<') && !svg.includes('>ambiguous<'));
  });
});

describe('y: difference', () => {
  test('plots rank - prediction per Hessian around a rule at 0; ranks without a prediction are left out and counted', async () => {
    const res = edited();
    const f = rankFigure(study, res, { x: 'model.width', y: 'difference', normalize: 'none', title: null });
    assert.equal(f.id, 'ranks-model.width-difference');
    const values = (f.static as unknown as { data: { values: { point: string; hessian: string; rank: number; prediction: number; value: number }[] } }).data.values;
    const want = res.rows.flatMap((_, i) => KINDS.flatMap((k) => {
      const pred = res.rows[i]![res.columns.indexOf(`pred_${k}`)];
      const rank = res.rows[i]![res.columns.indexOf(`rank_${k}`)] as number;
      return typeof pred === 'number' ? [{ point: res.details[i]!.id, hessian: HESSIAN_LABEL[k], value: rank - pred }] : [];
    }));
    assert.deepEqual(values.map((v) => ({ point: v.point, hessian: v.hessian, value: v.value })), want);
    assert.ok(values.some((v) => v.value === 1), 'the differing rank sits at +1');
    const messages = { warnings: [] as string[] };
    const svg = await renderSvg(compileSpec(f.static, messages));
    assert.deepEqual(messages.warnings, []);
    // One zero rule per panel (loss = mse, cross-entropy), no prediction dots.
    assert.equal(markGroups(svg, 'rule', 'zero_marks').length, 2);
    assert.equal(f.expected.zeroRules, 2);
    assert.deepEqual(markGroups(svg, 'symbol', 'predicted_marks'), []);
    assert.equal(markGroups(svg, 'line', 'empirical_marks').length, f.expected.lines);
    assert.match(svg, />rank - prediction</);
    assert.match(svg, />left out, no prediction applies: 2 points of H_F</);
    // Markers still mark the differing and the ambiguous rank (the ambiguous H_O at 0).
    const labels = markerLabels(svg);
    assert.ok(labels.some((l) => l.includes('rank - prediction: 1; Hessian: H_L (loss)') && l.includes('differs')), labels.join(' | '));
    assert.ok(labels.some((l) => l.includes('rank - prediction: 0; Hessian: H_O (outer)') && l.includes('ambiguous')), labels.join(' | '));
  });

  test('normalize: params divides the difference by #params', () => {
    const res = edited();
    const f = rankFigure(study, res, { x: 'model.width', y: 'difference', normalize: 'params', title: null });
    assert.equal(f.id, 'ranks-model.width-difference-per-params');
    const values = (f.static as unknown as { data: { values: { rank: number; prediction: number; params: number; value: number }[] } }).data.values;
    assert.ok(values.length > 0);
    for (const v of values) assert.equal(v.value, (v.rank - v.prediction) / v.params);
    assert.ok(values.some((v) => v.value > 0));
  });

  test('no prediction anywhere: nothing drawn, and the subtitle says why', async () => {
    const res = edited();
    const rows = res.rows.map((r) => r.map((c, j) => (res.columns[j]!.startsWith('pred_') ? null : c)));
    const f = rankFigure(study, { ...res, rows }, { x: 'model.width', y: 'difference', normalize: 'none', title: null });
    const messages = { warnings: [] as string[] };
    const svg = await renderSvg(compileSpec(f.static, messages));
    assert.deepEqual(messages.warnings, []);
    assert.equal(f.expected.lines, 0);
    assert.deepEqual(markGroups(svg, 'line', 'empirical_marks'), []);
    assert.match(svg, /nothing to draw/);
  });

  test('report.plots[].y: rank by default, difference when asked, anything else an error at its line', () => {
    const head = ['version: 1', 'name: y', 'dataset: {source: mnist, samples: 20}', 'model: {width: 4, depth: 1}', 'sweep: {model.width: [2, 3]}', 'report:', '  plots:'];
    const load = (...plots: string[]) => parsePipeline(`${[...head, ...plots].join('\n')}\n`, '/tmp/y.yaml');
    const ok = load('    - {x: model.width}', '    - {x: model.width, y: difference, normalize: params}');
    assert.ok(ok.ok);
    assert.deepEqual(ok.study.report.plots.map((p) => [p.y, p.normalize]), [['rank', 'none'], ['difference', 'params']]);
    const bad = load('    - {x: model.width, y: diff}');
    assert.ok(!bad.ok);
    const problem = bad.problems.find((p) => p.path === 'report.plots[0].y');
    assert.ok(problem, JSON.stringify(bad.problems));
    assert.equal(problem.line, 8);
    assert.match(problem.message, /rank|difference/);
  });
});

describe('spectrum figures', () => {
  test('one per point; a line per Hessian and its tolerance as a rule', async () => {
    const figures = reportFigures(study, results, spectra).filter((f) => f.kind === 'spectrum');
    assert.equal(figures.length, results.rows.length);
    assert.deepEqual(figures.map((f) => f.id), results.details.map((d) => `spectrum-${d.id.replace(/=/g, '-').replace(/,/g, '_')}`));
    const svg = await renderSvg(compileSpec(figures[0]!.static));
    const lines = markGroups(svg, 'line', 'spectrum_marks');
    assert.equal(lines.length, 3);
    for (const k of ['loss', 'outer', 'functional']) {
      const rules = markGroups(svg, 'rule', `tolerance_${k}_marks`);
      assert.equal(rules.length, 1, k);
      assert.equal((rules[0]!.match(/<line\b/g) ?? []).length, 1, `${k}: one rule`);
    }
    assert.match(svg, />\|eigenvalue\|</);
    assert.match(svg, />tolerance</);
    // The predicted counts (a linear network without bias: every Hessian has one) as vertical rules.
    for (const k of ['loss', 'outer', 'functional']) assert.equal(markGroups(svg, 'rule', `predicted_${k}_marks`).length, 1, `${k}: predicted rank`);
    assert.match(svg, /dotted: the predicted rank/);
    assert.match(svg, /rank \d+ = \d+ positive \+ \d+ negative/, 'the inertia in the subtitle');
  });

  test('long spectra are thinned but keep both ends and the values around the cut', () => {
    assert.deepEqual(spectrumIndices(5, 2), [0, 1, 2, 3, 4]);
    const kept = spectrumIndices(5000, 1234, 400);
    assert.ok(kept.length < 500, `${kept.length} values`);
    for (const i of [0, 4999, 1230, 1233, 1234, 1240]) assert.ok(kept.includes(i), `keeps ${i}`);
    assert.deepEqual(kept, [...kept].sort((a, b) => a - b));
  });

  test('exact zeros are left off the log axis and said so', async () => {
    const s = spectra[0]!.loss!;
    const values = Float64Array.from(s.values);
    values[values.length - 1] = 0;
    const f = spectrumFigure(study, results, 0, { loss: { ...s, values } });
    const svg = await renderSvg(compileSpec(f.static));
    assert.match(svg, /1 values exactly 0 are not drawn/);
  });
});

describe('SVG to PNG', () => {
  test('a valid PNG at PNG_SCALE times the SVG size; the same bytes every time', async () => {
    const f = reportFigures(study, results, spectra)[0]!;
    const svg = await renderSvg(compileSpec(f.static));
    const size = svgSize(svg);
    const png = svgToPng(svg);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.deepEqual(pngSize(png), { width: Math.round(size.width * PNG_SCALE), height: Math.round(size.height * PNG_SCALE) });
    assert.ok(png.length > 20_000, `${png.length} bytes: text and lines drawn`);
    assert.equal(await renderSvg(compileSpec(f.static)), svg, 'SVG deterministic');
    assert.deepEqual(svgToPng(svg), png, 'PNG deterministic');
  });

  test('pngSize rejects what is not a PNG', () => {
    assert.throws(() => pngSize(new TextEncoder().encode('<svg></svg> and more bytes here')), /not a PNG/);
  });

  test('the written PNGs and SVGs of the run match', () => {
    const dir = path.join(fx.run.dir, 'plots');
    for (const f of reportFigures(study, results, spectra)) {
      const svg = readFileSync(path.join(dir, `${f.id}.svg`), 'utf8');
      const png = readFileSync(path.join(dir, `${f.id}.png`));
      const size = svgSize(svg);
      assert.deepEqual(pngSize(png), { width: Math.round(size.width * PNG_SCALE), height: Math.round(size.height * PNG_SCALE) }, f.id);
    }
  });
});

describe('fonts', () => {
  test('advance widths come from the DejaVu files', () => {
    const m = readFontMetrics(readFileSync(path.join(fontDir(), 'DejaVuSans.ttf')));
    assert.equal(m.advance('H'.codePointAt(0)!), 1540 / 2048);
    assert.equal(m.advance(' '.codePointAt(0)!), 651 / 2048);
    assert.ok(textWidth('Hessian', 12, true) > textWidth('Hessian', 12));
    assert.equal(textWidth('', 12), 0);
  });
});
