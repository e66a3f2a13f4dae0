/**
 * Memory estimates, so that a study that cannot fit is refused before it starts (with the
 * estimate, the limit and how to change it) instead of dying out of memory an hour in.
 *
 * The model follows what the routes of `science/ranks.ts` allocate (all float64, 8 bytes):
 * - dense route (P <= 1,200, `rank.route: dense`, nonlinear networks): one P x P Hessian at a
 *   time, eigensolved in place, plus the one before it not yet collected: about 2 - 3 P^2 (one
 *   more per extra Hessian, up to 3);
 * - subspace route (linear networks): per Hessian its k x k projection as a packed triangle, the
 *   eigensolver's copy and the rows in flight: about 1.5 k^2, with k bounded from the shapes
 *   (science `subspaceSizeBound`); should its check fail, the dense route (as above);
 * - prefix-sum chains (sample-size sweeps): linear networks sum the products of the chain's
 *   subspace, 2 k P (H_F and H_O), plus the projections; other networks running P x P sums per
 *   Hessian and a copy to eigensolve: under (2 h + 1) P^2;
 * - H_O by its N K x N K Gram matrix (two of them and the layer products) when that is smaller;
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
import { DENSE_MAX_PARAMS, outputCount } from './kinds.js';
import { subspaceSizeBound } from '../../science/hessian/subspace.js';
import { DENSE_CHUNK } from '../../science/hessian/dense.js';
import { DEFAULT_MEMORY_FRACTION, formatBytes } from './size.js';

export { DEFAULT_MEMORY_FRACTION, formatBytes, parseSize } from './size.js';

const F64 = 8;
/** Directions per R-operator call. */
const CHUNK = DENSE_CHUNK;
/** The Node process itself (V8, modules, report rendering). */
const BASE_PROCESS = 160 * 1024 ** 2;
/** Each worker thread (its isolate and modules). */
const BASE_WORKER = 60 * 1024 ** 2;

export interface StepEstimate {
  readonly id: string;
  readonly bytes: number;
  /** How the figure was reached, e.g. `dense P 840` or `subspace k <= 2450 of P 7280`. */
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
  /** Linear activation on the automatic route: the subspace route applies. */
  readonly linear: boolean;
  readonly bias: boolean;
  /** `rank.route: dense`. */
  readonly dense: boolean;
  /** Samples per accumulation batch (default N). */
  readonly batchSize?: number;
  /** A prefix-sum chain member. */
  readonly chain?: boolean;
  /** Worker threads the step's pieces may use at once (subspace route). */
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

/** Bytes one spectrum step may hold at once, and how that was reached. */
export function spectrumStepBytes(s: StepShape): { bytes: number; route: string } {
  const P = s.params;
  const P2 = F64 * P * P;
  const h = s.hessians.length;
  const ws = operatorBytes(s);
  const sizes = [s.inputDim, ...s.hidden, s.outputs];
  if (s.chain) {
    if (s.linear && !s.dense) {
      const k = subspaceSizeBound(sizes, s.samples, s.bias, true);
      return { bytes: F64 * (2 * k * P + 1.5 * h * k * k) + 2 * ws, route: `prefix sums on a subspace k <= ${k} of P ${P}` };
    }
    return { bytes: (2 * h + 1) * P2 + ws, route: `prefix sums, P ${P}` };
  }
  if (s.dense || P <= DENSE_MAX_PARAMS) return { bytes: Math.min(3, h + 1) * P2 + ws, route: `dense P ${P}` };
  const N = s.samples;
  const NK = N * s.outputs;
  const maxW = Math.max(s.inputDim, ...s.hidden, s.outputs);
  const gram = F64 * (2 * NK * NK + N * N + 2 * NK * maxW);
  if (!s.linear) {
    const outerOnGram = s.hessians.includes('outer') && NK < P;
    const denseKinds = s.hessians.filter((x) => x !== 'outer' || !outerOnGram).length;
    return { bytes: (outerOnGram ? gram : 0) + Math.min(3, denseKinds + 1) * P2 + ws, route: `dense P ${P}${outerOnGram ? `, gram ${NK}` : ''}` };
  }
  const k = subspaceSizeBound(sizes, N, s.bias);
  const sub = F64 * 1.5 * h * k * k;
  return { bytes: Math.min(gram, sub) + sub + ws * Math.max(1, s.jobs), route: `subspace k <= ${k} of P ${P}` };
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
    linear: cfg.model.activation === 'linear',
    bias: cfg.model.bias,
    dense: cfg.rank.route === 'dense',
    ...(cfg.batch_size ? { batchSize: cfg.batch_size } : {}),
    chain: step.chain !== undefined,
    jobs,
  };
}

/** Bytes of any step: spectra by the model above; the light steps by their data. */
export function stepBytes(plan: Plan, step: PlanStep, jobs: number): StepEstimate {
  const s = shapeOf(plan, step, jobs);
  if (step.kind === 'spectrum') return { id: step.id, ...spectrumStepBytes(s) };
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
