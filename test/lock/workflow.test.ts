/**
 * The git workflow of the issue, end to end in a temporary repository: run, commit the pipeline
 * and its lock file, `status`, edit, `status` again, rerun, `diff HEAD`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DiffReport } from '../../src/cli/commands/diff.js';
import type { StatusReport } from '../../src/cli/commands/status.js';
import { lockPathFor, parseLock, serializeLock } from '../../src/lock/index.js';
import { ENGINE_VERSION } from '../../src/engine/store/keys.js';
import { SMALL, commit, git, gitInit, hrankIn, idxFiles, runIn, tempDir, write } from './helpers.js';

async function status(file: string): Promise<{ code: number; report: StatusReport; text: string }> {
  const json = await hrankIn(['status', file, '--json']);
  const text = await hrankIn(['status', file]);
  assert.equal(text.code, json.code);
  return { code: json.code, report: JSON.parse(json.stdout) as StatusReport, text: text.stdout };
}

async function diff(...args: string[]): Promise<{ code: number; report: DiffReport; text: string }> {
  const json = await hrankIn(['diff', ...args, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const text = await hrankIn(['diff', ...args]);
  return { code: json.code, report: JSON.parse(json.stdout) as DiffReport, text: text.stdout };
}

/** Changed point ids of a status, as `change id`, sorted. */
function named(report: StatusReport): string[] {
  return report.studies.flatMap((s) => s.changes.map((c) => `${c.change} ${c.id}`)).sort();
}

describe('run, commit, edit a sweep value, status, rerun, diff HEAD', () => {
  const { dir, cleanup } = tempDir();
  let file = '';
  before(async () => {
    gitInit(dir);
    file = write(dir, 'small.yaml', SMALL);
  });
  after(cleanup);

  test('before any run: never run, exit 1', async () => {
    const { code, report, text } = await status(file);
    assert.equal(code, 1);
    assert.equal(report.studies[0]!.state, 'never run');
    assert.match(text, /small\.yaml: never run \(no lock file .*small\.lock\.json/);
  });

  test('a run writes small.lock.json beside the pipeline; committed, status is up to date (exit 0)', async () => {
    await runIn(dir, file);
    const lockFile = path.join(dir, 'small.lock.json');
    assert.equal(lockPathFor(file), lockFile);
    const text = readFileSync(lockFile, 'utf8');
    const lock = parseLock(text, lockFile);
    assert.deepEqual(lock.points.map((p) => p.id), ['model.width=2', 'model.width=3']);
    assert.equal(lock.pipeline.file, 'small.yaml');
    assert.equal(lock.engine, ENGINE_VERSION);
    assert.ok(!text.includes(dir), 'no absolute path in the lock');
    assert.equal(lock.points[1]!.results.rank_loss, lock.points[1]!.results.pred_loss);
    commit(dir, 'small study', 'small.yaml', 'small.lock.json');

    const { code, report, text: out } = await status(file);
    assert.equal(code, 0, out);
    assert.equal(report.ok, true);
    assert.equal(report.studies[0]!.state, 'up to date');
    assert.equal(out, `${file}: up to date (2 points)\n`);
  });

  test('one sweep value changed: status names the new point, the removed one and why (exit 1)', async () => {
    writeFileSync(file, SMALL.replace('[2, 3]', '[2, 4]'));
    const { code, report, text } = await status(file);
    assert.equal(code, 1);
    assert.equal(report.studies[0]!.state, 'stale');
    assert.deepEqual(named(report), ['new model.width=4', 'removed model.width=3']);
    const change = report.studies[0]!.changes.find((c) => c.id === 'model.width=4')!;
    assert.equal(change.reasons[0]!.kind, 'new-point');
    assert.equal(change.reasons[0]!.message, 'new point: model.width 4 is new');
    assert.match(text, /small\.yaml: stale \(1 unchanged, 1 new, 1 removed; 2 points planned\)$/m);
    assert.match(text, /^\s+new\s+model\.width=4\s+new point: model\.width 4 is new$/m);
    assert.match(text, /^\s+removed\s+model\.width=3\s+no longer in the pipeline: model\.width 3 is no longer swept$/m);
    // The untouched point is not named.
    assert.doesNotMatch(text, /model\.width=2/);
  });

  test('rerun: status up to date again, and diff HEAD lists exactly the points status named', async () => {
    const named0 = named((await status(file)).report);
    await runIn(dir, file);
    assert.equal((await status(file)).code, 0);
    const { report, text } = await diff('HEAD', file);
    const s = report.studies[0]!;
    assert.deepEqual(s.points.map((p) => `${p.change === 'added' ? 'new' : p.change} ${p.id}`).sort(), named0);
    assert.equal(report.differs, true);
    assert.deepEqual(s.counts, { added: 1, removed: 1, changed: 0, recomputed: 0, renamed: 0, same: 1 });
    const added = s.points.find((p) => p.change === 'added')!;
    assert.equal(added.after!.params, 4 * 5 + 3 * 4);
    assert.match(text, /\(HEAD -> working tree\): 1 added, 1 removed, 1 the same/);
    assert.match(text, /^\s+added\s+model\.width=4\s+32\s/m);
    assert.match(text, /^\s+removed\s+model\.width=3\s+24\s/m);

    // Without a file: every lock file that differs (here, the one).
    const all = await hrankIn(['diff', 'HEAD', file, '--exit-code']);
    assert.equal(all.code, 1, '--exit-code: 1 when something differs');
    commit(dir, 'width 4', 'small.yaml', 'small.lock.json');
    const none = await diff('HEAD', file);
    assert.equal(none.report.differs, false);
    assert.match(none.text, /no differences \(2 points\)/);
    // Between the two commits, the other way round.
    const back = await diff('HEAD', 'HEAD~1', file);
    assert.deepEqual(back.report.studies[0]!.points.map((p) => `${p.change} ${p.id}`).sort(), ['added model.width=3', 'removed model.width=4']);
  });

  test('editing only comments, quoting, flow style or key order keeps the study up to date', async () => {
    const reordered = `# a comment on top
model:   # the network
  depth: 1
  width: 3
sweep: {"model.width": [2, 4]}   # flow style
name: "small"
dataset:
  classes: 3
  samples: 12.0
  dim: 5
  source: gaussian-mixture
version: 1
`;
    writeFileSync(file, reordered);
    const { code, report, text } = await status(file);
    assert.equal(code, 0, text);
    assert.deepEqual(report.studies[0]!.notes, [], 'the canonical content is unchanged');

    // A setting no result depends on: up to date, with a note.
    writeFileSync(file, `${reordered}batch_size: 4\n`);
    const batch = await status(file);
    assert.equal(batch.code, 0, batch.text);
    assert.match(batch.text, /note: the pipeline file was edited, but no point's results depend on the edit/);
  });

  test('diff at a revision without the lock file lists every point as added; bad revisions are input errors', async () => {
    const root = git(dir, 'rev-list', '--max-parents=0', 'HEAD').trim();
    git(dir, '-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'empty');
    writeFileSync(path.join(dir, 'other.yaml'), SMALL.replace('name: small', 'name: other'));
    await runIn(dir, path.join(dir, 'other.yaml'));
    const other = await diff(root, path.join(dir, 'other.yaml'));
    assert.deepEqual(other.report.studies[0]!.points.map((p) => p.change), ['added', 'added']);

    const bad = await hrankIn(['diff', 'no-such-rev', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: not a git revision: no-such-rev$/m);
  });
});

describe('a sample-size sweep: one changed value changes the points computed from shared prefix sums', () => {
  const { dir, cleanup } = tempDir();
  after(cleanup);

  test('status names the new, the changed and the removed point; after a rerun diff HEAD lists exactly those', async () => {
    gitInit(dir);
    const text = SMALL.replace('model.width: [2, 3]', 'dataset.samples: [6, 12]');
    const file = write(dir, 'samples.yaml', text);
    await runIn(dir, file);
    commit(dir, 'samples', 'samples.yaml', 'samples.lock.json');
    assert.equal((await status(file)).code, 0);

    writeFileSync(file, text.replace('[6, 12]', '[9, 12]'));
    const { code, report, text: out } = await status(file);
    assert.equal(code, 1);
    assert.deepEqual(named(report), ['changed dataset.samples=12', 'new dataset.samples=9', 'removed dataset.samples=6']);
    const changed = report.studies[0]!.changes.find((c) => c.change === 'changed')!;
    assert.deepEqual(changed.reasons.map((r) => r.kind), ['chain']);
    assert.match(changed.reasons[0]!.message, /^sample-size chain changed: \[6, 12\] -> \[9, 12\]/);
    assert.match(out, /stale \(1 changed, 1 new, 1 removed; 2 points planned\)/);
    assert.match(out, /^\s+new\s+dataset\.samples=9\s+new point: dataset\.samples 9 is new$/m);

    await runIn(dir, file);
    const d = await diff('HEAD', file);
    const listed = d.report.studies[0]!.points.map((p) => `${{ added: 'new', removed: 'removed', changed: 'changed', recomputed: 'changed', renamed: 'renamed' }[p.change]} ${p.id}`);
    assert.deepEqual(listed.sort(), named(report));
    assert.match(d.text, /^\s+(recomputed|changed)\s+dataset\.samples=12\s/m);
  });
});

describe('data and engine', () => {
  const { dir, cleanup } = tempDir();
  after(cleanup);
  const pipeline = `version: 1
name: digits
dataset:
  source: idx
  images: data/images.idx
  labels: data/labels.idx
  samples: 12
  classes: 3
model: {hidden: [3]}
sweep:
  seed: [1, 2]
`;

  test('a lock copied with the pipeline and the same data to another folder reads as up to date there, and a rerun there writes the same bytes', async () => {
    const a = path.join(dir, 'machine-a');
    const b = path.join(dir, 'elsewhere', 'machine-b');
    const { images, labels } = idxFiles(12, 4, 3);
    for (const root of [a, b]) {
      write(root, 'data/images.idx', images);
      write(root, 'data/labels.idx', labels);
    }
    const fileA = write(a, 'digits.yaml', pipeline);
    await runIn(a, fileA);
    const lockA = readFileSync(path.join(a, 'digits.lock.json'), 'utf8');
    const lock = parseLock(lockA, 'a');
    assert.deepEqual(Object.keys(lock.points[0]!.files), ['images', 'labels']);
    assert.equal(lock.points[0]!.settings['dataset.images'], 'data/images.idx', 'paths as written, relative');
    assert.ok(!lockA.includes(a), 'no absolute path');

    const fileB = path.join(b, 'digits.yaml');
    copyFileSync(fileA, fileB);
    copyFileSync(path.join(a, 'digits.lock.json'), path.join(b, 'digits.lock.json'));
    const there = await status(fileB);
    assert.equal(there.code, 0, there.text);

    // A run there (another cache, another results folder) writes a byte-identical lock.
    await runIn(b, fileB);
    assert.equal(readFileSync(path.join(b, 'digits.lock.json'), 'utf8'), lockA);
  });

  test('a dataset file whose bytes changed makes every point stale, naming the file', async () => {
    const b = path.join(dir, 'elsewhere', 'machine-b');
    const images = readFileSync(path.join(b, 'data/images.idx'));
    images[images.length - 1] ^= 0xff;
    writeFileSync(path.join(b, 'data/images.idx'), images);
    const { code, report } = await status(path.join(b, 'digits.yaml'));
    assert.equal(code, 1);
    assert.deepEqual(named(report), ['changed seed=1', 'changed seed=2']);
    for (const c of report.studies[0]!.changes) {
      assert.deepEqual(c.reasons.map((r) => r.kind), ['dataset-file']);
      assert.match(c.reasons[0]!.message, /^dataset file changed: images \(data\/images\.idx\) sha256 [0-9a-f]{12} -> [0-9a-f]{12}$/);
    }
  });

  test('a lock written by another engine version: every point stale, with the versions', async () => {
    const a = path.join(dir, 'machine-a');
    const lockFile = path.join(a, 'digits.lock.json');
    const lock = parseLock(readFileSync(lockFile, 'utf8'), lockFile);
    // What an older engine would have written: its version, and keys made with it.
    const old = { ...lock, engine: '0.0.1', points: lock.points.map((p) => ({ ...p, key: p.key.replace(/^./, (c) => (c === '0' ? '1' : '0')) })) };
    writeFileSync(lockFile, serializeLock(old));
    const { code, report, text } = await status(path.join(a, 'digits.yaml'));
    assert.equal(code, 1);
    assert.deepEqual(named(report), ['changed seed=1', 'changed seed=2']);
    assert.deepEqual(report.studies[0]!.changes[0]!.reasons, [{ kind: 'engine', message: `engine version changed: 0.0.1 -> ${ENGINE_VERSION}` }]);
    assert.match(text, /^  every changed point: engine version changed: 0\.0\.1 ->/m);
    assert.match(text, /changed\s+seed=1\s+\(as above\)/);
  });

  test('a pipeline value and the results folder diff', async () => {
    const a = path.join(dir, 'machine-a');
    const file = path.join(a, 'digits.yaml');
    writeFileSync(file, pipeline.replace('hidden: [3]', 'hidden: [4]'));
    const { report } = await status(file);
    for (const c of report.studies[0]!.changes) {
      assert.ok(c.reasons.some((r) => r.kind === 'pipeline' && r.message === 'pipeline value changed: model.hidden [3] -> [4]'), JSON.stringify(c.reasons));
    }
    // Two results folders: same points, ranks changed.
    const before = path.join(a, 'results-before');
    const results = path.join(a, 'results', 'digits');
    const { cpSync } = await import('node:fs');
    cpSync(results, before, { recursive: true });
    await runIn(a, file);
    const d = await diff(before, results);
    const s = d.report.studies[0]!;
    assert.equal(s.file, null);
    assert.deepEqual(s.points.map((p) => `${p.change} ${p.id}`), ['changed seed=1', 'changed seed=2']);
    assert.ok(s.points[0]!.columns.includes('params'));
    assert.match(d.text, /^\s+changed\s+seed=1\s+57 -> 76\s/m);
    assert.ok(existsSync(path.join(a, 'digits.lock.json')));
  });
});
