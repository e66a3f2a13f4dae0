import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandSweep, loadStudy } from '../../src/pipeline/index.js';
import { planStudy } from '../../src/engine/kinds/plan.js';
import { stepKey } from '../../src/engine/store/keys.js';
import { SMALL_DATA, tempDir, writePipeline } from './helpers.js';

async function planOf(body: string) {
  const file = writePipeline(tempDir(), 'p', body);
  const study = await loadStudy(file);
  return planStudy(study, expandSweep(study));
}

test('grid: shared steps appear once, ids name the axes that tell steps apart', async () => {
  const plan = await planOf(`${SMALL_DATA}model: {width: 3, depth: 1}
sweep:
  model.width: [2, 3]
  loss: [mse, cross-entropy]
`);
  assert.equal(plan.points.length, 4);
  const ids = plan.steps.map((s) => s.id);
  assert.deepEqual(ids.filter((i) => i.startsWith('dataset')), ['dataset']);
  assert.deepEqual(ids.filter((i) => i.startsWith('network')), ['network[model.width=2]', 'network[model.width=3]']);
  assert.deepEqual(ids.filter((i) => i.startsWith('ranks')), [
    'ranks[model.width=2,loss=mse]', 'ranks[model.width=2,loss=cross-entropy]',
    'ranks[model.width=3,loss=mse]', 'ranks[model.width=3,loss=cross-entropy]',
  ]);
  assert.equal(ids.at(-1), 'collect');
  assert.equal(new Set(plan.steps.map((s) => s.key)).size, plan.steps.length, 'one step per key');
  // Inputs come before the steps that use them.
  const pos = new Map(ids.map((id, i) => [id, i]));
  for (const s of plan.steps) for (const inp of Object.values(s.inputs)) assert.ok(pos.get(inp)! < pos.get(s.id)!, `${inp} before ${s.id}`);
});

test('zip pairs axes element-wise', async () => {
  const plan = await planOf(`${SMALL_DATA}model: {width: 3, depth: 1}
sweep:
  mode: zip
  model.width: [2, 3, 4]
  seed: [1, 2, 3]
`);
  assert.deepEqual(plan.points.map((p) => p.point.id), ['model.width=2,seed=1', 'model.width=3,seed=2', 'model.width=4,seed=3']);
  assert.equal(plan.steps.filter((s) => s.kind === 'ranks').length, 3);
  assert.equal(plan.steps.filter((s) => s.kind === 'spectrum').length, 3);
  // gaussian-mixture data depends on the seed, so each point has its own dataset.
  assert.equal(plan.steps.filter((s) => s.kind === 'dataset').length, 3);
});

test('a sample-size sweep forms a prefix-sum chain; keys are stable and value-sensitive', async () => {
  const body = `${SMALL_DATA}model: {hidden: [4]}
sweep:
  dataset.samples: {from: 4, to: 12, step: 4}
`;
  const a = await planOf(body);
  const spectra = a.steps.filter((s) => s.kind === 'spectrum');
  assert.deepEqual(spectra.map((s) => s.chain?.boundaries), [[4], [4, 8], [4, 8, 12]]);
  assert.ok(a.steps.filter((s) => s.kind === 'ranks').every((s) => s.chain === undefined && Object.keys(s.inputs).join() === 'spectrum'));
  const b = await planOf(body.replace('# nothing', ''));
  assert.deepEqual(b.steps.map((s) => s.key), a.steps.map((s) => s.key), 'same file, same keys');
  const c = await planOf(body.replace('to: 12', 'to: 16'));
  const keyOf = (p: typeof a, id: string) => p.steps.find((s) => s.id === id)!.key;
  assert.equal(keyOf(c, 'ranks[dataset.samples=8]'), keyOf(a, 'ranks[dataset.samples=8]'), 'earlier points keep their keys');
  assert.notEqual(keyOf(c, 'collect'), keyOf(a, 'collect'));
});

test('rank tolerances are light steps over shared spectra; the route is part of the spectrum key', async () => {
  const body = `${SMALL_DATA}model: {hidden: [4]}
sweep:
  rank.rtol: [1e-12, 1e-10]
`;
  const a = await planOf(body);
  assert.equal(a.steps.filter((s) => s.kind === 'spectrum').length, 1, 'one spectrum serves both tolerances');
  const ranks = a.steps.filter((s) => s.kind === 'ranks');
  assert.equal(ranks.length, 2);
  assert.notEqual(ranks[0]!.key, ranks[1]!.key);
  const dense = await planOf(body.replace('model: {hidden: [4]}', 'model: {hidden: [4]}\nrank: {route: dense}'));
  assert.notEqual(dense.steps.find((s) => s.kind === 'spectrum')!.key, a.steps.find((s) => s.kind === 'spectrum')!.key);
});

test('every planned step is upstream of the collect step (hrank plan marks all to run when nothing is cached), and first names the first point served', async () => {
  const plans = await Promise.all([
    `${SMALL_DATA}model: {hidden: [4]}\nsweep:\n  dataset.samples: {from: 4, to: 12, step: 4}\n  rank.rtol: [1e-12, 1e-10]\n`,
    `${SMALL_DATA}model: {width: 3, depth: 1}\nsweep:\n  model.width: [2, 3]\n  loss: [mse, cross-entropy]\n  seed: [1, 2]\n`,
    `dataset: {source: gaussian-mixture, dim: 5, samples: 12, classes: 3}\nmodel: {hidden: [4]}\ntrain: {lr: 0.1, steps: 10, checkpoints: [0, 5, 10]}\nsweep:\n  train.checkpoint: all\n  seed: [1, 2]\n`,
    `${SMALL_DATA}model: {hidden: [4]}\n`,
  ].map(planOf));
  // No sweep: one point, every step named by its kind alone.
  assert.deepEqual(plans[3]!.steps.map((s) => s.id), ['dataset', 'network', 'input-rank', 'prediction', 'spectrum', 'ranks', 'collect']);
  for (const plan of plans) {
    const reached = new Set<string>();
    const visit = (id: string): void => {
      if (reached.has(id)) return;
      reached.add(id);
      for (const input of Object.values(plan.byId.get(id)!.inputs)) visit(input);
    };
    visit(plan.collect);
    assert.deepEqual(plan.steps.filter((s) => !reached.has(s.id)).map((s) => s.id), []);
    assert.ok(plan.steps.some((s) => s.kind === 'train') || plan !== plans[2], 'the training plan has train steps');
    for (const s of plan.steps) assert.equal(plan.points[s.first]!.point.id, s.points[0]);
    // Every step's key is stepKey of the parts it shows (made on demand; the collect step's
    // written from its sorted roles), and inputs by id name the steps of those keys.
    for (const s of plan.steps) {
      assert.equal(stepKey(s.parts).key, s.key, s.id);
      assert.deepEqual(Object.keys(s.parts.inputs).sort(), Object.keys(s.inputs).sort(), s.id);
      for (const [role, id] of Object.entries(s.inputs)) assert.equal(s.parts.inputs[role], plan.byId.get(id)!.key, `${s.id} ${role}`);
    }
  }
});
