/**
 * What both progress displays share (the plain one in display.ts, the live one in
 * terminalDisplay.ts): the contract the run command drives, and the lines they print alike.
 */
import type { EngineEvent } from '../engine/exec/events.js';
import type { Plan } from '../engine/kinds/plan.js';
import type { RunResult } from '../engine/exec/run.js';
import { plural } from './format.js';

export interface Display {
  /** The engine's event listener. */
  readonly onEvent: (event: EngineEvent) => void;
  /** The first Ctrl-C: the run is stopping. */
  interrupting(): void;
  /** The run is over (`result` undefined when it threw). Await it before printing anything else. */
  finish(result?: RunResult): Promise<void>;
  /** Stop at once and give the terminal back (a second Ctrl-C; the process exits next). */
  dispose(): void;
}

/** The first line of a message (a step's error can span lines). */
export function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

export function planLine(plan: Plan): string {
  return `${plan.study.name}: ${plural(plan.points.length, 'point')}, ${plural(plan.steps.length, 'step')}`;
}

