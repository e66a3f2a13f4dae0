/** An indentation slip is named at the key that is out of place, once, in the file's words (issue 13). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onlyProblem, yaml } from './helpers.js';

const TOP = ['version: 1', 'name: study', 'dataset:', '  source: gaussian-mixture', '  dim: 4'];

test('a key dedented out of its block is blamed at its own line, not at the lines after it', () => {
  // 6 samples moved out of dataset; 7 classes still in it.
  const p = onlyProblem(yaml(...TOP, 'samples: 12', '  classes: 3', 'model:', '  hidden: [3]'));
  assert.deepEqual([p.line, p.column, p.code], [6, 1, 'yaml-syntax']);
  assert.match(p.message, /'samples' is indented less \(0 spaces\) than 'dim' above it and the line after it \(2 spaces\)/);
  assert.match(p.hint ?? '', /indent 'samples' by 2 spaces/);
  // The first key of a block moved out: the block opener is named.
  const q = onlyProblem(yaml(...TOP, '  samples: 12', 'model:', 'width: 3', '  depth: 1'));
  assert.deepEqual([q.line, q.column], [8, 1]);
  assert.match(q.message, /'width' is not indented under 'model:' \(line 7\)/);
});

test('a key indented under one that has a value is blamed at its line', () => {
  const p = onlyProblem(yaml(...TOP, '  samples: 12', '    classes: 3', 'model:', '  hidden: [3]'));
  assert.deepEqual([p.line, p.column], [7, 5]);
  assert.match(p.message, /'classes' is indented more \(4 spaces\) than 'samples' above it \(2 spaces\), which already has a value/);
});

test('a key between two levels is blamed at its line and column', () => {
  const p = onlyProblem(yaml(...TOP, '  samples: 12', 'model:', '  width: 3', '  depth: 1', ' activation: relu', 'loss: mse'));
  assert.deepEqual([p.line, p.column], [10, 2]);
  assert.match(p.message, /'activation' is indented by 1 space, and 'depth' above it \(line 9\) by 2 spaces/);
});
