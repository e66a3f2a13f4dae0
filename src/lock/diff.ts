/**
 * Comparing a study's results between two versions: two lock files (from two git revisions, or
 * a revision and the working tree) or two results folders.
 *
 * - added: only in the second; removed: only in the first;
 * - changed: in both, and a rank, a prediction or a size (params, samples, ...) differs;
 * - recomputed: in both with the same ranks and predictions, but under another cache key (lock
 *   files only: results folders hold no keys). Gaps are not compared: they are measurements of
 *   a computation, not results.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '../engine/store/canonical.js';
import { FIXED_COLUMNS, type Cell } from '../engine/kinds/collect.js';
import { formatValue } from '../pipeline/expand.js';
import type { SweepValue } from '../pipeline/types.js';
import { LockError, type LockFile } from './lockfile.js';
import { matchPoints, type MatchSide } from './match.js';

/** One side of a comparison: points by id, in order. */
export interface PointSet {
  /** What it is, for the user: `HEAD:study.lock.json`, `results/a`. */
  readonly label: string;
  readonly columns: readonly string[];
  readonly points: readonly {
    readonly id: string; readonly key?: string; readonly results: Readonly<Record<string, Cell>>;
    /** Every setting of the point (lock files), to pair points whose ids changed. */
    readonly settings?: Readonly<Record<string, unknown>>;
  }[];
}

export interface PointDiff {
  readonly id: string;
  /** The point's id in the first set, when it differs. */
  readonly was?: string;
  readonly change: 'added' | 'removed' | 'changed' | 'recomputed' | 'renamed';
  /** Results in the first set (absent for added points). */
  readonly before?: Readonly<Record<string, Cell>>;
  /** Results in the second set (absent for removed points). */
  readonly after?: Readonly<Record<string, Cell>>;
  /** Columns whose values differ (changed points). */
  readonly columns: readonly string[];
}

export interface ResultsDiff {
  readonly a: string;
  readonly b: string;
  /** Added, changed and recomputed in the second set's order, then removed in the first's. */
  readonly points: readonly PointDiff[];
  readonly counts: {
    readonly added: number; readonly removed: number; readonly changed: number; readonly recomputed: number; readonly renamed: number; readonly same: number;
  };
}

/** Columns that are measurements, not results: never compared. */
const UNCOMPARED = new Set(['gap_loss', 'gap_outer', 'gap_functional']);

/** The sweep axes of a results table: the columns before the fixed ones. */
export function axisColumns(columns: readonly string[]): string[] {
  const fixed = new Set<string>(FIXED_COLUMNS);
  return columns.filter((c) => !fixed.has(c));
}

/** Columns compared between two versions of a point. */
export function comparedColumns(columns: readonly string[]): string[] {
  const axes = new Set(axisColumns(columns));
  return columns.filter((c) => !axes.has(c) && !UNCOMPARED.has(c));
}

function sameCell(a: Cell | undefined, b: Cell | undefined): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

export function lockPoints(lock: LockFile | null, label: string): PointSet {
  if (lock === null) return { label, columns: [], points: [] };
  return { label, columns: lock.columns, points: lock.points.map((p) => ({ id: p.id, key: p.key, results: p.results, settings: p.settings })) };
}

export function diffPointSets(a: PointSet, b: PointSet): ResultsDiff {
  const columns = [...new Set([...comparedColumns(a.columns), ...comparedColumns(b.columns)])];
  const coords = (set: PointSet) => {
    const axes = axisColumns(set.columns);
    return (p: PointSet['points'][number]): MatchSide => ({
      id: p.id, ...(p.key !== undefined ? { key: p.key } : {}), ...(p.settings !== undefined ? { settings: p.settings } : {}),
      coords: Object.fromEntries(axes.map((c) => [c, p.results[c] ?? null])),
    });
  };
  const matching = matchPoints(a.points.map(coords(a)), b.points.map(coords(b)));
  const out: PointDiff[] = [];
  let same = 0;
  for (const [i, j] of matching.pairs) {
    const old = a.points[i]!;
    const p = b.points[j]!;
    const was = old.id !== p.id ? { was: old.id } : {};
    const differ = columns.filter((c) => !sameCell(old.results[c], p.results[c]));
    if (differ.length > 0) out.push({ id: p.id, ...was, change: 'changed', before: old.results, after: p.results, columns: differ });
    else if (old.key !== undefined && p.key !== undefined && old.key !== p.key) out.push({ id: p.id, ...was, change: 'recomputed', before: old.results, after: p.results, columns: [] });
    else if (old.id !== p.id) out.push({ id: p.id, ...was, change: 'renamed', before: old.results, after: p.results, columns: [] });
    else same++;
  }
  for (const j of matching.added) out.push({ id: b.points[j]!.id, change: 'added', after: b.points[j]!.results, columns: [] });
  const order = new Map(b.points.map((p, j) => [p.id, j]));
  out.sort((x, y) => (order.get(x.id) ?? 0) - (order.get(y.id) ?? 0));
  for (const i of matching.removed) out.push({ id: a.points[i]!.id, change: 'removed', before: a.points[i]!.results, columns: [] });
  const count = (c: PointDiff['change']): number => out.filter((d) => d.change === c).length;
  return {
    a: a.label, b: b.label, points: out,
    counts: { added: count('added'), removed: count('removed'), changed: count('changed'), recomputed: count('recomputed'), renamed: count('renamed'), same },
  };
}

/** The id of a results row, as the engine names points: `loss=mse,model.width=8`, or `main`. */
export function rowId(row: Readonly<Record<string, Cell>>, axes: readonly string[]): string {
  if (axes.length === 0) return 'main';
  return axes.map((a) => `${a}=${formatValue((row[a] ?? '') as SweepValue)}`).join(',');
}

/** A results folder (`<results>/<name>/`) as a point set, from its `results.json`. */
export async function resultsFolderPoints(dir: string): Promise<PointSet> {
  const file = path.join(dir, 'results.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw code === 'ENOENT' ? new LockError(dir, 'no results.json here (not a results folder written by hrank run)') : new LockError(file, (err as Error).message);
  }
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch (err) {
    throw new LockError(file, `not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(rows) || !rows.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) {
    throw new LockError(file, 'expected a list of rows (objects)');
  }
  const typed = rows as Record<string, Cell>[];
  const columns = typed.length > 0 ? Object.keys(typed[0]!) : [];
  const axes = axisColumns(columns);
  return { label: dir, columns, points: typed.map((r) => ({ id: rowId(r, axes), results: r })) };
}
