import path from 'node:path';
/** Small text helpers of the CLI: durations, counts and aligned tables. */
import type { Cell, Results } from '../engine/kinds/collect.js';

/** `0.42s`, `12.3s`, `2m05s`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 10) return `${s.toFixed(2)}s`;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}

/** `1 step`, `3 steps`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

function cellText(c: Cell | undefined): string {
  if (c === null || c === undefined) return '';
  if (Array.isArray(c)) return `[${c.map((v) => cellText(v as Cell)).join(', ')}]`;
  // A mapping (an item of a swept model.layers list).
  if (typeof c === 'object') return `{${Object.entries(c as unknown as Record<string, Cell>).map(([k, v]) => `${k}: ${cellText(v)}`).join(', ')}}`;
  return String(c);
}

/**
 * An aligned text table: a header row, then the rows; numbers right-aligned, text left-aligned.
 * Lines are indented by `indent` spaces and have no trailing spaces.
 */
export function textTable(columns: readonly string[], rows: readonly (readonly Cell[])[], indent = 0): string {
  const text = rows.map((r) => columns.map((_, i) => cellText(r[i])));
  const numeric = columns.map((_, i) => rows.every((r) => r[i] === null || typeof r[i] === 'number'));
  // A loop, not Math.max(...spread): a plan of 100,000 points has 400,000 rows (too many arguments).
  const widths = columns.map((c, i) => text.reduce((w, t) => Math.max(w, t[i]!.length), c.length));
  const line = (cells: readonly string[], header: boolean): string =>
    ' '.repeat(indent) +
    cells.map((c, i) => (numeric[i] && !header ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns, true), ...text.map((t) => line(t, false))].join('\n');
}

/**
 * `textTable`, split into blocks of columns that each fit `width` characters (a terminal's), the
 * first `keep` columns (the sweep axes) repeated in every block: a wide table on a narrow
 * terminal would otherwise wrap row by row into an unreadable zigzag.
 */
export function fittedTable(columns: readonly string[], rows: readonly (readonly Cell[])[], indent: number, width: number | undefined, keep: number): string {
  const full = textTable(columns, rows, indent);
  if (width === undefined || full.split('\n').every((l) => l.length <= width)) return full;
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => cellText(r[i]).length)));
  const fixed = Array.from({ length: Math.min(keep, columns.length) }, (_, i) => i);
  const span = (idx: readonly number[]): number => indent + idx.reduce((s, i) => s + widths[i]!, 0) + 2 * Math.max(0, idx.length - 1);
  const blocks: number[][] = [];
  let block = [...fixed];
  for (let i = fixed.length; i < columns.length; i++) {
    if (block.length > fixed.length && span([...block, i]) > width) {
      blocks.push(block);
      block = [...fixed];
    }
    block.push(i);
  }
  if (block.length > fixed.length || blocks.length === 0) blocks.push(block);
  return blocks.map((b) => textTable(b.map((i) => columns[i]!), rows.map((r) => b.map((i) => r[i] ?? null)), indent)).join('\n\n');
}

/** Columns of the summary table: the sweep axes, then parameters, ranks and predictions that have values. */
const SUMMARY_COLUMNS = ['samples', 'params', 'rank_loss', 'rank_outer', 'rank_functional', 'pred_loss', 'pred_outer', 'pred_functional'];

/** Most rows the run summary shows as a table. */
export const SUMMARY_MAX_ROWS = 20;

/**
 * The results as a short table (undefined when there are more than `SUMMARY_MAX_ROWS` rows),
 * split into blocks that fit `width` when given.
 */
export function resultsTable(results: Results, axes: readonly string[], indent = 2, width?: number): string | undefined {
  if (results.rows.length === 0 || results.rows.length > SUMMARY_MAX_ROWS) return undefined;
  const wanted = [...axes, ...SUMMARY_COLUMNS.filter((c) => !axes.includes(c))];
  const picked = wanted
    .map((name) => ({ name, index: results.columns.indexOf(name) }))
    .filter(({ name, index }) => index >= 0 && (axes.includes(name) || results.rows.some((r) => r[index] !== null)));
  // `samples` only when it varies or is an axis: a constant says nothing row by row.
  const shown = picked.filter(({ name, index }) => name !== 'samples' || axes.includes(name) || new Set(results.rows.map((r) => r[index])).size > 1);
  const keep = shown.filter((p) => axes.includes(p.name)).length;
  return fittedTable(shown.map((p) => p.name), results.rows.map((r) => shown.map((p) => r[p.index] ?? null)), indent, width, keep);
}

/** A path as a user reads it: relative to the current folder when inside it, else absolute. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const abs = path.resolve(cwd, file);
  const rel = path.relative(cwd, abs);
  if (rel === '') return '.';
  return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
}
