/** The one error type of the pipeline layer, and how a problem is printed. */
import type { Problem } from './types.js';

/**
 * Everything wrong with a pipeline file, all at once. Meant to be shown as is: each problem names
 * the file, line, column and dotted path, so no stack trace is needed.
 */
export class PipelineError extends Error {
  override readonly name = 'PipelineError';
  /** Sorted by file, line and column. */
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    const sorted = sortProblems(problems);
    const files = [...new Set(sorted.map((p) => p.file))];
    const n = sorted.length;
    super(`${n} problem${n === 1 ? '' : 's'} in ${files.join(', ') || 'pipeline'}:\n${sorted.map(formatProblem).join('\n')}`);
    this.problems = sorted;
  }
}

/** Orders problems by file, then position (problems without a position first). */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.column - b.column,
  );
}

/**
 * `file:line:col code path: message`, then the offending line with a caret under the value, then
 * the hint, e.g.
 * ```
 * study.yaml:7:3 unknown-key model.activaton: unknown key 'activaton' in model; allowed: ...
 *     7 |   activaton: relu
 *       |   ^^^^^^^^^
 *   hint: did you mean 'activation'?
 * ```
 */
export function formatProblem(p: Problem): string {
  return formatLabelled(p, p.code);
}

function formatLabelled(p: Problem, label: string): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  const lines = [`${where} ${label} ${p.path === '' ? '' : `${p.path}: `}${p.message}`];
  if (p.excerpt !== undefined && p.line > 0) {
    const num = String(p.line);
    const gutter = ' '.repeat(Math.max(4, num.length));
    const text = p.excerpt.text.replace(/\t/g, ' ');
    lines.push(`${num.padStart(gutter.length)} | ${text}`);
    const width = Math.max(1, p.excerpt.width);
    lines.push(`${gutter} | ${' '.repeat(Math.max(0, p.column - 1))}${'^'.repeat(width)}`);
  }
  if (p.hint !== undefined) lines.push(`  hint: ${p.hint}`);
  return lines.join('\n');
}

/** A warning (valid, but likely not what was meant), printed as a problem labelled `warning`. */
export function formatWarning(p: Problem): string {
  return formatLabelled(p, 'warning');
}
