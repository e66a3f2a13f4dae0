import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAD, assertAt, onlyProblem, studyOf, yaml } from './helpers.js';

test('model.bias takes false, true and first, in the file and in a sweep', () => {
  for (const v of ['false', 'true', 'first']) {
    const { study } = studyOf(yaml(...HEAD, `  bias: ${v}`));
    assert.equal(study.base.model.bias, v === 'first' ? 'first' : v === 'true');
  }
  const { points } = studyOf(yaml(...HEAD, 'sweep:', '  model.bias: [false, first, true]'));
  assert.deepEqual(points.map((p) => p.config.model.bias), [false, 'first', true]);
});

test('a bad model.bias is named at its line with what is allowed', () => {
  const p = onlyProblem(yaml(...HEAD, '  bias: firts'));
  assertAt(p, 9, 9, 'bad-value', 'model.bias');
  assert.match(p.message, /allowed: false, true, 'first'/);
  const s = onlyProblem(yaml(...HEAD, 'sweep:', '  model.bias: [false, last]'));
  assertAt(s, 10, 23, 'bad-sweep', 'sweep.model.bias[1]');
});
