/**
 * `hrank run --redis` with `hrank worker` processes (child processes, as on a cluster):
 * byte-identical results to the local run, a worker killed mid-step, resubmitting, Redis
 * unreachable or going away. SKIPPED loudly without Redis (see helpers.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CacheStore } from '../../src/engine/store/cache.js';
import { loadPlan, runStudy } from '../../src/study/study.js';
import { exitOf, freePort, hrank, killChildren, redisServerBinary, skipLoudly, startRedis, tempDir, testRedis, type Child, type TestRedis } from './helpers.js';
import { KNIFE } from '../engine/helpers.js';

/** Dense points and two prefix-sum chains (sample sizes 10, 15, 20 per width). */
const SMALL = `version: 1
name: small
dataset:
  source: gaussian-mixture
  dim: 6
  samples: 20
  classes: 3
model:
  width: 3
  depth: 1
sweep:
  model.width: [2, 3]
  dataset.samples: [10, 15, 20]
`;

/** Points past the dense route (P 1,260 - 1,540: sketch and Gram), a few seconds each on one thread. */
const SLOW = `version: 1
name: slow
dataset:
  source: gaussian-mixture
  dim: 30
  samples: 120
  classes: 5
model:
  width: 36
  depth: 1
sweep:
  model.width: [36, 40, 44]
`;

const FILES = ['results.csv', 'results.json', 'details.json'];

let redis: TestRedis | string;
const dir = tempDir();

before(async () => {
  redis = await testRedis();
});
after(async () => {
  killChildren();
  if (typeof redis !== 'string') await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, body: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, body);
  return file;
}

async function localRun(file: string, tag: string): Promise<string> {
  const r = await runStudy(file, { cache: path.join(dir, `cache-local-${tag}`), results: path.join(dir, `results-local-${tag}`), jobs: 2 });
  assert.ok(r.run.ok);
  return r.dir;
}

function assertSame(a: string, b: string): void {
  for (const f of FILES) assert.equal(readFileSync(path.join(b, f), 'utf8'), readFileSync(path.join(a, f), 'utf8'), `${f} differs`);
}

function workers(url: string, n: number, extra: string[] = []): Child[] {
  return Array.from({ length: n }, () => hrank(['worker', '--redis', url, '--jobs', '1', ...extra]));
}

interface Summary { ok: boolean; computed: number; cached: number; results: string }

async function submit(file: string, url: string, tag: string, extra: string[] = []): Promise<{ code: number | null; summary: Summary; stderr: string }> {
  const c = hrank(['run', file, '--redis', url, '--cache', path.join(dir, `cache-${tag}`), '--results', path.join(dir, `results-${tag}`), '--json', ...extra]);
  const code = await exitOf(c, 60_000);
  assert.equal(code, 0, `hrank run --redis failed:\n${c.stderr()}`);
  // Every step of a study waits on the run's one abort signal: one listener, not one per step.
  assert.doesNotMatch(c.stderr(), /MaxListenersExceededWarning/);
  return { code, summary: JSON.parse(c.stdout()) as Summary, stderr: c.stderr() };
}

/** Two workers (stall timeout 2 s) on database 1, shared by the first two tests. */
let pair: Promise<{ url: string; ws: Child[] }> | undefined;
function sharedWorkers(r: TestRedis): Promise<{ url: string; ws: Child[] }> {
  return (pair ??= (async () => {
    const url = await r.database(1);
    const ws = workers(url, 2, ['--stall-timeout', '2']);
    await Promise.all(ws.map((w) => w.waitFor(/ready/)));
    return { url, ws };
  })());
}

/** The local reference of the kill test, started early (it overlaps the first test). */
let slowLocal: Promise<string> | undefined;
const slowReference = (): Promise<string> => (slowLocal ??= localRun(write('slow', SLOW), 'slow'));

test('two worker processes give byte-identical results to the local run; resubmitting computes nothing', async (t) => {
  if (typeof redis === 'string') return skipLoudly(t, redis);
  const file = write('small', SMALL);
  const [{ url, ws }, local] = await Promise.all([sharedWorkers(redis), localRun(file, 'small')]);
  void slowReference().catch(() => undefined);

  const first = await submit(file, url, 'small');
  assert.equal(first.summary.cached, 0);
  assert.equal(first.summary.computed, 3 + 2 + 3 + 6 + 6 + 1, 'datasets, networks, input ranks, predictions, spectra, collect (ranks are derived)');
  assertSame(local, first.summary.results);
  // Both workers took steps.
  for (const w of ws) assert.match(w.stderr(), /done \S+/);
  assert.match(first.stderr, /done ranks\[model\.width=2,dataset\.samples=20\]/, 'same progress lines as local runs');

  // Resubmitted with the same cache: every step is a local-cache hit. From another machine (an
  // empty cache): the values come from Redis, only collect runs here. No worker computes anything.
  const starts = (): number[] => ws.map((w) => (w.stderr().match(/ start /g) ?? []).length);
  const before = starts();
  const opts = (tag: string) => ({ redis: url, cache: path.join(dir, `cache-${tag}`), results: path.join(dir, `results-${tag}`) });
  const again = await runStudy(file, opts('small'));
  assert.ok(again.run.ok);
  assert.deepEqual(again.run.computed, [], 'a resubmitted finished study computes nothing');
  assert.deepEqual(again.run.cached, ['collect']);
  assertSame(local, again.dir);
  const elsewhere = await runStudy(file, opts('small-elsewhere'));
  assert.ok(elsewhere.run.ok);
  // Ranks are derived from the spectra (never stored): read here, as collect is.
  assert.deepEqual(elsewhere.run.computed, ['collect']);
  assertSame(local, elsewhere.dir);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(starts(), before, 'no worker computed anything');
});

test('knife-edge points through Redis workers: the bytes of the local run (whose ranks are the dense route\'s, test/engine/routes.test.ts)', async (t) => {
  if (typeof redis === 'string') return skipLoudly(t, redis);
  const file = write('knife', `version: 1\nname: knife\nseed: 3\n${KNIFE}`);
  const [{ url }, local] = await Promise.all([sharedWorkers(redis), localRun(file, 'knife')]);
  const remote = await submit(file, url, 'knife');
  assertSame(local, remote.summary.results);
});

test('kill -9 of a worker mid-step: the step goes to the other worker and the results stay identical', async (t) => {
  if (typeof redis === 'string') return skipLoudly(t, redis);
  const file = write('slow', SLOW);
  const [{ url, ws: [a, b] }, local] = await Promise.all([sharedWorkers(redis), slowReference()]);
  const [fromA, fromB] = [a.stderr().length, b.stderr().length];
  const run = hrank(['run', file, '--redis', url, '--cache', path.join(dir, 'cache-slow'), '--results', path.join(dir, 'results-slow'), '--json']);
  await a.waitFor(/start spectrum\[[^\]]+\]/, 40_000, fromA);
  a.process.kill('SIGKILL');
  const logA = a.stderr().slice(fromA);
  const killed = /start (spectrum\[[^\]]+\])/.exec(logA)![1];
  assert.ok(!logA.includes(`done ${killed}`), 'killed before it finished');

  assert.equal(await exitOf(run, 60_000), 0, run.stderr());
  const summary = JSON.parse(run.stdout()) as Summary;
  assertSame(local, summary.results);
  assert.ok(b.stderr().slice(fromB).includes(`start ${killed} (again: its first worker stopped)`), `the other worker took ${killed} over:\n${b.stderr()}`);
  assert.match(run.stderr(), /its worker stopped answering/);
  // SIGTERM: the worker stops cleanly, exit 0 (a supervisor's stop).
  b.process.kill('SIGTERM');
  assert.equal(await exitOf(b, 15_000), 0);
  assert.match(b.stderr(), /stopped\n$/);
  // Ctrl-C: as cleanly, exit 130 (as every command a Ctrl-C stops, and as npx reports it).
  const c = hrank(['worker', '--redis', url, '--jobs', '1']);
  await c.waitFor(/ready:/, 20_000, 0);
  c.process.kill('SIGINT');
  assert.equal(await exitOf(c, 15_000), 130);
  assert.match(c.stderr(), /stopped\n$/);
});

test('an unreachable Redis: a clear error and exit 1 within seconds, for run and worker', async () => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const file = write('unreachable', SMALL.replace('name: small', 'name: unreachable'));
  const env = { HRANK_REDIS_TIMEOUT: '2' };
  const t0 = performance.now();
  const run = hrank(['run', file, '--redis', url, '--cache', path.join(dir, 'cache-unreachable'), '--results', path.join(dir, 'results-unreachable')], env);
  const worker = hrank(['worker', '--redis', url], env);
  assert.equal(await exitOf(run, 20_000), 1);
  assert.equal(await exitOf(worker, 20_000), 1);
  assert.ok(performance.now() - t0 < 15_000, 'quickly');
  for (const c of [run, worker]) {
    assert.match(c.stderr(), new RegExp(`error: cannot reach Redis at ${url} \\(.*ECONNREFUSED.*\\)`));
    assert.doesNotMatch(c.stderr(), /^\s+at /m, 'no stack trace');
    assert.doesNotMatch(c.stderr(), /HRANK_DEBUG/, 'nothing more to see in a stack trace');
  }
});

test('Redis going away mid-run: run and worker exit 1 with a clear error; finished steps stay in the cache', async (t) => {
  const bin = redisServerBinary();
  if (!bin) return skipLoudly(t, 'no redis-server binary to start (and stop) a Redis of this test\'s own');
  const own = await startRedis(bin);
  try {
    const file = write('away', SLOW.replace('name: slow', 'name: away'));
    const env = { HRANK_REDIS_TIMEOUT: '2' };
    const worker = hrank(['worker', '--redis', own.url, '--jobs', '1'], env);
    await worker.waitFor(/ready/);
    const cacheDir = path.join(dir, 'cache-away');
    const run = hrank(['run', file, '--redis', own.url, '--cache', cacheDir, '--results', path.join(dir, 'results-away')], env);
    await run.waitFor(/done prediction\[/, 40_000);
    await own.stop(true);
    const t0 = performance.now();
    assert.equal(await exitOf(run, 30_000), 1, run.stderr());
    assert.ok(performance.now() - t0 < 20_000, 'no hang');
    assert.match(run.stderr(), /lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+/);
    assert.match(run.stderr(), /results not written/);
    assert.equal(await exitOf(worker, 30_000), 1, worker.stderr());
    assert.match(worker.stderr(), /error: lost the connection to Redis/);

    // Every step reported done is in the submitter's cache (but the derived ranks, never stored).
    const plan = await loadPlan(file);
    const cache = new CacheStore(cacheDir);
    const done = [...run.stderr().matchAll(/^done (\S+) /gm)].map((m) => m[1]).filter((id) => !id.startsWith('ranks['));
    assert.ok(done.some((id) => id.startsWith('prediction[')));
    for (const id of done) assert.ok(await cache.has(plan.byId.get(id)!.key), `${id} in the cache`);
  } finally {
    await own.stop(true);
  }
});
