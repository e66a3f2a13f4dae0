/**
 * Hostile pipeline files (test/fixtures/bad/, see corpus.ts): each gets its expected problem at
 * file:line:col, exit 2, no stack trace, no crash and no hang, from `validate`, `plan` and `run`
 * alike, and `run` does no work for any of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/cli.js';
import { checkFile } from '../../src/cli/commands/validate.js';
import { formatProblem } from '../../src/pipeline/errors.js';
import { parsePipeline } from '../../src/pipeline/load.js';
import { captureIO, hasStack, hrank } from '../cli/helpers.js';
import { corpusFiles, expectations, materializeCorpus } from './corpus.js';

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('the corpus: at least 40 files, each with its expected message, and nothing else', () => {
  const files = corpusFiles();
  const expected = expectations();
  assert.ok(files.length >= 40, `${files.length} files`);
  assert.deepEqual(files, Object.keys(expected).sort(), 'every corpus file has an entry in expected.json, and every entry a file');
});

test('validate: every hostile file gets its problem at file:line:col, quickly, never a crash', async () => {
  const dir = materializeCorpus(mkdtempSync(path.join(tmpdir(), 'hrank-bad-')));
  try {
    const expected = expectations();
    for (const name of corpusFiles()) {
      const want = expected[name]!;
      const file = path.join(dir, name);
      const t0 = performance.now();
      const check = await checkFile(file);
      const ms = performance.now() - t0;
      assert.ok(ms < 5000, `${name}: took ${Math.round(ms)} ms`);
      assert.equal(check.ok, false, `${name}: accepted`);
      if (check.ok) continue;
      const shown = check.problems.map(formatProblem).join('\n');
      assert.ok(check.problems.length <= 101, `${name}: ${check.problems.length} problems (capped at 100 + a summary)`);
      for (const p of check.problems) {
        assert.ok(p.line >= 1 && p.column >= 1, `${name}: a problem without a position:\n${shown}`);
        assert.equal(p.file, file);
      }
      const re = new RegExp(want.message);
      const hit = check.problems.find((p) => re.test(p.message) && (want.code === undefined || p.code === want.code) && (want.at === undefined || `${p.line}:${p.column}` === want.at));
      assert.ok(hit, `${name}: expected ${want.code ?? ''} at ${want.at ?? '?'} matching /${want.message}/, got:\n${shown}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plan and run refuse every hostile file with exit 2 before any work (no cache, no results)', async () => {
  const dir = materializeCorpus(mkdtempSync(path.join(tmpdir(), 'hrank-bad-')));
  try {
    const cache = path.join(dir, 'out-cache');
    const results = path.join(dir, 'out-results');
    for (const name of corpusFiles()) {
      const file = path.join(dir, name);
      for (const argv of [['plan', file, '--cache', cache], ['run', file, '--cache', cache, '--results', results]]) {
        const io = captureIO();
        const code = await main(argv, io);
        assert.equal(code, 2, `${argv[0]} ${name}: exit ${code}\n${io.stderr()}`);
        assert.equal(hasStack(io.stderr()), false, `${argv[0]} ${name}: a stack trace`);
        assert.match(io.stderr(), new RegExp(`${escape(file)}:\\d+:\\d+ `), `${argv[0]} ${name}: no file:line:col`);
      }
    }
    assert.equal(existsSync(cache), false, 'no cache was created');
    assert.equal(existsSync(results), false, 'no results were written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hrank validate over the whole corpus as a child process: exit 2, no stack trace, every message at file:line:col', async () => {
  const dir = materializeCorpus(mkdtempSync(path.join(tmpdir(), 'hrank-bad-')));
  try {
    const expected = expectations();
    const files = corpusFiles();
    const r = await hrank(['validate', ...files.map((f) => path.join(dir, f))], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr.slice(-2000));
    assert.equal(hasStack(r.stderr), false, 'a stack trace');
    assert.equal(r.stdout, '', 'no file is ok');
    assert.match(r.stderr, new RegExp(`^\\d+ problems in ${files.length} files of ${files.length}$`, 'm'));
    for (const name of files) {
      const want = expected[name]!;
      const at = want.at === undefined ? '\\d+:\\d+' : escape(want.at);
      const line = new RegExp(`^${escape(path.join(dir, name))}:${at} ${want.code ?? '\\S+'} .*`, 'm');
      const hits = r.stderr.match(new RegExp(line.source, 'gm')) ?? [];
      assert.ok(hits.some((h) => new RegExp(want.message.replace(/^\^|\$$/g, '')).test(h)), `${name}: no line like ${line} matching /${want.message}/`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a non-UTF-8 byte is located by line and column, counting characters before it', () => {
  // Through the text path: a control character after multi-byte characters.
  const r = parsePipeline('version: 1\nname: "äöü\u0001"\n', '/x/study.yaml');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual([r.problems[0]!.code, r.problems[0]!.line, r.problems[0]!.column], ['bad-encoding', 2, 11]);
  assert.match(r.problems[0]!.message, /the control character U\+0001 is not allowed/);
});

test('a pipeline file read from a device or pipe is capped, not read forever', async () => {
  if (!existsSync('/dev/zero')) return;
  const check = await checkFile('/dev/zero');
  assert.equal(check.ok, false);
  if (check.ok) return;
  assert.equal(check.problems[0]!.code, 'too-large');
  assert.match(check.problems[0]!.message, /more than 1048576 bytes/);
});

test('valid files are untouched by the guards: a file nested 4 deep, aliases used sensibly, a UTF-8 BOM', () => {
  const text = [
    '\ufeffversion: 1',
    'name: fine',
    'description: "naïve café — ünïcode"',
    'dataset: &d {source: gaussian-mixture, dim: 4, samples: 12, classes: 3}',
    'model:',
    '  hidden: [3]',
    'sweep:',
    '  model.hidden: [[2], [3, 3]]',
    '',
  ].join('\n');
  const r = parsePipeline(text, '/x/fine.yaml');
  assert.ok(r.ok, r.ok ? '' : r.error.message);
});
