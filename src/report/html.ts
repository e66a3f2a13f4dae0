/**
 * `report.html`: one self-contained page (no network: every script and style is inline, and a
 * Content-Security-Policy forbids fetching anything). It holds the interactive plots (vega's
 * UMD build, inlined, draws the vega specs compiled in Node; hovering a point shows its values),
 * the results table, the pipeline file and the provenance. It follows the reader's light or dark
 * preference, fits its table to a laptop screen (short headers, scrolling in its own box), and
 * prints whole: figures, legend, table and pipeline file fit the page.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as vega from 'vega';
import { HRANK_VERSION } from '../version.js';
import { CHECK_MEANING, HESSIAN_LABEL, HESSIAN_SYMBOL, checkCounts, checkSummary, presentKinds, type Check, type ReportInput } from './model.js';
import type { Figure } from './plots.js';
import { TABLE_FIRST_ROWS, TABLE_MAX_ROWS, reportTable, truncationNote, type ReportTable, type TableColumn } from './table.js';
import { derivationText, resultDerivations } from './derivation.js';

/** A figure as the page receives it: compiled to vega in Node. */
export interface PageFigure {
  readonly figure: Figure;
  readonly vega: vega.Spec;
}

let vegaSource: string | undefined;

/** vega's UMD build (`vega/build/vega.min.js`), read once. */
export function vegaScript(): string {
  if (vegaSource === undefined) {
    // vega exports only its ESM entry (build/vega.module.js); the UMD build sits beside it.
    const file = path.join(path.dirname(createRequire(import.meta.url).resolve('vega')), 'vega.min.js');
    const text = readFileSync(file, 'utf8');
    if (/<\/script|<!--/i.test(text)) throw new Error(`${file} holds a sequence that would end an inline script`);
    vegaSource = text;
  }
  return vegaSource;
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** JSON that is safe inside a `<script>` element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const CSP = [
  "default-src 'none'",
  // vega compiles its expressions with Function(): 'unsafe-eval'.
  "script-src 'unsafe-inline' 'unsafe-eval'",
  "style-src 'unsafe-inline'",
  'img-src data:',
].join('; ');

const CHECK_CLASS: Readonly<Record<Check, string>> = { '=': 'eq', differs: 'differs', ambiguous: 'ambiguous', '~': 'estimate', 'n/a': 'na', outside: 'na' };

type PaletteKey =
  | 'bg' | 'fg' | 'muted' | 'line' | 'accent' | 'card' | 'head' | 'stripe' | 'hover'
  | 'eq' | 'differs' | 'differs-bg' | 'ambiguous' | 'ambiguous-bg' | 'na' | 'tip-bg' | 'tip-line';

/**
 * The page's colours, as CSS custom properties. The dark palette keeps the light one's contrast
 * (text at least 4.5:1 on its background: a test computes it). Printing always uses the light one:
 * paper is white, whatever the screen prefers.
 */
export const PALETTE: Readonly<Record<'light' | 'dark', Readonly<Record<PaletteKey, string>>>> = {
  light: {
    bg: '#fafafa', fg: '#1d1d1f', muted: '#5f6368', line: '#e3e3e3', accent: '#1f77b4', card: '#ffffff', head: '#f3f4f6',
    stripe: '#f7f8fa', hover: '#eaf2fd', eq: '#1a7f37', differs: '#c62828', 'differs-bg': '#fdecec', ambiguous: '#8a5a00',
    'ambiguous-bg': '#fff4d6', na: '#6b7075', 'tip-bg': '#ffffff', 'tip-line': '#bbbbbb',
  },
  dark: {
    bg: '#16181b', fg: '#e4e6e9', muted: '#a5abb3', line: '#3a3f45', accent: '#7ab8f5', card: '#1f2226', head: '#2a2e33',
    stripe: '#24282c', hover: '#2c3440', eq: '#5fd17a', differs: '#ff8a80', 'differs-bg': '#4a1f1f', ambiguous: '#f2c15a',
    'ambiguous-bg': '#43360f', na: '#9aa0a6', 'tip-bg': '#25292e', 'tip-line': '#555b62',
  },
};

const cssVariables = (palette: Readonly<Record<PaletteKey, string>>): string =>
  Object.entries(palette).map(([k, v]) => `--${k}: ${v};`).join(' ');

/**
 * The figures keep their white card in dark mode: they are the same drawings as the SVG and PNG
 * files (one spec, one palette chosen for white paper), so the page shows what a paper or a
 * slide will. A second, dark vega config would double every spec in the page and let the
 * screen and the files disagree.
 */
const FIGURE_CARD = 'background: #ffffff; color: #5f6368; border-color: #d0d4d9;';

const STYLE = `
:root { color-scheme: light; ${cssVariables(PALETTE.light)} }
@media (prefers-color-scheme: dark) {
  :root { color-scheme: dark; ${cssVariables(PALETTE.dark)} }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "DejaVu Sans", Verdana, Arial, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 8px; }
p.lead { margin: 0 0 6px; color: var(--muted); }
a { color: var(--accent); }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; }
nav { margin: 14px 0 0; display: flex; gap: 18px; flex-wrap: wrap; }
nav a { text-decoration: none; }
nav a:hover { text-decoration: underline; }
.plots { display: flex; flex-wrap: wrap; gap: 20px; }
figure.plot { margin: 0; border: 1px solid; border-radius: 6px; padding: 10px; min-width: 0; max-width: 100%; ${FIGURE_CARD} }
/* vega draws at its own size; a figure wider than the page shrinks to fit (the SVG has a viewBox). */
figure.plot .vega svg { display: block; max-width: 100%; height: auto; }
figure.plot figcaption { font-size: 13px; margin-top: 6px; max-width: 640px; }
details.spectra > summary { cursor: pointer; color: var(--accent); margin-bottom: 12px; }
details.derivation > summary { cursor: pointer; margin: 4px 0; }
.note { color: var(--muted); font-size: 14px; }
/* The table scrolls inside its own box (both ways), never the page; header and first column stay in view. */
.table-wrap { overflow: auto; max-width: 100%; max-height: 80vh; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; font-size: 13px; }
table.results { border-collapse: separate; border-spacing: 0; }
table.results th, table.results td { padding: 3px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.results thead { position: sticky; top: 0; z-index: 2; }
table.results thead th { background: var(--head); text-align: left; font-weight: 600; vertical-align: bottom; }
table.results thead th[title] { cursor: help; }
table.results th.group { text-align: center; }
table.results .group, table.results .first { border-left: 1px solid var(--line); }
table.results td.num, table.results th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.results tbody tr { background: var(--card); }
table.results tbody tr:nth-child(even) { background: var(--stripe); }
table.results tbody tr:hover { background: var(--hover); }
table.results .key { position: sticky; left: 0; z-index: 1; box-shadow: inset -1px 0 var(--line); }
table.results thead .key { z-index: 3; }
table.results tbody .key { background: inherit; }
td.check { font-weight: 600; text-align: center; }
table.results th.check { text-align: center; }
td.check.eq { color: var(--eq); }
td.check.differs { color: var(--differs); background: var(--differs-bg); }
td.check.ambiguous { color: var(--ambiguous); background: var(--ambiguous-bg); }
td.check.na { color: var(--na); font-weight: normal; }
td.check.estimate { color: var(--na); font-weight: normal; font-style: italic; white-space: nowrap; }
ul.counts { margin: 6px 0 14px; padding-left: 20px; }
dl.legend { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; font-size: 13px; color: var(--muted); margin: 12px 0 0; }
dl.legend dt { font-weight: 600; }
dl.legend dd { margin: 0; }
pre.pipeline { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; overflow-x: auto; font: 13px/1.45 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
table.provenance th { text-align: left; padding: 3px 16px 3px 0; color: var(--muted); font-weight: normal; vertical-align: top; }
table.provenance td { padding: 3px 0; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
#hrank-tooltip { position: fixed; z-index: 10; pointer-events: none; color: var(--fg); background: var(--tip-bg); border: 1px solid var(--tip-line); border-radius: 5px; box-shadow: 0 2px 8px rgba(0,0,0,0.25); padding: 6px 9px; font-size: 12px; max-width: 420px; }
#hrank-tooltip table td { padding: 1px 6px 1px 0; }
#hrank-tooltip table td:first-child { color: var(--muted); }
#hrank-tooltip table td:last-child { font-weight: 600; }
/*
 * Paper: the light palette whatever the screen prefers; nothing scrolls or is clipped (figures
 * shrink to the page width, the table and the pipeline file wrap); figures and the legend are
 * not split across pages; the table's header rows repeat on every page; the controls that only
 * work on a screen (navigation, the spectra toggle, the hover hint, the tooltip) are left out.
 */
@media print {
  :root { color-scheme: light; ${cssVariables(PALETTE.light)} }
  @page { margin: 12mm; }
  body { background: #ffffff; font-size: 10pt; }
  main { max-width: none; margin: 0; padding: 0; }
  nav, .screen-only, details > summary, #hrank-tooltip { display: none !important; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  .plots { display: block; }
  figure.plot { display: block; width: auto; max-width: 100%; overflow: visible; border: none; padding: 0; margin: 0 0 12pt; break-inside: avoid; page-break-inside: avoid; }
  figure.plot .vega svg { max-width: 100%; height: auto; }
  .table-wrap { overflow: visible; max-height: none; border: none; border-radius: 0; }
  table.results { width: 100%; font-size: 7.5pt; }
  table.results th, table.results td { white-space: normal; overflow-wrap: anywhere; padding: 1pt 3pt; }
  table.results thead { position: static; display: table-header-group; }
  table.results .key { position: static; box-shadow: none; }
  table.results tr { break-inside: avoid; page-break-inside: avoid; }
  td.check, table.results thead th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  ul.counts, dl.legend { break-inside: avoid; page-break-inside: avoid; }
  pre.pipeline { overflow: visible; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 8.5pt; }
  table.provenance td { white-space: normal; }
  a { color: inherit; text-decoration: none; }
}
`;

/** The page's own script: draws each figure with vega and shows tooltips. Plain ES2017, no imports. */
const BOOT = `
(function () {
  'use strict';
  var figures = JSON.parse(document.getElementById('hrank-figures').textContent);
  var tip = document.getElementById('hrank-tooltip');
  function show(event, value) {
    while (tip.firstChild) tip.removeChild(tip.firstChild);
    var entries = value !== null && typeof value === 'object' ? Object.keys(value).map(function (k) { return [k, value[k]]; }) : [['', value]];
    var table = document.createElement('table');
    entries.forEach(function (e) {
      if (e[1] === null || e[1] === undefined || e[1] === '') return;
      var tr = document.createElement('tr');
      var k = document.createElement('td'); k.textContent = e[0];
      var v = document.createElement('td'); v.textContent = String(e[1]);
      tr.appendChild(k); tr.appendChild(v); table.appendChild(tr);
    });
    tip.appendChild(table);
    tip.hidden = false;
    var x = event.clientX + 14, y = event.clientY + 14;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 4) x = Math.max(4, event.clientX - w - 14);
    if (y + h > window.innerHeight - 4) y = Math.max(4, event.clientY - h - 14);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function tooltip(handler, event, item, value) {
    if (value === null || value === undefined || value === '') { tip.hidden = true; return; }
    show(event, value);
  }
  var views = {};
  var pending = figures.map(function (f) {
    var box = document.querySelector('[data-plot="' + f.id + '"] .vega');
    try {
      var view = new vega.View(vega.parse(f.spec), { renderer: 'svg', container: box, hover: true, logLevel: vega.Warn });
      view.tooltip(tooltip);
      views[f.id] = view;
      return view.runAsync().then(function () { box.setAttribute('data-rendered', 'true'); });
    } catch (err) {
      return Promise.reject(err);
    }
  });
  window.hrankViews = views;
  // A closed <details> prints as its summary only: open them for the print, close them after.
  var opened = [];
  window.addEventListener('beforeprint', function () {
    opened = Array.prototype.slice.call(document.querySelectorAll('details:not([open])'));
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener('afterprint', function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
  Promise.all(pending).then(function () {
    document.body.setAttribute('data-plots-rendered', String(pending.length));
  }, function (err) {
    document.body.setAttribute('data-plots-failed', String(err && err.message || err));
    console.error('hrank report: a plot failed to render', err);
  });
})();
`;

/**
 * A long number as the table shows it (`0.30000000000000004` -> `0.3`, `1.23456789e-7` ->
 * `1.235e-7`); the cell's tooltip keeps the full text. Integers and short numbers stay as they are.
 */
export function compactNumber(text: string): string {
  const v = Number(text);
  if (text.length <= 7 || text.trim() === '' || !Number.isFinite(v) || Number.isInteger(v)) return text;
  const short = String(Number(v.toPrecision(4)));
  return short.length < text.length ? short : text;
}

/**
 * The results table: two header rows (the sizes and axes, then each Hessian's group of rank,
 * prediction, gap and check under short labels), every header explaining itself in its `title`.
 * The first column (`key`) stays in view when the table scrolls sideways.
 */
function resultsTableHtml(table: ReportTable): string {
  const e = escapeHtml;
  const grouped = table.columns.some((c) => c.hessian !== undefined);
  const classes = (...names: (string | false)[]): string => {
    const list = names.filter((n): n is string => n !== false && n !== '');
    return list.length > 0 ? ` class="${list.join(' ')}"` : '';
  };
  const firstOfGroup = (j: number): boolean => {
    const h = table.columns[j]!.hessian;
    return h !== undefined && table.columns[j - 1]?.hessian !== h;
  };
  const head = (c: TableColumn, j: number, rowspan: boolean): string =>
    `<th scope="col"${rowspan ? ' rowspan="2"' : ''}${classes(j === 0 && 'key', c.numeric && 'num', c.check !== undefined && 'check', firstOfGroup(j) && 'first')} title="${e(c.description)}">${e(c.label)}</th>`;
  const top: string[] = [];
  const sub: string[] = [];
  table.columns.forEach((c, j) => {
    if (!grouped || c.hessian === undefined) {
      top.push(head(c, j, grouped));
      return;
    }
    if (firstOfGroup(j)) {
      const span = table.columns.filter((d) => d.hessian === c.hessian).length;
      top.push(`<th scope="colgroup" colspan="${span}" class="group" title="${e(`${HESSIAN_LABEL[c.hessian]}: ${table.columns.filter((d) => d.hessian === c.hessian).map((d) => d.name).join(', ')}`)}">${e(HESSIAN_LABEL[c.hessian])}</th>`);
    }
    sub.push(head(c, j, false));
  });
  const rows = table.rows.map((row) => {
    const cells = row.map((text, j) => {
      const col = table.columns[j]!;
      const first = j === 0 && 'key';
      const group = firstOfGroup(j) && 'first';
      if (col.check) {
        return `<td${classes('check', text !== '' && CHECK_CLASS[(text.startsWith('~') ? '~' : text) as Check], first, group)} data-check="${e(text)}">${e(text)}</td>`;
      }
      const shown = col.numeric ? compactNumber(text) : text;
      return `<td${classes(col.numeric && 'num', first, group)}${shown === text ? '' : ` title="${e(text)}"`}>${e(shown)}</td>`;
    });
    return `<tr>${cells.join('')}</tr>`;
  });
  return [
    '<div class="table-wrap"><table class="results"><thead>',
    `<tr>${top.join('')}</tr>`,
    ...(grouped ? [`<tr>${sub.join('')}</tr>`] : []),
    '</thead><tbody>',
    ...rows,
    '</tbody></table></div>',
  ].join('\n');
}

function provenanceRows(input: ReportInput): [string, string][] {
  const p = input.provenance;
  const sha = createHash('sha256').update(input.study.text).digest('hex');
  if (p === null) {
    return [
      ['pipeline file', input.study.file],
      ['pipeline sha256', sha],
      ['report by', `hrank ${HRANK_VERSION}`],
      ['run', 'no provenance.json of a run of this exact file: the report was rebuilt from the cache'],
    ];
  }
  return [
    ['pipeline file', p.pipeline.file],
    ['pipeline sha256', p.pipeline.sha256],
    ['hrank', p.hrank],
    ['git commit', p.git ? `${p.git.commit}${p.git.dirty ? ' (file modified since)' : ''}` : 'not in a git repository'],
    ['node', p.node],
    ['started', p.started],
    ['finished', p.finished],
  ];
}

/** The whole page. */
export function reportHtml(input: ReportInput, figures: readonly PageFigure[], notes: { readonly spectra?: string } = {}): string {
  const { study, results } = input;
  const table = reportTable(study, results);
  const kinds = presentKinds(results);
  const e = escapeHtml;
  const figureHtml = (f: PageFigure): string =>
    `<figure class="plot" id="plot-${e(f.figure.id)}" data-plot="${e(f.figure.id)}" data-kind="${f.figure.kind}">` +
    `<div class="vega" role="img" aria-label="${e(f.figure.title)}"></div><figcaption>${e(f.figure.caption)}</figcaption></figure>`;
  const rankFigs = figures.filter((f) => f.figure.kind === 'ranks');
  const spectrumFigs = figures.filter((f) => f.figure.kind === 'spectrum');

  const parts: string[] = [];
  parts.push('<!doctype html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${e(CSP)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(study.name)}: hrank report</title>`,
    '<link rel="icon" href="data:,">',
    `<style>${STYLE}</style>`, '</head>', '<body>', '<main>');
  parts.push(`<header><h1>${e(study.name)}</h1>`);
  if (study.description) parts.push(`<p class="lead">${e(study.description)}</p>`);
  const facts = [`${results.rows.length} ${results.rows.length === 1 ? 'point' : 'points'}`, ...table.constants.map((c) => `${c.name} ${c.value}`)];
  parts.push(`<p class="lead">${e(facts.join(', '))}; pipeline file <code>${e(study.file)}</code></p>`);
  parts.push('<nav><a href="#plots">Plots</a><a href="#table">Table</a><a href="#derivations">Derivations</a><a href="#pipeline">Pipeline file</a><a href="#provenance">Provenance</a></nav></header>');

  parts.push('<section id="plots"><h2>Plots</h2>');
  if (rankFigs.length > 0) parts.push(`<div class="plots">${rankFigs.map(figureHtml).join('')}</div>`);
  else parts.push('<p class="note">No rank plot: the study has no sweep axis.</p>');
  if (spectrumFigs.length > 0) {
    parts.push('<h3>Spectra</h3>', '<details class="spectra" open><summary>One plot per point: sorted |eigenvalues| and the tolerance</summary>',
      `<div class="plots">${spectrumFigs.map(figureHtml).join('')}</div></details>`);
  } else if (notes.spectra) {
    parts.push('<h3>Spectra</h3>', `<p class="note">${e(notes.spectra)}</p>`);
  }
  parts.push('<p class="note screen-only">Hover a point for its values. The same plots are in <code>plots/</code> as SVG and PNG.</p></section>');

  parts.push('<section id="table"><h2>Table</h2>');
  if (kinds.length > 0) {
    parts.push('<ul class="counts">');
    for (const k of kinds) {
      parts.push(`<li>${HESSIAN_SYMBOL[k]}: ${e(checkSummary(checkCounts(results, k)))}</li>`);
    }
    parts.push('</ul>');
  }
  const truncated = truncationNote(table);
  if (truncated) parts.push(`<p class="note" id="table-truncated">${e(truncated)}</p>`);
  parts.push(resultsTableHtml(table));
  parts.push('<dl class="legend">');
  for (const c of table.columns.filter((col) => col.hessian === undefined && col.label !== col.name)) {
    parts.push(`<dt>${e(c.label)}</dt><dd>${e(c.description)}</dd>`);
  }
  parts.push(
    '<dt>rank</dt><dd>empirical rank (numpy.linalg.matrix_rank rule; rank_* in results.csv)</dd>',
    '<dt>pred</dt><dd>predicted rank (empty where no prediction applies)</dd>',
    '<dt>gap</dt><dd>log10(smallest kept / largest dropped value), in decades; empty: nothing dropped, or the dropped values are exactly 0</dd>');
  for (const c of Object.keys(CHECK_MEANING) as Check[]) parts.push(`<dt>${e(c)}</dt><dd>${e(CHECK_MEANING[c])}</dd>`);
  parts.push('</dl></section>');

  // As the table: past TABLE_MAX_ROWS points, the first TABLE_FIRST_ROWS (a derivation is ~2 kB:
  // 100,000 of them would make a 230 MB page); hrank explain derives any point.
  const rowCount = results.rows.length;
  const derived = rowCount > TABLE_MAX_ROWS ? TABLE_FIRST_ROWS : rowCount;
  const derivations = resultDerivations(study, results, derived);
  if (derivations.length > 0) {
    parts.push('<section id="derivations"><h2>Derivations</h2>',
      '<p class="note">Per point, the predictions derived with its own numbers beside what was measured (as <code>hrank explain</code> prints them).</p>');
    if (derived < rowCount) {
      parts.push(`<p class="note">The first ${derived} of ${rowCount.toLocaleString('en-US')} points; <code>hrank explain ${e(study.file)} --point ID</code> derives any other.</p>`);
    }
    for (const d of derivations) {
      const ranks = (['outer', 'functional', 'loss'] as const).filter((k) => d.measured?.[k]).map((k) => `${HESSIAN_SYMBOL[k]} ${d.measured![k]!.rank}${d.measured![k]!.predicted !== null ? ` / ${d.measured![k]!.predicted}` : ''}`);
      parts.push(`<details class="derivation" data-point="${e(d.point)}"><summary><code>${e(d.point)}</code> r ${d.r.value}, K' ${d.k_prime.value}, q ${d.q.value}; ${e(ranks.join(', '))}${d.prediction.kind === 'estimate' ? ' (estimates)' : ''}</summary>`,
        `<pre class="pipeline derivation">${e(derivationText(d))}</pre></details>`);
    }
    parts.push('</section>');
  }
  parts.push('<section id="pipeline"><h2>Pipeline file</h2>', `<pre class="pipeline">${e(study.text)}</pre></section>`);
  parts.push('<section id="provenance"><h2>Provenance</h2><table class="provenance"><tbody>');
  for (const [k, v] of provenanceRows(input)) parts.push(`<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`);
  parts.push('</tbody></table></section>');
  parts.push('</main>', '<div id="hrank-tooltip" role="tooltip" hidden></div>');
  parts.push(`<script>${vegaScript()}</script>`);
  parts.push(`<script id="hrank-figures" type="application/json">${scriptJson(figures.map((f) => ({ id: f.figure.id, spec: f.vega })))}</script>`);
  parts.push(`<script>${BOOT}</script>`, '</body>', '</html>', '');
  return parts.join('\n');
}
