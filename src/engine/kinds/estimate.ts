/**
 * How long a study's steps take on this machine: science's work units per step (science/cost.ts)
 * times seconds per unit. The rate comes from the runs this machine finished (`calibration.json`
 * in the cache folder: per run its seconds and units) or, before any, a default measured on the
 * 2-core machine hrank is developed on. The calibration is per run, not per step: steps overlap
 * (a subspace point's pieces queue behind other points' on the same workers, chain members share
 * one sum), so a step's own seconds measure its wait as much as its work; a run's seconds against
 * its units measure the machine.
 *
 * A run's wall time: start-up, the data's loading and the workers' warm-up, then the heavy steps
 * on `jobs` workers while the light ones run on the main thread, then the results and the report.
 * The heavy part is their work over the workers (and the cores they share with the main thread),
 * but never less than the longest piece one worker must do alone (a dense point, a chain's sums).
 * Measured against real runs of the shipped studies: see the README's `hrank plan` row.
 */
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spectrumWork, type WorkShape } from '../../science/cost.js';
import type { RankResult } from '../../science/index.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { CacheStore } from '../store/cache.js';
import type { StepKind } from './kinds.js';
import { trainingFlops } from '../../science/train.js';
import { chainLargest, firstPointOf, type Plan, type PlanStep } from './plan.js';
import { networkSpecOf, outputCount } from './settings.js';

/** The calibration file in a cache folder (`hrank clean` leaves it: it describes the machine, not a study). */
export const CALIBRATION_FILE = 'calibration.json';
/** Bump when the cost model changes: runs recorded under another model are not used. */
export const COST_MODEL = 1;
/** Seconds per work unit on the 2-core machine hrank is developed on, used until a run calibrates this one. */
export const DEFAULT_SECONDS_PER_UNIT = 0.9e-10;
/** Node's start, module loading and planning, before the first step (seconds, whatever the study). */
const START_SECONDS = 0.4;
/** The results files and the report (figures drawn and rasterised), in units. */
const REPORT_UNITS = 6e9;
/** Fresh worker threads compile the numerical code on their first steps (once per run, on all threads at once). */
const WORKER_WARMUP = 6e9;
/** Runs kept in the calibration file; the rate is taken over the most recent ones. */
const RUNS_KEPT = 20;
const RUNS_USED = 10;

/**
 * Light steps run on the main thread; each also stores its value (an fsynced write). Units per
 * step, plus the dataset's reading per sample and input, and the input rank's d x d eigensolve.
 */
const LIGHT_STEP: Readonly<Record<Exclude<StepKind, 'spectrum'>, number>> = {
  dataset: 1.5e8, network: 5e7, train: 5e7, 'input-rank': 5e7, prediction: 5e7, ranks: 5e6, collect: 5e7,
};
const DATASET_PER_VALUE = 100;
/**
 * What a process pays once before the first dataset of a source is ready, in units: the embedded
 * MNIST digits are parsed from the package's JSON (~0.9 s here). Every heavy step waits for it.
 */
const SOURCE_SETUP: Readonly<Record<string, number>> = { mnist: 1.2e10 };

export interface StepWork {
  readonly id: string;
  readonly kind: StepKind;
  /** Runs on a worker thread. */
  readonly heavy: boolean;
  /** Work units in all. */
  readonly work: number;
  /** Units one worker must do alone (see SpectrumWork.serial); chains add up their members'. */
  readonly serial: number;
  /** A prefix-sum chain's group: its members' sums run one after another. */
  readonly chain?: string;
  /** The route the figure assumes (spectrum steps). */
  readonly route?: string;
  /** Work a run pays once for all steps sharing `key` (a dataset source's loading), before any heavy step can start. */
  readonly setup?: { readonly key: string; readonly work: number };
}

/** A spectrum step's shapes, from the first point it serves. */
function workShape(plan: Plan, step: PlanStep, inputRank?: number): WorkShape {
  const point = firstPointOf(plan, step);
  const cfg = step.config;
  const boundaries = step.chain?.boundaries;
  const largest = step.chain ? chainLargest(plan, step.chain.group) : undefined;
  return {
    params: point.params, samples: cfg.dataset.samples, inputDim: point.inputDim, outputs: outputCount(cfg),
    hidden: cfg.model.hidden, hessians: cfg.hessians, loss: cfg.loss, linear: cfg.model.activation === 'linear',
    bias: cfg.model.bias, dense: cfg.rank.route === 'dense',
    ...(cfg.model.conv !== undefined ? { conv: networkSpecOf(cfg).conv! } : {}),
    ...(inputRank !== undefined ? { inputRank } : {}),
    ...(boundaries ? { chainAdded: cfg.dataset.samples - (boundaries.length > 1 ? boundaries[boundaries.length - 2]! : 0), chainLargest: largest } : {}),
  };
}

/** The work of one step. `inputRank`: the point's rank(X^T X) when known (sharper subspace sizes). */
export function stepWork(plan: Plan, step: PlanStep, inputRank?: number): StepWork {
  if (step.kind === 'spectrum') {
    const w = spectrumWork(workShape(plan, step, inputRank));
    return { id: step.id, kind: step.kind, heavy: true, work: w.work, serial: w.serial, route: w.route, ...(step.chain ? { chain: step.chain.group } : {}) };
  }
  let work = LIGHT_STEP[step.kind];
  if (step.kind === 'dataset' || step.kind === 'input-rank') {
    const point = firstPointOf(plan, step);
    const n = step.config.dataset.samples, d = point.inputDim;
    work += step.kind === 'dataset' ? DATASET_PER_VALUE * n * d : 2 * n * d * d + (4 / 3) * d ** 3;
  }
  if (step.kind === 'train') {
    const point = firstPointOf(plan, step);
    const { from, to } = step.parts.params as { from: number; to: number };
    const t = step.config.train!;
    work += trainingFlops(to - from, t.optimizer === 'gd' ? step.config.dataset.samples : t.batch_size ?? 1, step.config.dataset.samples, point.params);
  }
  const source = step.kind === 'dataset' ? step.config.dataset.source : undefined;
  const setup = source !== undefined && SOURCE_SETUP[source] !== undefined ? { key: source, work: SOURCE_SETUP[source]! } : undefined;
  return { id: step.id, kind: step.kind, heavy: false, work, serial: 0, ...(setup ? { setup } : {}) };
}

/** How a run is laid out: its workers, the machine's cores, and whether its one-time costs are behind it. */
export interface RunShape {
  readonly jobs: number;
  /** Cores the worker threads and the main thread share (default: this machine's). */
  readonly cores?: number;
  /** The data sources are loaded and the workers warm (an ETA mid-run): no one-time costs. */
  readonly started?: boolean;
}

/**
 * Units of wall time for running `steps` (start-up and report excluded): the data sources'
 * loading and the workers' warm-up, then the heavy work spread over the workers (at least its
 * longest serial part) alongside the light steps on the main thread, all of them sharing the
 * machine's cores.
 */
export function wallUnits(steps: readonly StepWork[], run: RunShape): number {
  let heavy = 0, light = 0, longest = 0;
  const chains = new Map<string, number>();
  const setups = new Map<string, number>();
  for (const s of steps) {
    if (s.setup) setups.set(s.setup.key, s.setup.work);
    if (!s.heavy) { light += s.work; continue; }
    heavy += s.work;
    if (s.chain !== undefined) chains.set(s.chain, (chains.get(s.chain) ?? 0) + s.serial);
    else longest = Math.max(longest, s.serial);
  }
  for (const c of chains.values()) longest = Math.max(longest, c);
  let setup = heavy > 0 && !run.started ? WORKER_WARMUP : 0;
  if (!run.started) for (const w of setups.values()) setup += w;
  const workers = Math.max(1, run.jobs);
  // The main thread is one more thread on the cores: with as many workers as cores it takes their time.
  const threads = Math.max(1, Math.min(workers + 1, run.cores ?? os.availableParallelism()));
  return setup + Math.max(heavy / workers, (heavy + light) / threads, longest, light);
}

/** The machine's rate, and where it comes from. */
export interface Rate {
  readonly secondsPerUnit: number;
  /** From runs on this machine (else the default). */
  readonly calibrated: boolean;
  /** How many runs it comes from. */
  readonly runs: number;
}

export const DEFAULT_RATE: Rate = { secondsPerUnit: DEFAULT_SECONDS_PER_UNIT, calibrated: false, runs: 0 };

/** Units of a run of `steps` once the process is up: the steps, then the results and the report (none: 0). */
export function runUnits(steps: readonly StepWork[], run: RunShape): number {
  return steps.length === 0 ? 0 : wallUnits(steps, run) + REPORT_UNITS;
}

/** Wall seconds of a run of `steps` (none: 0): start-up, the steps, the results and the report. */
export function wallSeconds(steps: readonly StepWork[], run: RunShape, rate: Rate = DEFAULT_RATE): number {
  if (steps.length === 0) return 0;
  return START_SECONDS + runUnits(steps, run) * rate.secondsPerUnit;
}

export interface TimeEstimate {
  /** Wall seconds of running the steps still to compute with `jobs` workers (0 when there are none). */
  readonly seconds: number;
  readonly jobs: number;
  readonly rate: Rate;
  /** Per step still to compute: its compute seconds on one core. */
  readonly steps: readonly { readonly id: string; readonly seconds: number; readonly route?: string }[];
  /** Per point with steps to compute: the compute seconds of its steps on one core (a shared step split between its points). */
  readonly points: readonly { readonly id: string; readonly seconds: number }[];
}

/** The time of computing `pending` (step ids) with `jobs` workers at `rate`. */
export function estimateTime(plan: Plan, pending: ReadonlySet<string>, jobs: number, rate: Rate = DEFAULT_RATE, inputRanks: ReadonlyMap<string, number> = new Map()): TimeEstimate {
  const works: StepWork[] = [];
  // Seconds by point index (undefined: nothing to compute); a step serving one point is its first.
  const perPoint: (number | undefined)[] = new Array(plan.points.length);
  let indexOf: Map<string, number> | undefined;
  for (const s of plan.steps) {
    if (!pending.has(s.id)) continue;
    const w = stepWork(plan, s, inputRankOf(plan, s, inputRanks));
    works.push(w);
    if (w.kind === 'collect') continue;
    const served = s.points;
    const share = (w.work * rate.secondsPerUnit) / served.length;
    if (served.length === 1) {
      perPoint[s.first] = (perPoint[s.first] ?? 0) + share;
      continue;
    }
    indexOf ??= new Map(plan.points.map((p, i) => [p.point.id, i]));
    for (const p of served) {
      const i = indexOf.get(p)!;
      perPoint[i] = (perPoint[i] ?? 0) + share;
    }
  }
  return {
    seconds: wallSeconds(works, { jobs }, rate),
    jobs,
    rate,
    steps: works.map((w) => ({ id: w.id, seconds: w.work * rate.secondsPerUnit, ...(w.route ? { route: w.route } : {}) })),
    points: plan.points.flatMap((p, i) => (perPoint[i] === undefined ? [] : [{ id: p.point.id, seconds: perPoint[i]! }])),
  };
}

/** The input rank a step's point is known to have (by the id of the point's input-rank step). */
function inputRankOf(plan: Plan, step: PlanStep, inputRanks: ReadonlyMap<string, number>): number | undefined {
  if (step.kind !== 'spectrum') return undefined;
  if (inputRanks.size === 0) return undefined;
  return inputRanks.get(firstPointOf(plan, step).steps['input-rank']);
}

/**
 * The input ranks the cache holds, by input-rank step id: they make the subspace sizes of the
 * estimate the real ones (the default, min(N, d), is an upper bound). Never throws.
 */
export async function cachedInputRanks(plan: Plan, cacheDir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    // No cache folder: nothing to read (and a plan of 100,000 points would ask 100,000 times).
    if (!(await stat(cacheDir).then((s) => s.isDirectory(), () => false))) return out;
    const cache = new CacheStore(cacheDir, { onWarning: () => undefined });
    // In parallel: the cache's file slots bound the files open.
    const steps = plan.steps.filter((s) => s.kind === 'input-rank');
    const values = await Promise.all(steps.map((s) => cache.get(s.key) as Promise<RankResult | undefined>));
    steps.forEach((s, i) => {
      const v = values[i];
      if (v && typeof v.rank === 'number') out.set(s.id, v.rank);
    });
  } catch {
    // an unreadable cache only makes the estimate coarser
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Calibration: per finished run on this machine, its seconds (steps, results and report; not
// start-up) and the units the model gives its computed steps.

export interface CalibrationRun {
  /** ISO time of the run's end. */
  readonly at: string;
  readonly study: string;
  readonly jobs: number;
  readonly seconds: number;
  readonly units: number;
}

interface CalibrationFile {
  readonly calibration: 1;
  readonly model: number;
  readonly runs: readonly CalibrationRun[];
}

export function calibrationPath(cacheDir: string): string {
  return path.join(cacheDir, CALIBRATION_FILE);
}

function validRun(r: unknown): r is CalibrationRun {
  const o = r as Partial<CalibrationRun> | null;
  return typeof o === 'object' && o !== null && typeof o.at === 'string' && typeof o.study === 'string'
    && Number.isInteger(o.jobs) && o.jobs! >= 1 && Number.isFinite(o.seconds) && o.seconds! > 0 && Number.isFinite(o.units) && o.units! > 0;
}

/** The runs recorded under this cost model; none when the file is missing, unreadable or of another model. */
async function readRuns(cacheDir: string): Promise<CalibrationRun[]> {
  try {
    const parsed = JSON.parse(await readFile(calibrationPath(cacheDir), 'utf8')) as Partial<CalibrationFile>;
    if (parsed.calibration !== 1 || parsed.model !== COST_MODEL || !Array.isArray(parsed.runs)) return [];
    return parsed.runs.filter(validRun);
  } catch {
    return [];
  }
}

/** The rate of a set of runs: their seconds over their units, so long runs weigh more than short, noisier ones. */
export function rateOf(runs: readonly CalibrationRun[]): Rate {
  const used = runs.slice(-RUNS_USED);
  if (used.length === 0) return DEFAULT_RATE;
  const seconds = used.reduce((a, r) => a + r.seconds, 0);
  const units = used.reduce((a, r) => a + r.units, 0);
  return { secondsPerUnit: seconds / units, calibrated: true, runs: used.length };
}

/** This machine's rate from the cache folder's calibration (the default when there is none). Never throws. */
export async function readRate(cacheDir: string): Promise<Rate> {
  return rateOf(await readRuns(cacheDir));
}

/**
 * Records a finished run (`seconds` from its first step to its report written, `computed` the
 * ids of the steps it computed) in the cache folder's calibration. Never throws: a calibration
 * that cannot be written only leaves estimates coarser. Returns whether it was recorded.
 */
export async function recordCalibration(
  cacheDir: string, plan: Plan, run: { readonly computed: readonly string[]; readonly seconds: number; readonly jobs: number },
): Promise<boolean> {
  try {
    const ids = new Set(run.computed);
    // A run that computed no heavy step measured start-up and I/O, not the machine's arithmetic.
    if (!plan.steps.some((s) => s.heavy && ids.has(s.id)) || !(run.seconds > 0)) return false;
    const ranks = await cachedInputRanks(plan, cacheDir);
    const works = plan.steps.filter((s) => ids.has(s.id)).map((s) => stepWork(plan, s, inputRankOf(plan, s, ranks)));
    const units = runUnits(works, { jobs: run.jobs });
    const entry: CalibrationRun = { at: new Date().toISOString(), study: plan.study.name, jobs: run.jobs, seconds: Math.round(run.seconds * 1000) / 1000, units: Math.round(units) };
    const runs = [...(await readRuns(cacheDir)), entry].slice(-RUNS_KEPT);
    const file: CalibrationFile = { calibration: 1, model: COST_MODEL, runs };
    await writeFileAtomic(calibrationPath(cacheDir), `${JSON.stringify(file, null, 2)}\n`);
    return true;
  } catch {
    return false;
  }
}
