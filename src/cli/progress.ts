/**
 * What both progress displays share (the plain one in display.ts, the live one in
 * terminalDisplay.ts): the contract the run command drives, the lines they print alike, and the
 * run's ETA.
 */
import os from 'node:os';
import type { EngineEvent } from '../engine/exec/events.js';
import { DEFAULT_RATE, runUnits, stepWork, wallUnits, type Rate, type StepWork } from '../engine/kinds/estimate.js';
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

/** An estimate as people say it: `about 40s`, `about 2m10s`, `about 1h05m`. */
export function formatEstimate(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return `about ${s}s`;
  if (s < 3600) return `about ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `about ${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * How much the machine's rate counts against this run's own, as a share of the run's units: the
 * first steps to finish (small points, while the data loads and the workers warm up) say little,
 * so the run's rate takes over as its finished work grows past this share.
 */
const PRIOR_SHARE = 0.25;

/** An estimate is made again at most every THROTTLE times the time the last one took ... */
const THROTTLE = 20;
/** ... and at most every this many milliseconds (a display redraws about once a second). */
const MIN_INTERVAL_MS = 200;

export interface EtaOptions {
  /** Workers of the run (default: the cores, as `hrank run`). */
  readonly jobs?: number;
  /** The machine's rate before this run has measured its own (default: the built-in one). */
  readonly rate?: Rate;
}

/**
 * The time a run has left: the work of the steps it still needs over the rate it has shown so
 * far (seconds per unit of the steps it finished, weighed with the machine's rate while they are
 * few), or the machine's rate until its first heavy step finishes. Between events it counts
 * down. Steps the cache answers, and the steps only they needed, drop out as their events arrive.
 */
export class Eta {
  private readonly works = new Map<string, StepWork>();
  private worksMade = false;
  private readonly cached = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly jobs: number;
  private readonly rate: Rate;
  private readonly t0: number;
  private heavyDone = false;
  /** The estimate at the last event, and when it was made. */
  private last: { seconds: number; at: number } | undefined;
  /** Events arrived since `last` was made. */
  private stale = true;
  /** Milliseconds the last estimate took: the next one waits THROTTLE times as long. */
  private cost = 0;

  constructor(private readonly plan: Plan, opts: EtaOptions = {}, now = performance.now()) {
    this.jobs = Math.max(1, opts.jobs ?? os.availableParallelism());
    this.rate = opts.rate ?? DEFAULT_RATE;
    this.t0 = now;
  }

  /** The work of every step, made when first asked for (a rerun that computes nothing never asks). */
  private ensureWorks(): void {
    if (this.worksMade) return;
    this.worksMade = true;
    try {
      for (const s of this.plan.steps) this.works.set(s.id, stepWork(this.plan, s));
    } catch {
      // A plan without the settings a cost needs (e.g. a test's): no ETA.
      this.works.clear();
    }
  }

  onEvent(e: EngineEvent): void {
    if (e.type !== 'cached' && e.type !== 'done' && e.type !== 'failed') return;
    if (e.type === 'cached') this.cached.add(e.step.id);
    this.finished.add(e.step.id);
    if (e.type === 'done' && e.step.heavy) this.heavyDone = true;
    this.stale = true;
  }

  /** The steps a run still needs (from the collect step down, stopping at cached ones), split by whether they finished. */
  private demand(): { done: StepWork[]; left: StepWork[] } {
    const done: StepWork[] = [], left: StepWork[] = [];
    const seen = new Set<string>();
    const visit = (id: string): void => {
      if (seen.has(id)) return;
      seen.add(id);
      if (this.cached.has(id)) return;
      const w = this.works.get(id);
      if (w) (this.finished.has(id) ? done : left).push(w);
      for (const input of Object.values(this.plan.byId.get(id)?.inputs ?? {})) visit(input);
    };
    visit(this.plan.collect);
    return { done, left };
  }

  /** Seconds left (0 when nothing is), or undefined when there is no estimate. */
  secondsLeft(now = performance.now()): number | undefined {
    this.ensureWorks();
    if (this.works.size === 0) return undefined;
    // An estimate walks the plan (linear in its steps): made again at most every THROTTLE times
    // what the last one took (and every MIN_INTERVAL_MS), or a sweep of 100,000 points, whose
    // every step is an event, would spend its time here; in between it counts down.
    if (!this.last || (this.stale && now - this.last.at >= Math.max(MIN_INTERVAL_MS, THROTTLE * this.cost))) {
      const started = performance.now();
      this.stale = false;
      const { done, left } = this.demand();
      const elapsed = (now - this.t0) / 1000;
      let seconds: number;
      const run = { jobs: this.jobs };
      if (left.length === 0) seconds = 0;
      else if (this.heavyDone) {
        // This run's rate: its elapsed time over the units it has finished (its one-time costs
        // included: they are behind it, not ahead), weighed with the machine's.
        const prior = PRIOR_SHARE * runUnits([...done, ...left], run);
        const rate = (elapsed + prior * this.rate.secondsPerUnit) / (wallUnits(done, run) + prior);
        seconds = runUnits(left, { ...run, started: true }) * rate;
      } else {
        seconds = Math.max(0, runUnits([...done, ...left], run) * this.rate.secondsPerUnit - elapsed);
      }
      this.last = { seconds, at: now };
      this.cost = performance.now() - started;
    }
    return Math.max(0, this.last.seconds - (now - this.last.at) / 1000);
  }
}
