import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expandSweep, loadStudy } from '../../src/pipeline/index.js';
import { planStudy, type Plan } from '../../src/engine/kinds/plan.js';
import {
  CALIBRATION_FILE, COST_MODEL, DEFAULT_RATE, estimateTime, rateOf, readRate, recordCalibration, runUnits, wallUnits, type StepWork,
} from '../../src/engine/kinds/estimate.js';
import { SMALL_DATA, tempDir, writePipeline } from './helpers.js';

async function planOf(body: string): Promise<Plan> {
  const file = writePipeline(tempDir(), 'est', body);
  const study = await loadStudy(file);
  return planStudy(study, expandSweep(study));
}

const STUDY = `${SMALL_DATA}model: {width: 3, depth: 1}
sweep:
  model.width: [2, 3]
`;

const heavy = (id: string, work: number, serial: number, chain?: string): StepWork => ({ id, kind: 'spectrum', heavy: true, work, serial, ...(chain ? { chain } : {}) });

test('wall units: heavy work over the workers and the cores they share, never under the longest serial piece; chains add their sums', () => {
  const steps = [heavy('a', 4e10, 1e9), heavy('b', 4e10, 1e9)];
  const one = wallUnits(steps, { jobs: 1, cores: 4, started: true });
  const two = wallUnits(steps, { jobs: 2, cores: 4, started: true });
  assert.equal(one, 8e10);
  assert.equal(two, 4e10);
  // Two workers and the main thread on two cores: the light work takes the workers' time.
  const light: StepWork = { id: 'l', kind: 'dataset', heavy: false, work: 2e10, serial: 0 };
  assert.equal(wallUnits([...steps, light], { jobs: 2, cores: 2, started: true }), 5e10);
  assert.equal(wallUnits([...steps, light], { jobs: 2, cores: 4, started: true }), 4e10);
  // A dense point one worker computes alone bounds the run from below.
  assert.equal(wallUnits([heavy('big', 9e10, 9e10), heavy('c', 1e9, 1e9)], { jobs: 2, cores: 4, started: true }), 9e10);
  // Members of one chain are summed by one worker, one after the other.
  assert.equal(wallUnits([heavy('m1', 3e10, 3e10, 'g'), heavy('m2', 3e10, 3e10, 'g')], { jobs: 4, cores: 8, started: true }), 6e10);
  // A run pays the workers' warm-up and a data source's loading once; a run under way has paid them.
  const mnist: StepWork = { id: 'd', kind: 'dataset', heavy: false, work: 1e8, serial: 0, setup: { key: 'mnist', work: 5e9 } };
  const fresh = wallUnits([...steps, mnist, { ...mnist, id: 'd2' }], { jobs: 2, cores: 4 });
  const started = wallUnits([...steps, mnist, { ...mnist, id: 'd2' }], { jobs: 2, cores: 4, started: true });
  assert.ok(fresh - started >= 5e9 && fresh - started < 2 * 5e9 + 1e10, `${fresh} - ${started}`);
  assert.equal(runUnits([], { jobs: 2 }), 0);
});

test('estimateTime: nothing pending costs nothing; otherwise seconds > 0, per point adding up to the steps (collect aside)', async () => {
  const plan = await planOf(STUDY);
  const none = estimateTime(plan, new Set(), 2);
  assert.equal(none.seconds, 0);
  assert.deepEqual(none.points, []);
  const all = new Set(plan.steps.map((s) => s.id));
  const t = estimateTime(plan, all, 2);
  assert.ok(t.seconds > 0);
  assert.equal(t.rate, DEFAULT_RATE);
  assert.equal(t.steps.length, plan.steps.length);
  assert.ok(t.steps.every((s) => s.seconds > 0));
  assert.deepEqual(t.points.map((p) => p.id), plan.points.map((p) => p.point.id));
  const stepSum = t.steps.filter((s) => s.id !== 'collect').reduce((a, s) => a + s.seconds, 0);
  const pointSum = t.points.reduce((a, p) => a + p.seconds, 0);
  assert.ok(Math.abs(stepSum - pointSum) < 1e-9 * stepSum, `${stepSum} vs ${pointSum}`);
  // Only one point's spectrum left: less time than all of it, more than none.
  const spectrum = plan.steps.find((s) => s.kind === 'spectrum')!.id;
  const one = estimateTime(plan, new Set([spectrum]), 2);
  assert.ok(one.seconds > 0 && one.seconds < t.seconds);
  // Twice the seconds per unit: twice the time of the steps (start-up aside).
  const slow = estimateTime(plan, all, 2, { secondsPerUnit: 2 * DEFAULT_RATE.secondsPerUnit, calibrated: true, runs: 1 });
  assert.ok(slow.seconds > 1.5 * t.seconds - 1 && slow.seconds < 2 * t.seconds);
});

test('calibration: a finished run is recorded in the cache folder and read back as the rate; runs weigh by their length', async () => {
  const plan = await planOf(STUDY);
  const cache = tempDir('hrank-calib-');
  try {
    assert.deepEqual(await readRate(cache), DEFAULT_RATE);
    const computed = plan.steps.map((s) => s.id);
    assert.equal(await recordCalibration(cache, plan, { computed, seconds: 2.5, jobs: 2 }), true);
    const file = JSON.parse(readFileSync(path.join(cache, CALIBRATION_FILE), 'utf8')) as { model: number; runs: { study: string; seconds: number; units: number; jobs: number }[] };
    assert.equal(file.model, COST_MODEL);
    assert.equal(file.runs.length, 1);
    assert.equal(file.runs[0]!.study, 'est');
    assert.equal(file.runs[0]!.seconds, 2.5);
    assert.equal(file.runs[0]!.jobs, 2);
    const rate = await readRate(cache);
    assert.equal(rate.calibrated, true);
    assert.equal(rate.runs, 1);
    assert.ok(Math.abs(rate.secondsPerUnit - 2.5 / file.runs[0]!.units) < 1e-12 * rate.secondsPerUnit);
    // A second run appends; the rate is their seconds over their units.
    assert.equal(await recordCalibration(cache, plan, { computed, seconds: 7.5, jobs: 2 }), true);
    const again = await readRate(cache);
    assert.equal(again.runs, 2);
    assert.ok(Math.abs(again.secondsPerUnit - 10 / (2 * file.runs[0]!.units)) < 1e-12 * again.secondsPerUnit);
    assert.deepEqual(rateOf([{ at: '', study: 's', jobs: 1, seconds: 1, units: 1e10 }, { at: '', study: 's', jobs: 1, seconds: 9, units: 1e11 }]).secondsPerUnit, 10 / 1.1e11);
    // A run that computed no heavy step says nothing about the machine's arithmetic.
    assert.equal(await recordCalibration(cache, plan, { computed: plan.steps.filter((s) => !s.heavy).map((s) => s.id), seconds: 1, jobs: 2 }), false);
    assert.equal((await readRate(cache)).runs, 2);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('calibration: a corrupt or foreign file is no calibration (and is replaced by the next run); an unwritable folder never fails the run', async () => {
  const plan = await planOf(STUDY);
  const cache = tempDir('hrank-calib-');
  const file = path.join(cache, CALIBRATION_FILE);
  try {
    for (const text of ['{"calibration": 1, "model": 1, "runs": [', 'null', JSON.stringify({ calibration: 1, model: COST_MODEL + 1, runs: [{ at: '', study: 's', jobs: 1, seconds: 1, units: 1 }] }),
      JSON.stringify({ calibration: 1, model: COST_MODEL, runs: [{ at: '', study: 's', jobs: 0, seconds: -1, units: 'x' }] })]) {
      writeFileSync(file, text);
      assert.deepEqual(await readRate(cache), DEFAULT_RATE, text);
    }
    assert.equal(await recordCalibration(cache, plan, { computed: plan.steps.map((s) => s.id), seconds: 1, jobs: 1 }), true);
    assert.equal((await readRate(cache)).runs, 1);
    // The cache folder is a file: nothing recorded, nothing thrown.
    const notADir = path.join(cache, 'plain-file');
    writeFileSync(notADir, 'x');
    assert.equal(await recordCalibration(notADir, plan, { computed: plan.steps.map((s) => s.id), seconds: 1, jobs: 1 }), false);
    assert.equal(existsSync(path.join(notADir, CALIBRATION_FILE)), false);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
