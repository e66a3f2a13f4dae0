/**
 * Large sweeps under a low open-file limit: hrank bounds its own files in flight (cache reads and
 * writes, step locks: store/file-slots.ts), so a sweep of thousands of tiny points finishes under
 * `ulimit -n 256` with the results of a one-worker run; an exhausted limit is named, with
 * `ulimit -n`, never a bare EMFILE.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { FileSlots, fileSlotCount, TooManyOpenFilesError } from '../../src/engine/store/file-slots.js';
import { builtCli, PURE_RESULTS, snapshot } from './helpers.js';
import { MAIN, ROOT } from '../cli/helpers.js';

/** 167 seeds x 2 widths x 3 losses: 1,002 points of a 15-parameter network, ~3,700 steps (lock files far past the limit of 256). */
const BIG = `version: 1
name: many
dataset:
  source: gaussian-mixture
  samples: 8
  dim: 3
  classes: 2
  two_class_targets: onehot
model:
  hidden: [2]
sweep:
  seed: {from: 1, to: 167}
  model.hidden: [[2], [3]]
  loss: [mse, cross-entropy, cosh]
`;

/** `hrank args` in a shell whose soft open-file limit is `limit` (none: unchanged). */
function hrankLimited(args: readonly string[], limit: number | undefined, main: string | undefined): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const node = [process.execPath, ...(main ? [main] : ['--import', 'tsx', MAIN]), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `${limit !== undefined ? `ulimit -S -n ${limit} && ` : ''}exec ${node}`;
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { cwd: ROOT, env: { ...process.env, HRANK_DEBUG: '', HRANK_PROGRESS: 'plain' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a sweep of 1,002 tiny points under ulimit -n 256 completes, with the results of --jobs 1', { timeout: 600_000, skip: process.platform === 'win32' }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hrank-files-'));
  try {
    const file = path.join(dir, 'many.yaml');
    writeFileSync(file, BIG);
    const main = await builtCli();
    const limited = await hrankLimited(['run', file, '--jobs', '2', '--cache', path.join(dir, 'cache-a'), '--results', path.join(dir, 'results-a')], 256, main);
    assert.equal(limited.code, 0, limited.stderr.slice(-2000));
    assert.doesNotMatch(limited.stderr, /EMFILE|ENFILE|too many open files/i);
    const one = await hrankLimited(['run', file, '--jobs', '1', '--cache', path.join(dir, 'cache-b'), '--results', path.join(dir, 'results-b')], undefined, main);
    assert.equal(one.code, 0, one.stderr.slice(-2000));
    const a = snapshot(path.join(dir, 'results-a', 'many'));
    const b = snapshot(path.join(dir, 'results-b', 'many'));
    for (const name of PURE_RESULTS) assert.equal(a[name], b[name], `${name} differs between the limited run and --jobs 1`);
    assert.equal(a['results.csv']!.trim().split('\n').length, 1 + 1002);
    // No lock file is left behind.
    assert.deepEqual(readdirSync(path.join(dir, 'cache-a', 'locks')).filter((f) => f.endsWith('.lock')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file slots: never more operations in flight than slots; sized by the machine and the limit, not the work', async () => {
  assert.equal(fileSlotCount(1024, 2), 16);
  assert.equal(fileSlotCount(100_000, 64), 64);
  assert.equal(fileSlotCount(256, 2), 16);
  assert.equal(fileSlotCount(64, 2), 8);
  assert.equal(fileSlotCount(4, 2), 1);
  assert.equal(fileSlotCount(undefined, 1), 8);
  const slots = new FileSlots(5);
  let active = 0;
  let most = 0;
  const ops = Array.from({ length: 500 }, (_, i) => slots.run(async () => {
    active++;
    most = Math.max(most, active);
    await new Promise((r) => setTimeout(r, i % 3));
    active--;
    return i;
  }));
  assert.deepEqual(await Promise.all(ops), Array.from({ length: 500 }, (_, i) => i));
  assert.equal(most, 5);
});

test('file slots: EMFILE is retried while it passes; when it lasts, the error names the limit and ulimit -n', async () => {
  const slots = new FileSlots(2);
  const emfile = (): NodeJS.ErrnoException => Object.assign(new Error("EMFILE: too many open files, open '/x/y.lock'"), { code: 'EMFILE', path: '/x/y.lock' });
  let calls = 0;
  assert.equal(await slots.run(async () => { if (++calls < 3) throw emfile(); return 'ok'; }), 'ok');
  assert.equal(calls, 3);
  const lasting = slots.run(async () => { throw emfile(); });
  await assert.rejects(lasting, (err: unknown) => {
    assert.ok(err instanceof TooManyOpenFilesError);
    assert.equal(err.code, 'EMFILE');
    assert.match(err.message, /too many open files \(EMFILE\) while opening \/x\/y\.lock/);
    assert.match(err.message, /ulimit -n/);
    assert.match(err.message, /finished steps are cached/);
    return true;
  });
  // Other errors pass through at once.
  await assert.rejects(slots.run(async () => { throw Object.assign(new Error('gone'), { code: 'ENOENT' }); }), /gone/);
});
