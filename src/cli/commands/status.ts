/**
 * `hrank status [files...]`: for each pipeline file (default: every `*.yaml` under `pipelines/`),
 * whether its lock file still matches it: `up to date`, `stale` (which points, and why) or
 * `never run`. Plans only: nothing is computed and the cache is not read. Exit 0 when every
 * study is up to date, 1 when one is stale or never run, 2 when a file cannot be checked (an
 * invalid pipeline, a missing dataset file, a malformed lock file).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { planStudy } from '../../engine/kinds/plan.js';
import { LockError, lockPathFor, readLock, readLockKeys, studyStatus, unchangedStatus, type PointChange, type StudyStatus } from '../../lock/index.js';
import { PipelineError, formatProblem } from '../../pipeline/errors.js';
import { PROJECT_FILE } from '../../pipeline/project.js';
import { DatasetError } from '../../science/datasets/errors.js';
import { loadCheckedStudy } from '../datafiles.js';
import { EXIT_FAILED, EXIT_INPUT, EXIT_OK, InputError, datasetMessage } from '../errors.js';
import { plural, textTable } from '../format.js';
import type { CliIO } from '../io.js';
import type { StatusOptions } from '../options.js';

/** A file that could not be checked, and why (one line or several, e.g. pipeline problems). */
export interface StatusError {
  readonly file: string;
  readonly error: string;
}

export interface StatusReport {
  /** True when every study is up to date. */
  readonly ok: boolean;
  readonly studies: readonly StudyStatus[];
  readonly errors: readonly StatusError[];
}

/** Every `*.yaml` / `*.yml` under `dir` (recursively), sorted; lock files and dot folders skipped. */
export async function pipelineFiles(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
      .map((e) => path.join(e.parentPath, e.name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputError(`no pipeline files given, and there is no ${dir}/ folder (${path.resolve(dir)}); name the files (hrank status study.yaml), or set pipelines: in the project file (hrank.yaml; hrank init writes one)`);
    }
    throw err;
  }
  // Dot folders, and the project file when the pipelines folder is the project's root.
  return entries.filter((f) => !path.relative(dir, f).split(path.sep).some((part) => part.startsWith('.')) && path.basename(f) !== PROJECT_FILE).sort();
}

function errorText(err: unknown): string | undefined {
  if (err instanceof PipelineError) return err.problems.map(formatProblem).join('\n');
  if (err instanceof DatasetError) return datasetMessage(err);
  if (err instanceof LockError) return err.message;
  return undefined;
}

/** The status of one pipeline file against its lock file. Throws for files that cannot be checked. */
export async function fileStatus(file: string): Promise<StudyStatus> {
  // The study loaded once (checked, then planned) while a worker thread reads the lock's ids and
  // keys (a lock of 100,000 points is 170 MB of JSON); the whole lock is read only when a point
  // changed, to say how.
  const loaded = await loadCheckedStudy(file);
  const lockFile = lockPathFor(file);
  const keys = readLockKeys(lockFile);
  keys.catch(() => undefined); // awaited below, after planning
  const plan = await planStudy(loaded.study, loaded.points);
  const lock = await keys;
  if (lock === null) return studyStatus(plan, null, file, lockFile);
  return unchangedStatus(plan, lock, file, lockFile) ?? studyStatus(plan, await readLock(lockFile), file, lockFile);
}

export async function statusReport(files: readonly string[]): Promise<StatusReport> {
  const studies: StudyStatus[] = [];
  const errors: StatusError[] = [];
  for (const file of files) {
    try {
      studies.push(await fileStatus(file));
    } catch (err) {
      const text = errorText(err);
      if (text === undefined) throw err;
      errors.push({ file, error: text });
    }
  }
  return { ok: errors.length === 0 && studies.every((s) => s.state === 'up to date'), studies, errors };
}

/** The studies' lines (stdout). */
export function formatStatus(report: StatusReport): string {
  const lines: string[] = [];
  for (const s of report.studies) {
    if (s.state === 'never run') {
      lines.push(`${s.file}: never run (no lock file ${s.lock}; hrank run ${s.file} writes it)`);
      continue;
    }
    if (s.state === 'up to date') {
      lines.push(`${s.file}: up to date (${plural(s.points, 'point')})`);
    } else {
      const n = (c: PointChange['change']): number => s.changes.filter((x) => x.change === c).length;
      const parts = [
        ...(s.unchanged > 0 ? [`${s.unchanged} unchanged${n('renamed') > 0 ? ` (${n('renamed')} under a new id)` : ''}`] : []),
        ...(['changed', 'new', 'removed'] as const).filter((c) => n(c) > 0).map((c) => `${n(c)} ${c}`),
      ];
      lines.push(`${s.file}: stale (${parts.join(', ')}; ${plural(s.points, 'point')} planned)`);
      // One reason shared by every changed point is said once, not on every row.
      const changed = s.changes.filter((c) => c.change === 'changed');
      const why = (c: PointChange): string => c.reasons.map((r) => r.message).join('; ');
      const shared = changed.length > 1 && changed.every((c) => why(c) === why(changed[0]!)) ? why(changed[0]!) : undefined;
      if (shared !== undefined) lines.push(`  every changed point: ${shared}`);
      const rows = s.changes.map((c) => [
        c.change, c.was !== undefined ? `${c.id} (was ${c.was})` : c.id,
        c.change === 'changed' && shared !== undefined ? '(as above)' : why(c),
      ]);
      lines.push(textTable(['change', 'point', 'why'], rows, 2));
    }
    for (const note of s.notes) lines.push(`  note: ${note}`);
  }
  const total = report.studies.length + report.errors.length;
  if (total > 1) {
    const behind = report.studies.filter((s) => s.state !== 'up to date').length;
    const unchecked = report.errors.length ? `, ${report.errors.length} could not be checked` : '';
    lines.push(report.ok ? `all ${total} studies up to date` : `${behind} of ${total} studies not up to date${unchecked}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** The files that could not be checked (stderr). */
export function formatStatusErrors(errors: readonly StatusError[]): string {
  return errors.map((e) => `${e.file}: cannot check it:${e.error.includes('\n') ? '\n' : ' '}${e.error}\n`).join('');
}

export async function statusCommand(opts: StatusOptions, io: CliIO): Promise<number> {
  const files = opts.files.length > 0 ? [...opts.files] : await pipelineFiles(opts.pipelines);
  if (files.length === 0) throw new InputError(`no pipeline files (*.yaml) under ${opts.pipelines}/`);
  const report = await statusReport(files);
  if (opts.json) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    if (report.errors.length > 0) io.err(formatStatusErrors(report.errors));
    io.out(formatStatus(report));
  }
  if (report.errors.length > 0) return EXIT_INPUT;
  return report.ok ? EXIT_OK : EXIT_FAILED;
}
