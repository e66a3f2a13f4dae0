/**
 * `hrank plan <file>`: the steps of a study in order, with their kind, short key and whether the
 * cache holds them, without running anything. A step is `cached` (its entry is in the cache),
 * `to run` (missing, and a run needs it), or `not needed` (missing, but every step that uses it
 * is cached, so a run does not compute it). `--explain` adds each step's key parts.
 */
import os from 'node:os';
import path from 'node:path';
import { describeEstimate, estimatePlan, memoryLimit, type StepEstimate } from '../../engine/kinds/memory.js';
import { explainKey, type KeyParts } from '../../engine/store/keys.js';
import type { Plan } from '../../engine/kinds/plan.js';
import { cachedSteps, loadPlan } from '../../study/study.js';
import { loadCheckedStudy } from '../datafiles.js';
import { EXIT_OK } from '../errors.js';
import { plural, textTable } from '../format.js';
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
  const status = new Map<string, StepStatus>();
  const visit = (id: string): void => {
    if (status.has(id)) return;
    if (cached.has(id)) {
      status.set(id, 'cached');
      return;
    }
    status.set(id, 'to run');
    for (const input of Object.values(plan.byId.get(id)?.inputs ?? {})) visit(input);
  };
  visit(plan.collect);
  for (const s of plan.steps) if (!status.has(s.id)) status.set(s.id, cached.has(s.id) ? 'cached' : 'not needed');
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
    /** With --explain: what the key is made of. */
    readonly parts?: KeyParts;
  }[];
  readonly totals: { readonly steps: number; readonly cached: number; readonly toRun: number; readonly notNeeded: number };
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
}

export async function planReport(
  file: string, cacheDir: string, explain: boolean,
  resources: { readonly jobs?: number; readonly maxMemory?: number } = {},
): Promise<PlanReport> {
  await loadCheckedStudy(file);
  const plan = await loadPlan(file);
  const cached = await cachedSteps(plan, cacheDir);
  const status = stepStatuses(plan, cached);
  const steps = plan.steps.map((s) => ({
    id: s.id,
    kind: s.kind,
    key: s.key,
    status: status.get(s.id)!,
    cached: cached.has(s.id),
    inputs: s.inputs,
    points: s.points,
    ...(explain ? { parts: s.parts } : {}),
  }));
  const count = (st: StepStatus): number => steps.filter((s) => s.status === st).length;
  const estimate = estimatePlan(plan, Math.max(1, resources.jobs ?? os.availableParallelism()), new Set(steps.filter((s) => s.status === 'to run').map((s) => s.id)));
  const limit = memoryLimit(resources.maxMemory);
  return {
    study: plan.study.name,
    file,
    cache: path.resolve(cacheDir),
    points: plan.points.length,
    steps,
    totals: { steps: steps.length, cached: count('cached'), toRun: count('to run'), notNeeded: count('not needed') },
    memory: {
      bytes: estimate.bytes, jobs: estimate.jobs, atOnce: estimate.atOnce, limit: limit.bytes, limitSource: limit.source,
      fits: estimate.bytes <= limit.bytes, steps: estimate.steps, summary: describeEstimate(estimate, limit),
    },
  };
}

export function formatPlan(report: PlanReport, explain: boolean): string {
  const lines = [`${report.study} (${report.file}): ${plural(report.points, 'point')}, ${plural(report.steps.length, 'step')}; cache ${report.cache}`, ''];
  const columns = ['status', 'key', 'kind', 'step'];
  const rows = report.steps.map((s) => [s.status, s.key.slice(0, SHORT_KEY), s.kind, s.id]);
  if (!explain) {
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
  return `${lines.join('\n')}\n`;
}

export async function planCommand(opts: PlanOptions, io: CliIO): Promise<number> {
  const report = await planReport(opts.file, opts.cache, opts.explain, {
    ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
    ...(opts.maxMemory !== undefined ? { maxMemory: opts.maxMemory } : {}),
  });
  io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatPlan(report, opts.explain));
  return EXIT_OK;
}
