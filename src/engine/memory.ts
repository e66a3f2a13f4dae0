/**
 * Memory estimates, so that a study that cannot fit is refused before it starts (with the
 * estimate, the limit and how to change it) instead of dying out of memory an hour in.
 *
 * The model follows what the routes of `science/ranks.ts` allocate (all float64, 8 bytes):
 * - dense route (P <= 1,200): one P x P Hessian at a time, eigensolved in place, plus the one
 *   before it not yet collected: about 2 - 3 P^2 (one more per extra Hessian, up to 3);
 * - prefix-sum chains (sample-size sweeps): running sums of sketch products H Omega (H_F and H_O,
 *   at most 0.9 P rows of P each) and, for a Hessian whose sketch is refused or unhinted, a
 *   running P x P sum per Hessian and a copy to eigensolve: under (2 h + 1) P^2;
 * - sketch route (P > 1,200): per sketched Hessian the k x k sketch, a copy for the eigensolve,
 *   the worker's copy and the new rows: about 4 k^2, with k the sketch size. For linear networks
 *   without bias k starts at the paper's prediction + 32 (computed from an upper bound of the
 *   input rank, min(d, N)); otherwise k may grow to 0.8 P and the route then falls back to dense
 *   P x P matrices, one per Hessian at once. H_O by its N K x N K Gram matrix (two of them and
 *   the layer products) when N K < P, else dense;
 * - the R-operator workspace of a chunk of 64 directions: 3 x 64 P products, 64 N K for J v and
 *   about 4 x 64 n (sum of widths) per batch of n samples, plus the forward pass of every batch
 *   (6 N sum of widths) and the data, per worker thread.
 * A run holds at most `jobs` steps at once (the worker count), so its estimate is the sum of the
 * `jobs` largest steps still to compute, plus a base for the process and its worker threads.
 * These are estimates: real use is usually below (GC returns memory between steps), and the
 * limit leaves room for the rest of the machine.
 */
import os from 'node:os';
import type { Plan, PlanStep } from './plan.js';
import { DENSE_MAX_PARAMS, outputCount } from './steps.js';
import { predictRanks } from '../science/predictions.js';
import { DEFAULT_MEMORY_FRACTION, formatBytes } from './size.js';

export { DEFAULT_MEMORY_FRACTION, formatBytes, parseSize } from './size.js';

const F64 = 8;
/** Directions per R-operator call (dense.ts DENSE_CHUNK, backend.ts computeSketchRows). */
const CHUNK = 64;
/** The Node process itself (V8, modules, report rendering). */
const BASE_PROCESS = 160 * 1024 ** 2;
/** Each worker thread (its isolate and modules). */
const BASE_WORKER = 60 * 1024 ** 2;

export interface StepEstimate {
  readonly id: string;
  readonly bytes: number;
  /** How the figure was reached, e.g. `dense P 840` or `sketch k 2482 of P 7280`. */
  readonly route: string;
}

export interface MemoryEstimate {
  /** Bytes the run needs at most (steps at once + base). */
  readonly bytes: number;
  /** Steps counted at once (`jobs`, or fewer when fewer remain). */
  readonly atOnce: number;
  readonly jobs: number;
  /** Every step still to compute, largest first. */
  readonly steps: readonly StepEstimate[];
}

export interface MemoryLimit {
  readonly bytes: number;
  /** How the limit was set: `--max-memory 4G` or `80% of 24.0 GiB (this machine)`. */
  readonly source: string;
}

/** The machine's memory, or the container's (cgroup) limit when that is lower. */
export function machineMemory(): { bytes: number; what: string } {
  const total = os.totalmem();
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : undefined;
  if (constrained !== undefined && constrained > 0 && constrained < total) return { bytes: constrained, what: 'this container' };
  return { bytes: total, what: 'this machine' };
}

/** The limit: `--max-memory` when given, else DEFAULT_MEMORY_FRACTION of the machine's memory. */
export function memoryLimit(maxMemory?: number): MemoryLimit {
  if (maxMemory !== undefined) return { bytes: maxMemory, source: `--max-memory ${formatBytes(maxMemory)}` };
  const m = machineMemory();
  return { bytes: Math.floor(m.bytes * DEFAULT_MEMORY_FRACTION), source: `${Math.round(DEFAULT_MEMORY_FRACTION * 100)}% of the ${formatBytes(m.bytes)} of ${m.what}` };
}

/** The sizes a step's estimate depends on. */
export interface StepShape {
  /** Parameters P. */
  readonly params: number;
  /** Samples N, input dim d, outputs K. */
  readonly samples: number;
  readonly inputDim: number;
  readonly outputs: number;
  readonly hidden: readonly number[];
  readonly hessians: readonly string[];
  readonly linearNoBias: boolean;
  readonly loss: string;
  /** Samples per accumulation batch (default N). */
  readonly batchSize?: number;
  /** A prefix-sum chain member. */
  readonly chain?: boolean;
  /** Worker threads the step's pieces may use at once (sketch route). */
  readonly jobs: number;
}

/** The R-operator workspace of one operator (one worker), plus the data it holds. */
function operatorBytes(s: StepShape): number {
  const widths = [...s.hidden, s.outputs];
  const sumW = widths.reduce((a, b) => a + b, 0) + s.inputDim;
  const n = Math.min(s.batchSize ?? s.samples, s.samples);
  const NK = s.samples * s.outputs;
  return F64 * (3 * CHUNK * s.params + CHUNK * NK + 4 * CHUNK * n * sumW + 6 * s.samples * sumW + s.samples * (s.inputDim + s.outputs) + s.params);
}

/** Bytes one ranks step may hold at once, and how that was reached. */
export function ranksStepBytes(s: StepShape): { bytes: number; route: string } {
  const P = s.params;
  const P2 = F64 * P * P;
  const h = s.hessians.length;
  const ws = operatorBytes(s);
  if (s.chain) return { bytes: (2 * h + 1) * P2 + ws, route: `prefix sums, P ${P}` };
  if (P <= DENSE_MAX_PARAMS) return { bytes: Math.min(3, h + 1) * P2 + ws, route: `dense P ${P}` };
  const N = s.samples;
  const NK = N * s.outputs;
  let outer = 0;
  if (s.hessians.includes('outer')) {
    const maxW = Math.max(s.inputDim, ...s.hidden, s.outputs);
    outer = NK < P ? F64 * (2 * NK * NK + N * N + 2 * NK * maxW) : 2 * P2;
  }
  const sketched = s.hessians.filter((x) => x === 'loss' || x === 'functional').length;
  const maxK = Math.floor(0.8 * P);
  let k = maxK;
  if (s.linearNoBias) {
    const pred = predictRanks({ inputRank: Math.min(s.inputDim, N), outputs: s.outputs, hidden: s.hidden, loss: s.loss as never, activation: 'linear', bias: false });
    if (pred.applicable) k = Math.min(maxK, Math.max(32, Math.max(pred.loss, pred.functional) + 32));
  }
  const sketch = F64 * sketched * 4 * k * k;
  // Without a prediction the sketch may give up near 0.8 P and go dense: one P x P per Hessian at once.
  const fallback = k >= maxK ? sketched * 2 * P2 : 0;
  const lf = Math.max(sketch, fallback);
  const route = sketched === 0 ? `gram ${NK} of P ${P}` : `sketch k ${k}${k >= maxK ? ' (or dense fallback)' : ''} of P ${P}`;
  return { bytes: outer + lf + ws * Math.max(1, s.jobs), route };
}

/** The shape of a plan step (first point it serves). */
export function shapeOf(plan: Plan, step: PlanStep, jobs: number): StepShape {
  const point = plan.points.find((p) => p.point.id === step.points[0]) ?? plan.points[0]!;
  const cfg = step.config;
  return {
    params: point.params,
    samples: cfg.dataset.samples,
    inputDim: point.inputDim,
    outputs: outputCount(cfg),
    hidden: cfg.model.hidden,
    hessians: cfg.hessians,
    linearNoBias: cfg.model.activation === 'linear' && !cfg.model.bias,
    loss: cfg.loss,
    ...(cfg.batch_size ? { batchSize: cfg.batch_size } : {}),
    chain: step.chain !== undefined,
    jobs,
  };
}

/** Bytes of any step: ranks by the model above; the light steps by their data. */
export function stepBytes(plan: Plan, step: PlanStep, jobs: number): StepEstimate {
  const s = shapeOf(plan, step, jobs);
  if (step.kind === 'ranks') return { id: step.id, ...ranksStepBytes(s) };
  const data = F64 * s.samples * (s.inputDim + s.outputs) * 3;
  const bytes = step.kind === 'input-rank' ? data + F64 * 2 * s.inputDim * s.inputDim : step.kind === 'network' ? F64 * 2 * s.params : data;
  return { id: step.id, bytes, route: step.kind };
}

/**
 * The estimate of running `pending` (ids of the steps still to compute; default all) with `jobs`
 * steps at once.
 */
export function estimatePlan(plan: Plan, jobs: number, pending?: ReadonlySet<string>): MemoryEstimate {
  const steps = plan.steps
    .filter((s) => s.kind !== 'collect' && (pending === undefined || pending.has(s.id)))
    .map((s) => stepBytes(plan, s, jobs))
    .sort((a, b) => b.bytes - a.bytes || (a.id < b.id ? -1 : 1));
  const atOnce = Math.min(jobs, steps.length);
  const bytes = steps.length === 0 ? 0 : BASE_PROCESS + BASE_WORKER * jobs + steps.slice(0, atOnce).reduce((a, s) => a + s.bytes, 0);
  return { bytes, atOnce, jobs, steps };
}

/** A study that does not fit the memory limit: an input problem (exit 2), never a crash. */
export class MemoryLimitError extends Error {
  override readonly name = 'MemoryLimitError';
  constructor(
    readonly estimate: MemoryEstimate,
    readonly limit: MemoryLimit,
  ) {
    super(refusal(estimate, limit));
  }
}

/** Throws MemoryLimitError when the estimate is over the limit. */
export function checkMemory(estimate: MemoryEstimate, limit: MemoryLimit): void {
  if (estimate.bytes > limit.bytes) throw new MemoryLimitError(estimate, limit);
}

/** Jobs that would fit the limit (0 when not even one step does). */
export function jobsThatFit(estimate: MemoryEstimate, limit: MemoryLimit): number {
  for (let j = estimate.jobs - 1; j >= 1; j--) {
    const sum = BASE_PROCESS + BASE_WORKER * j + estimate.steps.slice(0, j).reduce((a, s) => a + s.bytes, 0);
    if (sum <= limit.bytes) return j;
  }
  return 0;
}

function refusal(e: MemoryEstimate, limit: MemoryLimit): string {
  const top = e.steps.slice(0, Math.max(1, e.atOnce));
  const lines = [
    `not enough memory: this study needs an estimated ${formatBytes(e.bytes)}, over the limit of ${formatBytes(limit.bytes)} (${limit.source})`,
    `  ${e.atOnce === 1 ? '1 step runs' : `${e.atOnce} steps run`} at once (--jobs ${e.jobs}); the largest: ${top.map((s) => `${s.id} ${formatBytes(s.bytes)} (${s.route})`).join(', ')}`,
  ];
  const fit = jobsThatFit(e, limit);
  const machine = machineMemory();
  const options = [];
  if (fit > 0) options.push(`run fewer steps at once (--jobs ${fit})`);
  if (e.bytes <= machine.bytes) options.push(`raise the limit if the machine can spare the memory (--max-memory ${formatLimitSuggestion(e.bytes)})`);
  else lines.push(`  that is more than the ${formatBytes(machine.bytes)} of ${machine.what}`);
  options.push(`${options.length > 0 ? 'or ' : ''}make the study smaller (model widths, dataset.samples)`);
  lines.push(`  to change it: ${options.join(', ')}`);
  return lines.join('\n');
}

/** A round size above `bytes`, as `--max-memory` takes it (e.g. 5G). */
function formatLimitSuggestion(bytes: number): string {
  const g = bytes / 1024 ** 3;
  if (g >= 1) return `${Math.ceil(g * 1.1)}G`;
  return `${Math.ceil((bytes / 1024 ** 2) * 1.1)}M`;
}

/** One line for `hrank plan`. */
export function describeEstimate(e: MemoryEstimate, limit: MemoryLimit): string {
  if (e.steps.length === 0) return `memory: nothing to compute; limit ${formatBytes(limit.bytes)} (${limit.source})`;
  const largest = e.steps[0]!;
  const fits = e.bytes <= limit.bytes;
  return (
    `memory: an estimated ${formatBytes(e.bytes)} with ${e.atOnce === 1 ? '1 step' : `${e.atOnce} steps`} at once (--jobs ${e.jobs}); ` +
    `largest step ${largest.id} ${formatBytes(largest.bytes)} (${largest.route}); limit ${formatBytes(limit.bytes)} (${limit.source})` +
    (fits ? '' : `; OVER THE LIMIT: hrank run would refuse this study (--max-memory, --jobs)`)
  );
}
