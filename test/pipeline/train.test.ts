/**
 * The train section and the train.checkpoint axis (issue 16): defaults, `all`, and every bad input
 * named at its line and column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAt, onlyProblem, studyOf, yaml } from './helpers.js';

const BASE = ['version: 1', 'name: study', 'dataset:', '  source: gaussian-mixture', '  dim: 4', '  samples: 20', '  classes: 3', 'model:', '  hidden: [3]'];
const TRAIN = (...lines: string[]) => [...BASE, 'train:', ...lines.map((l) => `  ${l}`)];

test('a train section: defaults filled in, the range listed, the Hessians at the last checkpoint', () => {
  const { study, points } = studyOf(yaml(...TRAIN('lr: 0.1', 'steps: 100', 'checkpoints: {from: 0, to: 100, step: 25}')));
  assert.equal(points.length, 1);
  assert.deepEqual(study.base.train, { optimizer: 'gd', lr: 0.1, steps: 100, batch_size: null, checkpoints: [0, 25, 50, 75, 100], seed: 0, checkpoint: 100 });
  assert.equal(studyOf(yaml(...BASE)).study.base.train, null);
});

test('train.checkpoint: all gives one point per checkpoint, in order, combined with other axes', () => {
  const { points } = studyOf(yaml(...TRAIN('optimizer: adam', 'lr: 0.01', 'steps: 30', 'batch_size: 5', 'checkpoints: [0, 10, 30]'), 'sweep:', '  model.hidden: [[3], [4]]', '  train.checkpoint: all'));
  assert.deepEqual(points.map((p) => p.id), [
    'model.hidden=[3],train.checkpoint=0', 'model.hidden=[3],train.checkpoint=10', 'model.hidden=[3],train.checkpoint=30',
    'model.hidden=[4],train.checkpoint=0', 'model.hidden=[4],train.checkpoint=10', 'model.hidden=[4],train.checkpoint=30',
  ]);
  assert.deepEqual(points.map((p) => p.config.train!.checkpoint), [0, 10, 30, 0, 10, 30]);
  const list = studyOf(yaml(...TRAIN('lr: 0.1', 'steps: 30', 'checkpoints: {from: 0, to: 30, step: 10}'), 'sweep:', '  train.checkpoint: [10, 30]'));
  assert.deepEqual(list.points.map((p) => p.config.train!.checkpoint), [10, 30]);
});

test('train without checkpoints is a missing key at train', () => {
  const p = onlyProblem(yaml(...TRAIN('lr: 0.1', 'steps: 10')));
  assertAt(p, 10, 1, 'missing-key', 'train.checkpoints');
  assert.match(p.message, /checkpoints/);
});

test('a non-positive lr is refused at its value', () => {
  for (const lr of ['0', '-0.5']) {
    const p = onlyProblem(yaml(...TRAIN(`lr: ${lr}`, 'steps: 10', 'checkpoints: [0, 10]')));
    assertAt(p, 11, 7, 'bad-value', 'train.lr');
    assert.match(p.message, /> 0/);
  }
});

test('checkpoints beyond steps: at the list item, or at the range\'s to', () => {
  const a = onlyProblem(yaml(...TRAIN('lr: 0.1', 'steps: 10', 'checkpoints: [0, 5, 20]')));
  assertAt(a, 13, 23, 'bad-value', 'train.checkpoints[2]');
  assert.match(a.message, /checkpoint 20 is beyond train.steps \(10\)/);
  const b = onlyProblem(yaml(...TRAIN('lr: 0.1', 'steps: 10', 'checkpoints: {from: 0, to: 20, step: 5}')));
  assertAt(b, 13, 30, 'bad-value', 'train.checkpoints.to');
  assert.match(b.hint ?? '', /raise steps to 20/);
});

test('checkpoints repeated, out of order, or an empty range', () => {
  assert.match(onlyProblem(yaml(...TRAIN('lr: 0.1', 'steps: 10', 'checkpoints: [0, 5, 5]'))).message, /checkpoint 5 is listed twice/);
  const p = onlyProblem(yaml(...TRAIN('lr: 0.1', 'steps: 10', 'checkpoints: [0, 5, 2]')));
  assertAt(p, 13, 23, 'bad-value', 'train.checkpoints[2]');
  assert.match(p.message, /increasing order/);
  const r = onlyProblem(yaml(...TRAIN('lr: 0.1', 'steps: 10', 'checkpoints: {from: 10, to: 0}')));
  assertAt(r, 13, 16, 'bad-value', 'train.checkpoints');
});

test('batch_size: larger than the samples, missing for sgd, given to gd', () => {
  const big = onlyProblem(yaml(...TRAIN('optimizer: sgd', 'lr: 0.1', 'steps: 10', 'batch_size: 50', 'checkpoints: [0, 10]')));
  assertAt(big, 14, 15, 'bad-value', 'train.batch_size');
  assert.match(big.message, /larger than the 20 samples/);
  const missing = onlyProblem(yaml(...TRAIN('optimizer: adam', 'lr: 0.1', 'steps: 10', 'checkpoints: [0, 10]')));
  assertAt(missing, 11, 14, 'bad-value', 'train.optimizer');
  assert.match(missing.message, /adam needs train.batch_size/);
  const gd = onlyProblem(yaml(...TRAIN('lr: 0.1', 'steps: 10', 'batch_size: 5', 'checkpoints: [0, 10]')));
  assertAt(gd, 13, 15, 'bad-value', 'train.batch_size');
  // A sample-size sweep that makes a batch too large is blamed at the swept value.
  const swept = onlyProblem(yaml(...TRAIN('optimizer: sgd', 'lr: 0.1', 'steps: 10', 'batch_size: 10', 'checkpoints: [0, 10]'), 'sweep:', '  dataset.samples: [20, 5]'));
  assertAt(swept, 17, 25, 'bad-value', 'sweep.dataset.samples[1]');
});

test('train.checkpoint swept without a train section, or at a step that is not a checkpoint', () => {
  const p = onlyProblem(yaml(...BASE, 'sweep:', '  train.checkpoint: [0, 10]'));
  assertAt(p, 11, 3, 'bad-sweep', 'sweep.train.checkpoint');
  assert.match(p.message, /no train section/);
  const q = onlyProblem(yaml(...TRAIN('lr: 0.1', 'steps: 10', 'checkpoints: [0, 10]'), 'sweep:', '  train.checkpoint: [0, 7]'));
  assertAt(q, 15, 25, 'bad-value', 'sweep.train.checkpoint[1]');
  assert.match(q.message, /7 is not one of train.checkpoints \(0, 10\)/);
  const r = onlyProblem(yaml(...TRAIN('lr: 0.1', 'steps: 10', 'checkpoints: [0, 10]', 'checkpoint: 3')));
  assertAt(r, 14, 15, 'bad-value', 'train.checkpoint');
  const s = onlyProblem(yaml(...BASE, 'sweep:', '  model.hidden: all'));
  assertAt(s, 11, 17, 'bad-type', 'sweep.model.hidden');
  assert.match(s.message, /expected a list of values or a range \{from, to, step\}, found the string 'all'/);
});
