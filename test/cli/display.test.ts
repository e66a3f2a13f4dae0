import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { PlainDisplay, createDisplay } from '../../src/cli/display.js';
import { Eta } from '../../src/cli/progress.js';
import { TerminalDisplay } from '../../src/cli/terminalDisplay.js';
import type { EngineEvent } from '../../src/engine/exec/events.js';
import { runUnits, stepWork } from '../../src/engine/kinds/estimate.js';
import { planStudy, type Plan, type PlanStep } from '../../src/engine/kinds/plan.js';
import type { RunResult } from '../../src/engine/exec/run.js';
import { expandSweep, loadStudy } from '../../src/pipeline/index.js';
import { TINY } from './helpers.js';

/** A plan-shaped object with the given steps (only what the display reads). */
function fakePlan(ids: [string, string][], points = 2): Plan {
  const steps = ids.map(([kind, id]) => ({ id, kind, key: '0'.repeat(64), inputs: {}, points: [] }) as unknown as PlanStep);
  return {
    study: { name: 'demo' },
    points: Array.from({ length: points }, () => ({})),
    steps,
    byId: new Map(steps.map((s) => [s.id, s])),
    collect: 'collect',
  } as unknown as Plan;
}

const PLAN = fakePlan([
  ['dataset', 'dataset'],
  ['network', 'network[seed=1]'],
  ['network', 'network[seed=2]'],
  ['ranks', 'ranks[seed=1]'],
  ['ranks', 'ranks[seed=2]'],
  ['collect', 'collect'],
]);
const step = (id: string): PlanStep => PLAN.byId.get(id)!;

function result(over: Partial<RunResult> = {}): RunResult {
  return { ok: true, interrupted: false, computed: [], derived: [], cached: [], failed: [], seconds: {}, ...over };
}

test('plain display: one line per finished step, on the given writer', async () => {
  let text = '';
  const d = await createDisplay({ write: (t) => (text += t) });
  assert.ok(d instanceof PlainDisplay);
  const events: EngineEvent[] = [
    { type: 'plan', plan: PLAN },
    { type: 'cached', step: step('dataset') },
    { type: 'start', step: step('network[seed=1]') },
    { type: 'done', step: step('network[seed=1]'), seconds: 0.0123 },
    { type: 'done', step: step('ranks[seed=1]'), seconds: 3.214 },
    { type: 'failed', step: step('ranks[seed=2]'), error: new Error('hessian: expected 120 params, got 118\nmore detail') },
    { type: 'warning', message: 'cache entry abc is corrupt; recomputing' },
  ];
  for (const e of events) d.onEvent(e);
  d.interrupting();
  await d.finish(result({ ok: false }));
  assert.equal(text, [
    'plan demo: 2 points, 6 steps',
    'cached dataset',
    'done network[seed=1] 0.01s',
    'done ranks[seed=1] 3.21s',
    'FAILED ranks[seed=2] hessian: expected 120 params, got 118',
    'warning: cache entry abc is corrupt; recomputing',
    'interrupting: waiting for running steps to stop (Ctrl-C again to quit at once)',
    '',
  ].join('\n'));
});

/** A writable that looks like a terminal and keeps what is written. */
function fakeTerminal(): NodeJS.WriteStream & { text: () => string } {
  let text = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return Object.assign(w, { isTTY: true, columns: 120, rows: 40, text: () => text }) as unknown as NodeJS.WriteStream & { text: () => string };
}

/** The last frame drawn, without ANSI codes. */
function lastFrame(raw: string): string {
  const plain = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  return plain;
}

test('terminal display: a line per step kind with counts; untouched kinds are skipped as not needed', async () => {
  const term = fakeTerminal();
  const other = fakeTerminal();
  let written = '';
  const d = await createDisplay({ write: (t) => (written += t), terminal: term, other });
  assert.ok(d instanceof TerminalDisplay);
  d.onEvent({ type: 'plan', plan: PLAN });
  // Let listr2 start drawing, then feed events.
  await new Promise((r) => setTimeout(r, 200));
  d.onEvent({ type: 'cached', step: step('dataset') });
  d.onEvent({ type: 'start', step: step('network[seed=1]') });
  d.onEvent({ type: 'done', step: step('network[seed=1]'), seconds: 0.5 });
  d.onEvent({ type: 'done', step: step('network[seed=2]'), seconds: 0.25 });
  d.onEvent({ type: 'warning', message: 'corrupt entry' });
  d.onEvent({ type: 'cached', step: step('collect') });
  await d.finish(result());
  const frame = lastFrame(term.text());
  assert.match(frame, /demo: 2 points, 6 steps · 2 computed · 2 cached/);
  assert.match(frame, /dataset\s+1\/1\s+1 cached/);
  assert.match(frame, /network\s+2\/2\s+0\.75s in steps/);
  assert.match(frame, /ranks\s+0\/2\s+not needed: later steps came from the cache/);
  assert.match(frame, /collect\s+1\/1\s+1 cached/);
  // Warnings wait until the view is gone; nothing went to the other stream.
  assert.equal(written, 'warning: corrupt entry\n');
  assert.doesNotMatch(other.text(), /demo/);
});

test('terminal display: a failed kind names its failed steps; an interrupted run says so', async () => {
  const term = fakeTerminal();
  const d = await createDisplay({ write: () => undefined, terminal: term, other: fakeTerminal() });
  d.onEvent({ type: 'plan', plan: PLAN });
  d.onEvent({ type: 'start', step: step('ranks[seed=1]') });
  d.onEvent({ type: 'start', step: step('ranks[seed=2]') });
  d.onEvent({ type: 'failed', step: step('ranks[seed=2]'), error: new Error('out of memory') });
  d.interrupting();
  await d.finish(result({ ok: false, interrupted: true }));
  const frame = lastFrame(term.text());
  assert.match(frame, /ranks\s+1\/2\s+1 FAILED.*ranks\[seed=2\]: out of memory/);
  assert.match(frame, /dataset\s+0\/1\s+interrupted/);
  assert.match(frame, /· interrupted/);
});

/** The frame the view printed last (after its last erase), without ANSI codes. */
function finalFrame(raw: string): string {
  return raw.slice(raw.lastIndexOf('\x1b[2K')).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

const TICK = /^[✔√]/;

test('terminal display: the last frame is printed once, when the run is over, even when every step finished long before', async () => {
  const plan = fakePlan([['dataset', 'dataset'], ['collect', 'collect']]);
  const term = fakeTerminal();
  const d = await createDisplay({ write: () => undefined, terminal: term, other: fakeTerminal() });
  d.onEvent({ type: 'plan', plan });
  await new Promise((r) => setTimeout(r, 100));
  d.onEvent({ type: 'done', step: plan.byId.get('dataset')!, seconds: 0.1 });
  d.onEvent({ type: 'done', step: plan.byId.get('collect')!, seconds: 0.1 });
  // The results and the report are written meanwhile; every kind is complete.
  await new Promise((r) => setTimeout(r, 100));
  await d.finish(result());
  const frame = finalFrame(term.text());
  assert.equal(frame.match(/demo: 2 points, 2 steps/g)?.length, 1, JSON.stringify(frame));
  assert.match(frame, /collect\s+1\/1/);
  // Once over, the view draws nothing more, whatever happens.
  const length = term.text().length;
  d.onEvent({ type: 'done', step: plan.byId.get('collect')!, seconds: 0.1 });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(term.text().length, length);
});

test('terminal display: the header of an interrupted or failed run has no check; a finished run has one', async () => {
  const header = async (end: RunResult, events: EngineEvent[]): Promise<string> => {
    const term = fakeTerminal();
    const d = await createDisplay({ write: () => undefined, terminal: term, other: fakeTerminal() });
    d.onEvent({ type: 'plan', plan: PLAN });
    await new Promise((r) => setTimeout(r, 50));
    for (const e of events) d.onEvent(e);
    if (end.interrupted) d.interrupting();
    await d.finish(end);
    return finalFrame(term.text()).split('\n').find((l) => l.includes('demo: 2 points'))!;
  };
  const all = PLAN.steps.map((s): EngineEvent => ({ type: 'done', step: s, seconds: 0.01 }));
  const interrupted = await header(result({ ok: false, interrupted: true }), all.slice(0, 2));
  assert.match(interrupted, /· interrupted$/);
  assert.doesNotMatch(interrupted, TICK);
  const failed = await header(result({ ok: false }), [...all.slice(0, 3), { type: 'failed', step: step('ranks[seed=1]'), error: new Error('boom') }]);
  assert.doesNotMatch(failed, TICK);
  assert.match(await header(result(), all), TICK);
});

/** A real plan of a two-point study (the ETA needs the steps' settings). */
async function realPlan(): Promise<Plan> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hrank-eta-'));
  try {
    const file = path.join(dir, 'tiny.yaml');
    writeFileSync(file, TINY);
    const study = await loadStudy(file);
    return await planStudy(study, expandSweep(study));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A slow machine, so that a tiny study's ETA is minutes. */
const SLOW_RATE = { secondsPerUnit: 1e-7, calibrated: true, runs: 1 };

test('ETA: the calibrated rate until a heavy step finishes, counting down; then the rate this run shows; cached steps and what only they need drop out', async () => {
  const plan = await realPlan();
  const done = (id: string): EngineEvent => ({ type: 'done', step: plan.byId.get(id)!, seconds: 1 });
  const first = new Eta(plan, { jobs: 1, rate: SLOW_RATE }, 0);
  const at0 = first.secondsLeft(0)!;
  const all = plan.steps.map((s) => stepWork(plan, s));
  assert.ok(Math.abs(at0 - runUnits(all, { jobs: 1 }) * SLOW_RATE.secondsPerUnit) < 1e-9 * at0, String(at0));
  assert.ok(Math.abs(first.secondsLeft(10_000)! - (at0 - 10)) < 1e-6);

  // The light steps and one spectrum done: the slower this run went so far, the longer it has left,
  // from the machine's rate (the run's rate weighed in) towards the run's own as its work grows.
  const spectra = plan.steps.filter((s) => s.kind === 'spectrum');
  const progress = (seconds: number): number => {
    const eta = new Eta(plan, { jobs: 1, rate: SLOW_RATE }, 0);
    for (const s of plan.steps) if (!s.heavy && s.kind !== 'ranks' && s.kind !== 'collect') eta.onEvent(done(s.id));
    eta.onEvent(done(spectra[0]!.id));
    return eta.secondsLeft(seconds * 1000)!;
  };
  const fast = progress(0.001), slow = progress(1000), slower = progress(2000);
  assert.ok(fast > 0 && fast < slow && slow < slower, `${fast} ${slow} ${slower}`);
  // Never more than in proportion: the machine's rate still weighs in.
  assert.ok(slower / slow < 2, `${slow} ${slower}`);

  // Everything the collect step needs, done: nothing left. A cached collect: nothing needed at all.
  const finished = new Eta(plan, { jobs: 1, rate: SLOW_RATE }, 0);
  for (const s of plan.steps) finished.onEvent(done(s.id));
  assert.equal(finished.secondsLeft(5000), 0);
  const cached = new Eta(plan, { jobs: 1, rate: SLOW_RATE }, 0);
  cached.onEvent({ type: 'cached', step: plan.byId.get('collect')! });
  assert.equal(cached.secondsLeft(0), 0);
  // A plan without settings (this file's fake one) has no ETA.
  assert.equal(new Eta(PLAN).secondsLeft(), undefined);
});

test('ETA in the displays: the live header while the run goes, never in its last frame; the plain lines of heavy steps', async () => {
  const plan = await realPlan();
  const term = fakeTerminal();
  const d = new TerminalDisplay(term, fakeTerminal(), () => undefined, { jobs: 1, rate: SLOW_RATE });
  d.onEvent({ type: 'plan', plan });
  await new Promise((r) => setTimeout(r, 150));
  assert.match(lastFrame(term.text()), /tiny: 2 points, 13 steps · 0 computed · [\d.]+s · about \d+m\d\ds left/);
  for (const s of plan.steps) d.onEvent({ type: 'done', step: s, seconds: 0.01 });
  await d.finish(result());
  assert.doesNotMatch(finalFrame(term.text()), /left/);

  let text = '';
  const plain = new PlainDisplay((t) => (text += t), { jobs: 1, rate: SLOW_RATE });
  plain.onEvent({ type: 'plan', plan });
  const spectrum = plan.steps.find((s) => s.kind === 'spectrum')!;
  const dataset = plan.steps.find((s) => s.kind === 'dataset')!;
  plain.onEvent({ type: 'done', step: dataset, seconds: 0.5 });
  plain.onEvent({ type: 'done', step: spectrum, seconds: 0.5 });
  assert.ok(text.includes(`\ndone ${dataset.id} 0.50s\n`), text);
  assert.match(text, new RegExp(`^done ${spectrum.id.replace(/[[\]]/g, '\\$&')} 0\\.50s, about \\d+(m\\d\\d)?s left$`, 'm'));
});
