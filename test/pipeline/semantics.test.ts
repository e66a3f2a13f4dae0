/**
 * Settings each valid alone that together mean nothing, ranges that stop short of `to`, and plot
 * hints that never suggest a misspelt axis (issue 13, items 3 and 4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePipeline } from '../../src/pipeline/load.js';
import { HEAD, FILE, assertAt, onlyProblem, studyOf, yaml } from './helpers.js';

const TWO = ['version: 1', 'name: study', 'dataset:', '  source: gaussian-mixture', '  dim: 4', '  samples: 20', '  classes: 2', 'model:', '  hidden: [3]'];

test('cross-entropy with classes: 2 and one output is refused at the loss key, pointing to two_class_targets: onehot', () => {
  const p = onlyProblem(yaml(...TWO, 'loss: cross-entropy'));
  assertAt(p, 10, 1, 'conflict', 'loss');
  assert.match(p.message, /softmax over one output is constant/);
  assert.match(p.message, /pm1, the default/);
  assert.match(p.hint ?? '', /two_class_targets: onehot/);
  // The fixes the hint names are valid.
  studyOf(yaml(...TWO.slice(0, 7), '  two_class_targets: onehot', ...TWO.slice(7), 'loss: cross-entropy'));
  studyOf(yaml(...TWO, 'loss: mse'));
  // Three classes: softmax over three outputs is fine.
  studyOf(yaml(...TWO.map((l) => l.replace('classes: 2', 'classes: 3')), 'loss: cross-entropy'));
});

test('an explicit two_class_targets: pm1 is named as such', () => {
  const p = onlyProblem(yaml(...TWO.slice(0, 7), '  two_class_targets: pm1', ...TWO.slice(7), 'loss: cross-entropy'));
  assert.match(p.message, /two_class_targets: pm1\)/);
});

test('a sweep that makes the conflict is blamed at the swept value, with the point it gives', () => {
  const p = onlyProblem(yaml(...TWO, 'sweep:', '  seed: [1, 2]', '  loss: [mse, cross-entropy]'));
  assertAt(p, 12, 15, 'conflict', 'sweep.loss[1]');
  assert.match(p.message, /^at 2 points, first seed=1,loss=cross-entropy: /);
  const q = onlyProblem(yaml(...TWO.map((l) => l.replace('classes: 2', 'classes: 3')), 'loss: cross-entropy', 'sweep:', '  dataset.classes: [3, 2]'));
  assertAt(q, 12, 24, 'conflict', 'sweep.dataset.classes[1]');
  assert.match(q.message, /^at point dataset\.classes=2: /);
});

test('a range that stops short of `to` is valid, with a warning naming its values', () => {
  const r = parsePipeline(yaml(...HEAD, 'sweep:', '  model.width: {from: 4, to: 10, step: 4}'), FILE);
  assert.ok(r.ok);
  assert.deepEqual(r.points.map((p) => p.coords['model.width']), [4, 8]);
  assert.equal(r.warnings.length, 1);
  const w = r.warnings[0]!;
  assertAt(w, 10, 30, 'range-end', 'sweep.model.width.to');
  assert.match(w.message, /gives 4, 8 \(2 values\): 'to' \(10\) is not reached, the last value is 8/);
  assert.match(w.hint ?? '', /to: 8/);
  // A range that lands on `to` (decimal steps included) warns nothing.
  for (const axis of ['model.width: {from: 4, to: 12, step: 4}', 'model.width: {from: 2, to: 2}', 'rank.atol: {from: 0.1, to: 0.3, step: 0.1}']) {
    const ok = parsePipeline(yaml(...HEAD, 'sweep:', `  ${axis}`), FILE);
    assert.ok(ok.ok, axis);
    assert.deepEqual(ok.warnings, [], axis);
  }
  const lists = parsePipeline(yaml(...HEAD, 'sweep:', '  model.width: [4, 8]'), FILE);
  assert.ok(lists.ok);
  assert.deepEqual(lists.warnings, []);
});

test("a plot's hint never suggests a misspelt sweep axis", () => {
  const text = yaml(...HEAD, 'sweep:', '  model.widht: [1, 2]', 'report:', '  plots:', '    - x: model.width');
  const r = parsePipeline(text, FILE);
  assert.ok(!r.ok);
  const plot = r.problems.find((p) => p.path === 'report.plots[0].x');
  assert.ok(plot, r.error.message);
  assert.doesNotMatch(plot.hint ?? '', /did you mean 'model\.widht'/);
  assert.match(plot.hint ?? '', /'model\.widht' is not a setting itself/);
  const axis = r.problems.find((p) => p.path === 'sweep.model.widht');
  assert.match(axis?.hint ?? '', /did you mean 'model\.width'/);
  // A plot's near miss of a valid axis is still suggested.
  const near = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: [1, 2]', 'report:', '  plots:', '    - x: model.widht'));
  assert.equal(near.hint, "did you mean 'model.width'?");
});
