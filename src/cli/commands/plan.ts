/**
 * `hrank plan <file>`: the steps of a study in order, with their kind, short key and whether the
 * cache holds them, without running anything. A step is `cached` (its entry is in the cache),
 * `to run` (missing, and a run needs it), or `not needed` (missing, but every step that uses it
 * is cached, so a run does not compute it). `--explain` adds each step's key parts. Then what a
 * run would need of the machine: its memory, and its time (in total, and per point on one core),
 * from the cost model at this machine's rate (engine/kinds/estimate.ts).
 */
import os from 'node:os';
import path from 'node:path';
import { describeEstimate, estimatePlan, memoryLimit, type StepEstimate } from '../../engine/kinds/memory.js';
import { cachedInputRanks, estimateTime, readRate, type TimeEstimate } from '../../engine/kinds/estimate.js';
import { explainKey, type KeyParts } from '../../engine/store/keys.js';
import type { Plan } from '../../engine/kinds/plan.js';
import { cachedSteps } from '../../study/study.js';
import { planStudy } from '../../engine/kinds/plan.js';
import { formatWarning } from '../../pipeline/errors.js';
import { loadCheckedStudy } from '../datafiles.js';
import { EXIT_OK } from '../errors.js';
import { formatSeconds, plural, textTable } from '../format.js';
import { formatEstimate } from '../progress.js';
import type { CliIO } from '../io.js';
import type { PlanOptions } from '../options.js';

export type StepStatus = 'cached' | 'to run' | 'not needed';

/** Length of the key prefix shown. */
export const SHORT_KEY = 12;

/**
 * Each step's status, as a run would meet it: demand flows from the collect step through
 * uncached steps to their inputs and stops at cached ones.
 */
export function stepStatuses(plan: Plan, cached: ReadonlySet<string>): Map<string, StepStatus> {
  const inOrder = statusesInOrder(plan, cached);
  return new Map(plan.steps.map((s, i) => [s.id, inOrder[i]!]));
}

/** `stepStatuses` as an array in plan order (no map of 400,000 ids for `hrank plan` to build). */
function statusesInOrder(plan: Plan, cached: ReadonlySet<string>): StepStatus[] {
  // Every step the planner makes is upstream of the collect step: with nothing cached, all run.
  if (cached.size === 0) return plan.steps.map(() => 'to run');
  // Steps are in topological order, the collect step last: one pass backwards carries the demand
  // (linear in the steps, no recursion 400,000 steps deep).
  const demanded = new Set<string>([plan.collect]);
  const status: StepStatus[] = new Array<StepStatus>(plan.steps.length);
  for (let i = plan.steps.length - 1; i >= 0; i--) {
    const s = plan.steps[i]!;
    if (cached.has(s.id)) {
      status[i] = 'cached';
    } else if (demanded.has(s.id)) {
      status[i] = 'to run';
      const inputs = s.inputs;
      for (const role in inputs) demanded.add(inputs[role]!);
    } else {
      status[i] = 'not needed';
    }
  }
  return status;
}

export interface PlanReport {
  readonly study: string;
  readonly file: string;
  /** The cache folder looked at (absolute). */
  readonly cache: string;
  readonly points: number;
  readonly steps: readonly {
    readonly id: string;
    readonly kind: string;
    readonly key: string;
    readonly status: StepStatus;
    readonly cached: boolean;
    readonly inputs: Readonly<Record<string, string>>;
    readonly points: readonly string[];
    /** Estimated compute seconds on one core (0 unless `to run`). */
    readonly seconds: number;
    /** With --explain: what the key is made of. */
    readonly parts?: KeyParts;
  }[];
  readonly totals: { readonly steps: number; readonly cached: number; readonly toRun: number; readonly notNeeded: number };
  /** The steps per kind and status, in plan order of the kinds. */
  readonly kinds: readonly { readonly kind: string; readonly steps: number; readonly cached: number; readonly toRun: number; readonly notNeeded: number }[];
  /**
   * The first `n` of `steps` (not in --json: a function). `steps` is made when first read: the
   * text of a plan of 100,000 points lists the first 40 of its 400,000 steps.
   */
  firstSteps(n: number): PlanReport['steps'];
  /** What the pipeline file holds that is valid but likely not meant (printed on stderr), as validate prints them. */
  readonly warnings: readonly string[];
  /** The memory estimate of the steps to run (as `hrank run` checks it), and the limit. */
  readonly memory: {
    readonly bytes: number;
    readonly jobs: number;
    readonly atOnce: number;
    readonly limit: number;
    readonly limitSource: string;
    readonly fits: boolean;
    /** The steps to run, largest first. */
    readonly steps: readonly StepEstimate[];
    /** One line, as `hrank plan` prints it. */
    readonly summary: string;
  };
  /** The time of the steps to run (as `hrank run --jobs` would compute them), in seconds. */
  readonly estimate: {
    /** Wall seconds of a run (0 when nothing is to run). */
    readonly seconds: number;
    readonly jobs: number;
    /** The rate comes from runs on this machine (else the built-in default). */
    readonly calibrated: boolean;
    /** Runs the calibration is from. */
    readonly runs: number;
    readonly secondsPerUnit: number;
    /** Per point with steps to run: their compute seconds on one core (a shared step split between its points). */
    readonly points: readonly { readonly id: string; readonly seconds: number; readonly route?: string }[];
    /** One line, as `hrank plan` prints it. */
    readonly summary: string;
  };
}

export async function planReport(
  file: string, cacheDir: string, explain: boolean,
  resources: { readonly jobs?: number; readonly maxMemory?: number } = {},
): Promise<PlanReport> {
  const loaded = await loadCheckedStudy(file);
  const plan = await planStudy(loaded.study, loaded.points);
  const cached = await cachedSteps(plan, cacheDir);
  const status = statusesInOrder(plan, cached);
  const jobs = Math.max(1, resources.jobs ?? os.availableParallelism());
  const toRun = new Set(plan.steps.filter((s, i) => status[i] === 'to run').map((s) => s.id));
  const estimate = estimatePlan(plan, jobs, toRun);
  const limit = memoryLimit(resources.maxMemory);
  const time = estimateTime(plan, toRun, jobs, await readRate(cacheDir), toRun.size > 0 ? await cachedInputRanks(plan, cacheDir) : new Map());
  // time.steps are the steps to run, in plan order.
  let next = 0;
  const routes = new Map<string, string>();
  const totals = { cached: 0, 'to run': 0, 'not needed': 0 };
  const kinds = new Map<string, { kind: string; steps: number; cached: number; toRun: number; notNeeded: number }>();
  const stepSeconds: (number | undefined)[] = new Array(plan.steps.length);
  plan.steps.forEach((s, i) => {
    const st = status[i]!;
    totals[st]++;
    let k = kinds.get(s.kind);
    if (!k) kinds.set(s.kind, (k = { kind: s.kind, steps: 0, cached: 0, toRun: 0, notNeeded: 0 }));
    k.steps++;
    if (st === 'cached') k.cached++;
    else if (st === 'to run') k.toRun++;
    else k.notNeeded++;
    if (st !== 'to run') return;
    const time1 = time.steps[next++]!;
    stepSeconds[i] = time1.seconds;
    if (time1.route !== undefined && s.kind === 'spectrum') routes.set(s.id, time1.route);
  });
  const row = (i: number): PlanReport['steps'][number] => {
    const s = plan.steps[i]!;
    return {
      id: s.id,
      kind: s.kind,
      key: s.key,
      status: status[i]!,
      cached: cached.has(s.id),
      inputs: s.inputs,
      points: s.points,
      seconds: round(stepSeconds[i] ?? 0, 6),
      ...(explain ? { parts: s.parts } : {}),
    };
  };
  let steps: PlanReport['steps'] | undefined;
  const pointsById = new Map(plan.points.map((p) => [p.point.id, p]));
  return {
    study: plan.study.name,
    file,
    warnings: loaded.warnings.map(formatWarning),
    cache: path.resolve(cacheDir),
    points: plan.points.length,
    get steps() {
      return (steps ??= plan.steps.map((_, i) => row(i)));
    },
    firstSteps: (n) => (steps ? steps.slice(0, n) : plan.steps.slice(0, n).map((_, i) => row(i))),
    totals: { steps: plan.steps.length, cached: totals.cached, toRun: totals['to run'], notNeeded: totals['not needed'] },
    kinds: [...kinds.values()],
    memory: {
      bytes: estimate.bytes, jobs: estimate.jobs, atOnce: estimate.atOnce, limit: limit.bytes, limitSource: limit.source,
      fits: estimate.bytes <= limit.bytes, steps: estimate.steps, summary: describeEstimate(estimate, limit),
    },
    estimate: {
      seconds: round(time.seconds), jobs, calibrated: time.rate.calibrated, runs: time.rate.runs, secondsPerUnit: time.rate.secondsPerUnit,
      points: time.points.map((p) => {
        const route = routes.get(pointsById.get(p.id)?.steps.spectrum ?? '');
        return { id: p.id, seconds: round(p.seconds, 6), ...(route ? { route } : {}) };
      }),
      summary: describeTime(time, toRun.size),
    },
  };
}

function round(s: number, digits = 3): number {
  return Math.round(s * 10 ** digits) / 10 ** digits;
}

/** One line: the run's time, and whether this machine's rate is known. */
export function describeTime(t: TimeEstimate, steps: number): string {
  if (steps === 0) return 'time: nothing to compute';
  const source = t.rate.calibrated
    ? `calibrated on this machine by ${plural(t.rate.runs, 'run')}`
    : 'not calibrated on this machine yet: the default rate; a finished run calibrates it';
  return `time: ${formatEstimate(t.seconds)} for ${plural(steps, 'step')} to run with --jobs ${t.jobs} (${source})`;
}

/**
 * Beyond this many steps the text lists the first PLAN_FIRST_ROWS steps (and points), then the
 * steps per kind and status; `--json` lists every one. A plan of 100,000 points has 400,000 steps.
 */
export const PLAN_MAX_ROWS = 2000;
export const PLAN_FIRST_ROWS = 40;

export function formatPlan(report: PlanReport, explain: boolean): string {
  const lines = [`${report.study} (${report.file}): ${plural(report.points, 'point')}, ${plural(report.totals.steps, 'step')}; cache ${report.cache}`, ''];
  const columns = ['status', 'key', 'kind', 'step'];
  const big = report.totals.steps > PLAN_MAX_ROWS;
  const listed = big ? report.firstSteps(PLAN_FIRST_ROWS) : report.steps;
  const rows = listed.map((s) => [s.status, s.key.slice(0, SHORT_KEY), s.kind, s.id]);
  if (big) {
    lines.push(textTable(columns, rows, 2), `  ... and ${report.totals.steps - listed.length} more steps (hrank plan --json lists every one)`, '');
    lines.push(textTable(['kind', 'steps', 'cached', 'to run', 'not needed'], report.kinds.map((c) => [c.kind, c.steps, c.cached, c.toRun, c.notNeeded]), 2));
  } else if (!explain) {
    lines.push(textTable(columns, rows, 2));
  } else {
    // One row at a time, each followed by its key parts.
    const table = textTable(columns, rows, 2).split('\n');
    lines.push(table[0]!);
    report.steps.forEach((s, i) => {
      lines.push(table[i + 1]!);
      lines.push(...explainKey(s.parts!).split('\n').map((l) => `      ${l}`));
    });
  }
  const t = report.totals;
  lines.push('', `${plural(t.steps, 'step')}: ${t.cached} cached, ${t.toRun} to run${t.notNeeded ? `, ${t.notNeeded} not needed (what uses them is cached)` : ''}`);
  lines.push(report.memory.summary);
  lines.push(report.estimate.summary);
  if (report.estimate.points.length > 0) {
    const shown = big ? report.estimate.points.slice(0, PLAN_FIRST_ROWS) : report.estimate.points;
    const rows = shown.map((p) => [p.id, formatSeconds(p.seconds), p.route ?? '']);
    lines.push('', 'per point, compute on one core:', textTable(['point', 'compute', 'spectrum'], rows, 2));
    if (shown.length < report.estimate.points.length) lines.push(`  ... and ${report.estimate.points.length - shown.length} more points (hrank plan --json lists every one)`);
  }
  return `${lines.join('\n')}\n`;
}

export async function planCommand(opts: PlanOptions, io: CliIO): Promise<number> {
  const report = await planReport(opts.file, opts.cache, opts.explain, {
    ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
    ...(opts.maxMemory !== undefined ? { maxMemory: opts.maxMemory } : {}),
  });
  if (report.warnings.length > 0) io.err(`${report.warnings.join('\n')}\n`);
  io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatPlan(report, opts.explain));
  return EXIT_OK;
}
