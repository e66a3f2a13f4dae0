/**
 * What submitter and workers agree on: the BullMQ queue (`hrank:steps`), the job a step becomes
 * and what a finished job returns. A job's id is the step's cache key, so the same step asked
 * for twice (two points, two submitters) is one job.
 */
import { ENGINE_VERSION, KEY_SALT, stepKey, type KeyParts } from '../store/keys.js';
import type { PlanStep } from '../kinds/plan.js';
import { KIND_VERSIONS } from '../kinds/kinds.js';

/** Queue name and key prefix: Redis keys `hrank:steps:*`. */
export const QUEUE_NAME = 'steps';
export const QUEUE_PREFIX = 'hrank';

/** Bump when the job data or result changes shape. */
export const JOB_FORMAT = 1;

export interface StepJobData {
  readonly format: number;
  /** The step to compute (plain JSON); its inputs are read from the shared store by key. */
  readonly step: PlanStep;
  /** Who asked, for the worker's log. */
  readonly submitter: string;
  /** Compute even when the store already holds the value (`hrank run --no-cache`). */
  readonly force?: boolean;
}

export interface StepJobResult {
  /** The value is in Redis (else only in the shared cache folder). */
  readonly redis: boolean;
  /** Encoded size of the value. */
  readonly bytes: number;
  /** Compute seconds on the worker (0 when the value was already stored). */
  readonly seconds: number;
  /** `host:pid` of the worker. */
  readonly worker: string;
}

/** BullMQ priority (1 is first): bigger points first, as local runs do; other steps before all. */
export function jobPriority(step: PlanStep, params: number): number {
  const MAX = 2_097_152; // BullMQ's largest priority
  if (step.kind !== 'spectrum') return 1;
  return Math.max(2, MAX - Math.min(params, MAX - 2));
}

/**
 * Checks that a job's step is one this worker computes the same way as the submitter: same key
 * schema, engine and step-kind versions, and a key that is the hash of its parts. Returns a
 * problem, or undefined.
 */
export function stepProblem(data: unknown): string | undefined {
  const d = data as Partial<StepJobData> | null;
  if (d === null || typeof d !== 'object' || d.format !== JOB_FORMAT || typeof d.step !== 'object' || d.step === null) {
    return `job data of an unknown format (this worker reads format ${JOB_FORMAT}; is the submitter another hrank version?)`;
  }
  const step = d.step;
  const parts = step.parts as KeyParts | undefined;
  if (parts === null || typeof parts !== 'object') return `step ${String(step.id)}: no key parts (the job was not made by hrank run --redis)`;
  if (parts.salt !== KEY_SALT || parts.engine !== ENGINE_VERSION) {
    return `step ${step.id} was planned by engine ${parts.engine} (keys ${parts.salt}); this worker runs engine ${ENGINE_VERSION} (keys ${KEY_SALT}): run the same hrank version on every machine`;
  }
  if (parts.kindVersion !== KIND_VERSIONS[step.kind]) {
    return `step ${step.id} is ${step.kind} version ${parts.kindVersion}; this worker computes version ${KIND_VERSIONS[step.kind]}: run the same hrank version on every machine`;
  }
  if (step.kind === 'collect') return `step ${step.id}: collect steps run on the submitter`;
  let key: string;
  try {
    key = stepKey(parts).key;
  } catch (e) {
    return `step ${step.id}: bad key parts (${e instanceof Error ? e.message : String(e)})`;
  }
  if (key !== step.key) return `step ${step.id}: its key ${step.key.slice(0, 12)}... is not the hash of its parts (${key.slice(0, 12)}...)`;
  return undefined;
}
