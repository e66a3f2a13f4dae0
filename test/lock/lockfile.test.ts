/** Lock files without running anything: paths, text format, reading, canonical hashes, settings; diffs of point sets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { interpretDiffArgs } from '../../src/cli/commands/diff.js';
import { InputError } from '../../src/cli/errors.js';
import type { Cell } from '../../src/engine/kinds/collect.js';
import {
  LOCK_VERSION, LockError, diffPointSets, isLockPath, lockPathFor, parseLock, pipelineHash, rowId, serializeLock, settingsOf, showSetting,
  type LockFile, type PointSet,
} from '../../src/lock/index.js';
import { parsePipeline } from '../../src/pipeline/index.js';
import { SMALL } from './helpers.js';

const KEY = 'a'.repeat(64);

function lock(points: LockFile['points'] = []): LockFile {
  return {
    lockfile: LOCK_VERSION, study: 's', pipeline: { file: 's.yaml', sha256: 'b'.repeat(64) }, hrank: '0.1.0', engine: '0.1.0',
    key_salt: 'hrank-key-v1', kinds: { dataset: 1, ranks: 1 }, columns: ['model.width', 'params', 'rank_loss'], points,
  };
}

function point(id: string, results: Record<string, Cell>, key = KEY): LockFile['points'][number] {
  return { id, key, inputs: { dataset: KEY }, files: {}, settings: { 'model.hidden': [2], loss: 'mse' }, results };
}

function studyOf(text: string, file = '/x/s.yaml') {
  const r = parsePipeline(text, file);
  assert.ok(r.ok, r.ok ? '' : r.problems.map((p) => p.message).join('\n'));
  return r;
}

/** A pipeline written to a fresh folder, its plan, and the plan of another text at the same path. */
async function plannedStudy(name: string, text: string) {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const os = await import('node:os');
  const { planStudy } = await import('../../src/engine/kinds/plan.js');
  const { expandSweep } = await import('../../src/pipeline/index.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hrank-lock-'));
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  const planOf = async (t: string) => {
    const s = studyOf(t, file);
    return planStudy(s.study, expandSweep(s.study));
  };
  return { dir, file, plan: await planOf(text), planOf };
}

test('lock paths: <stem>.lock.json beside the pipeline file', () => {
  assert.equal(lockPathFor('pipelines/width.yaml'), path.join('pipelines', 'width.lock.json'));
  assert.equal(lockPathFor('/a/b/study.yml'), '/a/b/study.lock.json');
  assert.equal(lockPathFor('study.v2.YAML'), 'study.v2.lock.json');
  assert.ok(isLockPath('a/b.lock.json'));
  assert.ok(!isLockPath('a/b.yaml'));
});

test('the text: one point per block, short lists on one line, a final newline; it reads back as it was', () => {
  const l = lock([point('model.width=2', { 'model.width': 2, params: 16, rank_loss: 16 }), point('model.width=3', { 'model.width': 3, params: 24, rank_loss: null })]);
  const text = serializeLock(l);
  assert.ok(text.endsWith('}\n'));
  assert.match(text, /^  "columns": \["model\.width", "params", "rank_loss"\],$/m);
  assert.match(text, /^        "model\.hidden": \[2\],$/m);
  assert.match(text, /^  "points": \[\n    \{\n      "id": "model\.width=2",$/m);
  assert.match(text, /^    \},\n    \{\n      "id": "model\.width=3",$/m);
  assert.match(text, /^      "files": \{\},$/m);
  assert.deepEqual(parseLock(text, 'x'), l);
  assert.equal(serializeLock(parseLock(text, 'x')), text, 'stable');
  assert.deepEqual(JSON.parse(text), l, 'plain JSON');
});

test('malformed lock files are LockErrors naming the file and what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['{', /^s\.lock\.json: not valid JSON/],
    ['[]', /not a lock file/],
    ['{"study": "s"}', /no "lockfile" version/],
    [JSON.stringify({ ...lock(), lockfile: 99 }), /format 99 was written by a newer hrank/],
    [JSON.stringify(lock([point('a', {}, 'nothex')])), /points\[0\]\.key must be 64 hex digits/],
    [JSON.stringify(lock([point('a', {}), point('a', {})])), /points\[1\]\.id "a" appears twice/],
    [JSON.stringify({ ...lock(), points: [{ ...point('a', {}), results: [] }] }), /points\[0\]\.results must be an object/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseLock(text, 's.lock.json'), (err: unknown) => err instanceof LockError && message.test(err.message), text);
  }
});

test('the pipeline hash ignores comments, blank lines, quoting, flow style and key order, not values', () => {
  const a = studyOf(SMALL).study;
  const b = studyOf(`# comment\n\nsweep: {"model.width": [2, 3]}\nmodel:\n  depth: 1 # d\n  width: 3\ndataset: {classes: 3, samples: 12.0, dim: 5, source: 'gaussian-mixture'}\nname: "small"\nversion: 1\n`).study;
  const c = studyOf(SMALL.replace('[2, 3]', '[2, 4]')).study;
  assert.notEqual(a.text, b.text);
  assert.equal(pipelineHash(a), pipelineHash(b));
  assert.notEqual(pipelineHash(a), pipelineHash(c));
  assert.match(pipelineHash(a), /^[0-9a-f]{64}$/);
  // Where the file lies does not matter either.
  assert.equal(pipelineHash(studyOf(SMALL, '/elsewhere/deeper/s.yaml').study), pipelineHash(a));
});

test('settings: dotted paths, sorted, defaults filled in, dataset files as written, no batch_size', () => {
  const { points } = studyOf(`version: 1
name: d
batch_size: 4
dataset: {source: idx, images: data/i.idx, labels: /abs/l.idx, samples: 10, classes: 2}
model: {hidden: [4, 4]}
`, '/some/where/d.yaml');
  const s = settingsOf(points[0]!.config);
  assert.deepEqual(Object.keys(s), [...Object.keys(s)].sort());
  assert.equal(s['dataset.images'], 'data/i.idx');
  assert.equal(s['dataset.labels'], '/abs/l.idx');
  assert.deepEqual(s['model.hidden'], [4, 4]);
  assert.equal(s['model.activation'], 'linear');
  assert.equal(s['dataset.two_class_targets'], 'pm1');
  assert.ok(!('batch_size' in s));
  assert.ok(!JSON.stringify(s).includes('/some/where'), 'no resolved paths');
  assert.equal(showSetting([4, 4]), '[4, 4]');
  assert.equal(showSetting(undefined), '(unset)');
  assert.equal(showSetting('a b'), '"a b"');
});

test('diffPointSets: added, removed, changed (ranks, predictions, sizes), recomputed (same values, another key); gaps are not compared', () => {
  const cols = ['model.width', 'params', 'rank_loss', 'pred_loss', 'gap_loss'];
  const row = (w: number, rank: number, gap = 7): Record<string, Cell> => ({ 'model.width': w, params: w * 8, rank_loss: rank, pred_loss: rank, gap_loss: gap });
  const a: PointSet = { label: 'A', columns: cols, points: [
    { id: 'w=1', key: 'k1', results: row(1, 8) }, { id: 'w=2', key: 'k2', results: row(2, 16) },
    { id: 'w=3', key: 'k3', results: row(3, 24) }, { id: 'w=4', key: 'k4', results: row(4, 32) }, { id: 'w=5', key: 'k5', results: row(5, 40) },
  ] };
  const b: PointSet = { label: 'B', columns: cols, points: [
    { id: 'w=1', key: 'k1', results: row(1, 8) }, { id: 'w=2', key: 'k2', results: row(2, 15) },
    { id: 'w=3', key: 'x3', results: row(3, 24, 6.5) }, { id: 'w=5', key: 'k5', results: row(5, 40, 1) }, { id: 'w=6', key: 'k6', results: row(6, 48) },
  ] };
  const d = diffPointSets(a, b);
  assert.deepEqual(d.points.map((p) => `${p.change} ${p.id}`), ['changed w=2', 'recomputed w=3', 'added w=6', 'removed w=4']);
  assert.deepEqual(d.points[0]!.columns, ['rank_loss', 'pred_loss']);
  assert.deepEqual(d.counts, { added: 1, removed: 1, changed: 1, recomputed: 1, renamed: 0, same: 2 });
  // Without keys (results folders) a point with the same values is the same.
  const strip = (s: PointSet): PointSet => ({ ...s, points: s.points.map(({ id, results }) => ({ id, results })) });
  assert.deepEqual(diffPointSets(strip(a), strip(b)).points.map((p) => p.change), ['changed', 'added', 'removed']);
});

test('results rows get the ids the engine gives points', () => {
  assert.equal(rowId({ loss: 'mse', 'model.width': 8, samples: 1 }, ['loss', 'model.width']), 'loss=mse,model.width=8');
  assert.equal(rowId({ 'model.hidden': [8, 8] as Cell }, ['model.hidden']), 'model.hidden=[8,8]');
  assert.equal(rowId({ samples: 1 }, []), 'main');
});

test('diff arguments: revisions, a file, or two results folders', () => {
  const dirs = new Set(['results/a', 'results/b']);
  const isDir = (p: string): boolean => dirs.has(p);
  assert.deepEqual(interpretDiffArgs(['HEAD'], isDir), { mode: 'revisions', revA: 'HEAD', revB: null });
  assert.deepEqual(interpretDiffArgs(['HEAD', 's.yaml'], isDir), { mode: 'revisions', revA: 'HEAD', revB: null, file: 's.yaml' });
  assert.deepEqual(interpretDiffArgs(['main', 'HEAD'], isDir), { mode: 'revisions', revA: 'main', revB: 'HEAD' });
  assert.deepEqual(interpretDiffArgs(['main', 'HEAD', 'p/s.lock.json'], isDir), { mode: 'revisions', revA: 'main', revB: 'HEAD', file: 'p/s.lock.json' });
  assert.deepEqual(interpretDiffArgs(['results/a', 'results/b'], isDir), { mode: 'folders', a: 'results/a', b: 'results/b' });
  const bad: [string[], RegExp][] = [
    [['s.yaml'], /give the revision to compare with before the file/],
    [['a', 'b', 'c'], /must be a pipeline file/],
    [['results/a', 'HEAD'], /'results\/a' is a folder/],
    [['results/a', 'results/b', 's.yaml'], /leave out the pipeline file/],
    // A missing second folder is the one blamed, not the first.
    [['results/a', 'results/missing/'], /^diff: 'results\/missing\/' does not exist; 'results\/a' is a results folder/],
    [['results/a', 'results/missing'], /^diff: 'results\/missing' does not exist/],
    [['results/missing', 'results/a'], /^diff: 'results\/missing' does not exist/],
  ];
  for (const [args, message] of bad) {
    assert.throws(() => interpretDiffArgs(args, isDir, (p) => dirs.has(p)), (e: unknown) => e instanceof InputError && message.test(e.message), args.join(' '));
  }
});

test('the lock written a point at a time (lockChunks) is serializeLock(buildLock(...)) byte for byte; writeLock leaves an unchanged file alone', async () => {
  const { writeFileSync, statSync, readFileSync, utimesSync } = await import('node:fs');
  const { buildLock, lockChunks, writeLock } = await import('../../src/lock/lockfile.js');
  // 120 points and a sample-size chain (the lock's `chain`).
  const { file, plan } = await plannedStudy('big', `version: 1
name: big
dataset: {source: gaussian-mixture, dim: 3, samples: 8, classes: 2, two_class_targets: onehot}
model: {hidden: [2]}
sweep:
  seed: {from: 1, to: 20}
  dataset.samples: [4, 8]
  loss: [mse, cross-entropy, cosh]
`);
  assert.equal(plan.points.length, 120);
  const columns = ['seed', 'rank_loss', 'note'];
  const results = { columns, rows: plan.points.map((p, i): Cell[] => [i, i % 5 === 0 ? null : i * 2, i % 7 ? `n"${i}"\n` : [1, 2]]), details: [] };
  const whole = serializeLock(buildLock(plan, results));
  assert.match(whole, /"chain": \[4, 8\]/);
  assert.equal([...lockChunks(plan, results)].join(''), whole);
  const written = await writeLock(file, plan, results);
  assert.equal(readFileSync(written, 'utf8'), whole);
  utimesSync(written, new Date(1e12), new Date(1e12));
  await writeLock(file, plan, results);
  assert.equal(statSync(written).mtimeMs, 1e12, 'an unchanged lock is not rewritten');
  writeFileSync(written, whole.replace('"seed"', '"SEED"'));
  await writeLock(file, plan, results);
  assert.equal(readFileSync(written, 'utf8'), whole, 'a lock of the same length but other bytes is rewritten');
});

test('status from the lock\'s ids and keys (read in a worker thread) is studyStatus of the whole lock when nothing changed, and defers to it otherwise', async () => {
  const { writeFileSync } = await import('node:fs');
  const { buildLock, readLock, writeLock } = await import('../../src/lock/lockfile.js');
  const { keysOf, readLockKeys } = await import('../../src/lock/lock-keys.js');
  const { studyStatus, unchangedStatus } = await import('../../src/lock/status.js');
  const text = `version: 1
name: keys
dataset: {source: gaussian-mixture, dim: 3, samples: 8, classes: 2, two_class_targets: onehot}
model: {hidden: [2]}
sweep:
  seed: {from: 1, to: 4}
  loss: [mse, cosh]
`;
  const { dir, file, plan, planOf } = await plannedStudy('keys', text);
  const results = { columns: ['seed', 'loss', 'rank_loss'], rows: plan.points.map((p, i): Cell[] => [i, 'mse', i]), details: [] };
  const lockFile = await writeLock(file, plan, results);
  // The worker thread's ids and keys are the lock's.
  const keys = await readLockKeys(lockFile);
  const whole = (await readLock(lockFile))!;
  assert.deepEqual(keys, keysOf(whole));
  assert.equal(await readLockKeys(path.join(dir, 'none.lock.json')), null);
  // Unchanged (and renamed, with an edit no point depends on): the same status as the whole lock's.
  for (const t of [text, text.replace('name: keys', 'name: renamed').replace('seed:', '# a comment\n  seed:')]) {
    const p = await planOf(t);
    const fast = unchangedStatus(p, keys!, file, lockFile);
    assert.ok(fast);
    assert.deepEqual(fast, studyStatus(p, whole, file, lockFile));
  }
  assert.deepEqual(unchangedStatus(plan, keys!, file, lockFile)!.notes, []);
  // A point changed, added or removed: the whole lock is needed to say what.
  for (const t of [text.replace('to: 4', 'to: 5'), text.replace('to: 4', 'to: 3'), text.replace('[mse, cosh]', '[mse, cross-entropy]')]) {
    const p = await planOf(t);
    assert.equal(unchangedStatus(p, keys!, file, lockFile), undefined);
    assert.equal(studyStatus(p, whole, file, lockFile).state, 'stale');
  }
  // A malformed lock: the worker's LockError is readLock's.
  writeFileSync(lockFile, JSON.stringify({ ...buildLock(plan, results), lockfile: 99 }));
  const fromRead = await readLock(lockFile).then(() => undefined, (e: unknown) => e);
  const fromThread = await readLockKeys(lockFile).then(() => undefined, (e: unknown) => e);
  assert.ok(fromThread instanceof LockError);
  assert.equal((fromThread as Error).message, (fromRead as Error).message);
  assert.match((fromThread as Error).message, /format 99 was written by a newer hrank/);
});
