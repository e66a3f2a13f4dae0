/**
 * kill -9 at seeded random moments: `hrank run` of a small multi-point study is killed (SIGKILL,
 * no cleanup of any kind) after a seeded random delay, several times in a row on the same cache,
 * then rerun to the end. Checked after every kill: the cache holds only sound entries, and no
 * entry that existed before the killed run was written again (its file keeps its inode: atomic
 * writes replace the file, so a recomputed step would show). Checked after the completing rerun
 * (the CLI with --json, or in-process): it computed no step whose entry existed before it, the
 * steps before plus the steps it computed are exactly one run's steps, and its results are
 * byte-identical to an uninterrupted run.
 *
 * The killed runs and lane a's reruns start the CLI transpiled ahead (helpers.ts builtCli), which
 * starts twice as fast as through tsx; the reference run and lane b's reruns are the sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runStudy } from '../../src/study/study.js';
import { builtCli, entryInodes, entryKeys, prng, snapshot, spawnHrank, STUDY, verifyCache } from './helpers.js';

const SEED = 0x5eed_c0de;
/** Kill moments in total (the issue asks for at least 20). */
const KILLS = 20;
/** Kills on one cache before its completing rerun, at most. */
const MAX_KILLS_IN_A_ROW = 8;
/** A timed kill comes this many ms after the child's `plan` line: uniform in [0, MAX_DELAY). */
const MAX_DELAY = 600;

test(`kill -9 at ${KILLS} seeded random moments: reruns finish, recompute only unfinished steps, same bytes`, { timeout: 180_000 }, async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'hrank-kill-'));
  const random = prng(SEED);
  try {
    const file = path.join(root, 'trial.yaml');
    writeFileSync(file, STUDY);
    // The killed runs are the CLI transpiled ahead (twice as fast to start as through tsx).
    const main = await builtCli();

    // The reference: one uninterrupted run (in-process: the killed runs are the transpiled CLI, the
    // sources run here and in lane b's reruns; all must agree to the byte).
    const ref = await runStudy(file, { cache: path.join(root, 'ref-cache'), results: path.join(root, 'ref'), jobs: 1 });
    assert.ok(ref.run.ok);
    const expected = snapshot(ref.dir);
    // Stored steps (the derived ranks are never stored).
    const steps = ref.plan.steps.filter((s) => s.kind !== 'ranks').length;
    const keyOf = new Map(ref.plan.steps.map((s) => [s.id, s.key]));

    // Two lanes of kill sequences run side by side (each on its own cache), to keep the test short.
    let kills = 0;
    let sequences = 0;
    const moments: string[] = [];
    const lane = async (name: string): Promise<void> => {
      while (kills < KILLS) {
        const sequence = `${name}${++sequences}`;
        const cache = path.join(root, `cache-${sequence}`);
        const results = path.join(root, `results-${sequence}`);
        let finishedByChild = false;
        for (let k = 0; k < MAX_KILLS_IN_A_ROW && kills < KILLS; k++) {
          const before = entryInodes(cache);
          // Most kills come at a random time after the child's plan line; the others just after
          // its n-th step finished (n random among the steps still missing), so that every phase
          // is hit: light steps, worker start-up, ranks, collect, results, report.
          const byStep = random() < 0.4;
          const missing = steps - before.size;
          const n = 1 + Math.floor(random() * Math.max(1, missing));
          const delay = byStep ? Math.floor(random() * 40) : Math.floor(random() * MAX_DELAY);
          const what = byStep ? `${delay} ms after step ${n} of ${missing}` : `${delay} ms after plan`;
          const run = spawnHrank(['run', file, '--cache', cache, '--results', results, '--jobs', '1', '--json'], {}, main);
          await run.when(byStep ? (text) => (text.match(/^done /gm) ?? []).length >= n : (text) => /^plan /m.test(text));
          await new Promise((r) => setTimeout(r, delay));
          run.child.kill('SIGKILL');
          const out = await run.done;
          const after = entryInodes(cache);
          for (const [key, ino] of before) assert.equal(after.get(key), ino, `${sequence}.${k}: entry ${key} finished before the run was written again`);
          if (out.signal !== 'SIGKILL') {
            // The run ended before the kill: it finished cleanly.
            assert.equal(out.code, 0, out.stderr);
            const summary = JSON.parse(out.stdout) as { computed: number; ok: boolean };
            assert.ok(summary.ok);
            assert.equal(summary.computed, after.size - before.size, 'it computed exactly the steps that were missing');
            finishedByChild = true;
            moments.push(`${sequence}.${k}: ${what}: the run finished first (computed ${summary.computed})`);
            break;
          }
          kills++;
          moments.push(`${sequence}.${k}: ${what}: killed with ${after.size - before.size} more steps cached (${after.size} of ${steps})`);
          // Whatever the moment, the cache holds only sound entries.
          assert.deepEqual(await verifyCache(cache), [], `after kill ${sequence}.${k}`);
        }

        // The rerun that finishes: through the CLI (--json counts) in lane a, in-process in lane b.
        const present = entryKeys(cache);
        let computed: string[] | undefined;
        let computedCount: number;
        if (name === 'a') {
          const out = await spawnHrank(['run', file, '--cache', cache, '--results', results, '--jobs', '1', '--json'], {}, main).done;
          assert.equal(out.code, 0, `${sequence}: the rerun failed\n${out.stderr}`);
          const summary = JSON.parse(out.stdout) as { computed: number; ok: boolean };
          assert.ok(summary.ok);
          computedCount = summary.computed;
        } else {
          const rerun = await runStudy(file, { cache, results, jobs: 1 });
          assert.ok(rerun.run.ok, `${sequence}: the rerun failed: ${JSON.stringify(rerun.run.failed)}`);
          computed = [...rerun.run.computed];
          computedCount = computed.length;
          const recomputed = computed.filter((id) => present.has(keyOf.get(id)!));
          assert.deepEqual(recomputed, [], `${sequence}: steps finished before the kill were computed again`);
        }
        // Every step an entry exists for is complete with its inputs, so what is missing is
        // exactly what is left to compute: the runs of a sequence computed each step once.
        assert.equal(present.size + computedCount, steps, `${sequence}: ${present.size} finished before + ${computedCount} computed, one run has ${steps} steps`);
        if (finishedByChild) assert.equal(computedCount, 0, 'after a run that finished, nothing is left to compute');
        assert.deepEqual(snapshot(path.join(results, 'trial')), expected, `${sequence}: results differ from an uninterrupted run`);
        assert.deepEqual(await verifyCache(cache), []);
        assert.equal(entryKeys(cache).size, steps, 'every step ends up cached, once');
      }
    };
    await Promise.all([lane('a'), lane('b')]);
    assert.ok(kills >= 20, moments.join('\n'));
    // The moments, for the log (which phases the kills hit).
    console.log(moments.join('\n'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
