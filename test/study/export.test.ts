/**
 * `hrank export`: NumPy files that numpy.load reads, and ranks NumPy agrees with. The check runs
 * NumPy itself (Debian's python3-numpy, which .ci/run installs); without it the NumPy part is
 * skipped with a loud message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/cli.js';
import { npyBytes } from '../../src/study/npy.js';
import { captureIO, hasStack } from '../cli/helpers.js';
import { KNIFE, tempDir, writePipeline } from '../engine/helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHECK = path.join(here, '..', 'fixtures', 'numpy_check.py');

/** A python3 that has NumPy: Debian's first, then whatever is on PATH; null when none does. */
function pythonWithNumpy(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import numpy'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

test('.npy files: NumPy\'s header and little-endian values', () => {
  const b = npyBytes(Float64Array.of(1, -2, 3.5, 0, 5, 6), [2, 3]);
  assert.equal(b.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  assert.deepEqual([b[6], b[7]], [1, 0]);
  const headerLength = b.readUInt16LE(8);
  assert.equal((10 + headerLength) % 64, 0, 'header padded to 64 bytes');
  const header = b.subarray(10, 10 + headerLength).toString('latin1');
  assert.match(header, /^\{'descr': '<f8', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
  assert.equal(b.readDoubleLE(10 + headerLength + 8), -2);
  assert.match(npyBytes(Int32Array.of(7, 8, 9), [3]).toString('latin1'), /'descr': '<i4', 'fortran_order': False, 'shape': \(3,\)/);
  assert.throws(() => npyBytes(new Float64Array(5), [2, 3]), /holds 6 values, the array has 5/);
});

test('exported Hessians: numpy.linalg.matrix_rank and eigvalsh inertia equal hrank\'s at every point, knife edges included', async (t) => {
  const dir = tempDir();
  // Knife-edge points on the subspace route (a sample-size chain at P 1,260), and small points on
  // the dense route: nonlinear, cross-entropy, bias.
  const knife = writePipeline(dir, 'knife', `seed: 3\n${KNIFE}`);
  const small = writePipeline(dir, 'small', `dataset: {source: gaussian-mixture, dim: 5, samples: 12, classes: 3}
model: {hidden: [6, 5], bias: true}
sweep:
  model.activation: [linear, relu, tanh]
  loss: [mse, cross-entropy]
`);
  const out = path.join(dir, 'npy');
  for (const [file, name] of [[knife, 'knife'], [small, 'small']] as const) {
    const io = captureIO();
    assert.equal(await main(['export', file, '--cache', path.join(dir, 'cache'), '--out', path.join(out, name), '--what', 'hessians,spectra'], io), 0, io.stderr());
    assert.match(io.stdout(), new RegExp(`^${name}: exported \\d+ points to `));
  }
  const manifest = JSON.parse(readFileSync(path.join(out, 'knife', 'dataset.samples=40', 'manifest.json'), 'utf8'));
  assert.equal(manifest.format, 'hrank-export');
  assert.match(manifest.ranks.loss.method, /^subspace \d+$/, 'the knife points took the subspace route');
  assert.deepEqual(manifest.files.find((f: { file: string }) => f.file === 'H_loss.npy').shape, [1260, 1260]);

  const py = pythonWithNumpy();
  if (!py) {
    console.error('\n!!! SKIPPED: no python3 with NumPy (apt-get install python3-numpy): exported ranks were NOT checked by NumPy\n');
    t.skip('no python3 with NumPy');
    return;
  }
  for (const name of ['knife', 'small']) {
    const r: ReturnType<typeof spawnSync> & { stdout: string; stderr: string } = spawnSync(py, [CHECK, path.join(out, name)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { checked: number; knife_edges: number; mismatches: unknown[] };
    assert.deepEqual(report.mismatches, [], `${name}: ${r.stdout}`);
    assert.ok(report.checked >= 6, `${name}: ${report.checked} Hessians checked`);
    if (name === 'knife') assert.ok(report.knife_edges >= 2, `knife edges checked: ${report.knife_edges}`);
  }
});

test('export refuses what it cannot do, before writing anything: unknown points, folders it did not write, Hessians over the limit', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'tiny', 'dataset: {source: gaussian-mixture, dim: 4, samples: 6, classes: 3}\nmodel: {hidden: [3]}\nsweep:\n  model.hidden: [[3], [4]]\n');
  const cache = path.join(dir, 'cache');
  const unknown = captureIO();
  assert.equal(await main(['export', file, '--cache', cache, '--point', 'model.hidden=[9]', '--out', path.join(dir, 'o')], unknown), 2);
  assert.match(unknown.stderr(), /error: export: tiny has no point 'model\.hidden=\[9\]'; its points: model\.hidden=\[3\], model\.hidden=\[4\]/);
  assert.equal(existsSync(path.join(dir, 'o')), false);

  const theirs = path.join(dir, 'theirs', 'model.hidden=[3]');
  mkdirSync(theirs, { recursive: true });
  writeFileSync(path.join(theirs, 'notes.txt'), 'mine');
  const refused = captureIO();
  assert.equal(await main(['export', file, '--cache', cache, '--out', path.join(dir, 'theirs')], refused), 2);
  assert.match(refused.stderr(), /holds files hrank did not write/);
  assert.equal(readFileSync(path.join(theirs, 'notes.txt'), 'utf8'), 'mine');
  assert.equal(existsSync(path.join(theirs, 'manifest.json')), false);

  const big = captureIO();
  assert.equal(await main(['export', file, '--cache', cache, '--what', 'hessians', '--max-memory', '1K', '--out', path.join(dir, 'b')], big), 2);
  assert.match(big.stderr(), /the dense Hessians of model\.hidden=\[3\] \(P \d+\) need [\d.]+ \w+ each, over the memory limit of 1\.0 KiB/);
  assert.equal(hasStack(big.stderr()), false);

  // Its own folder: written again (one point), the rest left as it was.
  const ok = captureIO();
  assert.equal(await main(['export', file, '--cache', cache, '--out', path.join(dir, 'mine'), '--point', 'model.hidden=[4]'], ok), 0, ok.stderr());
  assert.equal(await main(['export', file, '--cache', cache, '--out', path.join(dir, 'mine'), '--point', 'model.hidden=[4]'], captureIO()), 0);
  const m = JSON.parse(readFileSync(path.join(dir, 'mine', 'model.hidden=[4]', 'manifest.json'), 'utf8'));
  assert.deepEqual(m.files.map((f: { file: string }) => f.file).sort(), ['H_functional.npy', 'H_loss.npy', 'H_outer.npy', 'W1.npy', 'W2.npy', 'eigenvalues_functional.npy', 'eigenvalues_loss.npy', 'eigenvalues_outer.npy', 'labels.npy', 'theta.npy', 'x.npy', 'y.npy']);
});
