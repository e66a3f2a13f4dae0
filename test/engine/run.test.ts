import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runStudy } from '../../src/study/study.js';
import type { EngineEvent } from '../../src/engine/exec/events.js';
import { resultsCsv } from '../../src/report/results.js';
import { SMALL_DATA, tempDir, writePipeline } from './helpers.js';

const BODY = `${SMALL_DATA}model: {width: 3, depth: 1}
sweep:
  model.width: [2, 3, 4]
`;

test('a rerun computes nothing; results are byte-identical cold, warm and without cache', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'w', BODY);
  const opts = { cache: path.join(dir, 'cache'), results: path.join(dir, 'results'), jobs: 2 };
  const cold = await runStudy(file, opts);
  assert.ok(cold.run.ok);
  assert.equal(cold.run.cached.length, 0);
  // dataset, input-rank, 3 x (network, prediction, spectrum), collect (ranks are derived)
  assert.equal(cold.run.computed.length, 2 + 3 * 3 + 1);
  assert.equal(cold.run.derived.length, 3, 'the ranks, derived from the spectra');
  const csv = readFileSync(path.join(cold.dir, 'results.csv'), 'utf8');
  const json = readFileSync(path.join(cold.dir, 'results.json'), 'utf8');
  assert.equal(csv.split('\n')[0], 'model.width,samples,input_dim,classes,params,rank_input_cov,rank_loss,rank_outer,rank_functional,pred_loss,pred_outer,pred_functional,pred_kind,gap_loss,gap_outer,gap_functional,pos_loss,neg_loss,pos_outer,neg_outer,pos_functional,neg_functional');
  assert.equal(csv.trim().split('\n').length, 4);
  // Linear network: every rank equals its prediction.
  for (const row of JSON.parse(json) as Record<string, number>[]) {
    for (const k of ['loss', 'outer', 'functional']) assert.equal(row[`rank_${k}`], row[`pred_${k}`], `${k} at width ${row['model.width']}`);
  }

  const warm = await runStudy(file, opts);
  assert.ok(warm.run.ok);
  assert.equal(warm.run.computed.length, 0, 'a rerun computes no step');
  assert.equal(readFileSync(path.join(warm.dir, 'results.csv'), 'utf8'), csv);
  assert.equal(readFileSync(path.join(warm.dir, 'results.json'), 'utf8'), json);

  const fresh = await runStudy(file, { ...opts, noCache: true, results: path.join(dir, 'r2'), jobs: 1 });
  assert.equal(resultsCsv(fresh.run.results!), csv);
});

test('changing one axis value recomputes only the steps it reaches', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 'w', BODY);
  const opts = { cache: path.join(dir, 'cache'), results: path.join(dir, 'results') };
  await runStudy(file, opts);
  writeFileSync(file, readFileSync(file, 'utf8').replace('[2, 3, 4]', '[2, 3, 5]'));
  const again = await runStudy(file, opts);
  // Every stored step but those of the new point comes from the cache; ranks are derived (read
  // again from the cached spectra whenever the results are collected anew).
  assert.deepEqual([...again.run.computed].filter((id) => !id.startsWith('ranks[')).sort(), ['collect', 'network[model.width=5]', 'prediction[model.width=5]', 'spectrum[model.width=5]']);
  assert.ok(again.run.cached.includes('spectrum[model.width=2]'));
});

test('an interrupted run keeps finished steps and the rerun resumes', async () => {
  const dir = tempDir();
  // Points big enough (P ~ 1,000) that the interrupt lands while later ones still wait or run.
  const file = writePipeline(dir, 'w', `dataset: {source: gaussian-mixture, dim: 40, samples: 40, classes: 5}
model: {width: 20, depth: 1}
sweep:
  model.width: [20, 21, 22]
`);
  const opts = { cache: path.join(dir, 'cache'), results: path.join(dir, 'results'), jobs: 1 };
  const ctrl = new AbortController();
  const first = await runStudy(file, {
    ...opts, signal: ctrl.signal,
    onEvent: (e: EngineEvent) => { if (e.type === 'done' && e.step.kind === 'spectrum') ctrl.abort(); },
  });
  assert.equal(first.run.ok, false);
  assert.equal(first.run.interrupted, true);
  assert.equal(first.files.length, 0, 'no results written');
  const doneRanks = first.run.computed.filter((id) => id.startsWith('spectrum'));
  assert.ok(doneRanks.length >= 1 && doneRanks.length < 3, `finished ranks before the interrupt: ${doneRanks}`);
  const second = await runStudy(file, opts);
  assert.ok(second.run.ok);
  for (const id of doneRanks) assert.ok(second.run.cached.includes(id) || !second.run.computed.includes(id), `${id} not recomputed`);
  assert.equal(second.run.computed.filter((id) => id.startsWith('spectrum')).length, 3 - doneRanks.length);
  const cold = await runStudy(file, { ...opts, noCache: true, results: path.join(dir, 'r2') });
  assert.equal(readFileSync(path.join(second.dir, 'results.csv'), 'utf8'), readFileSync(path.join(cold.dir, 'results.csv'), 'utf8'));
});

test('a sample-size sweep through prefix sums meets the predictions', async () => {
  const dir = tempDir();
  const file = writePipeline(dir, 's', `dataset:
  source: gaussian-mixture
  dim: 6
  samples: 2
  classes: 4
model: {hidden: [5, 5]}
loss: cross-entropy
sweep:
  dataset.samples: {from: 2, to: 12, step: 2}
`);
  const r = await runStudy(file, { cache: path.join(dir, 'cache'), results: path.join(dir, 'results'), jobs: 2 });
  assert.ok(r.run.ok);
  const rows = JSON.parse(readFileSync(path.join(r.dir, 'results.json'), 'utf8')) as Record<string, number>[];
  assert.equal(rows.length, 6);
  for (const row of rows) for (const k of ['loss', 'outer', 'functional']) assert.equal(row[`rank_${k}`], row[`pred_${k}`], `${k} at N=${row.samples}`);
  assert.ok(rows.some((row) => row.rank_input_cov < 6) && rows.some((row) => row.rank_input_cov === 6), 'covers N < d and N >= d');
});

test('chain parts: consecutive sample sizes, every member once, small sizes in bigger parts, balanced by the cost model', async () => {
  const { chainParts, SUM_COST } = await import('../../src/engine/exec/run.js');
  const members = Array.from({ length: 40 }, (_, i) => ({ config: { dataset: { samples: 10 * (i + 1) } } }));
  for (const parts of [1, 2, 3, 8, 40, 50]) {
    const split = chainParts(members, parts);
    assert.equal(split.length, Math.min(parts, members.length));
    assert.deepEqual(split.flat(), members, `${parts} parts cover the chain in order`);
    assert.ok(split.every((p) => p.length > 0));
  }
  const [a, b] = chainParts(members, 2);
  // The part that sums to N = 400 ranks fewer points than the one that stops earlier.
  assert.ok(a!.length > b!.length, `${a!.length} vs ${b!.length}`);
  const cost = (p: typeof members) => p.length + SUM_COST * p[p.length - 1]!.config.dataset.samples;
  // Balanced: moving the boundary point to the other part would not lower the larger cost.
  const moved = [members.slice(0, a!.length - 1), members.slice(a!.length - 1)];
  const movedBack = [members.slice(0, a!.length + 1), members.slice(a!.length + 1)];
  const worst = (pp: (typeof members)[]) => Math.max(...pp.map(cost));
  assert.ok(worst([a!, b!]) <= worst(moved) && worst([a!, b!]) <= worst(movedBack), `costs ${cost(a!)} and ${cost(b!)}`);
  assert.deepEqual(chainParts([], 2), []);
});

test('a streamed chain (one worker sums, all eigensolve) gives the bytes of chain parts, and the ranks of the dense route', async () => {
  const dir = tempDir();
  const body = `dataset:
  source: gaussian-mixture
  dim: 16
  samples: 4
  classes: 5
model: {hidden: [20, 20]}
loss: mse
sweep:
  dataset.samples: {from: 4, to: 40, step: 4}
`;
  const file = writePipeline(dir, 'c', body);
  // jobs 2: linear, so the chain is streamed; jobs 1: one chain part (chainSpectra).
  const streamed = await runStudy(file, { cache: path.join(dir, 'c2'), results: path.join(dir, 'r2'), jobs: 2 });
  const parts = await runStudy(file, { cache: path.join(dir, 'c1'), results: path.join(dir, 'r1'), jobs: 1 });
  assert.ok(streamed.run.ok && parts.run.ok);
  for (const name of ['results.csv', 'details.json']) {
    assert.equal(readFileSync(path.join(streamed.dir, name), 'utf8'), readFileSync(path.join(parts.dir, name), 'utf8'), name);
  }
  // The subspace was used (the rows name its sizes), and its ranks are those of the full dense
  // matrix: a study of one sample size is not a chain and takes the dense route.
  const details = JSON.parse(readFileSync(path.join(streamed.dir, 'details.json'), 'utf8')) as { ranks: Record<string, { method: string }> }[];
  assert.ok(details.every((d) => /^subspace \d+$/.test(d.ranks.loss!.method)), JSON.stringify(details.map((d) => d.ranks.loss!.method)));
  const row = (d: string, n: number) => JSON.parse(readFileSync(path.join(d, 'results.json'), 'utf8')).find((x: { samples: number }) => x.samples === n);
  for (const n of [4, 40]) {
    const alone = writePipeline(dir, `a${n}`, body.replace('{from: 4, to: 40, step: 4}', `[${n}]`));
    const one = await runStudy(alone, { cache: path.join(dir, `ca${n}`), results: path.join(dir, `ra${n}`), jobs: 2 });
    const a = row(one.dir, n), b = row(streamed.dir, n);
    for (const k of ['loss', 'outer', 'functional']) for (const c of ['rank', 'pos', 'neg']) assert.equal(a[`${c}_${k}`], b[`${c}_${k}`], `N=${n} ${c}_${k}`);
  }
  const alone = writePipeline(dir, 'a', body.replace('{from: 4, to: 40, step: 4}', '[24]'));
  const one = await runStudy(alone, { cache: path.join(dir, 'ca'), results: path.join(dir, 'ra'), jobs: 2 });
  const aloneDetails = JSON.parse(readFileSync(path.join(one.dir, 'details.json'), 'utf8')) as { ranks: Record<string, { method: string }> }[];
  assert.equal(aloneDetails[0]!.ranks.loss!.method, 'dense');
});
