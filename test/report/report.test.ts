import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Cell, Results } from '../../src/engine/kinds/collect.js';
import { NotCachedError, loadPlan, openCache, reportFromCache, resultsFromCache } from '../../src/study/study.js';
import { resultsCsv } from '../../src/report/results.js';
import { checkOf } from '../../src/report/model.js';
import { PALETTE, compactNumber, escapeHtml, scriptJson } from '../../src/report/html.js';
import { buildReport, readProvenance } from '../../src/report/report.js';
import { reportTable, tableMarkdown } from '../../src/report/table.js';
import { runFixture, type Fixture } from './helpers.js';

let fx: Fixture;

before(async () => {
  fx = await runFixture();
});
after(() => rmSync(fx.root, { recursive: true, force: true }));

/** Every file and folder under a folder, relative, sorted. */
function listFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** Table rows of a Markdown table (lines starting with '|', minus the header and the rule). */
function markdownRows(md: string): string[][] {
  const lines = md.split('\n').filter((l) => l.startsWith('|'));
  return lines.slice(2).map((l) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
}

describe('after hrank run', () => {
  test('the results folder holds the results, table.md, report.html and the plots (no temp files)', () => {
    const files = listFiles(fx.run.dir);
    for (const f of ['results.csv', 'results.json', 'details.json', 'provenance.json', 'timings.json', 'table.md', 'report.html']) {
      assert.ok(files.includes(f), f);
    }
    const plots = readdirSync(path.join(fx.run.dir, 'plots')).sort();
    // 2 rank figures + 4 spectra, each as SVG and PNG.
    assert.equal(plots.length, (2 + 4) * 2, plots.join(', '));
    assert.ok(plots.includes('ranks-model.width-per-params.png'));
    assert.ok(plots.includes('spectrum-loss-mse_model.width-2.svg'));
    assert.ok(!files.some((f) => f.endsWith('.tmp')), 'no temp files');
    // The run reports what it wrote; report.html last.
    assert.equal(path.basename(fx.run.files[fx.run.files.length - 1]!), 'report.html');
    for (const f of fx.run.files) assert.ok(existsSync(f), f);
  });

  test('table.md: one row per results row, the axes first, a check per Hessian', () => {
    const md = readFileSync(path.join(fx.run.dir, 'table.md'), 'utf8');
    const results = JSON.parse(readFileSync(path.join(fx.run.dir, 'results.json'), 'utf8')) as Record<string, Cell>[];
    const rows = markdownRows(md);
    assert.equal(rows.length, results.length);
    const header = md.split('\n').find((l) => l.startsWith('|'))!.slice(1, -1).split('|').map((c) => c.trim());
    assert.deepEqual(header.slice(0, 2), ['loss', 'model.width']);
    for (const k of ['loss', 'outer', 'functional']) {
      const col = header.indexOf(`check_${k}`);
      assert.ok(col > 0, `check_${k}`);
      rows.forEach((r, i) => {
        const want = results[i]![`rank_${k}`] === results[i]![`pred_${k}`] ? /^(=|ambiguous)$/ : /^(differs|ambiguous)$/;
        assert.match(r[col]!, want, `${k} row ${i}`);
      });
    }
    assert.match(md, /^# fixture$/m);
    assert.match(md, /^report fixture$/m);
  });

  test('the HTML is one self-contained file: inline scripts only, no URL to fetch, text escaped', () => {
    const html = readFileSync(path.join(fx.run.dir, 'report.html'), 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.doesNotMatch(html, /<script[^>]+\bsrc=/i, 'no external script');
    assert.doesNotMatch(html, /<link[^>]+rel="stylesheet"/i, 'no external stylesheet');
    assert.doesNotMatch(html, /<(img|iframe|source)\b[^>]+\bsrc="(?!data:)/i);
    assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;/);
    assert.ok(html.includes('t.version="6.4.0"') || /vega/.test(html), 'vega inlined');
    // The pipeline text (escaped), the provenance and the table are in the page.
    const pipeline = readFileSync(fx.file, 'utf8');
    assert.ok(html.includes(escapeHtml(pipeline)), 'pipeline file text');
    const provenance = JSON.parse(readFileSync(path.join(fx.run.dir, 'provenance.json'), 'utf8')) as { pipeline: { sha256: string }; started: string };
    assert.ok(html.includes(provenance.pipeline.sha256));
    assert.ok(html.includes(provenance.started));
    const table = html.slice(html.indexOf('<table class="results">'), html.indexOf('</table>', html.indexOf('<table class="results">')));
    const body = table.slice(table.indexOf('<tbody>'));
    assert.equal((body.match(/<tr>/g) ?? []).length, 4, 'a table row per point');
    // A plot title with markup characters appears escaped, never raw.
    assert.ok(!html.includes('<raw>'), 'title escaped');
    assert.ok(html.includes('Ranks | &lt;raw&gt; &amp; &quot;quoted&quot;'));
  });

  test('scriptJson cannot end the script element it sits in', () => {
    const text = scriptJson({ a: '</script><!-- x -->', b: '\u2028' });
    assert.ok(!text.includes('</script') && !text.includes('<!--'));
    assert.deepEqual(JSON.parse(text), { a: '</script><!-- x -->', b: '\u2028' });
  });
});

describe('hrank report: rebuilt from the cache', () => {
  test('the same table and plots as the run, nothing computed; provenance kept', async () => {
    const before = new Map(['table.md', 'plots/ranks-model.width.svg', 'plots/ranks-model.width.png'].map((f) => [f, readFileSync(path.join(fx.run.dir, f))]));
    rmSync(path.join(fx.run.dir, 'table.md'));
    rmSync(path.join(fx.run.dir, 'report.html'));
    const cache = openCache(fx.cache);
    const r = await reportFromCache(fx.file, { cache: fx.cache, results: fx.results });
    assert.equal(r.dir, fx.run.dir);
    for (const [f, bytes] of before) assert.deepEqual(readFileSync(path.join(fx.run.dir, f)), bytes, f);
    const html = readFileSync(path.join(fx.run.dir, 'report.html'), 'utf8');
    const provenance = await readProvenance(fx.run.dir, r.plan.study);
    assert.ok(provenance && html.includes(provenance.started), 'the run provenance is shown');
    assert.equal(cache.stats.writes, 0);
  });

  test('resultsFromCache rebuilds results.csv byte for byte', async () => {
    const plan = await loadPlan(fx.file);
    const { results } = await resultsFromCache(plan, openCache(fx.cache));
    assert.equal(resultsCsv(results), readFileSync(path.join(fx.run.dir, 'results.csv'), 'utf8'));
  });

  test('a step missing from the cache: NotCachedError names it, nothing is written', async () => {
    const plan = await loadPlan(fx.file);
    const step = plan.byId.get('spectrum[loss=cross-entropy,model.width=3]')!;
    const cache = openCache(fx.cache);
    const entry = cache.entryPath(step.key);
    const saved = readFileSync(entry);
    rmSync(entry);
    const mtime = readFileSync(path.join(fx.run.dir, 'report.html'));
    try {
      await assert.rejects(reportFromCache(fx.file, { cache: fx.cache, results: fx.results }), (err: unknown) => {
        assert.ok(err instanceof NotCachedError);
        assert.deepEqual(err.missing, [step.id]);
        assert.match(err.message, /1 step is not in the cache .*spectrum\[loss=cross-entropy,model.width=3\]/);
        return true;
      });
      assert.deepEqual(readFileSync(path.join(fx.run.dir, 'report.html')), mtime, 'report untouched');
    } finally {
      writeFileSync(entry, saved);
    }
  });

  test('figures no longer made are removed; other files are left alone', async () => {
    const plots = path.join(fx.run.dir, 'plots');
    writeFileSync(path.join(plots, 'ranks-old-axis.png'), 'stale');
    writeFileSync(path.join(plots, 'notes.txt'), 'mine');
    await reportFromCache(fx.file, { cache: fx.cache, results: fx.results });
    assert.ok(!existsSync(path.join(plots, 'ranks-old-axis.png')));
    assert.ok(existsSync(path.join(plots, 'notes.txt')));
    rmSync(path.join(plots, 'notes.txt'));
  });

  test('provenance.json of another version of the file is not shown', async () => {
    const plan = await loadPlan(fx.file);
    const other = { ...plan.study, text: `${plan.study.text}\n# edited\n` };
    assert.equal(await readProvenance(fx.run.dir, other), null);
    assert.notEqual(await readProvenance(fx.run.dir, plan.study), null);
  });
});

describe('without spectra at hand', () => {
  test('a study that asks for spectra but has none (--no-cache) gets the rank figures and a note', async () => {
    const plan = await loadPlan(fx.file);
    const { results } = await resultsFromCache(plan, openCache(fx.cache));
    const built = await buildReport({ study: plan.study, results, spectra: null, provenance: null });
    assert.deepEqual(built.figures.map((f) => f.kind), ['ranks', 'ranks']);
    const html = built.files.find((f) => f.name === 'report.html')!.data as string;
    assert.match(html, /Spectra were asked for \(report.spectra: true\) but the eigenvalues are not at hand/);
    assert.match(html, /the report was rebuilt from the cache/, 'no provenance: said so');
  });
});

describe('checks', () => {
  test('=, differs, ambiguous, n/a and empty where the Hessian was not computed', async () => {
    const plan = await loadPlan(fx.file);
    const { results } = await resultsFromCache(plan, openCache(fx.cache));
    const col = (name: string): number => results.columns.indexOf(name);
    const rows = results.rows.map((r) => [...r]);
    const details = results.details.map((d) => ({ ...d, ranks: { ...d.ranks } }));
    // Row 0 as computed; row 1 a rank off by one; row 2 ambiguous; row 3 without predictions and H_O.
    (rows[1]![col('rank_loss')] as number | null) = (rows[1]![col('pred_loss')] as number) + 1;
    details[2]!.ranks.loss = { ...details[2]!.ranks.loss!, ambiguous: true };
    for (const k of ['pred_loss', 'pred_outer', 'pred_functional', 'rank_outer']) rows[3]![col(k)] = null;
    const edited: Results = { ...results, rows, details };
    const ambiguousBefore = results.details[0]!.ranks.loss!.ambiguous;
    assert.equal(checkOf(edited, 0, 'loss'), ambiguousBefore ? 'ambiguous' : '=');
    assert.equal(checkOf(edited, 1, 'loss'), results.details[1]!.ranks.loss!.ambiguous ? 'ambiguous' : 'differs');
    assert.equal(checkOf(edited, 2, 'loss'), 'ambiguous');
    assert.equal(checkOf(edited, 3, 'functional'), results.details[3]!.ranks.functional!.ambiguous ? 'ambiguous' : 'n/a');
    assert.equal(checkOf(edited, 3, 'outer'), null);
    const table = reportTable(plan.study, edited);
    assert.equal(table.rows.length, 4);
    const outer = table.columns.findIndex((c) => c.name === 'check_outer');
    assert.equal(table.rows[3]![outer], '');
    const md = tableMarkdown(plan.study, edited);
    assert.equal(markdownRows(md).length, 4);
    assert.match(md, /differs|ambiguous/);
  });

  test('gaps read with 2 decimals in every row (6.80 and 12.00 beside 12.48)', async () => {
    const plan = await loadPlan(fx.file);
    const { results } = await resultsFromCache(plan, openCache(fx.cache));
    const col = results.columns.indexOf('gap_loss');
    const rows = results.rows.map((r, i) => r.map((c, j) => (j === col ? [6.8, 12, 12.48, null][i] ?? null : c)));
    const table = reportTable(plan.study, { ...results, rows });
    const gap = table.columns.findIndex((c) => c.name === 'gap_loss');
    assert.deepEqual(table.rows.map((r) => r[gap]), ['6.80', '12.00', '12.48', ''].slice(0, rows.length));
  });
});

/** The body of the first `@media <query> {...}` block of a stylesheet (braces matched). */
function mediaBlock(css: string, query: string): string {
  const start = css.indexOf(`@media ${query} {`);
  assert.ok(start >= 0, `@media ${query}`);
  let depth = 0;
  for (let i = css.indexOf('{', start); i < css.length; i++) {
    if (css[i] === '{') depth++;
    else if (css[i] === '}' && --depth === 0) return css.slice(css.indexOf('{', start) + 1, i);
  }
  assert.fail(`@media ${query}: unbalanced braces`);
}

/** The declarations of the rule for `selector` in a stylesheet ('' when none). */
function ruleOf(css: string, selector: string): string {
  const at = css.indexOf(`\n${selector} {`) >= 0 ? css.indexOf(`\n${selector} {`) : css.indexOf(`  ${selector} {`);
  if (at < 0) return '';
  return css.slice(css.indexOf('{', at) + 1, css.indexOf('}', at));
}

/** WCAG 2 contrast ratio of two #rrggbb colours. */
function contrast(a: string, b: string): number {
  const lum = (hex: string): number => {
    const [r, g, bl] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

describe('report.html: a laptop screen, paper and dark mode', () => {
  let html: string;
  let css: string;
  before(async () => {
    const plan = await loadPlan(fx.file);
    const { results, spectra } = await resultsFromCache(plan, openCache(fx.cache));
    const built = await buildReport({ study: plan.study, results, spectra, provenance: null });
    html = built.files.find((f) => f.name === 'report.html')!.data as string;
    css = html.slice(html.indexOf('<style>') + 7, html.indexOf('</style>'));
  });

  test('print: nothing scrolls or is clipped, figures and legend stay whole, the table repeats its header, screen controls are hidden', () => {
    const print = mediaBlock(css, 'print');
    assert.match(ruleOf(print, '.table-wrap'), /overflow: visible;.*max-height: none/);
    assert.match(ruleOf(print, 'table.results thead'), /position: static;.*display: table-header-group/);
    assert.match(ruleOf(print, 'table.results th, table.results td'), /white-space: normal;.*overflow-wrap: anywhere/);
    assert.match(ruleOf(print, 'table.results'), /width: 100%;.*font-size: 7.5pt/);
    assert.match(ruleOf(print, 'figure.plot'), /overflow: visible;.*break-inside: avoid/);
    assert.match(ruleOf(print, 'figure.plot .vega svg'), /max-width: 100%;.*height: auto/);
    assert.match(ruleOf(print, 'ul.counts, dl.legend'), /break-inside: avoid/);
    assert.match(ruleOf(print, 'pre.pipeline'), /overflow: visible;.*white-space: pre-wrap/);
    assert.match(ruleOf(print, 'nav, .screen-only, details > summary, #hrank-tooltip'), /display: none/);
    // Paper is white: the light palette, whatever the screen prefers.
    for (const [k, v] of Object.entries(PALETTE.light)) assert.ok(print.includes(`--${k}: ${v};`), `print --${k}`);
    // The hover hint is a screen-only control; closed details are opened for printing.
    assert.match(html, /<p class="note screen-only">Hover a point/);
    assert.match(html, /addEventListener\('beforeprint'/);
  });

  test('dark mode: every colour of the page has a dark value, and text keeps a contrast of at least 4.5:1', () => {
    const dark = mediaBlock(css, '(prefers-color-scheme: dark)');
    assert.match(dark, /color-scheme: dark/);
    for (const [k, v] of Object.entries(PALETTE.dark)) assert.ok(dark.includes(`--${k}: ${v};`), `dark --${k}`);
    assert.deepEqual(Object.keys(PALETTE.dark).sort(), Object.keys(PALETTE.light).sort());
    // No colour outside the palette in the page's own rules, except the figures' white card.
    const rules = css.replace(/@media[^{]*\{[^]*?\n\}/g, '').replace(/:root \{[^}]*\}/g, '');
    assert.deepEqual([...new Set(rules.match(/#[0-9a-f]{3,6}\b/gi) ?? [])].sort(), ['#5f6368', '#d0d4d9', '#ffffff']);
    assert.match(ruleOf(css, 'figure.plot'), /background: #ffffff/);
    for (const [name, p] of Object.entries(PALETTE)) {
      const pairs: [string, string][] = [
        ['fg', 'bg'], ['fg', 'card'], ['fg', 'head'], ['fg', 'stripe'], ['fg', 'hover'], ['fg', 'tip-bg'], ['muted', 'bg'], ['muted', 'card'],
        ['muted', 'tip-bg'], ['accent', 'bg'], ['eq', 'card'], ['eq', 'stripe'], ['eq', 'hover'], ['na', 'card'], ['na', 'stripe'],
        ['differs', 'differs-bg'], ['ambiguous', 'ambiguous-bg'],
      ];
      for (const [fg, bg] of pairs) {
        const c = contrast(p[fg as keyof typeof p], p[bg as keyof typeof p]);
        assert.ok(c >= 4.5, `${name}: ${fg} on ${bg} has contrast ${c.toFixed(2)}`);
      }
    }
  });

  test('the table fits a laptop: it scrolls in its own box, header and first column stay, headers are short with a tooltip', () => {
    assert.match(ruleOf(css, '.table-wrap'), /overflow: auto;.*max-width: 100%;.*max-height: 80vh/);
    assert.match(ruleOf(css, 'table.results thead'), /position: sticky; top: 0/);
    assert.match(ruleOf(css, 'table.results .key'), /position: sticky; left: 0/);
    const table = html.slice(html.indexOf('<table class="results">'), html.indexOf('</table>', html.indexOf('<table class="results">')));
    const head = table.slice(0, table.indexOf('</thead>'));
    assert.equal((head.match(/<tr>/g) ?? []).length, 2, 'two header rows');
    const ths = [...head.matchAll(/<th\b([^>]*)>([^<]*)<\/th>/g)];
    for (const th of ths) assert.match(th[1]!, /title="[^"]+"/, `${th[2]}: a tooltip`);
    const labels = ths.map((th) => th[2]);
    assert.deepEqual(labels, ['loss', 'width', '#params', 'H_L (loss)', 'H_O (outer)', 'H_F (functional)', ...Array(3).fill(['rank', 'pred', 'gap', 'check']).flat()]);
    assert.match(head, /<th scope="col" rowspan="2" class="num" title="sweep axis model.width">width<\/th>/);
    assert.match(head, /colspan="4" class="group"[^>]*>H_L \(loss\)</);
    assert.match(head, /title="rank_loss: empirical rank of H_L/);
    // The first column is the sticky key, in the header and in every row.
    const rows = table.slice(table.indexOf('<tbody>')).split('<tr>').slice(1);
    assert.equal(rows.length, 4);
    for (const r of rows) assert.match(r, /^<td class="key">/);
    assert.match(ths[0]![1]!, /class="key"/);
    // No header label longer than its Hessian group's title: every column is narrow.
    assert.ok(labels.every((l) => l!.length <= 'H_F (functional)'.length));
  });

  test('long numbers are shortened in the table, their full text in the tooltip', () => {
    assert.equal(compactNumber('0.30000000000000004'), '0.3');
    assert.equal(compactNumber('1.23456789e-7'), '1.235e-7');
    assert.equal(compactNumber('15.22'), '15.22');
    assert.equal(compactNumber('7280'), '7280');
    assert.equal(compactNumber('12345678901'), '12345678901');
    assert.equal(compactNumber(''), '');
    assert.equal(compactNumber('cross-entropy'), 'cross-entropy');
  });
});
