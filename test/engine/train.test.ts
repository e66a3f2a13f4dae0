/**
 * Training as a cached stage (issue 16): one train step per checkpoint, each resuming from the one
 * before; the Hessians of a trained point are of its checkpoint's weights; divergence stops that
 * point and keeps the finished checkpoints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadPlan, runStudy } from '../../src/study/study.js';
import { CacheStore } from '../../src/engine/store/cache.js';
import { computeDataset, computeNetwork } from '../../src/engine/kinds/values.js';
import { checkpointMetrics, hessianRanks, initialState, train } from '../../src/science/index.js';
import { tempDir, writePipeline } from './helpers.js';

const BODY = (train: string) => `dataset: {source: gaussian-mixture, dim: 5, samples: 12, classes: 3}
model: {hidden: [4]}
train: {${train}}
sweep:
  train.checkpoint: all
`;
const GD = 'lr: 0.1, steps: 10, checkpoints: [0, 5, 10]';

test('plan: one train step per checkpoint, each resuming from the one before; spectra take the checkpoint; steps is not in a key', async () => {
  const dir = tempDir();
  const plan = await loadPlan(writePipeline(dir, 'p', BODY(GD)));
  const trains = plan.steps.filter((s) => s.kind === 'train');
  assert.deepEqual(trains.map((s) => s.id), ['train[step=0]', 'train[step=5]', 'train[step=10]']);
  assert.deepEqual(Object.keys(trains[0]!.parts.inputs).sort(), ['dataset', 'network']);
  assert.equal(trains[1]!.parts.inputs['previous'], trains[0]!.key);
  assert.equal(trains[2]!.parts.inputs['previous'], trains[1]!.key);
  assert.deepEqual(trains[2]!.points, ['train.checkpoint=10'], 'the last checkpoint serves only its point');
  assert.equal(trains[0]!.points.length, 3, 'checkpoint 0 is on every point\'s chain');
  for (const p of plan.points) {
    const spectrum = plan.byId.get(p.steps.spectrum)!;
    assert.equal(spectrum.inputs['network'], p.steps.train);
  }
  const longer = await loadPlan(writePipeline(dir, 'q', BODY('lr: 0.1, steps: 40, checkpoints: [0, 5, 10]')));
  assert.deepEqual(longer.steps.filter((s) => s.kind === 'train').map((s) => s.key), trains.map((s) => s.key));
  const other = await loadPlan(writePipeline(dir, 'r', BODY('lr: 0.2, steps: 10, checkpoints: [0, 5, 10]')));
  const otherKeys = other.steps.filter((s) => s.kind === 'train').map((s) => s.key);
  assert.ok(otherKeys.every((k) => !trains.some((s) => s.key === k)), 'lr decides every checkpoint');
});

test('run: checkpoint columns, Hessians of the trained weights, warm rerun computes nothing, a new checkpoint resumes from the cached one', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 't', BODY(GD));
  const opts = { cache: path.join(dir, 'cache'), results: path.join(dir, 'results'), jobs: 1 };
  const cold = await runStudy(file, opts);
  assert.ok(cold.run.ok);
  const rows = JSON.parse(readFileSync(path.join(cold.dir, 'results.json'), 'utf8')) as Record<string, number>[];
  assert.deepEqual(rows.map((r) => r['train.checkpoint']), [0, 5, 10]);
  for (const c of ['train_loss', 'grad_norm', 'residual_norm', 'rank_residual']) assert.ok(rows.every((r) => typeof r[c] === 'number'), c);
  assert.ok(rows[2]!['train_loss']! < rows[1]!['train_loss']! && rows[1]!['train_loss']! < rows[0]!['train_loss']!);
  // The same numbers straight from the science library.
  const plan = await loadPlan(file);
  const cfg = plan.points[2]!.point.config;
  const data = computeDataset(cfg);
  const trained = train(initialState(computeNetwork(cfg), 'gd'), data, 'mse', { optimizer: 'gd', lr: 0.1, batchSize: null, seed: 0 }, 10);
  assert.equal(rows[2]!['train_loss'], checkpointMetrics(trained, data, 'mse').loss);
  const direct = await hessianRanks(trained, data, 'mse', ['loss', 'outer', 'functional']);
  assert.equal(rows[2]!['rank_loss'], direct.loss!.rank);
  assert.equal(rows[2]!['rank_functional'], direct.functional!.rank);

  const warm = await runStudy(file, opts);
  assert.deepEqual(warm.run.computed, []);

  // Checkpoint 15 added: only its train step (from the cached 10) and its point's steps run.
  writeFileSync(file, readFileSync(file, 'utf8').replace(GD, 'lr: 0.1, steps: 15, checkpoints: [0, 5, 10, 15]'));
  const more = await runStudy(file, opts);
  assert.ok(more.run.ok);
  assert.deepEqual(more.run.computed.filter((id) => id.startsWith('train')), ['train[step=15]']);
  assert.ok(more.run.cached.includes('train[step=10]'));
  const rows2 = JSON.parse(readFileSync(path.join(more.dir, 'results.json'), 'utf8')) as Record<string, number>[];
  const fifteen = train(initialState(computeNetwork(cfg), 'gd'), data, 'mse', { optimizer: 'gd', lr: 0.1, batchSize: null, seed: 0 }, 15);
  assert.equal(rows2[3]!['train_loss'], checkpointMetrics(fifteen, data, 'mse').loss, 'resumed = trained from scratch');
});

test('training that diverges fails its point naming the step; finished checkpoints stay cached', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'd', BODY('lr: 40, steps: 400, checkpoints: [0, 1, 400]'));
  const opts = { cache: path.join(dir, 'cache'), results: path.join(dir, 'results'), jobs: 1, keepGoing: true };
  const run = await runStudy(file, opts);
  assert.equal(run.run.ok, false);
  const failure = run.run.failed.find((f) => f.id === 'train[step=400]');
  assert.ok(failure, JSON.stringify(run.run.failed));
  assert.match(failure.message, /^training diverged: (the loss|a weight) is (NaN|-?Infinity) at step \d+$/);
  assert.equal(failure.code, 'diverged');
  const plan = await loadPlan(file);
  const cache = new CacheStore(opts.cache);
  for (const id of ['train[step=0]', 'train[step=1]']) assert.ok(await cache.has(plan.byId.get(id)!.key), `${id} cached`);
  // --keep-going: the points before the divergence are finished.
  assert.ok(run.run.computed.includes('spectrum[train.checkpoint=1]'));
});
