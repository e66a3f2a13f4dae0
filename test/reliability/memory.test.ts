/**
 * The memory guard: per-step estimates (P x P matrices and workspace), per-run estimates (steps
 * at once = --jobs), refusal before any work with the estimate, the limit and how to change it
 * (exit 2), and the estimate in `hrank plan`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/cli.js';
import { estimatePlan, formatBytes, memoryLimit, parseSize } from '../../src/engine/kinds/memory.js';
import { spectrumStepBytes, type StepShape } from '../../src/science/memory.js';
import { loadPlan } from '../../src/study/study.js';
import { captureIO, hasStack } from '../cli/helpers.js';
import { STUDY } from './helpers.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const shape = (over: Partial<StepShape>): StepShape => ({
  params: 1000, samples: 100, inputDim: 64, outputs: 10, hidden: [10, 10], hessians: ['loss', 'outer', 'functional'],
  linear: true, bias: false, dense: false, jobs: 2, ...over,
});

test('sizes: --max-memory values and their display', () => {
  assert.equal(parseSize('4G'), 4 * GiB);
  assert.equal(parseSize('4GiB'), 4 * GiB);
  assert.equal(parseSize('4gb'), 4 * GiB);
  assert.equal(parseSize('512M'), 512 * MiB);
  assert.equal(parseSize('1.5G'), 1.5 * GiB);
  assert.equal(parseSize('2000'), 2000);
  assert.equal(parseSize(' 64 k '), 64 * 1024);
  for (const bad of ['', 'G', '4X', '-1G', '4 G B', 'lots']) assert.ok(Number.isNaN(parseSize(bad)), bad);
  assert.equal(formatBytes(1536 * MiB), '1.5 GiB');
  assert.equal(formatBytes(512), '512 B');
});

test('step estimates follow the routes: dense 2-3 P^2, chains, subspace k^2 with k bounded from the shapes, nonlinear dense', () => {
  const P = 1000;
  const P2 = 8 * P * P;
  const dense = spectrumStepBytes(shape({ params: P }));
  assert.ok(dense.bytes >= 3 * P2 && dense.bytes < 3 * P2 + 200 * MiB, formatBytes(dense.bytes));
  assert.match(dense.route, /^dense P 1000$/);
  assert.ok(spectrumStepBytes(shape({ params: P, hessians: ['outer'] })).bytes < dense.bytes, 'one Hessian: 2 P^2');
  const chain = spectrumStepBytes(shape({ params: P, chain: true, linear: false }));
  assert.ok(chain.bytes >= 7 * P2, formatBytes(chain.bytes));
  const linearChain = spectrumStepBytes(shape({ params: P, chain: true }));
  assert.match(linearChain.route, /^prefix sums on a subspace k <= \d+ of P 1000$/);
  // Subspace route: k is bounded from the shapes (width 56: 2,450 + a margin); nonlinear: dense.
  const big = 7280;
  const linear = spectrumStepBytes(shape({ params: big, hidden: [56, 56] }));
  const tanh = spectrumStepBytes(shape({ params: big, hidden: [56, 56], linear: false }));
  const k = Number(/^subspace k <= (\d+) of P 7280$/.exec(linear.route)?.[1]);
  assert.ok(k >= 2450 && k < 4000, linear.route);
  assert.match(tanh.route, /^dense P 7280, gram 1000$/);
  assert.ok(tanh.bytes > linear.bytes);
  assert.ok(tanh.bytes >= 3 * 8 * big ** 2, 'dense H_L and H_F, one at a time plus one not yet collected');
  assert.match(spectrumStepBytes(shape({ params: big, hidden: [56, 56], dense: true })).route, /^dense P 7280$/, 'rank.route: dense');
  // Monotone in the width.
  let last = 0;
  for (const w of [8, 16, 32, 64, 128]) {
    const b = spectrumStepBytes(shape({ params: 64 * w + w * w + w * 10, hidden: [w, w] })).bytes;
    assert.ok(b > last, `width ${w}`);
    last = b;
  }
});

test('a run counts --jobs steps at once: the largest ones still to compute', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hrank-mem-'));
  try {
    const file = path.join(dir, 'trial.yaml');
    writeFileSync(file, STUDY);
    const plan = await loadPlan(file);
    const one = estimatePlan(plan, 1);
    const two = estimatePlan(plan, 2);
    assert.equal(one.atOnce, 1);
    assert.equal(two.atOnce, 2);
    assert.ok(two.bytes > one.bytes);
    assert.equal(one.steps.length, plan.steps.length - 1, 'every step but collect');
    assert.ok(one.steps[0]!.id.startsWith('spectrum['), 'spectrum steps are the largest');
    assert.equal(estimatePlan(plan, 2, new Set()).bytes, 0, 'nothing to compute, nothing needed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the default limit is a fraction of the machine; --max-memory replaces it', () => {
  const d = memoryLimit();
  assert.ok(d.bytes > 0);
  assert.match(d.source, /^80% of the .* of this (machine|container)$/);
  assert.deepEqual(memoryLimit(2 * GiB), { bytes: 2 * GiB, source: '--max-memory 2.0 GiB' });
});

test('hrank run refuses a study over the limit before any work: estimate, limit, how to change it, exit 2', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hrank-mem-'));
  try {
    const file = path.join(dir, 'trial.yaml');
    writeFileSync(file, STUDY);
    const cache = path.join(dir, 'cache');
    const results = path.join(dir, 'results');
    const plan = await loadPlan(file);
    const atTwo = estimatePlan(plan, 2).bytes;
    const atOne = estimatePlan(plan, 1).bytes;
    // A limit between the estimates at --jobs 1 and --jobs 2: fewer jobs is the way out.
    const limit = Math.floor((atOne + atTwo) / 2);
    const io = captureIO();
    assert.equal(await main(['run', file, '--cache', cache, '--results', results, '--jobs', '2', '--max-memory', String(limit)], io), 2);
    const err = io.stderr();
    assert.equal(hasStack(err), false);
    assert.match(err, new RegExp(`^error: not enough memory: this study needs an estimated ${formatBytes(atTwo).replace('.', '\\.')}, over the limit of ${formatBytes(limit).replace('.', '\\.')} \\(--max-memory `, 'm'));
    assert.match(err, /2 steps run at once \(--jobs 2\); the largest: spectrum\[seed=\d\] [\d.]+ \w+ \(dense P \d+\)/);
    assert.match(err, /to change it: run fewer steps at once \(--jobs 1\), raise the limit if the machine can spare the memory \(--max-memory \d+[MG]\), or make the study smaller/);
    assert.equal(existsSync(cache), false, 'no work was done');
    assert.equal(existsSync(results), false);
    // With --jobs 1 it fits.
    const ok = captureIO();
    assert.equal(await main(['run', file, '--cache', cache, '--results', results, '--jobs', '1', '--max-memory', String(limit), '--json'], ok), 0, ok.stderr());
    // Once everything is cached, nothing is left to compute: no limit stops a rerun.
    const again = captureIO();
    assert.equal(await main(['run', file, '--cache', cache, '--results', results, '--max-memory', '1M', '--json'], again), 0, again.stderr());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a point that cannot fit at all (P ~ 4 x 10^8) is refused under the default limit, with the way out', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hrank-mem-'));
  try {
    const file = path.join(dir, 'huge.yaml');
    writeFileSync(file, 'version: 1\nname: huge\ndataset: {source: gaussian-mixture, dim: 4, samples: 10, classes: 3}\nmodel: {width: 20000, depth: 2, activation: tanh}\n');
    const io = captureIO();
    assert.equal(await main(['run', file, '--cache', path.join(dir, 'cache'), '--results', path.join(dir, 'results')], io), 2);
    assert.match(io.stderr(), /not enough memory: this study needs an estimated [\d.]+ [PTE]iB, over the limit of [\d.]+ \w+ \(80% of the .* of this (machine|container)\)/);
    assert.match(io.stderr(), /spectrum .* \(dense P 400\d+, gram \d+\)/);
    assert.doesNotMatch(io.stderr(), /fewer steps at once/, 'fewer jobs would not help: not offered');
    assert.doesNotMatch(io.stderr(), /raise the limit/, 'nor a limit beyond the machine');
    assert.match(io.stderr(), /that is more than the [\d.]+ GiB of this (machine|container)\n  to change it: make the study smaller/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hrank plan shows the estimate and the limit (and says when run would refuse); --json has the figures', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hrank-mem-'));
  try {
    const file = path.join(dir, 'trial.yaml');
    writeFileSync(file, STUDY);
    const cache = path.join(dir, 'cache');
    const io = captureIO();
    assert.equal(await main(['plan', file, '--cache', cache], io), 0);
    assert.match(io.stdout(), /^memory: an estimated [\d.]+ \w+ with \d steps? at once \(--jobs \d+\); largest step spectrum\[seed=\d\] [\d.]+ \w+ \(dense P \d+\); limit [\d.]+ GiB \(80% of /m);
    assert.doesNotMatch(io.stdout(), /OVER THE LIMIT/);
    const over = captureIO();
    assert.equal(await main(['plan', file, '--cache', cache, '--max-memory', '1M', '--json'], over), 0);
    const report = JSON.parse(over.stdout()) as { memory: { bytes: number; limit: number; fits: boolean; jobs: number; steps: { id: string; bytes: number }[]; summary: string } };
    assert.equal(report.memory.limit, 1024 * 1024);
    assert.equal(report.memory.fits, false);
    assert.ok(report.memory.bytes > report.memory.limit);
    assert.equal(report.memory.steps.length, 36);
    assert.match(report.memory.summary, /OVER THE LIMIT: hrank run would refuse this study/);
    const bad = captureIO();
    assert.equal(await main(['plan', file, '--max-memory', 'lots'], bad), 2);
    assert.match(bad.stderr(), /--max-memory must be a size such as 4G, 512M or 1\.5GiB, got 'lots'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
