import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { unsafeToRemove } from '../../src/cli/commands/clean.js';
import { stepStatuses } from '../../src/cli/commands/plan.js';
import type { Plan, PlanStep } from '../../src/engine/kinds/plan.js';

/** dataset -> network -> ranks[a], ranks[b] -> collect (inputs by id). */
function chainPlan(): Plan {
  const mk = (id: string, inputs: Record<string, string>) => ({ id, kind: id.replace(/\[.*/, ''), inputs }) as unknown as PlanStep;
  const steps = [
    mk('dataset', {}),
    mk('network', {}),
    mk('ranks[a]', { dataset: 'dataset', network: 'network' }),
    mk('ranks[b]', { dataset: 'dataset', network: 'network' }),
    mk('collect', { '0/ranks': 'ranks[a]', '1/ranks': 'ranks[b]' }),
  ];
  return { steps, byId: new Map(steps.map((s) => [s.id, s])), collect: 'collect' } as unknown as Plan;
}

test('plan statuses follow demand from collect and stop at cached steps', () => {
  const plan = chainPlan();
  const of = (cached: string[]) => Object.fromEntries(stepStatuses(plan, new Set(cached)));
  assert.deepEqual(of([]), { dataset: 'to run', network: 'to run', 'ranks[a]': 'to run', 'ranks[b]': 'to run', collect: 'to run' });
  // Only collect cached: nothing upstream is needed.
  assert.deepEqual(of(['collect']), { collect: 'cached', dataset: 'not needed', network: 'not needed', 'ranks[a]': 'not needed', 'ranks[b]': 'not needed' });
  // One ranks step cached: the other still needs dataset and network.
  assert.deepEqual(of(['ranks[a]', 'dataset']), { collect: 'to run', 'ranks[a]': 'cached', 'ranks[b]': 'to run', dataset: 'cached', network: 'to run' });
});

test('clean --all keeps the results folder itself when it is the root, the home folder, the current folder or a parent', () => {
  const cwd = path.join(os.tmpdir(), 'proj', 'sub');
  assert.match(unsafeToRemove('/', cwd)!, /root/);
  assert.match(unsafeToRemove(os.homedir(), cwd)!, /home/);
  assert.match(unsafeToRemove('.', cwd)!, /current folder/);
  assert.match(unsafeToRemove('..', cwd)!, /current folder or one of its parents/);
  assert.equal(unsafeToRemove('results', cwd), undefined);
  assert.equal(unsafeToRemove('../other', cwd), undefined);
});
