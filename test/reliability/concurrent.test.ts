/**
 * Concurrent runs on one cache: per-step lock files (src/engine/locks.ts) make a second run wait
 * for the steps the first is computing, instead of computing them again; stale locks (a holder
 * that is gone, or silent for too long) are taken over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { StepLocks } from '../../src/engine/store/step-locks.js';
import { runStudy } from '../../src/study/study.js';
import { builtCli, entryKeys, snapshot, spawnHrank, STUDY, verifyCache } from './helpers.js';

const K1 = 'a'.repeat(64);
const K2 = 'b'.repeat(64);

function temp(): string {
  return mkdtempSync(path.join(tmpdir(), 'hrank-conc-'));
}

/** Writes a lock file by hand (as another process would have left it). */
function plant(locks: StepLocks, key: string, content: unknown): void {
  mkdirSync(locks.dir, { recursive: true });
  writeFileSync(locks.lockPath(key), typeof content === 'string' ? content : JSON.stringify(content));
}

function lockFiles(cache: string): string[] {
  const dir = path.join(cache, 'locks');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((r) => child.on('close', r));
  return child.pid!;
}

test('two hrank run processes on one cache and pipeline: both finish, same results, every step computed once', { timeout: 120_000 }, async () => {
  const root = temp();
  try {
    const file = path.join(root, 'trial.yaml');
    writeFileSync(file, STUDY);
    const cache = path.join(root, 'cache');
    const args = (results: string) => ['run', file, '--cache', cache, '--results', path.join(root, results), '--jobs', '1', '--json'];
    const main = await builtCli();
    const a = spawnHrank(args('a'), {}, main);
    const b = spawnHrank(args('b'), {}, main);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const sa = JSON.parse(ra.stdout) as { computed: number; cached: number; steps: number; ok: boolean };
    const sb = JSON.parse(rb.stdout) as { computed: number; cached: number; steps: number; ok: boolean };
    assert.ok(sa.ok && sb.ok);
    // Every stored step once (the derived ranks, one per point, are never stored).
    const stored = sa.steps - 6;
    assert.equal(sa.computed + sb.computed, stored, `computed ${sa.computed} + ${sb.computed}, one run has ${stored} stored steps`);
    assert.deepEqual(snapshot(path.join(root, 'a', 'trial')), snapshot(path.join(root, 'b', 'trial')));
    assert.equal(entryKeys(cache).size, stored);
    assert.deepEqual(await verifyCache(cache), []);
    assert.deepEqual(lockFiles(cache), [], 'every lock released');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('two runs in one process (same pid) and a prefix-sum chain: each step computed once, same results', { timeout: 60_000 }, async () => {
  const root = temp();
  try {
    // dataset.samples swept on a small dense network: the ranks steps form a prefix-sum chain.
    // Two copies of the file (each run writes the study's lock file beside it); keys depend on
    // content only, so both runs plan the same steps.
    const text = STUDY.replace('name: trial', 'name: chain').replace('sweep:\n  seed: [1, 2, 3, 4, 5, 6]', 'sweep:\n  dataset.samples: [10, 20, 30]\n  loss: [mse, cross-entropy]');
    const files = ['a', 'b'].map((d) => {
      mkdirSync(path.join(root, d));
      const f = path.join(root, d, 'chain.yaml');
      writeFileSync(f, text);
      return f;
    });
    const cache = path.join(root, 'cache');
    const [a, b] = await Promise.all(files.map((f) => runStudy(f, { cache, results: path.join(path.dirname(f), 'results'), jobs: 2 })));
    assert.ok(a.run.ok && b.run.ok);
    assert.ok(a.plan.steps.some((s) => s.chain), 'the study has chains');
    const all = [...a.run.computed, ...b.run.computed];
    assert.equal(new Set(all).size, all.length, `a step computed twice: ${all.filter((id, i) => all.indexOf(id) !== i).join(', ')}`);
    assert.equal(all.length, a.plan.steps.filter((s) => s.kind !== 'ranks').length);
    // (table.md names the pipeline file, which differs here.)
    const pure = ['results.csv', 'results.json', 'details.json'];
    assert.deepEqual(snapshot(a.dir, pure), snapshot(b.dir, pure));
    assert.deepEqual(lockFiles(cache), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('locks: O_EXCL, one holder at a time; the file names pid, host and start time', async () => {
  const root = temp();
  try {
    const a = new StepLocks(root);
    const b = new StepLocks(root);
    const la = await a.tryAcquire(K1, 'ranks[x]');
    assert.ok(la);
    assert.equal(await b.tryAcquire(K1), undefined, 'held');
    assert.ok(await b.tryAcquire(K2), 'another key is free');
    const state = await b.inspect(K1);
    assert.equal(state?.stale, false);
    assert.equal(state?.info?.pid, process.pid);
    assert.equal(state?.info?.hostname, hostname());
    assert.ok(!Number.isNaN(Date.parse(state!.info!.started)));
    assert.equal(state?.info?.step, 'ranks[x]');
    await la.release();
    await la.release(); // idempotent
    assert.ok(await b.tryAcquire(K1), 'free after release');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('locks: a lock whose process is gone is stale and taken over at once, with a warning', async () => {
  const root = temp();
  try {
    const warnings: string[] = [];
    const locks = new StepLocks(root, { onWarning: (m) => warnings.push(m) });
    const pid = await deadPid();
    plant(locks, K1, { pid, hostname: hostname(), started: new Date().toISOString(), processStarted: Date.now(), token: 'x' });
    const state = await locks.inspect(K1);
    assert.equal(state?.stale, true);
    assert.match(state!.reason, new RegExp(`process ${pid} is gone`));
    const lock = await locks.tryAcquire(K1, 'dataset');
    assert.ok(lock);
    assert.match(warnings.join('\n'), /took over the lock of dataset \(process \d+ is gone\)/);
    await lock.release();
    // Our own pid, but a token this process does not hold: left by an earlier process with our pid.
    plant(locks, K2, { pid: process.pid, hostname: hostname(), started: new Date().toISOString(), processStarted: Date.now(), token: 'old' });
    assert.match((await locks.inspect(K2))!.reason, /left by an earlier run with this pid/);
    assert.ok(await locks.tryAcquire(K2));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('locks: on another host, a lock is live while its heartbeat is fresh and stale after staleMs', async () => {
  const root = temp();
  try {
    const locks = new StepLocks(root, { staleMs: 1000 });
    const path1 = locks.lockPath(K1);
    plant(locks, K1, { pid: 1, hostname: 'elsewhere.example', started: new Date().toISOString(), processStarted: 0, token: 't' });
    assert.equal((await locks.inspect(K1))?.stale, false, 'fresh: another machine may be computing');
    assert.equal(await locks.tryAcquire(K1), undefined);
    const old = new Date(Date.now() - 5000);
    utimesSync(path1, old, old);
    const state = await locks.inspect(K1);
    assert.equal(state?.stale, true);
    assert.match(state!.reason, /no heartbeat for 5 s \(held by pid 1 on elsewhere\.example\)/);
    assert.ok(await locks.tryAcquire(K1));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('locks: the heartbeat keeps a held lock fresh; an empty lock is stale only after a grace period', async () => {
  const root = temp();
  try {
    const locks = new StepLocks(root, { heartbeatMs: 40, staleMs: 1000, emptyGraceMs: 1000 });
    const lock = (await locks.tryAcquire(K1))!;
    const old = new Date(Date.now() - 5000);
    utimesSync(lock.path, old, old);
    await new Promise((r) => setTimeout(r, 150));
    const state = await new StepLocks(root, { staleMs: 1000 }).inspect(K1);
    assert.equal(state?.stale, false, 'refreshed by the heartbeat');
    await lock.release();

    plant(locks, K2, '');
    assert.equal((await locks.inspect(K2))?.stale, false, 'being written');
    utimesSync(locks.lockPath(K2), old, old);
    assert.equal((await locks.inspect(K2))?.stale, true, 'a holder killed between create and write');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('locks: a waiter gets the entry when it appears, or the lock when it is released; abort stops it', async () => {
  const root = temp();
  try {
    const locks = new StepLocks(root, { pollMs: 10, maxPollMs: 20 });
    const held = (await locks.tryAcquire(K1))!;
    let ready = false;
    const waiting = locks.acquire(K1, { ready: async () => ready });
    setTimeout(() => (ready = true), 60);
    assert.equal(await waiting, 'ready');

    const waiting2 = locks.acquire(K1);
    setTimeout(() => void held.release(), 60);
    const got = await waiting2;
    assert.notEqual(got, 'ready');
    if (got !== 'ready') await got.release();

    const blocker = (await locks.tryAcquire(K2))!;
    const controller = new AbortController();
    const waiting3 = locks.acquire(K2, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 40);
    await assert.rejects(waiting3, /stop/);
    await blocker.release();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('locks: many processes-worth of breakers racing on one stale lock: exactly one wins each round', async () => {
  const root = temp();
  try {
    const pid = await deadPid();
    for (let round = 0; round < 20; round++) {
      const contenders = Array.from({ length: 4 }, () => new StepLocks(root));
      plant(contenders[0]!, K1, { pid, hostname: hostname(), started: '', processStarted: 0, token: `r${round}` });
      const got = await Promise.all(contenders.map((l) => l.tryAcquire(K1)));
      const winners = got.filter((g) => g !== undefined);
      assert.equal(winners.length, 1, `round ${round}: ${winners.length} holders`);
      await winners[0]!.release();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('hrank clean removes stale locks and leaves live ones', async () => {
  const root = temp();
  try {
    const { CacheStore } = await import('../../src/engine/store/cache.js');
    const locks = new StepLocks(root);
    const live = (await locks.tryAcquire(K1))!;
    plant(locks, K2, { pid: await deadPid(), hostname: hostname(), started: '', processStarted: 0, token: 'x' });
    await new CacheStore(root).clear();
    assert.deepEqual(lockFiles(root), [`${K1}.lock`]);
    await live.release();
    await new CacheStore(root).clear();
    assert.deepEqual(readdirSync(root), [], 'the empty locks folder goes too');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
