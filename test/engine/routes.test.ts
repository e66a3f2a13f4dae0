/**
 * One Hessian, one rank, through the engine: a study of knife-edge points (values within a
 * decade of the tolerance) gives the same ranks and inertia on the automatic routes (subspace,
 * prefix-sum chains, streamed chains) with one or two workers as with `rank.route: dense`.
 * The same study through Redis workers: test/distributed/cluster.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runStudy } from '../../src/study/study.js';
import { KNIFE, tempDir, writePipeline } from './helpers.js';

type Row = Record<string, number | string | null>;
const rows = (dir: string): Row[] => JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as Row[];
const details = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'details.json'), 'utf8')) as { ranks: Record<string, { method: string; ambiguous: boolean }> }[];
const COLUMNS = ['loss', 'outer', 'functional'].flatMap((k) => [`rank_${k}`, `pos_${k}`, `neg_${k}`]);

test('knife-edge points: automatic routes with one and two workers give the dense route\'s ranks and inertia', async () => {
  const dir = tempDir();
  const auto = writePipeline(dir, 'knife', `seed: 3\n${KNIFE}`);
  const dense = writePipeline(dir, 'knife-dense', `seed: 3\nrank: {route: dense}\n${KNIFE}`);
  const run = async (file: string, tag: string, jobs: number) => {
    const r = await runStudy(file, { cache: path.join(dir, `c-${tag}`), results: path.join(dir, `r-${tag}`), jobs });
    assert.ok(r.run.ok, tag);
    return r.dir;
  };
  const [two, one, ref] = [await run(auto, 'two', 2), await run(auto, 'one', 1), await run(dense, 'dense', 2)];
  const flagged = details(ref).reduce((n, d) => n + Object.values(d.ranks).filter((r) => r.ambiguous).length, 0);
  assert.ok(flagged >= 4, `the study has knife edges (${flagged} flagged ranks)`);
  assert.ok(details(two).every((d) => Object.values(d.ranks).every((r) => /^(subspace|gram) \d+$/.test(r.method))), 'automatic routes used');
  assert.ok(details(ref).every((d) => Object.values(d.ranks).every((r) => r.method === 'dense')));
  for (const [name, got] of [['two workers', two], ['one worker', one]] as const) {
    const a = rows(got), b = rows(ref);
    a.forEach((row, i) => { for (const c of COLUMNS) assert.equal(row[c], b[i]![c], `${name}, point ${i}, ${c}`); });
  }
  assert.equal(readFileSync(path.join(one, 'results.csv'), 'utf8'), readFileSync(path.join(two, 'results.csv'), 'utf8'), 'one or two workers: the same bytes');
});

test('a conv network: the last-layer route with one and two workers gives the dense route\'s ranks and inertia, and the same bytes', async () => {
  const dir = tempDir();
  // P = 5 * 9 + 5 * 25 * 10 = 1,295: past the dense sizes, and k <= 2 * 45 + 10 * 12 = 210.
  const body = `dataset: {source: mnist, samples: 12, resize: 7, classes: 10}
model:
  layers: [{conv: {channels: 5, kernel: 3}}]
loss: cross-entropy
`;
  const auto = writePipeline(dir, 'conv', body);
  const dense = writePipeline(dir, 'conv-dense', `rank: {route: dense}\n${body}`);
  const run = async (file: string, tag: string, jobs: number) => {
    const r = await runStudy(file, { cache: path.join(dir, `c-${tag}`), results: path.join(dir, `r-${tag}`), jobs });
    assert.ok(r.run.ok, tag);
    return r.dir;
  };
  const [two, one, ref] = [await run(auto, 'two', 2), await run(auto, 'one', 1), await run(dense, 'dense', 2)];
  assert.ok(details(two).every((d) => Object.values(d.ranks).every((r) => /^last-layer subspace \d+$/.test(r.method))), 'the last-layer route used');
  assert.ok(details(ref).every((d) => Object.values(d.ranks).every((r) => r.method === 'dense')));
  for (const [name, got] of [['two workers', two], ['one worker', one]] as const) {
    const a = rows(got), b = rows(ref);
    a.forEach((row, i) => { for (const c of COLUMNS) assert.equal(row[c], b[i]![c], `${name}, point ${i}, ${c}`); });
  }
  assert.equal(readFileSync(path.join(one, 'results.csv'), 'utf8'), readFileSync(path.join(two, 'results.csv'), 'utf8'), 'one or two workers: the same bytes');
});
