/**
 * One study end to end, for the CLI: load and validate the file, expand the sweep, plan, run
 * against the cache, and write the results folder only when every point finished (so a failed
 * or interrupted run leaves earlier results intact), then the report (table, plots, HTML).
 * `reportFromCache` rebuilds the report from the cache alone, computing nothing.
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expandSweep, loadStudy, type Point, type Study } from '../pipeline/index.js';
import { resultsDir, writeResults } from '../report/results.js';
import { gitInfo } from '../lock/git.js';
import { clearStamp, resultsStamp, upToDateFiles, writeStamp } from './stamp.js';
import { claimResultsFolder } from './results-folder.js';
import type { PointSpectra } from '../report/model.js';
import { inlineBackend, type PointRanks, type PointSpectra as PointSpectraValue, type Prediction, type RankResult } from '../science/index.js';
import { CacheStore } from '../engine/store/cache.js';
import { collectResults, type CollectParams, type Results } from '../engine/kinds/collect.js';
import type { EngineEvent } from '../engine/exec/events.js';
import { planStudy, type Plan } from '../engine/kinds/plan.js';
import { computeStep } from '../engine/kinds/compute-step.js';
import type { Checkpoint } from '../engine/kinds/values.js';
import { DERIVED_KINDS } from '../engine/kinds/kinds.js';
import { runPlan, type RunResult } from '../engine/exec/run.js';
import { writeLock } from '../lock/lockfile.js';
import { checkMemory, estimatePlan, memoryLimit, type MemoryEstimate } from '../engine/kinds/memory.js';
import { recordCalibration } from '../engine/kinds/estimate.js';
import { HeapBound } from '../util/heap-bound.js';

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
  /** `redis://host:port`: steps are computed by `hrank worker` processes through this Redis. */
  readonly redis?: string;
  /** Refuse the study when its memory estimate is over this many bytes (default: a fraction of the machine's memory; see memory.ts). */
  readonly maxMemory?: number;
  /** The study `file` holds, already read and checked by the caller (the CLI's pre-check): not read again. */
  readonly loaded?: { readonly study: Study; readonly points: readonly Point[] };
}

export interface StudyRun {
  readonly plan: Plan;
  readonly run: RunResult;
  /** The study's results folder. */
  readonly dir: string;
  /** Files written (empty when the run did not finish). */
  readonly files: readonly string[];
  /** The lock file written beside the pipeline file (`<stem>.lock.json`), when the run finished. */
  readonly lock?: string;
  /** Nothing was computed and the results folder already held these exact results: nothing rewritten. */
  readonly upToDate?: boolean;
}

export function openCache(dir: string, onEvent?: (e: EngineEvent) => void): CacheStore {
  return new CacheStore(dir, { onWarning: (message) => onEvent?.({ type: 'warning', message }) });
}

export async function loadPlan(file: string): Promise<Plan> {
  const study = await loadStudy(file);
  return planStudy(study, expandSweep(study));
}

export async function runStudy(file: string, opts: StudyOptions = {}): Promise<StudyRun> {
  const plan = opts.loaded ? await planStudy(opts.loaded.study, opts.loaded.points) : await loadPlan(file);
  assertInside(opts.results ?? 'results', resultsDir(opts.results ?? 'results', plan.study));
  // A folder another pipeline file owns (same name:) is refused before any work.
  const claim = await claimResultsFolder(resultsDir(opts.results ?? 'results', plan.study), plan.study);
  if (claim.warning) opts.onEvent?.({ type: 'warning', message: claim.warning });
  // Refuse what cannot fit before any work (remote runs compute on the workers' machines).
  if (!opts.redis) await checkStudyMemory(plan, opts);
  opts.onEvent?.({ type: 'plan', plan });
  const started = new Date();
  const t0 = performance.now();
  const cache = opts.noCache ? null : openCache(opts.cache ?? 'cache', opts.onEvent);
  const remote = opts.redis ? await openRemote(opts.redis, cache, opts) : undefined;
  // The report's libraries (vega, resvg) take a few hundred ms of this thread to load: load them
  // once the first heavy step runs in a worker, so the report is ready when the results are.
  let preloaded = false;
  const heap = new HeapBound();
  const onEvent = (e: EngineEvent): void => {
    if (e.type === 'done' || e.type === 'cached') heap.tick();
    if (!preloaded && e.type === 'start' && e.step.kind === 'spectrum') {
      preloaded = true;
      import('../report/report.js').catch(() => undefined);
    }
    opts.onEvent?.(e);
  };
  let run: RunResult;
  try {
    run = await runPlan(plan, { cache, jobs: opts.jobs, keepGoing: opts.keepGoing, signal: opts.signal, onEvent, remote });
  } finally {
    await remote?.close();
  }
  heap.settle();
  const dir = resultsDir(opts.results ?? 'results', plan.study);
  let files: string[] = [];
  let lock: string | undefined;
  let upToDate = false;
  if (run.ok && run.results) {
    const git = await gitInfo(file);
    const stamp = resultsStamp(plan.study, run.results, git, cache !== null);
    const kept = run.computed.length === 0 && cache ? await upToDateFiles(dir, stamp) : null;
    if (kept) {
      files = kept;
      upToDate = true;
    } else {
      await clearStamp(dir, file);
      const pointSteps = Object.fromEntries(plan.points.map((p) => [p.point.id, Object.values(p.steps)]));
      files = await writeResults(dir, plan.study, run.results, {
        started, finished: new Date(), timings: { totalSeconds: (performance.now() - t0) / 1000, steps: run.seconds }, pointSteps, git,
      });
      heap.settle();
      const report = await writeStudyReport(plan, run.results, dir, cache, opts.onEvent);
      files.push(...report.files);
      heap.settle();
      // A report that could not be written leaves no stamp: the next run tries again.
      if (report.ok) await writeStamp(dir, file, stamp, files);
    }
    lock = await writeLock(file, plan, run.results);
    // This machine's rate for time estimates (engine/kinds/estimate.ts); it never fails a run.
    if (cache && !opts.redis) await recordCalibration(cache.root, plan, { computed: run.computed, seconds: (performance.now() - t0) / 1000, jobs: Math.max(1, opts.jobs ?? os.availableParallelism()) });
  }
  return { plan, run, dir: path.resolve(dir), files, ...(lock ? { lock } : {}), ...(upToDate ? { upToDate } : {}) };
}

/**
 * The memory estimate of the steps this run would compute (those the cache lacks), against the
 * limit; throws MemoryLimitError (exit 2) when it does not fit.
 */
export async function checkStudyMemory(plan: Plan, opts: StudyOptions): Promise<MemoryEstimate> {
  const jobs = Math.max(1, opts.jobs ?? os.availableParallelism());
  // The collected results cached (a rerun): nothing to compute, and nothing else to look up.
  if (!opts.noCache && (await openCache(opts.cache ?? 'cache').has(plan.byId.get(plan.collect)!.key))) {
    const estimate = estimatePlan(plan, jobs, new Set());
    checkMemory(estimate, memoryLimit(opts.maxMemory));
    return estimate;
  }
  const cached = opts.noCache ? new Set<string>() : await cachedSteps(plan, opts.cache ?? 'cache');
  const pending = new Set(plan.steps.filter((s) => !cached.has(s.id)).map((s) => s.id));
  // Only what a run would compute: nothing when the collected results are cached.
  if (cached.has(plan.collect)) pending.clear();
  const estimate = estimatePlan(plan, Math.max(1, opts.jobs ?? os.availableParallelism()), pending);
  checkMemory(estimate, memoryLimit(opts.maxMemory));
  return estimate;
}

/** The results folder of a study must lie inside the results root (the schema's name pattern already ensures it; this is the last line). */
function assertInside(root: string, dir: string): void {
  const rel = path.relative(path.resolve(root), path.resolve(dir));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new Error(`refusing to write results to ${path.resolve(dir)}: outside the results folder ${path.resolve(root)}`);
  }
}

/** The executor of `--redis` runs (loaded only then: local runs need no Redis client). */
async function openRemote(url: string, cache: CacheStore | null, opts: StudyOptions) {
  const { RedisSubmitter } = await import('../engine/distributed/submit.js');
  return RedisSubmitter.open({
    redis: url, cache, reuse: !opts.noCache,
    onWarning: (message) => opts.onEvent?.({ type: 'warning', message }),
  });
}

/**
 * The report after a finished run. The spectra (only when the study asks for them) are read
 * back from the cache; without one the report says it has none. A report that cannot be
 * written is a warning: the results are already written and stay valid.
 */
async function writeStudyReport(plan: Plan, results: Results, dir: string, cache: CacheStore | null, onEvent?: (e: EngineEvent) => void): Promise<{ files: string[]; ok: boolean }> {
  try {
    const report = await import('../report/report.js');
    let spectra: PointSpectra[] | null = null;
    if (plan.study.report.spectra && cache) {
      spectra = [];
      for (const p of plan.points) {
        const spectrum = (await cache.get(plan.byId.get(p.steps.spectrum)!.key)) as PointSpectraValue | undefined;
        if (!spectrum) { spectra = null; break; }
        const ranks = (await computeStep(plan.byId.get(p.steps.ranks)!, new Map([['spectrum', spectrum]]), { backend: inlineBackend(), parallel: 1 })) as PointRanks;
        spectra.push(pointSpectra(ranks));
      }
    }
    const provenance = await report.readProvenance(dir, plan.study);
    return { files: await report.writeReport(dir, { study: plan.study, results, spectra, provenance }), ok: true };
  } catch (e) {
    onEvent?.({ type: 'warning', message: `report not written: ${e instanceof Error ? e.message : String(e)}` });
    return { files: [], ok: false };
  }
}

function pointSpectra(ranks: PointRanks): PointSpectra {
  const out: PointSpectra = {};
  for (const k of ['loss', 'outer', 'functional'] as const) if (ranks[k]) out[k] = ranks[k];
  return out;
}

/** A step a rebuild needs that the cache does not hold. */
export class NotCachedError extends Error {
  override readonly name = 'NotCachedError';
  constructor(
    /** Ids of the missing steps, in plan order. */
    readonly missing: readonly string[],
    readonly cacheDir: string,
  ) {
    super(`${missing.length === 1 ? '1 step is' : `${missing.length} steps are`} not in the cache ${cacheDir}: ${missing.join(', ')}`);
  }
}

export interface CachedStudy {
  readonly results: Results;
  /** Per point (results row order): the spectra of its Hessians. */
  readonly spectra: readonly PointSpectra[];
}

/**
 * A study's results and spectra from the cache alone, computing nothing: the input-rank,
 * prediction and spectrum steps of every point must be cached (`collect` only gathers them;
 * ranks are derived from the spectra).
 * Throws `NotCachedError` naming every step the cache lacks.
 */
export async function resultsFromCache(plan: Plan, cache: CacheStore): Promise<CachedStudy> {
  const wanted = ['input-rank', 'prediction', 'spectrum'] as const;
  const values = new Map<string, unknown>();
  const missing = new Set<string>();
  for (const p of plan.points) {
    for (const kind of wanted) {
      const id = p.steps[kind];
      if (values.has(id) || missing.has(id)) continue;
      const v = await cache.get(plan.byId.get(id)!.key);
      if (v === undefined) missing.add(id);
      else values.set(id, v);
    }
  }
  if (missing.size > 0) throw new NotCachedError(plan.steps.map((s) => s.id).filter((id) => missing.has(id)), cache.root);
  // Ranks are derived (never cached): read from the spectra with each point's tolerance.
  for (const p of plan.points) {
    const step = plan.byId.get(p.steps.ranks)!;
    if (!values.has(step.id)) values.set(step.id, await computeStep(step, new Map([['spectrum', values.get(p.steps.spectrum)]]), { backend: inlineBackend(), parallel: 1 }));
  }
  for (const p of plan.points) {
    const id = p.steps.train;
    if (id === undefined || values.has(id) || missing.has(id)) continue;
    const v = await cache.get(plan.byId.get(id)!.key);
    if (v === undefined) missing.add(id);
    else values.set(id, v);
  }
  if (missing.size > 0) throw new NotCachedError(plan.steps.map((s) => s.id).filter((id) => missing.has(id)), cache.root);
  const perPoint = plan.points.map((p) => ({
    ...(p.steps.train !== undefined ? { train: values.get(p.steps.train) as Checkpoint } : {}),
    inputRank: values.get(p.steps['input-rank']) as RankResult,
    prediction: values.get(p.steps.prediction) as Prediction,
    ranks: values.get(p.steps.ranks) as PointRanks,
  }));
  const results = collectResults(plan.byId.get(plan.collect)!.parts.params as CollectParams, perPoint);
  return { results, spectra: perPoint.map((v) => pointSpectra(v.ranks)) };
}

export interface ReportRebuild {
  readonly plan: Plan;
  /** The study's results folder (absolute). */
  readonly dir: string;
  /** Files written (table.md, plots/*, report.html). */
  readonly files: readonly string[];
}

/**
 * `hrank report`: rebuilds the report of a study from the cache, computing nothing. The results
 * files are left as they are; provenance.json is shown when it belongs to this exact file.
 */
export async function reportFromCache(file: string, opts: { readonly results?: string; readonly cache?: string; readonly onEvent?: (e: EngineEvent) => void } = {}): Promise<ReportRebuild> {
  const plan = await loadPlan(file);
  const cache = openCache(opts.cache ?? 'cache', opts.onEvent);
  const { results, spectra } = await resultsFromCache(plan, cache);
  const dir = resultsDir(opts.results ?? 'results', plan.study);
  const claim = await claimResultsFolder(dir, plan.study);
  if (claim.warning) opts.onEvent?.({ type: 'warning', message: claim.warning });
  const report = await import('../report/report.js');
  const provenance = await report.readProvenance(dir, plan.study);
  // The folder's record names its owner; its stamp no longer matches the files (the next run rewrites them).
  await clearStamp(dir, file);
  const files = await report.writeReport(dir, { study: plan.study, results, spectra, provenance });
  return { plan, dir: path.resolve(dir), files };
}

/** Which steps of a plan the cache holds (for `hrank plan`). */
export async function cachedSteps(plan: Plan, cacheDir: string): Promise<Set<string>> {
  const cache = openCache(cacheDir);
  const out = new Set<string>();
  // No cache folder yet: nothing is cached (and nothing need be asked, step by step).
  if (!(await stat(cache.root).then((s) => s.isDirectory(), () => false))) return out;
  // The stored steps' entries in parallel (the cache's file slots bound the files open).
  const stored = plan.steps.filter((s) => !DERIVED_KINDS.has(s.kind));
  const have = await Promise.all(stored.map((s) => cache.has(s.key)));
  stored.forEach((s, i) => { if (have[i]) out.add(s.id); });
  // A derived step is as good as cached when its inputs are (it is never stored); steps are in
  // topological order.
  for (const s of plan.steps) if (DERIVED_KINDS.has(s.kind) && Object.values(s.inputs).every((id) => out.has(id))) out.add(s.id);
  return out;
}
