/**
 * status and diff match points by what they are, not by their place in the sweep (issue 13,
 * item 7): an added axis and a changed setting are named as such.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { matchPoints } from '../../src/lock/match.js';
import type { StatusReport } from '../../src/cli/commands/status.js';
import type { DiffReport } from '../../src/cli/commands/diff.js';
import type { PlanReport } from '../../src/cli/commands/plan.js';
import { commit, gitInit, hrankIn, runIn, tempDir, write } from './helpers.js';

const BASE = `version: 1
name: grow
dataset: {source: gaussian-mixture, dim: 5, samples: 12, classes: 3}
model: {width: 3, depth: 1}
sweep:
  model.width: [2, 3, 4]
`;

describe('an axis added and a setting changed', () => {
  const { dir, cleanup } = tempDir();
  after(cleanup);
  const file = `${dir}/grow.yaml`;

  test('a new loss axis: the mse points are the old ones (same keys), the cross-entropy ones are new', async () => {
    gitInit(dir);
    write(dir, 'grow.yaml', BASE);
    await runIn(dir, file);
    commit(dir, 'grow', 'grow.yaml', 'grow.lock.json');
    writeFileSync(file, BASE.replace('sweep:\n', 'sweep:\n  loss: [mse, cross-entropy]\n'));
    const r = await hrankIn(['status', file, '--json']);
    assert.equal(r.code, 1);
    const s = (JSON.parse(r.stdout) as StatusReport).studies[0]!;
    assert.equal(s.unchanged, 3);
    assert.deepEqual(s.changes.map((c) => `${c.change} ${c.id}${c.was ? ` <- ${c.was}` : ''}`), [
      'renamed loss=mse,model.width=2 <- model.width=2', 'renamed loss=mse,model.width=3 <- model.width=3', 'renamed loss=mse,model.width=4 <- model.width=4',
      'new loss=cross-entropy,model.width=2', 'new loss=cross-entropy,model.width=3', 'new loss=cross-entropy,model.width=4',
    ]);
    assert.match(s.changes[3]!.reasons[0]!.message, /loss is a new axis/);
    const text = await hrankIn(['status', file]);
    assert.match(text.stdout, /stale \(3 unchanged \(3 under a new id\), 3 new; 6 points planned\)/);
    // plan agrees: the three mse points are cached.
    const plan = await hrankIn(['plan', file, '--cache', `${dir}/cache`, '--json']);
    const steps = (JSON.parse(plan.stdout) as PlanReport).steps.filter((st) => st.kind === 'spectrum');
    assert.deepEqual(steps.filter((st) => st.cached).flatMap((st) => st.points).sort(), ['loss=mse,model.width=2', 'loss=mse,model.width=3', 'loss=mse,model.width=4']);
  });

  test('and samples 12 -> 10: every old point changed because of it, and the reason is said once', async () => {
    writeFileSync(file, BASE.replace('sweep:\n', 'sweep:\n  loss: [mse, cross-entropy]\n').replace('samples: 12', 'samples: 10'));
    const r = await hrankIn(['status', file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /stale \(3 changed, 3 new; 6 points planned\)/);
    assert.match(r.stdout, /^ {2}every changed point: pipeline value changed: dataset\.samples 12 -> 10$/m);
    assert.match(r.stdout, /^\s+changed\s+loss=mse,model\.width=2 \(was model\.width=2\)\s+\(as above\)$/m);
    assert.doesNotMatch(r.stdout, /removed/);
  });

  test('diff after the run pairs the same points: 3 the same under a new id, 3 added, nothing removed', async () => {
    writeFileSync(file, BASE.replace('sweep:\n', 'sweep:\n  loss: [mse, cross-entropy]\n'));
    await runIn(dir, file);
    const r = await hrankIn(['diff', 'HEAD', file, '--json']);
    const d = (JSON.parse(r.stdout) as DiffReport).studies[0]!;
    assert.deepEqual(d.counts, { added: 3, removed: 0, changed: 0, recomputed: 0, renamed: 3, same: 0 });
    const t = await hrankIn(['diff', 'HEAD', file]);
    assert.match(t.stdout, /3 added, 3 the same under a new id/);
    assert.match(t.stdout, /^\s+renamed\s+loss=mse,model\.width=2 \(was model\.width=2\)/m);
  });
});

test('matchPoints: by id, then key, then axis values with the fewest differing settings', () => {
  const before = [
    { id: 'w=2', key: 'a', coords: { w: 2 }, settings: { w: 2, loss: 'mse', n: 12 } },
    { id: 'w=3', key: 'b', coords: { w: 3 }, settings: { w: 3, loss: 'mse', n: 12 } },
    { id: 'w=9', key: 'z', coords: { w: 9 }, settings: { w: 9, loss: 'mse', n: 12 } },
  ];
  const after = [
    { id: 'l=ce,w=2', key: 'c', coords: { l: 'ce', w: 2 }, settings: { w: 2, loss: 'ce', n: 10 } },
    { id: 'l=mse,w=2', key: 'd', coords: { l: 'mse', w: 2 }, settings: { w: 2, loss: 'mse', n: 10 } },
    { id: 'l=mse,w=3', key: 'b', coords: { l: 'mse', w: 3 }, settings: { w: 3, loss: 'mse', n: 12 } },
    { id: 'l=mse,w=5', key: 'e', coords: { l: 'mse', w: 5 }, settings: { w: 5, loss: 'mse', n: 12 } },
  ];
  const m = matchPoints(before, after);
  assert.deepEqual(m.pairs, [[0, 1, 'coords'], [1, 2, 'key']]);
  assert.deepEqual(m.added, [0, 3]); // ce (two settings differ from w=2, mse one), and w=5 (a new value)
  assert.deepEqual(m.removed, [2]); // w=9 is no longer swept: not paired with w=5
});
