/**
 * `report.html`: one self-contained page (no network: every script and style is inline, and a
 * Content-Security-Policy forbids fetching anything). It holds the interactive plots (vega's
 * UMD build, inlined, draws the vega specs compiled in Node; hovering a point shows its values),
 * the results table, the pipeline file and the provenance.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as vega from 'vega';
import { HRANK_VERSION } from '../version.js';
import { CHECK_MEANING, HESSIAN_SYMBOL, checkCounts, checkSummary, presentKinds, type Check, type ReportInput } from './model.js';
import type { Figure } from './plots.js';
import { reportTable } from './table.js';

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

const CHECK_CLASS: Readonly<Record<Check, string>> = { '=': 'eq', differs: 'differs', ambiguous: 'ambiguous', 'n/a': 'na' };

const STYLE = `
:root { color-scheme: light; --fg: #1d1d1f; --muted: #5f6368; --line: #e3e3e3; --accent: #1f77b4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "DejaVu Sans", Verdana, Arial, sans-serif; color: var(--fg); background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 24px 0 8px; }
p.lead { margin: 0 0 6px; color: var(--muted); }
nav { margin: 14px 0 0; display: flex; gap: 18px; flex-wrap: wrap; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
.plots { display: flex; flex-wrap: wrap; gap: 20px; }
figure.plot { margin: 0; background: white; border: 1px solid var(--line); border-radius: 6px; padding: 10px; max-width: 100%; overflow-x: auto; }
figure.plot figcaption { font-size: 13px; color: var(--muted); margin-top: 6px; max-width: 640px; }
details.spectra > summary { cursor: pointer; color: var(--accent); margin-bottom: 12px; }
.note { color: var(--muted); font-size: 14px; }
.table-wrap { overflow-x: auto; background: white; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; font-size: 13px; }
table.results th, table.results td { padding: 4px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.results thead th { position: sticky; top: 0; background: #f3f4f6; text-align: left; font-weight: 600; }
table.results td.num, table.results th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.results tbody tr:hover { background: #f5f9ff; }
td.check { font-weight: 600; text-align: center; }
td.check.eq { color: #1a7f37; }
td.check.differs { color: #c62828; background: #fdecec; }
td.check.ambiguous { color: #8a5a00; background: #fff4d6; }
td.check.na { color: #80868b; font-weight: normal; }
ul.counts { margin: 6px 0 14px; padding-left: 20px; }
dl.legend { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; font-size: 13px; color: var(--muted); margin: 12px 0 0; }
dl.legend dt { font-weight: 600; }
dl.legend dd { margin: 0; }
pre.pipeline { background: white; border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; overflow-x: auto; font: 13px/1.45 "DejaVu Sans Mono", Menlo, Consolas, monospace; }
table.provenance th { text-align: left; padding: 3px 16px 3px 0; color: var(--muted); font-weight: normal; vertical-align: top; }
table.provenance td { padding: 3px 0; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
#hrank-tooltip { position: fixed; z-index: 10; pointer-events: none; background: rgba(255,255,255,0.97); border: 1px solid #bbb; border-radius: 5px; box-shadow: 0 2px 8px rgba(0,0,0,0.15); padding: 6px 9px; font-size: 12px; max-width: 420px; }
#hrank-tooltip table td { padding: 1px 6px 1px 0; }
#hrank-tooltip table td:first-child { color: var(--muted); }
#hrank-tooltip table td:last-child { font-weight: 600; }
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
  Promise.all(pending).then(function () {
    document.body.setAttribute('data-plots-rendered', String(pending.length));
  }, function (err) {
    document.body.setAttribute('data-plots-failed', String(err && err.message || err));
    console.error('hrank report: a plot failed to render', err);
  });
})();
`;

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
  parts.push('<nav><a href="#plots">Plots</a><a href="#table">Table</a><a href="#pipeline">Pipeline file</a><a href="#provenance">Provenance</a></nav></header>');

  parts.push('<section id="plots"><h2>Plots</h2>');
  if (rankFigs.length > 0) parts.push(`<div class="plots">${rankFigs.map(figureHtml).join('')}</div>`);
  else parts.push('<p class="note">No rank plot: the study has no sweep axis.</p>');
  if (spectrumFigs.length > 0) {
    parts.push('<h3>Spectra</h3>', '<details class="spectra" open><summary>One plot per point: sorted |eigenvalues| and the tolerance</summary>',
      `<div class="plots">${spectrumFigs.map(figureHtml).join('')}</div></details>`);
  } else if (notes.spectra) {
    parts.push('<h3>Spectra</h3>', `<p class="note">${e(notes.spectra)}</p>`);
  }
  parts.push('<p class="note">Hover a point for its values. The same plots are in <code>plots/</code> as SVG and PNG.</p></section>');

  parts.push('<section id="table"><h2>Table</h2>');
  if (kinds.length > 0) {
    parts.push('<ul class="counts">');
    for (const k of kinds) {
      parts.push(`<li>${HESSIAN_SYMBOL[k]}: ${e(checkSummary(checkCounts(results, k)))}</li>`);
    }
    parts.push('</ul>');
  }
  parts.push('<div class="table-wrap"><table class="results"><thead><tr>');
  parts.push(table.columns.map((c) => `<th${c.numeric ? ' class="num"' : ''}>${e(c.name)}</th>`).join(''));
  parts.push('</tr></thead><tbody>');
  for (const row of table.rows) {
    const cells = row.map((text, j) => {
      const col = table.columns[j]!;
      if (col.check) {
        const cls = text === '' ? '' : ` ${CHECK_CLASS[text as Check]}`;
        return `<td class="check${cls}" data-check="${e(text)}">${e(text)}</td>`;
      }
      return `<td${col.numeric ? ' class="num"' : ''}>${e(text)}</td>`;
    });
    parts.push(`<tr>${cells.join('')}</tr>`);
  }
  parts.push('</tbody></table></div>');
  parts.push('<dl class="legend">',
    '<dt>rank_*</dt><dd>empirical rank (numpy.linalg.matrix_rank rule)</dd>',
    '<dt>pred_*</dt><dd>predicted rank (empty where no prediction applies)</dd>',
    '<dt>gap_*</dt><dd>log10(smallest kept / largest dropped value), in decades; empty: nothing dropped, or the dropped values are exactly 0</dd>');
  for (const c of Object.keys(CHECK_MEANING) as Check[]) parts.push(`<dt>${e(c)}</dt><dd>${e(CHECK_MEANING[c])}</dd>`);
  parts.push('</dl></section>');

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
