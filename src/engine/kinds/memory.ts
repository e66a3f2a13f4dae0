/**
 * Memory guard: a study that cannot fit is refused before it starts (with the estimate, the limit
 * and how to change it) instead of dying out of memory an hour in. What one spectrum step needs
 * is science's rule (science/memory.ts, following what its routes allocate); the run holds at most
 * `jobs` steps at once (the worker count), so its estimate is the sum of the `jobs` largest steps
 * still to compute, plus a base for the process and its worker threads. These are estimates:
 * real use is usually below (GC returns memory between steps), and the limit leaves room for the
 * rest of the machine.
 */
import os from 'node:os';
import { firstPointOf, type Plan, type PlanStep } from './plan.js';
import { networkSpecOf, outputCount } from './settings.js';
import { spectrumStepBytes, type StepShape } from '../../science/memory.js';
import { DEFAULT_MEMORY_FRACTION, formatBytes } from './size.js';

export { DEFAULT_MEMORY_FRACTION, formatBytes, parseSize } from './size.js';

const F64 = 8;
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


/** The shape of a plan step (first point it serves). */
export function shapeOf(plan: Plan, step: PlanStep, jobs: number): StepShape {
  const point = firstPointOf(plan, step);
  const cfg = step.config;
  return {
    params: point.params,
    samples: cfg.dataset.samples,
    inputDim: point.inputDim,
    outputs: outputCount(cfg),
    // With conv layers: the dense widths after them (science's StepShape adds the conv outputs).
    hidden: cfg.model.hidden,
    hessians: cfg.hessians,
    linear: cfg.model.activation === 'linear',
    bias: cfg.model.bias,
    dense: cfg.rank.route === 'dense',
    ...(cfg.batch_size ? { batchSize: cfg.batch_size } : {}),
    chain: step.chain !== undefined,
    jobs,
    ...(cfg.model.conv !== undefined ? { conv: networkSpecOf(cfg).conv! } : {}),
  };
}

/** Bytes of any step: spectra by the model above; the light steps by their data. */
export function stepBytes(plan: Plan, step: PlanStep, jobs: number): StepEstimate {
  if (step.kind === 'spectrum') return { id: step.id, ...spectrumStepBytes(shapeOf(plan, step, jobs)) };
  // The light steps need four numbers, not the whole shape (a plan of 100,000 points asks 300,000 times).
  const point = firstPointOf(plan, step);
  const data = F64 * step.config.dataset.samples * (point.inputDim + outputCount(step.config)) * 3;
  const bytes = step.kind === 'input-rank' ? data + F64 * 2 * point.inputDim * point.inputDim : step.kind === 'network' ? F64 * 2 * point.params : data;
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
