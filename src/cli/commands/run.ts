/**
 * `hrank run <file>`: run a study against the cache, with live progress on stderr, and print a
 * summary (or, with --json, a machine-readable one on stdout and nothing else there).
 *
 * Ctrl-C aborts the run through an AbortController: running steps stop, finished ones are
 * already cached, and the command exits 130. A second Ctrl-C exits at once.
 */
import path from 'node:path';
import type { RunResult } from '../../engine/exec/run.js';
import type { Cell } from '../../engine/kinds/collect.js';
import { resultRows } from '../../report/results.js';
import { runStudy, type StudyOptions, type StudyRun } from '../../study/study.js';
import { loadCheckedStudy } from '../datafiles.js';
import { formatWarning } from '../../pipeline/errors.js';
import { createDisplay, type Display } from '../display.js';
import { MemoryLimitError } from '../../engine/kinds/memory.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, InputError } from '../errors.js';
import { formatSeconds, plural, resultsTable } from '../format.js';
import type { CliIO } from '../io.js';
import type { RunOptions } from '../options.js';

/** The `--json` summary of a run. */
export interface RunSummary {
  readonly study: string;
  /** The pipeline file (absolute, as every path here). */
  readonly file: string;
  readonly ok: boolean;
  readonly interrupted: boolean;
  /** The study's results folder (absolute). */
  readonly results: string;
  /** Files written (empty when the run did not finish); when upToDate, the files already there. */
  readonly files: readonly string[];
  /** Nothing was computed and the results folder already held these results: no file rewritten. */
  readonly upToDate: boolean;
  readonly points: number;
  readonly steps: number;
  readonly computed: number;
  readonly cached: number;
  readonly failed: number;
  readonly failures: readonly { readonly step: string; readonly message: string; readonly code: string }[];
  /** Wall-clock seconds of the command's run. */
  readonly seconds: number;
  /** The results rows (results.json's), when the run finished; empty otherwise. */
  readonly rows: readonly Readonly<Record<string, Cell>>[];
}

export function runSummary(file: string, outcome: StudyRun, seconds: number): RunSummary {
  const run: RunResult = outcome.run;
  return {
    study: outcome.plan.study.name,
    file: path.resolve(file),
    ok: run.ok,
    interrupted: run.interrupted,
    results: outcome.dir,
    files: [...outcome.files],
    upToDate: outcome.upToDate ?? false,
    points: outcome.plan.points.length,
    steps: outcome.plan.steps.length,
    computed: run.computed.length,
    cached: run.cached.length,
    failed: run.failed.length,
    failures: run.failed.map((f) => ({ step: f.id, message: f.message, code: f.code })),
    seconds: Math.round(seconds * 1000) / 1000,
    rows: run.ok && run.results ? resultRows(run.results) : [],
  };
}

/** What to do about a failed step, from its failure code (engine/exec/run.ts `FailureCode`); undefined when there is nothing to say. */
export function failureHint(code: string): string | undefined {
  switch (code) {
    case 'cache:ENOSPC':
    case 'cache:EDQUOT':
      return 'the disk is full: free some space, or point --cache at another disk; entries already written stay valid, a rerun resumes';
    case 'cache:EACCES':
    case 'cache:EPERM':
    case 'cache:EROFS':
      return 'the cache folder cannot be written: fix its permissions, or point --cache elsewhere';
    default:
      return undefined;
  }
}

export const INTERRUPTED_MESSAGE = 'interrupted: finished steps are cached; rerun to resume';

export async function runCommand(opts: RunOptions, io: CliIO): Promise<number> {
  // Problems of the file and missing dataset files are reported before anything starts.
  const loaded = await loadCheckedStudy(opts.file);
  if (loaded.warnings.length > 0) io.err(`${loaded.warnings.map(formatWarning).join('\n')}\n`);

  const display = await createDisplay({
    write: io.err, terminal: io.progressStream, jobs: opts.jobs,
    // This machine's calibration (kept in the cache) gives the ETA's rate until the run measures its own.
    ...(!opts.noCache && !opts.redis ? { cache: opts.cache } : {}),
  });
  const controller = new AbortController();
  let interrupts = 0;
  const stopListening = io.onInterrupt(() => {
    interrupts++;
    if (interrupts === 1) {
      controller.abort();
      display.interrupting();
      return;
    }
    display.dispose();
    io.err(`\ninterrupted at once: steps finished so far are cached${opts.noCache ? ' (not with --no-cache)' : ''}\n`);
    io.exit(EXIT_INTERRUPTED);
  });

  try {
    return await runAndReport(opts, loaded, io, display, controller.signal);
  } finally {
    // Until here a Ctrl-C is ours (after the run: the second one exits at once).
    stopListening();
  }
}

async function runAndReport(opts: RunOptions, loaded: StudyOptions['loaded'], io: CliIO, display: Display, signal: AbortSignal): Promise<number> {
  const t0 = performance.now();
  let outcome: StudyRun;
  try {
    outcome = await runStudy(opts.file, {
      results: opts.results,
      cache: opts.cache,
      noCache: opts.noCache,
      jobs: opts.jobs,
      keepGoing: opts.keepGoing,
      ...(opts.maxMemory !== undefined ? { maxMemory: opts.maxMemory } : {}),
      ...(opts.redis ? { redis: opts.redis } : {}),
      signal,
      onEvent: display.onEvent,
      loaded,
    });
  } catch (err) {
    await display.finish();
    // A study that cannot fit in memory is refused before any work: an input problem (exit 2).
    throw err instanceof MemoryLimitError ? new InputError(err.message) : err;
  }
  await display.finish(outcome.run);
  const summary = runSummary(opts.file, outcome, (performance.now() - t0) / 1000);
  const { run } = outcome;

  if (opts.json) io.out(`${JSON.stringify(summary, null, 2)}\n`);

  if (run.interrupted) {
    io.err(opts.noCache ? 'interrupted (--no-cache: nothing was kept)\n' : `${INTERRUPTED_MESSAGE}\n`);
    return EXIT_INTERRUPTED;
  }
  const counts = `computed ${summary.computed}, cached ${summary.cached}${summary.failed ? `, failed ${summary.failed}` : ''}, ${formatSeconds(summary.seconds)}`;
  if (!run.ok) {
    const lines = [`${summary.study}: ${counts}`];
    if (run.failed.length > 0) {
      lines.push(`failed: ${plural(run.failed.length, 'step')}${opts.keepGoing ? '' : ' (stopped at the first failure; --keep-going finishes what it can)'}`);
      for (const f of run.failed) lines.push(`  ${f.id}: ${f.message.replace(/\n/g, '\n    ')}`);
      for (const hint of new Set(run.failed.map((f) => failureHint(f.code)))) if (hint) lines.push(`hint: ${hint}`);
    } else {
      lines.push('error: the run did not finish');
    }
    lines.push(`results not written; anything already in ${outcome.dir} is unchanged`);
    io.err(`${lines.join('\n')}\n`);
    return EXIT_FAILED;
  }
  if (!opts.json) {
    const lines = [`${summary.study}: ${counts}`];
    const names = outcome.files.map((f) => path.relative(outcome.dir, f).split(path.sep).join('/'));
    const what = outcome.upToDate ? 'up to date, nothing rewritten' : names.join(', ');
    lines.push(`results: ${outcome.dir}${what ? ` (${what})` : ''}`);
    const table = run.results ? resultsTable(run.results, outcome.plan.study.sweep.axes.map((a) => a.path), 2, io.outColumns) : undefined;
    if (table !== undefined) lines.push('', table);
    else if (run.results && run.results.rows.length > 0) lines.push(`${plural(run.results.rows.length, 'row')}: see results.csv`);
    io.out(`${lines.join('\n')}\n`);
  }
  return EXIT_OK;
}
