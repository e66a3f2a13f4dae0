import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXIT_FAILED, EXIT_INPUT, InputError, reportError } from '../../src/cli/errors.js';
import { CacheError } from '../../src/engine/store/cache.js';
import { PipelineError } from '../../src/pipeline/errors.js';
import { DatasetError, fileReadError } from '../../src/science/datasets/errors.js';
import { captureIO, hasStack } from './helpers.js';

test('a PipelineError prints every problem with file:line:col and exits 2', () => {
  const io = captureIO();
  const err = new PipelineError([
    { code: 'unknown-key', file: 's.yaml', path: 'model.activaton', line: 9, column: 3, message: "unknown key 'activaton'", hint: "did you mean 'activation'?" },
    { code: 'bad-type', file: 's.yaml', path: 'dataset.samples', line: 5, column: 12, message: 'expected an integer' },
  ]);
  assert.equal(reportError(err, io), EXIT_INPUT);
  const text = io.stderr();
  assert.match(text, /^s\.yaml:5:12 bad-type dataset\.samples: expected an integer$/m);
  assert.match(text, /^s\.yaml:9:3 unknown-key model\.activaton: unknown key 'activaton'$/m);
  assert.match(text, /hint: did you mean 'activation'\?/);
  assert.ok(text.indexOf(':5:12') < text.indexOf(':9:3'), 'in file order');
  assert.equal(hasStack(text), false);
  assert.equal(io.stdout(), '');
});

test('a DatasetError prints file: message and exits 2', () => {
  const io = captureIO();
  assert.equal(reportError(new DatasetError('malformed-file', 'wrong magic number', { file: 'data/x.idx' }), io), EXIT_INPUT);
  assert.equal(io.stderr(), 'data/x.idx: wrong magic number\n');
  // A message that already names the file is not prefixed twice.
  const io2 = captureIO();
  reportError(fileReadError('data/y.idx', Object.assign(new Error('x'), { code: 'ENOENT' })), io2);
  assert.equal(io2.stderr(), 'data/y.idx: file not found\n');
  // No file: the message alone.
  const io3 = captureIO();
  reportError(new DatasetError('bad-option', 'resize must be at least 1'), io3);
  assert.equal(io3.stderr(), 'resize must be at least 1\n');
});

test('an InputError exits 2 without a stack', () => {
  const io = captureIO();
  assert.equal(reportError(new InputError('refusing to remove /'), io), EXIT_INPUT);
  assert.equal(io.stderr(), 'error: refusing to remove /\n');
});

test('a CacheError or any other error is error: message, exit 1, no stack unless HRANK_DEBUG=1', () => {
  const cacheErr = new CacheError('cannot write entry', '/c/ab/abc.bin', Object.assign(new Error('no space left'), { code: 'ENOSPC' }));
  const io = captureIO();
  assert.equal(reportError(cacheErr, io), EXIT_FAILED);
  assert.match(io.stderr(), /^error: cache: cannot write entry \/c\/ab\/abc\.bin: no space left$/m);
  assert.equal(hasStack(io.stderr()), false);

  const io2 = captureIO();
  assert.equal(reportError(new TypeError('boom'), io2), EXIT_FAILED);
  assert.match(io2.stderr(), /^error: boom$/m);
  assert.equal(hasStack(io2.stderr()), false);

  const io3 = captureIO({ HRANK_DEBUG: '1' });
  assert.equal(reportError(new TypeError('boom'), io3), EXIT_FAILED);
  assert.match(io3.stderr(), /^error: boom$/m);
  assert.equal(hasStack(io3.stderr()), true);

  const io4 = captureIO();
  assert.equal(reportError('a string', io4), EXIT_FAILED);
  assert.match(io4.stderr(), /^error: a string$/m);
});

test('an unreachable Redis is explained by its message: exit 1, no stack-trace hint', async () => {
  const { RedisUnavailableError } = await import('../../src/engine/distributed/redis.js');
  const io = captureIO();
  assert.equal(reportError(new RedisUnavailableError('cannot reach Redis at redis://127.0.0.1:1 (connect ECONNREFUSED)'), io), EXIT_FAILED);
  assert.equal(io.stderr(), 'error: cannot reach Redis at redis://127.0.0.1:1 (connect ECONNREFUSED)\n');
});
