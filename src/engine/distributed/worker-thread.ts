/**
 * Worker-thread entry of `hrank worker` (piscina): a whole step through `computeStep` (dense
 * points, prefix-sum chain members), or one heavy piece of a larger point (the same tasks as
 * local runs, `exec/tasks.ts`).
 */
import { runTask, type WorkerTask } from '../exec/tasks.js';
import type { PlanStep } from '../kinds/plan.js';
import { computeStep } from '../kinds/compute-step.js';
import { inlineBackend } from '../../science/index.js';

export type ThreadTask = WorkerTask | { readonly kind: 'step'; readonly step: PlanStep; readonly inputs: ReadonlyMap<string, unknown> };

export default function run(task: ThreadTask): Promise<unknown> {
  if (task.kind === 'step') return computeStep(task.step, task.inputs, { backend: inlineBackend(), parallel: 1 });
  return runTask(task);
}
