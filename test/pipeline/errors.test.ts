/** How problems are printed, and the PipelineError that carries them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PipelineError, formatProblem } from '../../src/pipeline/errors.js';
import type { Problem } from '../../src/pipeline/types.js';
import { HEAD, onlyProblem, yaml } from './helpers.js';

describe('formatProblem', () => {
  it('prints file:line:col code path: message, a caret excerpt and the hint', () => {
    const p = onlyProblem(yaml(...HEAD, '  activaton: relu'));
    assert.equal(
      formatProblem(p),
      [
        "/work/studies/study.yaml:9:3 unknown-key model.activaton: unknown key 'activaton' in model; allowed keys: hidden, width, depth, layers, activation, bias, init",
        '   9 |   activaton: relu',
        '     |   ^^^^^^^^^',
        "  hint: did you mean 'activation'?",
      ].join('\n'),
    );
  });

  it('underlines a value', () => {
    const p = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: [4, 8, 0, 16]'));
    assert.equal(
      formatProblem(p),
      [
        '/work/studies/study.yaml:10:23 bad-sweep sweep.model.width[2]: value for model.width: found 0; must be an integer >= 1',
        '  10 |   model.width: [4, 8, 0, 16]',
        `     | ${' '.repeat(22)}^`,
      ].join('\n'),
    );
  });

  it('a problem without a position has no excerpt', () => {
    const p: Problem = { code: 'unreadable-file', file: 'x.yaml', path: '', line: 0, column: 0, message: 'cannot read the pipeline file: no such file' };
    assert.equal(formatProblem(p), 'x.yaml unreadable-file cannot read the pipeline file: no such file');
  });
});

describe('PipelineError', () => {
  it('sorts its problems and lists them in its message', () => {
    const at = (line: number): Problem => ({ code: 'bad-value', file: 'f.yaml', path: 'p', line, column: 1, message: `m${line}` });
    const err = new PipelineError([at(9), at(2)]);
    assert.deepEqual(err.problems.map((p) => p.line), [2, 9]);
    assert.equal(err.name, 'PipelineError');
    assert.equal(err.message, '2 problems in f.yaml:\nf.yaml:2:1 bad-value p: m2\nf.yaml:9:1 bad-value p: m9');
    assert.ok(err instanceof Error);
  });
});
