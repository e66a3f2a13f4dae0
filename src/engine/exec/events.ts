/** Typed events the engine emits; the terminal display is one subscriber among others. */
import type { Plan, PlanStep } from '../kinds/plan.js';

export type EngineEvent =
  | { readonly type: 'plan'; readonly plan: Plan }
  | { readonly type: 'cached'; readonly step: PlanStep }
  | { readonly type: 'start'; readonly step: PlanStep }
  | { readonly type: 'done'; readonly step: PlanStep; readonly seconds: number }
  | { readonly type: 'failed'; readonly step: PlanStep; readonly error: Error }
  | { readonly type: 'warning'; readonly message: string };

