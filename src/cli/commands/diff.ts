/**
 * `hrank diff <rev-a> [<rev-b>] [file]`: a study's results between two git revisions, read
 * from its lock file at each (`git show rev:path`; without rev-b, the lock file on disk), or
 * `hrank diff <folder-a> <folder-b>`: between two results folders (their results.json).
 * Prints the points added, removed, and those whose ranks or predictions changed, as a table
 * (`--json`: as data). Without a file, every lock file under the current folder that differs
 * between the revisions is compared.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Cell } from '../../engine/kinds/collect.js';
import {
  GitError, LockError, changedLockFiles, diffPointSets, isLockPath, lockPathFor, lockPoints, parseLock, readLock, resolveRevision,
  resultsFolderPoints, showAtRevision, type PointDiff, type ResultsDiff,
} from '../../lock/index.js';
import { EXIT_FAILED, EXIT_OK, InputError } from '../errors.js';
import { plural, textTable } from '../format.js';
import type { CliIO } from '../io.js';
import type { DiffOptions } from '../options.js';

/** What the arguments ask for. */
export type DiffRequest =
  | { readonly mode: 'folders'; readonly a: string; readonly b: string }
  /** `revB` null: the working tree. `file`: a pipeline file or a lock file; absent: every changed lock file. */
  | { readonly mode: 'revisions'; readonly revA: string; readonly revB: string | null; readonly file?: string };

const STUDY_FILE = /\.(ya?ml|lock\.json)$/i;

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Reads the positional arguments: revisions, folders and an optional file. */
export function interpretDiffArgs(targets: readonly string[], dirExists: (p: string) => boolean = isDir, exists: (p: string) => boolean = existsSync): DiffRequest {
  if (targets.length === 0) throw new InputError('diff: give a git revision (hrank diff HEAD study.yaml) or two results folders');
  let revs = [...targets];
  let file: string | undefined;
  if (revs.length >= 2 && STUDY_FILE.test(revs[revs.length - 1]!)) file = revs.pop();
  if (revs.length > 2) {
    throw new InputError(`diff: the last of three arguments must be a pipeline file (.yaml) or a lock file (.lock.json), got '${targets[2]}'`);
  }
  if (revs.length === 1 && STUDY_FILE.test(revs[0]!)) {
    throw new InputError(`diff: give the revision to compare with before the file: hrank diff HEAD ${revs[0]}`);
  }
  const dirs = revs.map(dirExists);
  if (dirs.every(Boolean) && revs.length === 2) {
    if (file !== undefined) throw new InputError('diff: results folders are compared as they are; leave out the pipeline file');
    return { mode: 'folders', a: revs[0]!, b: revs[1]! };
  }
  const folder = revs.find((_, i) => dirs[i]);
  if (folder !== undefined) {
    // One folder and something else: name the argument that is not a folder.
    const other = revs.length === 2 ? revs.find((_, i) => !dirs[i]) : undefined;
    if (other !== undefined && (/[/\\]$/.test(other) || !exists(other) && /[/\\.]/.test(other))) {
      throw new InputError(`diff: '${other}' ${exists(other) ? 'is not a folder' : 'does not exist'}; '${folder}' is a results folder, and two results folders compare as hrank diff results/a results/b`);
    }
    throw new InputError(`diff: '${folder}' is a folder: compare two results folders (hrank diff results/a results/b) or two git revisions`);
  }
  return { mode: 'revisions', revA: revs[0]!, revB: revs[1] ?? null, ...(file !== undefined ? { file } : {}) };
}

export interface StudyDiff extends ResultsDiff {
  /** The pipeline or lock file compared (null for results folders). */
  readonly file: string | null;
}

export interface DiffReport {
  readonly studies: readonly StudyDiff[];
  /** True when some study differs. */
  readonly differs: boolean;
}

async function lockAt(rev: string | null, lockFile: string): Promise<ReturnType<typeof parseLock> | null> {
  if (rev === null) return readLock(lockFile);
  const text = await showAtRevision(rev, lockFile);
  return text === null ? null : parseLock(text, `${rev}:${lockFile}`);
}

async function diffRevisions(revA: string, revB: string | null, file: string): Promise<StudyDiff> {
  const lockFile = isLockPath(file) ? file : lockPathFor(file);
  const [a, b] = [await lockAt(revA, lockFile), await lockAt(revB, lockFile)];
  const where = revB ?? 'the working tree';
  if (a === null && b === null) throw new InputError(`no lock file ${lockFile} at ${revA} nor in ${where} (hrank run writes it)`);
  const diff = diffPointSets(lockPoints(a, revA), lockPoints(b, revB ?? 'working tree'));
  return { file, ...diff };
}

export async function diffReport(request: DiffRequest): Promise<DiffReport> {
  let studies: StudyDiff[];
  if (request.mode === 'folders') {
    const [a, b] = [await resultsFolderPoints(request.a), await resultsFolderPoints(request.b)];
    studies = [{ file: null, ...diffPointSets(a, b) }];
  } else {
    const cwd = request.file !== undefined ? path.dirname(path.resolve(request.file)) : process.cwd();
    await resolveRevision(cwd, request.revA);
    if (request.revB !== null) await resolveRevision(cwd, request.revB);
    const files = request.file !== undefined ? [request.file] : await changedLockFiles(cwd, request.revA, request.revB);
    studies = [];
    for (const f of files) studies.push(await diffRevisions(request.revA, request.revB, f));
  }
  return { studies, differs: studies.some((s) => s.points.length > 0) };
}

/** Columns of the table, when they hold a value in some listed row. */
const SHOWN = ['params', 'rank_input_cov', 'rank_loss', 'rank_outer', 'rank_functional', 'pred_loss', 'pred_outer', 'pred_functional'];

function text(c: Cell | undefined): string {
  if (c === null || c === undefined) return '-';
  return Array.isArray(c) ? `[${c.join(', ')}]` : String(c);
}

function cell(d: PointDiff, column: string): Cell {
  if (d.change === 'removed') return d.before?.[column] ?? null;
  if (d.change === 'changed' && d.columns.includes(column)) return `${text(d.before?.[column])} -> ${text(d.after?.[column])}`;
  return d.after?.[column] ?? null;
}

export function diffTable(diff: ResultsDiff, indent = 2): string {
  const rows = diff.points;
  const hasValue = (c: string): boolean => rows.some((d) => (d.before?.[c] ?? null) !== null || (d.after?.[c] ?? null) !== null);
  const extra = [...new Set(rows.flatMap((d) => d.columns))].filter((c) => !SHOWN.includes(c));
  const columns = [...SHOWN.filter(hasValue), ...extra];
  return textTable(['change', 'point', ...columns], rows.map((d) => [d.change, d.was !== undefined ? `${d.id} (was ${d.was})` : d.id, ...columns.map((c) => cell(d, c))]), indent);
}

export function formatDiff(report: DiffReport, request: DiffRequest): string {
  if (report.studies.length === 0 && request.mode === 'revisions') {
    return `no lock file differs between ${request.revA} and ${request.revB ?? 'the working tree'}\n`;
  }
  const lines: string[] = [];
  for (const s of report.studies) {
    const name = s.file ?? `${s.a} -> ${s.b}`;
    const head = s.file === null ? name : `${name} (${s.a} -> ${s.b})`;
    const c = s.counts;
    if (s.points.length === 0) {
      lines.push(`${head}: no differences (${plural(c.same, 'point')})`);
      continue;
    }
    const parts = [
      c.added && `${c.added} added`, c.removed && `${c.removed} removed`, c.changed && `${c.changed} changed`,
      c.recomputed && `${c.recomputed} recomputed with the same ranks and predictions`,
      c.renamed && `${c.renamed} the same under a new id`, c.same && `${c.same} the same`,
    ].filter(Boolean);
    lines.push(`${head}: ${parts.join(', ')}`, diffTable(s));
  }
  return `${lines.join('\n')}\n`;
}

export async function diffCommand(opts: DiffOptions, io: CliIO): Promise<number> {
  const request = interpretDiffArgs(opts.targets);
  if (request.mode === 'revisions' && request.file !== undefined && !isLockPath(request.file) && !existsSync(request.file) && request.revB === null) {
    // The pipeline file is only used to find its lock file, which may still exist.
    if (!existsSync(lockPathFor(request.file))) throw new InputError(`${request.file}: no such file, and no lock file ${lockPathFor(request.file)}`);
  }
  let report: DiffReport;
  try {
    report = await diffReport(request);
  } catch (err) {
    if (err instanceof GitError || err instanceof LockError) throw new InputError(err.message);
    throw err;
  }
  io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatDiff(report, request));
  return opts.exitCode && report.differs ? EXIT_FAILED : EXIT_OK;
}
