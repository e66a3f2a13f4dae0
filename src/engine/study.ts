/**
 * One study end to end, for the CLI: load and validate the file, expand the sweep, plan, run
 * against the cache, and write the results folder only when every point finished (so a failed
 * or interrupted run leaves earlier results intact).
 */
import path from 'node:path';
import { expandSweep, loadStudy } from '../pipeline/index.js';
import { resultsDir, writeResults } from '../report/results.js';
import { CacheStore } from './cache.js';
import type { EngineEvent } from './events.js';
import { planStudy, type Plan } from './plan.js';
import { runPlan, type RunResult } from './run.js';

export interface StudyOptions {
  /** Folder that holds `<name>/` result folders (default `results`). */
  readonly results?: string;
  /** Cache folder (default `cache`). */
  readonly cache?: string;
  /** Neither read nor write the cache. */
  readonly noCache?: boolean;
  readonly jobs?: number;
  readonly keepGoing?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: EngineEvent) => void;
}

export interface StudyRun {
  readonly plan: Plan;
  readonly run: RunResult;
  /** The study's results folder. */
  readonly dir: string;
  /** Files written (empty when the run did not finish). */
  readonly files: readonly string[];
}

export function openCache(dir: string, onEvent?: (e: EngineEvent) => void): CacheStore {
  return new CacheStore(dir, { onWarning: (message) => onEvent?.({ type: 'warning', message }) });
}

export async function loadPlan(file: string): Promise<Plan> {
  const study = await loadStudy(file);
  return planStudy(study, expandSweep(study));
}

export async function runStudy(file: string, opts: StudyOptions = {}): Promise<StudyRun> {
  const plan = await loadPlan(file);
  opts.onEvent?.({ type: 'plan', plan });
  const started = new Date();
  const t0 = performance.now();
  const cache = opts.noCache ? null : openCache(opts.cache ?? 'cache', opts.onEvent);
  const run = await runPlan(plan, { cache, jobs: opts.jobs, keepGoing: opts.keepGoing, signal: opts.signal, onEvent: opts.onEvent });
  const dir = resultsDir(opts.results ?? 'results', plan.study);
  let files: string[] = [];
  if (run.ok && run.results) {
    const pointSteps = Object.fromEntries(plan.points.map((p) => [p.point.id, Object.values(p.steps)]));
    files = await writeResults(dir, plan.study, run.results, {
      started, finished: new Date(), timings: { totalSeconds: (performance.now() - t0) / 1000, steps: run.seconds }, pointSteps,
    });
  }
  return { plan, run, dir: path.resolve(dir), files };
}

/** Which steps of a plan the cache holds (for `hrank plan`). */
export async function cachedSteps(plan: Plan, cacheDir: string): Promise<Set<string>> {
  const cache = openCache(cacheDir);
  const out = new Set<string>();
  for (const s of plan.steps) if (await cache.has(s.key)) out.add(s.id);
  return out;
}
