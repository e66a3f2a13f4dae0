import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/cli.js';
import { planReport, type PlanReport } from '../../src/cli/commands/plan.js';
import { CALIBRATION_FILE } from '../../src/engine/kinds/estimate.js';
import { ROOT, TINY, captureIO, hrank, tempDir, writeText } from './helpers.js';

async function plan(args: string[]): Promise<{ report: PlanReport; text: string }> {
  const json = captureIO();
  assert.equal(await main(['plan', ...args, '--json'], json), 0, json.stderr());
  const text = captureIO();
  assert.equal(await main(['plan', ...args], text), 0, text.stderr());
  return { report: JSON.parse(json.stdout()) as PlanReport, text: text.stdout() };
}

test('plan estimates the time of the steps to run (per step, per point, in total); after a run: nothing to compute, and calibrated', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const file = await writeText(dir, 'tiny.yaml', TINY);
    const cache = path.join(dir, 'cache');
    const cold = await plan([file, '--cache', cache]);
    const e = cold.report.estimate;
    const jobs = os.availableParallelism();
    assert.ok(e.seconds > 0);
    assert.equal(e.jobs, jobs);
    assert.equal(e.calibrated, false);
    assert.equal(e.runs, 0);
    assert.deepEqual(e.points.map((p) => p.id), ['seed=1', 'seed=2']);
    assert.ok(e.points.every((p) => p.seconds > 0 && /^dense P \d+$/.test(p.route ?? '')));
    assert.ok(cold.report.steps.every((s) => (s.status === 'to run') === (s.seconds > 0)));
    assert.match(e.summary, new RegExp(`^time: about \\d+s for 13 steps to run with --jobs ${jobs} \\(not calibrated on this machine yet`));
    assert.match(cold.text, /^time: about \d+s for 13 steps to run with --jobs \d+ /m);
    assert.match(cold.text, /^per point, compute on one core:$/m);
    assert.match(cold.text, /^  seed=2 +\d+\.\d\ds +dense P \d+$/m);
    // One worker takes at least as long as two.
    const [one, two] = await Promise.all([1, 2].map((j) => planReport(file, cache, false, { jobs: j })));
    assert.ok(one!.estimate.seconds >= two!.estimate.seconds && two!.estimate.seconds > 0);

    const run = captureIO();
    assert.equal(await main(['run', file, '--cache', cache, '--results', path.join(dir, 'results'), '--json'], run), 0, run.stderr());
    const calibration = JSON.parse(readFileSync(path.join(cache, CALIBRATION_FILE), 'utf8')) as { runs: { study: string }[] };
    assert.deepEqual(calibration.runs.map((r) => r.study), ['tiny']);

    const warm = await plan([file, '--cache', cache]);
    assert.equal(warm.report.estimate.seconds, 0);
    assert.deepEqual(warm.report.estimate.points, []);
    assert.ok(warm.report.steps.every((s) => s.seconds === 0));
    assert.equal(warm.report.estimate.calibrated, true);
    assert.equal(warm.report.estimate.runs, 1);
    assert.match(warm.text, /^time: nothing to compute$/m);
    assert.doesNotMatch(warm.text, /per point/);
  } finally {
    await cleanup();
  }
});

test('plan in a folder without a cache: the default rate, and nothing written there', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const file = await writeText(dir, 'tiny.yaml', TINY);
    const cache = path.join(dir, 'no-cache-yet');
    const { report } = await plan([file, '--cache', cache]);
    assert.ok(report.estimate.seconds > 0);
    assert.equal(report.estimate.calibrated, false);
    assert.equal(existsSync(cache), false);
  } finally {
    await cleanup();
  }
});

test('plan --json through a pipe is whole past the pipe buffer (64 KiB), and plan prints the file\'s warnings', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // The shipped sample-size study: 80 points, a plan of ~200 kB.
    const r = await hrank(['plan', path.join(ROOT, 'pipelines', 'samplesize.yaml'), '--json', '--cache', path.join(dir, 'cache')]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > 65536, `${r.stdout.length} bytes`);
    const report = JSON.parse(r.stdout) as PlanReport;
    assert.equal(report.points, 80);
    const file = await writeText(dir, 'short.yaml', TINY.replace('  seed: [1, 2]', '  seed: {from: 1, to: 4, step: 2}'));
    const io = captureIO();
    assert.equal(await main(['plan', file, '--cache', path.join(dir, 'cache')], io), 0);
    assert.match(io.stderr(), /short\.yaml:\d+:\d+ warning sweep\.seed\.to: the range gives 1, 3 \(2 values\): 'to' \(4\) is not reached/);
  } finally {
    await cleanup();
  }
});

test('a plan beyond PLAN_MAX_ROWS steps lists its first steps and counts per kind; --json lists every step, the same counts', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const file = await writeText(dir, 'many.yaml', `version: 1
name: many
dataset: {source: gaussian-mixture, samples: 8, dim: 3, classes: 2, two_class_targets: onehot}
model: {hidden: [2]}
sweep:
  seed: {from: 1, to: 200}
  loss: [mse, cross-entropy, cosh]
`);
    const { report, text } = await plan([file, '--cache', path.join(dir, 'cache')]);
    assert.ok(report.steps.length > 2000, `${report.steps.length} steps`);
    assert.equal(report.totals.steps, report.steps.length);
    assert.equal(report.totals.toRun, report.steps.length, 'nothing cached: every step to run');
    // The kinds table of the text is the JSON's steps counted per kind.
    for (const kind of ['dataset', 'network', 'input-rank', 'prediction', 'spectrum', 'ranks', 'collect']) {
      const n = report.steps.filter((s) => s.kind === kind).length;
      assert.ok(n > 0);
      assert.match(text, new RegExp(`^  ${kind} +${n} +0 +${n} +0$`, 'm'));
    }
    const listed = text.split('\n').filter((l) => /^  to run +[0-9a-f]{12} /.test(l));
    assert.equal(listed.length, 40);
    assert.ok(listed.every((l, i) => l.endsWith(` ${report.steps[i]!.id}`)), 'the first steps, in plan order');
    assert.match(text, new RegExp(`^  \\.\\.\\. and ${report.steps.length - 40} more steps \\(hrank plan --json lists every one\\)$`, 'm'));
  } finally {
    await cleanup();
  }
});
