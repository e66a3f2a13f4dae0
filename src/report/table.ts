/**
 * The results as a table for people: the sweep axes, the sizes, then per Hessian its rank, the
 * prediction, the gap and a check column (`=`, `differs`, `ambiguous`, `n/a`). One row per
 * results row. `table.md` is its Markdown form, headed by the column names; report.html shows
 * the same table under short labels grouped by Hessian (so it fits a laptop screen), each
 * header explained in a tooltip.
 */
import type { Results } from '../engine/kinds/collect.js';
import type { HessianKind, Study } from '../pipeline/types.js';
import {
  CHECK_MEANING, HESSIAN_SYMBOL, axisPaths, cellOf, cellText, checkCounts, checkSummary, checkText, predictionSource, presentKinds, type Check,
} from './model.js';

export interface TableColumn {
  /** Header text: the column's name in results.csv (`rank_loss`), a sweep axis's dotted path. */
  readonly name: string;
  /** Short header for the page (`rank` under a Hessian's group, `width` for `model.width`). */
  readonly label: string;
  /** What the column holds, for the header's tooltip. */
  readonly description: string;
  /** Right-aligned (numbers). */
  readonly numeric: boolean;
  /** The Hessian whose group the column belongs to (rank, prediction, gap, check). */
  readonly hessian?: HessianKind;
  /** The Hessian of a check column. */
  readonly check?: HessianKind;
}

export interface ReportTable {
  readonly columns: readonly TableColumn[];
  /** Cell texts, one row per results row (the first `TABLE_FIRST_ROWS` when there are more than `TABLE_MAX_ROWS`). */
  readonly rows: readonly (readonly string[])[];
  /** Rows of the results: more than `rows.length` when the table shows only the first ones. */
  readonly total: number;
  /** Columns left out because every row holds the same value, with that value. */
  readonly constants: readonly { readonly name: string; readonly value: string }[];
}

/** Short labels and meanings of the size columns. */
const SIZE_HEADER: Readonly<Record<string, { readonly label: string; readonly description: string }>> = {
  samples: { label: 'N', description: 'samples: N, the number of training samples' },
  input_dim: { label: 'd', description: 'input_dim: d, the input dimension' },
  classes: { label: 'K', description: 'classes: K, the number of outputs' },
  params: { label: '#params', description: 'params: P, the number of network parameters' },
  rank_input_cov: { label: 'rank Σx', description: 'rank_input_cov: rank of the input covariance' },
};

/** Labels and meanings of a trained study's columns (see TRAIN_COLUMNS). */
const TRAIN_HEADER: Readonly<Record<string, { readonly label: string; readonly description: string }>> = {
  'train.checkpoint': { label: 'step', description: 'train.checkpoint: the training step whose weights the Hessians are of' },
  train_loss: { label: 'loss', description: 'train_loss: mean training loss over the samples at this checkpoint' },
  grad_norm: { label: '|∇L|', description: 'grad_norm: norm of the gradient of the mean loss' },
  residual_norm: { label: '|Ω|', description: 'residual_norm: Frobenius norm of Omega, the N x K matrix of dl/df' },
  rank_residual: { label: 'rank Ω', description: 'rank_residual: rank of Omega (the formulas assume it generic: min(N, K\'))' },
};

/** Labels and meanings of a Hessian's columns. */
const HESSIAN_HEADER: Readonly<Record<'rank' | 'pred' | 'gap' | 'check', { readonly label: string; readonly description: (k: HessianKind) => string }>> = {
  rank: { label: 'rank', description: (k) => `rank_${k}: empirical rank of ${HESSIAN_SYMBOL[k]} (numpy.linalg.matrix_rank rule)` },
  pred: { label: 'pred', description: (k) => `pred_${k}: predicted rank of ${HESSIAN_SYMBOL[k]} (empty where no prediction applies)` },
  gap: { label: 'gap', description: (k) => `gap_${k}: log10(smallest kept / largest dropped eigenvalue of ${HESSIAN_SYMBOL[k]}), in decades` },
  check: { label: 'check', description: (k) => `check_${k}: ${HESSIAN_SYMBOL[k]}'s rank against its prediction (=, differs, ambiguous, ~ with the relative difference from an estimate, n/a)` },
};

/**
 * Short labels of the sweep axes: the last segment of the dotted path (`model.width` -> `width`)
 * where that names one column only, else the whole path.
 */
function axisLabels(axes: readonly string[], taken: readonly string[]): string[] {
  const last = axes.map((a) => a.slice(a.lastIndexOf('.') + 1));
  return axes.map((a, i) => (last.filter((l) => l === last[i]).length === 1 && !taken.includes(last[i]!) ? last[i]! : a));
}

/**
 * Beyond this many rows, table.md and report.html show the first TABLE_FIRST_ROWS, the counts of
 * each check per Hessian, and point to results.csv (which, with results.json, has every row): a
 * page of 100,000 rows helps no reader and no browser.
 */
export const TABLE_MAX_ROWS = 1000;
export const TABLE_FIRST_ROWS = 100;

/** The table of a study's results (all rows up to TABLE_MAX_ROWS, else the first TABLE_FIRST_ROWS; `maxRows` for tests). */
export function reportTable(study: Study, results: Results, maxRows = TABLE_MAX_ROWS): ReportTable {
  const axes = axisPaths(study);
  const kinds = presentKinds(results);
  const n = results.rows.length;
  const distinct = (name: string): number => new Set(results.rows.map((_, i) => cellText(cellOf(results, i, name)))).size;
  const constants: { name: string; value: string }[] = [];
  const columns: (TableColumn & { get: (row: number) => string })[] = [];
  const plain = (name: string, header: { label: string; description: string }, hessian?: HessianKind): TableColumn & { get: (row: number) => string } => ({
    name,
    ...header,
    ...(hessian ? { hessian } : {}),
    numeric: results.rows.every((_, i) => { const c = cellOf(results, i, name); return c === null || typeof c === 'number'; }),
    get: (row) => cellText(cellOf(results, row, name)),
  });
  const labels = axisLabels(axes, [...Object.values(SIZE_HEADER).map((h) => h.label), ...Object.values(TRAIN_HEADER).map((h) => h.label), ...Object.keys(HESSIAN_HEADER)]);
  axes.forEach((a, i) => columns.push(plain(a, { label: labels[i]!, description: `sweep axis ${a}` })));
  // Sizes: params always; the others only when they vary (else they go in the header line).
  for (const name of ['samples', 'input_dim', 'classes', 'params', 'rank_input_cov']) {
    if (axes.includes(name)) continue;
    if (name !== 'params' && n > 1 && distinct(name) === 1) {
      constants.push({ name, value: cellText(cellOf(results, 0, name)) });
      continue;
    }
    columns.push(plain(name, SIZE_HEADER[name]!));
  }
  // Training: where each point is, in 3 significant digits (results.csv keeps every digit).
  for (const name of Object.keys(TRAIN_HEADER)) {
    if (axes.includes(name) || !results.columns.includes(name)) continue;
    const col = plain(name, TRAIN_HEADER[name]!);
    const real = name === 'train_loss' || name === 'grad_norm' || name === 'residual_norm';
    columns.push(real ? { ...col, get: (row) => { const c = cellOf(results, row, name); return typeof c === 'number' ? c.toPrecision(3) : cellText(c); } } : col);
  }
  for (const k of kinds) {
    const header = (part: keyof typeof HESSIAN_HEADER) => ({ label: HESSIAN_HEADER[part].label, description: HESSIAN_HEADER[part].description(k) });
    // Gaps with 2 decimals always (12.48, 6.80, 12.00), so a column reads at a glance.
    const gap = plain(`gap_${k}`, header('gap'), k);
    const gapText = (row: number): string => { const c = cellOf(results, row, `gap_${k}`); return typeof c === 'number' ? c.toFixed(2) : cellText(c); };
    columns.push(plain(`rank_${k}`, header('rank'), k), plain(`pred_${k}`, header('pred'), k), { ...gap, get: gapText });
    columns.push({ name: `check_${k}`, ...header('check'), numeric: false, hessian: k, check: k, get: (row) => checkText(results, row, k) ?? '' });
  }
  const shown = n > maxRows ? Math.min(TABLE_FIRST_ROWS, maxRows) : n;
  return {
    columns: columns.map(({ get: _get, ...c }) => c),
    rows: Array.from({ length: shown }, (_, i) => columns.map((c) => c.get(i))),
    total: n,
    constants,
  };
}

/** `The first 100 of 100,000 rows; every row is in results.csv and results.json.` (undefined when the table shows them all). */
export function truncationNote(table: ReportTable): string | undefined {
  if (table.rows.length >= table.total) return undefined;
  const count = (v: number): string => v.toLocaleString('en-US');
  return `The first ${count(table.rows.length)} of ${count(table.total)} rows; every row is in results.csv and results.json.`;
}

/** Escapes a Markdown table cell. */
function mdCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

const CHECK_ORDER: readonly Check[] = ['=', 'differs', 'ambiguous', '~', 'n/a', 'outside'];

/** `table.md`: a title, what the columns mean, counts per check, and the table (a pure function of the results). */
export function tableMarkdown(study: Study, results: Results): string {
  const table = reportTable(study, results);
  const kinds = presentKinds(results);
  const lines: string[] = [`# ${study.name}`, ''];
  if (study.description) lines.push(study.description, '');
  const facts = [`${results.rows.length} ${results.rows.length === 1 ? 'point' : 'points'}`, ...table.constants.map((c) => `${c.name} ${c.value}`)];
  lines.push(`${facts.join(', ')}. Pipeline file: \`${study.file}\`.`, '');
  if (kinds.length > 0) {
    lines.push(`Empirical rank against the prediction (${predictionSource(results)}):`, '');
    for (const k of kinds) {
      lines.push(`- ${HESSIAN_SYMBOL[k]} (\`check_${k}\`): ${checkSummary(checkCounts(results, k))}`);
    }
    lines.push('');
  }
  const widths = table.columns.map((c, j) => Math.max(3, mdCell(c.name).length, ...table.rows.map((r) => mdCell(r[j]!).length)));
  const row = (cells: readonly string[]): string =>
    `| ${cells.map((c, j) => (table.columns[j]!.numeric ? mdCell(c).padStart(widths[j]!) : mdCell(c).padEnd(widths[j]!))).join(' | ')} |`;
  lines.push(row(table.columns.map((c) => c.name)));
  lines.push(`| ${table.columns.map((c, j) => (c.numeric ? `${'-'.repeat(widths[j]! - 1)}:` : '-'.repeat(widths[j]!))).join(' | ')} |`);
  for (const r of table.rows) lines.push(row(r));
  lines.push('');
  const note = truncationNote(table);
  if (note) lines.push(note, '');
  lines.push('Columns: `rank_*` empirical rank, `pred_*` predicted rank (empty where no prediction applies),',
    '`gap_*` log10(smallest kept / largest dropped value), in decades (empty: nothing dropped, or the dropped values are exactly 0).',
    '`check_*`:', '');
  for (const c of CHECK_ORDER) lines.push(`- ${c === '=' ? '`=`' : `\`${c}\``}: ${CHECK_MEANING[c]}`);
  return `${lines.join('\n')}\n`;
}
