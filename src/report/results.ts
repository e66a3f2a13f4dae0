/**
 * The results contract: `<results>/<name>/results.csv` and `results.json` (one row per point,
 * columns in the contract's order; a pure function of the pipeline file, byte-identical across
 * reruns), `details.json` (routes, margins, ambiguity per rank), `provenance.json` and
 * `timings.json` (the only files that change between identical runs).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Cell, Results } from '../engine/kinds/collect.js';
import { formatValue } from '../pipeline/expand.js';
import type { Study, SweepValue } from '../pipeline/types.js';
import { HRANK_VERSION } from '../version.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { jsonChunks } from '../util/json-chunks.js';
import { gitInfo } from '../lock/git.js';

function csvCell(c: Cell): string {
  if (c === null) return '';
  const text = Array.isArray(c) ? formatValue(c as SweepValue) : String(c);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function resultsCsv(r: Results): string {
  return [...resultsCsvChunks(r)].join('');
}

/** results.csv in pieces (a line each), for writing it as it is made. */
export function* resultsCsvChunks(r: Results): Generator<string> {
  yield `${r.columns.map((c) => csvCell(c)).join(',')}\n`;
  for (const row of r.rows) yield `${row.map(csvCell).join(',')}\n`;
}

/** The results rows as objects, column -> value (results.json's content). */
export function resultRows(r: Results): Record<string, Cell>[] {
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c, row[i] as Cell])));
}

export function resultsJson(r: Results): string {
  return [...resultsJsonChunks(r)].join('');
}

/** results.json in pieces (a row each): the rows' objects made one at a time, never all at once. */
export function* resultsJsonChunks(r: Results): Generator<string> {
  if (r.rows.length === 0) {
    yield '[]\n';
    return;
  }
  for (let i = 0; i < r.rows.length; i++) {
    const row = r.rows[i]!;
    const obj = Object.fromEntries(r.columns.map((c, j) => [c, row[j] as Cell]));
    yield `${i > 0 ? ',\n  ' : '[\n  '}${JSON.stringify(obj, null, 2).replace(/\n/g, '\n  ')}`;
  }
  yield '\n]\n';
}

export interface Provenance {
  readonly pipeline: { readonly file: string; readonly sha256: string };
  readonly hrank: string;
  readonly git: { readonly commit: string; readonly dirty: boolean } | null;
  readonly node: string;
  readonly started: string;
  readonly finished: string;
}

export function resultsDir(resultsRoot: string, study: Study): string {
  return path.join(resultsRoot, study.name);
}

export interface Timings {
  readonly totalSeconds: number;
  /** Seconds per computed step id (cached steps are absent). */
  readonly steps: Readonly<Record<string, number>>;
}

export async function writeResults(
  dir: string, study: Study, results: Results,
  run: {
    readonly started: Date; readonly finished: Date; readonly timings: Timings; readonly pointSteps: Readonly<Record<string, readonly string[]>>;
    /** The pipeline file's git state, when the caller has it already. */
    readonly git?: Provenance['git'];
  },
): Promise<string[]> {
  const provenance: Provenance = {
    pipeline: { file: study.file, sha256: createHash('sha256').update(study.text).digest('hex') },
    hrank: HRANK_VERSION,
    git: run.git !== undefined ? run.git : await gitInfo(study.file),
    node: process.version,
    started: run.started.toISOString(),
    finished: run.finished.toISOString(),
  };
  const perPoint: Record<string, Record<string, number>> = {};
  for (const [pid, ids] of Object.entries(run.pointSteps)) {
    perPoint[pid] = Object.fromEntries(ids.filter((id) => id in run.timings.steps).map((id) => [id, round3(run.timings.steps[id])]));
  }
  const timings = {
    total_seconds: round3(run.timings.totalSeconds),
    steps: Object.fromEntries(Object.entries(run.timings.steps).map(([k, v]) => [k, round3(v)])),
    points: perPoint,
  };
  // Each file written as it is made, one after the other: at 100,000 points none is held whole.
  const files: [string, () => Iterable<string>][] = [
    ['results.csv', () => resultsCsvChunks(results)],
    ['results.json', () => resultsJsonChunks(results)],
    ['details.json', () => withNewline(jsonChunks(results.details))],
    ['provenance.json', () => [JSON.stringify(provenance, null, 2) + '\n']],
    ['timings.json', () => withNewline(jsonChunks(timings))],
  ];
  for (const [name, chunks] of files) await writeFileAtomic(path.join(dir, name), chunks());
  return files.map(([name]) => path.join(dir, name));
}

function* withNewline(chunks: Iterable<string>): Generator<string> {
  yield* chunks;
  yield '\n';
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
