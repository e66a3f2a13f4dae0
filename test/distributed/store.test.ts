/**
 * The pieces of distributed runs in-process: Redis URLs, the checks a worker makes on a job, and
 * the shared store (Redis for small values, the shared cache folder for large ones). The store
 * tests SKIP loudly without Redis (see helpers.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { CacheStore } from '../../src/engine/store/cache.js';
import { jobPriority, stepProblem, JOB_FORMAT } from '../../src/engine/distributed/queue.js';
import { SharedStore, VALUE_PREFIX, ValueTooLargeError } from '../../src/engine/distributed/redis-cache.js';
import { parseRedisUrl, RedisUrlError } from '../../src/engine/distributed/url.js';
import { loadPlan } from '../../src/study/study.js';
import { plainStep } from '../../src/engine/kinds/plan.js';
import { skipLoudly, tempDir, testRedis, type TestRedis } from './helpers.js';
import { writePipeline, SMALL_DATA } from '../engine/helpers.js';

let redis: TestRedis | string;
const dir = tempDir();
before(async () => { redis = await testRedis(); });
after(async () => {
  if (typeof redis !== 'string') await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('Redis URLs: host, port, database, credentials masked in messages; anything else is refused', () => {
  assert.deepEqual(
    { ...parseRedisUrl('redis://10.0.0.5:6380/3') },
    { url: 'redis://10.0.0.5:6380/3', shown: 'redis://10.0.0.5:6380/3', host: '10.0.0.5', port: 6380, db: 3, username: undefined, password: undefined, tls: false },
  );
  const withPass = parseRedisUrl('rediss://me:s3cret@cache.example:7000');
  assert.equal(withPass.shown, 'rediss://me:***@cache.example:7000');
  assert.equal(withPass.password, 's3cret');
  assert.equal(withPass.tls, true);
  assert.equal(parseRedisUrl('redis://localhost').port, 6379);
  for (const bad of ['localhost:6379', 'http://x:1', 'redis://h:1/x', '']) assert.throws(() => parseRedisUrl(bad), RedisUrlError, bad);
});

test('a worker refuses jobs planned by another engine or with a key that is not the hash of its parts', async () => {
  const file = writePipeline(dir, 'jobs', `${SMALL_DATA}model: {hidden: [3]}\n`);
  const plan = await loadPlan(file);
  // As the submitter sends it: plain data (a planned step makes its parts when read).
  const step = plainStep(plan.steps.find((s) => s.kind === 'spectrum')!);
  const data = { format: JOB_FORMAT, step, submitter: 'test' };
  assert.equal(stepProblem(data), undefined);
  assert.equal(stepProblem(JSON.parse(JSON.stringify(data))), undefined, 'the step survives JSON, as through Redis');
  assert.match(stepProblem({ ...data, step: { ...step, parts: undefined } })!, /no key parts/);
  assert.match(stepProblem({ ...data, step: { ...step, parts: { ...step.parts, engine: '9.9.9' } } })!, /planned by engine 9\.9\.9.*same hrank version/);
  assert.match(stepProblem({ ...data, step: { ...step, key: 'f'.repeat(64) } })!, /not the hash of its parts/);
  assert.match(stepProblem({ ...data, format: 99 })!, /unknown format/);
  assert.match(stepProblem({ ...data, step: plainStep(plan.byId.get('collect')!) })!, /collect steps run on the submitter/);
  // Bigger points first; other steps before every spectrum step.
  assert.ok(jobPriority(step, 7280) < jobPriority(step, 312));
  assert.equal(jobPriority(plan.byId.get('dataset')!, 0), 1);
});

test('shared store: small values through Redis, byte-exact; large ones through the shared folder; a damaged value is a miss', async (t) => {
  if (typeof redis === 'string') return skipLoudly(t, redis);
  const url = await redis.database(3);
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  const warnings: string[] = [];
  try {
    const key = (c: string): string => c.repeat(64);
    const value = { params: 3, spectrum: new Float64Array([1.5, -0, 2 ** -1074, Number.MAX_VALUE]), ids: new Int32Array([1, 2]), note: 'x', gap: NaN };
    const store = new SharedStore(client, { onWarning: (m) => warnings.push(m) });
    assert.equal(await store.get(key('a')), undefined);
    const stored = await store.put(key('a'), value);
    assert.equal(stored.redis, true);
    assert.ok(stored.bytes > 0);
    assert.equal(await store.has(key('a')), true);
    const back = (await store.get(key('a'))) as typeof value;
    assert.deepEqual(back, value);
    assert.ok(Object.is(back.spectrum[1], -0));
    assert.ok((await client.ttl(VALUE_PREFIX + key('a'))) > 6 * 24 * 3600, 'values expire after about a week');

    // Larger than the Redis limit: only with a shared folder, which then holds it.
    const small = new SharedStore(client, { maxRedisBytes: 256, onWarning: (m) => warnings.push(m) });
    const big = { spectrum: new Float64Array(100).fill(1) };
    await assert.rejects(small.put(key('b'), big, { id: 'ranks[x]' }), (e: unknown) => e instanceof ValueTooLargeError && /ranks\[x\].*--cache DIR/.test(e.message));
    const shared = new CacheStore(path.join(dir, 'shared'));
    const viaDir = new SharedStore(client, { dir: shared, maxRedisBytes: 256 });
    assert.equal((await viaDir.put(key('b'), big)).redis, false);
    assert.equal(await client.exists(VALUE_PREFIX + key('b')), 0);
    assert.deepEqual(await viaDir.get(key('b')), big);
    assert.equal(await store.has(key('b')), false, 'without the folder it is not there');

    // A damaged value in Redis: a warning and a miss, never a wrong value.
    const raw = (await client.getBuffer(VALUE_PREFIX + key('a')))!;
    raw[raw.length - 1] ^= 1;
    await client.set(VALUE_PREFIX + key('a'), raw);
    assert.equal(await store.get(key('a')), undefined);
    assert.match(warnings.join('\n'), /unusable \(checksum mismatch\)/);
  } finally {
    client.disconnect();
  }
});
