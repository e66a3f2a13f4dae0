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
  return String(c);
}

/**
 * An aligned text table: a header row, then the rows; numbers right-aligned, text left-aligned.
 * Lines are indented by `indent` spaces and have no trailing spaces.
 */
export function textTable(columns: readonly string[], rows: readonly (readonly Cell[])[], indent = 0): string {
  const text = rows.map((r) => columns.map((_, i) => cellText(r[i])));
  const numeric = columns.map((_, i) => rows.every((r) => r[i] === null || typeof r[i] === 'number'));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((t) => t[i]!.length)));
  const line = (cells: readonly string[], header: boolean): string =>
    ' '.repeat(indent) +
    cells.map((c, i) => (numeric[i] && !header ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns, true), ...text.map((t) => line(t, false))].join('\n');
}

/** Columns of the summary table: the sweep axes, then parameters, ranks and predictions that have values. */
const SUMMARY_COLUMNS = ['samples', 'params', 'rank_loss', 'rank_outer', 'rank_functional', 'pred_loss', 'pred_outer', 'pred_functional'];

/** Most rows the run summary shows as a table. */
export const SUMMARY_MAX_ROWS = 20;

/** The results as a short table (undefined when there are more than `SUMMARY_MAX_ROWS` rows). */
export function resultsTable(results: Results, axes: readonly string[], indent = 2): string | undefined {
  if (results.rows.length === 0 || results.rows.length > SUMMARY_MAX_ROWS) return undefined;
  const wanted = [...axes, ...SUMMARY_COLUMNS.filter((c) => !axes.includes(c))];
  const picked = wanted
    .map((name) => ({ name, index: results.columns.indexOf(name) }))
    .filter(({ name, index }) => index >= 0 && (axes.includes(name) || results.rows.some((r) => r[index] !== null)));
  // `samples` only when it varies or is an axis: a constant says nothing row by row.
  const shown = picked.filter(({ name, index }) => name !== 'samples' || axes.includes(name) || new Set(results.rows.map((r) => r[index])).size > 1);
  return textTable(shown.map((p) => p.name), results.rows.map((r) => shown.map((p) => r[p.index] ?? null)), indent);
}

/** A path as a user reads it: relative to the current folder when inside it, else absolute. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const abs = path.resolve(cwd, file);
  const rel = path.relative(cwd, abs);
  if (rel === '') return '.';
  return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
}
