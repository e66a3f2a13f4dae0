import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { PlainDisplay, createDisplay } from '../../src/cli/display.js';
import { TerminalDisplay } from '../../src/cli/terminalDisplay.js';
import type { EngineEvent } from '../../src/engine/exec/events.js';
import type { Plan, PlanStep } from '../../src/engine/kinds/plan.js';
import type { RunResult } from '../../src/engine/exec/run.js';

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
