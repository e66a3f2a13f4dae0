/**
 * What a damaged cache or a failing disk does to `hrank run`, end to end through the CLI:
 * - truncated, bit-flipped, hand-edited or padded cache entries are detected (checksum), named in
 *   a warning, moved aside and recomputed; the results are those of a clean run;
 * - an entry write that fails (ENOSPC, EACCES: HRANK_FAULT, read by the cache module only) fails
 *   the run with exit 1 and a message naming the file and the cause, and leaves every earlier
 *   cache entry and the results folder as they were.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadPlan, runStudy } from '../../src/study/study.js';
import { hasStack } from '../cli/helpers.js';
import { allFiles, entryKeys, snapshot, spawnHrank, STUDY, verifyCache } from './helpers.js';

const entryPath = (cache: string, key: string): string => path.join(cache, key.slice(0, 2), `${key}.bin`);
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('damaged cache entries are detected, warned about, recomputed, never read as results', { timeout: 60_000 }, async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'hrank-faults-'));
  try {
    const file = path.join(root, 'trial.yaml');
    writeFileSync(file, STUDY);
    const cache = path.join(root, 'cache');
    const results = path.join(root, 'results');
    const first = await runStudy(file, { cache, results, jobs: 1 });
    assert.ok(first.run.ok);
    const expected = snapshot(first.dir);
    const key = (id: string): string => first.plan.byId.get(id)!.key;

    // Truncated (a write cut short), bit-flipped (a bad disk), padded, and hand-edited readable
    // text (the entry's own record of when it was written: same length, still valid JSON).
    truncateSync(entryPath(cache, key('spectrum[seed=2]')), 200);
    const flipped = readFileSync(entryPath(cache, key('prediction[seed=3]')));
    flipped[Math.floor(flipped.length / 2)]! ^= 0x10;
    writeFileSync(entryPath(cache, key('prediction[seed=3]')), flipped);
    appendFileSync(entryPath(cache, key('spectrum[seed=4]')), Buffer.from([0]));
    const edited = readFileSync(entryPath(cache, key('collect')), 'latin1');
    const at = edited.lastIndexOf('"created":"') + '"created":"'.length;
    writeFileSync(entryPath(cache, key('collect')), `${edited.slice(0, at)}1999${edited.slice(at + 4)}`, 'latin1');

    const run = spawnHrank(['run', file, '--cache', cache, '--results', results, '--jobs', '1', '--json']);
    const out = await run.done;
    assert.equal(out.code, 0, out.stderr);
    const summary = JSON.parse(out.stdout) as { computed: number; ok: boolean };
    assert.equal(summary.computed, 4, 'exactly the four damaged steps are computed again');
    const warnings = out.stderr.split('\n').filter((l) => /^warning: cache: entry .* is corrupt/.test(l));
    assert.equal(warnings.length, 4, out.stderr);
    for (const [id, why] of [['spectrum[seed=2]', /truncated/], ['prediction[seed=3]', /checksum mismatch/], ['spectrum[seed=4]', /too long/], ['collect', /checksum mismatch/]] as const) {
      const line = warnings.find((w) => w.includes(entryPath(cache, key(id))));
      assert.ok(line, `no warning names ${id}`);
      assert.match(line, why);
      assert.match(line, /moved to .*corrupt.*; treating it as a miss/);
    }
    assert.equal(readdirSync(path.join(cache, 'corrupt')).length, 4);
    assert.deepEqual(snapshot(first.dir), expected, 'the results are those of a clean run');
    assert.deepEqual(await verifyCache(cache), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a disk that fills up (ENOSPC) or refuses writes (EACCES): exit 1, the path and the cause named, earlier entries and results intact', { timeout: 60_000 }, async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'hrank-faults-'));
  try {
    const file = path.join(root, 'trial.yaml');
    writeFileSync(file, STUDY);
    const cache = path.join(root, 'cache');
    const results = path.join(root, 'results');
    assert.ok((await runStudy(file, { cache, results, jobs: 1 })).run.ok);
    // The study grows by a point: its steps must be written, and the disk will not take them.
    writeFileSync(file, STUDY.replace('seed: [1, 2, 3, 4, 5, 6]', 'seed: [1, 2, 3, 4, 5, 6, 7]'));
    const plan = await loadPlan(file);
    const lockFile = path.join(root, 'trial.lock.json');
    const before = { entries: allFiles(cache), results: allFiles(results), lock: readFileSync(lockFile, 'utf8') };

    for (const [fault, code, cause] of [['enospc-after:2', 'ENOSPC', /no space left on device/], ['eacces-after:0', 'EACCES', /permission denied/]] as const) {
      const keysBefore = entryKeys(cache);
      const run = spawnHrank(['run', file, '--cache', cache, '--results', results, '--jobs', '1'], { HRANK_FAULT: fault });
      const out = await run.done;
      assert.equal(out.code, 1, `${fault}: exit ${out.code}\n${out.stderr}`);
      assert.equal(hasStack(out.stderr), false);
      const named = new RegExp(`cache: cannot write entry ${escape(cache)}/[0-9a-f]{2}/[0-9a-f]{64}\\.bin: ${code}: `);
      assert.match(out.stderr, named, out.stderr);
      assert.match(out.stderr, cause);
      assert.match(out.stderr, code === 'ENOSPC' ? /^hint: the disk is full: free some space, or point --cache at another disk/m : /^hint: the cache folder cannot be written: fix its permissions, or point --cache elsewhere/m);
      assert.match(out.stderr, /results not written; anything already in .* is unchanged/);
      // Earlier entries byte for byte, the results folder and the lock file untouched, no temp files.
      const now = allFiles(cache);
      for (const [name, bytes] of Object.entries(before.entries)) assert.equal(now[name], bytes, `${fault}: ${name} changed`);
      assert.deepEqual(Object.keys(now).filter((n) => n.endsWith('.tmp')), [], 'no temp file left behind');
      assert.deepEqual(allFiles(results), before.results, `${fault}: the results folder changed`);
      assert.equal(readFileSync(lockFile, 'utf8'), before.lock);
      assert.deepEqual(await verifyCache(cache), []);
      const added = [...entryKeys(cache)].filter((k) => !keysBefore.has(k));
      assert.ok(added.length <= (fault.startsWith('enospc') ? 2 : 0), `${fault}: ${added.length} new entries`);
    }

    // Space again: the rerun finishes the study, computing only what is missing.
    const rerun = await runStudy(file, { cache, results, jobs: 1 });
    assert.ok(rerun.run.ok);
    assert.equal(entryKeys(cache).size, plan.steps.filter((s) => s.kind !== 'ranks').length + 1, 'every stored step of the grown study, and the old collect');
    assert.equal(rerun.run.results?.rows.length, 7);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('HRANK_FAULT that is not understood is an error, not silently ignored', async () => {
  const { faultFs } = await import('../../src/engine/store/cache.js');
  assert.equal(faultFs(undefined), undefined);
  assert.equal(faultFs(''), undefined);
  assert.throws(() => faultFs('enospc'), /HRANK_FAULT="enospc" is not understood; use enospc-after:N or eacces-after:N/);
});
