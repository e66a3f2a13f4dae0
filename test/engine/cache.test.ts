import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheError, CacheStore, type CacheStoreOptions } from '../../src/engine/store/cache.js';

const key = (s: string) => createHash('sha256').update(s).digest('hex');
const K1 = key('one');
const K2 = key('two');

const VALUE = { ranks: Int32Array.from([3, 5, 8]), sv: Float64Array.from([2.5, 1e-300, -0, NaN, Infinity]), note: 'ok', n: -0 };

/** A fresh cache root and a store whose warnings are collected. */
async function setup(options: CacheStoreOptions = {}) {
  const root = await mkdtemp(join(tmpdir(), 'hrank-cache-'));
  const warnings: string[] = [];
  const store = new CacheStore(root, { onWarning: (m) => warnings.push(m), ...options });
  return { root, store, warnings };
}

async function withCache(fn: (c: Awaited<ReturnType<typeof setup>>) => Promise<void>, options: CacheStoreOptions = {}) {
  const c = await setup(options);
  try {
    await fn(c);
  } finally {
    await rm(c.root, { recursive: true, force: true });
  }
}

/** All files under a directory, relative paths. */
async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? d.path, d.name).slice(dir.length + 1))
    .sort();
}

test('put then get returns the value exactly; stats count hits, misses and writes', () =>
  withCache(async ({ root, store, warnings }) => {
    assert.equal(await store.get(K1), undefined);
    assert.equal(await store.has(K1), false);
    await store.put(K1, VALUE, { kind: 'ranks', id: 'ranks[model.width=8]' });
    assert.equal(await store.has(K1), true);
    const out = await store.get<typeof VALUE>(K1);
    assert.deepStrictEqual(out, VALUE);
    assert.ok(Object.is(out!.n, -0));
    const entry = await store.getEntry(K1);
    assert.equal(entry!.meta.key, K1);
    assert.equal(entry!.meta.kind, 'ranks');
    assert.equal(entry!.meta.id, 'ranks[model.width=8]');
    assert.ok(!Number.isNaN(Date.parse(entry!.meta.created)));
    assert.deepEqual(store.stats, { hits: 2, misses: 1, writes: 1, corrupt: 0 });
    assert.deepEqual(await files(root), [`${K1.slice(0, 2)}/${K1}.bin`]);
    assert.equal(store.entryPath(K1), join(root, K1.slice(0, 2), `${K1}.bin`));
    assert.deepEqual(warnings, []);
    // A second store on the same directory sees the entry.
    assert.deepStrictEqual(await new CacheStore(root).get(K1), VALUE);
  }));

test('entry layout: magic, version, lengths, checksum, payload at byte 64, meta last', () =>
  withCache(async ({ store }) => {
    await store.put(K1, { x: 1 }, { kind: 'k' });
    const bytes = await readFile(store.entryPath(K1));
    assert.equal(bytes.toString('latin1', 0, 8), 'HRKCACHE');
    assert.equal(bytes.readUInt32LE(8), 1);
    const metaLength = bytes.readUInt32LE(12);
    const payloadLength = Number(bytes.readBigUInt64LE(16));
    assert.equal(bytes.length, 64 + payloadLength + metaLength);
    assert.deepEqual(bytes.subarray(24, 56), createHash('sha256').update(bytes.subarray(64)).digest());
    assert.equal(bytes.toString('latin1', 64, 68), 'HRCD');
    assert.equal((JSON.parse(bytes.toString('utf8', 64 + payloadLength)) as { key: string }).key, K1);
  }));

test('overwriting a key replaces the value; delete removes it', () =>
  withCache(async ({ store }) => {
    await store.put(K1, { v: 1 });
    await store.put(K1, { v: 2 });
    assert.deepEqual(await store.get(K1), { v: 2 });
    assert.equal(await store.delete(K1), true);
    assert.equal(await store.delete(K1), false);
    assert.equal(await store.get(K1), undefined);
  }));

/** Write an entry, damage its file, and check the damage is a warning and a miss. */
async function assertCorruptIsMiss(damage: (path: string) => Promise<void>, reason: RegExp) {
  await withCache(async ({ root, store, warnings }) => {
    await store.put(K1, VALUE);
    await store.put(K2, { other: 1 });
    const path = store.entryPath(K1);
    await damage(path);
    assert.equal(await store.get(K1), undefined);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, new RegExp(`entry ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt`));
    assert.match(warnings[0]!, reason);
    assert.match(warnings[0]!, /moved to .*corrupt.*; treating it as a miss/);
    assert.deepEqual(store.stats, { hits: 0, misses: 1, writes: 2, corrupt: 1 });
    // Moved aside: the next get is a plain miss, without a second warning.
    await assert.rejects(stat(path), { code: 'ENOENT' });
    assert.equal((await readdir(join(root, 'corrupt'))).length, 1);
    assert.equal(await store.get(K1), undefined);
    assert.equal(warnings.length, 1);
    // Other entries are untouched, and the key can be written again.
    assert.deepEqual(await store.get(K2), { other: 1 });
    await store.put(K1, VALUE);
    assert.deepStrictEqual(await store.get(K1), VALUE);
  });
}

test('a truncated entry is a warning and a miss', async () => {
  await assertCorruptIsMiss(async (p) => truncate(p, (await stat(p)).size - 10), /truncated: header announces \d+ bytes, file has \d+/);
  await assertCorruptIsMiss((p) => truncate(p, 40), /truncated: 40 bytes, shorter than the 64-byte header/);
  await assertCorruptIsMiss((p) => truncate(p, 0), /truncated: 0 bytes/);
});

test('an entry with bytes appended is a warning and a miss', () =>
  assertCorruptIsMiss((p) => fsp.appendFile(p, 'x'), /too long/));

test('a flipped byte anywhere is a warning and a miss', async () => {
  const reasons = {
    magic: /bad magic/,
    version: /unsupported entry format version/,
    length: /truncated|too long/,
    checksum: /checksum mismatch/,
    reserved: /reserved/,
    structure: /codec: header is not valid JSON/, // inside the codec's JSON header
    data: /checksum mismatch/, // inside the Float64Array bytes
    meta: /checksum mismatch/,
  };
  for (const [where, reason] of Object.entries(reasons)) {
    await assertCorruptIsMiss(async (p) => {
      const b = await readFile(p);
      const payloadEnd = 64 + Number(b.readBigUInt64LE(16));
      const at = { magic: 3, version: 9, length: 17, checksum: 30, reserved: 60, structure: 64 + 20, data: payloadEnd - 12, meta: b.length - 5 }[where]!;
      b[at]! ^= 0x01;
      await writeFile(p, b);
    }, reason);
  }
});

test('a hand-edited payload (same length, readable text) is a warning and a miss', () =>
  assertCorruptIsMiss(async (p) => {
    const b = await readFile(p);
    const text = b.toString('latin1');
    const at = text.indexOf('"ok"');
    assert.ok(at > 64);
    b.write('"no"', at, 'latin1');
    await writeFile(p, b);
  }, /checksum mismatch/));

test('an entry copied under another key is a warning and a miss', () =>
  withCache(async ({ store, warnings }) => {
    await store.put(K1, { v: 1 });
    await mkdir(join(store.root, K2.slice(0, 2)), { recursive: true });
    await fsp.copyFile(store.entryPath(K1), store.entryPath(K2));
    assert.equal(await store.get(K2), undefined);
    assert.match(warnings[0]!, /records key "[0-9a-f]{64}", not its file name/);
    assert.deepEqual(await store.get(K1), { v: 1 });
  }));

test('a future entry format version is a warning and a miss', () =>
  assertCorruptIsMiss(async (p) => {
    const b = await readFile(p);
    b.writeUInt32LE(2, 8);
    await writeFile(p, b);
  }, /unsupported entry format version 2/));

test('has() is false for a truncated entry', () =>
  withCache(async ({ store }) => {
    await store.put(K1, VALUE);
    await truncate(store.entryPath(K1), 100);
    assert.equal(await store.has(K1), false);
  }));

/** A rejected fs call with an fs-style error. */
const fsError = (code: string, syscall: string) => () =>
  Promise.reject(Object.assign(new Error(`${code}: simulated failure, ${syscall}`), { code, syscall }));

test('a failed rename throws CacheError naming the path and cause; no temp file; other entries intact', () =>
  withCache(async ({ root }) => {
    const good = new CacheStore(root);
    await good.put(K1, { v: 'old' });
    await good.put(K2, { v: 'other' });
    const before = await files(root);
    const failing = new CacheStore(root, { fs: { rename: fsError('ENOSPC', 'rename') } });
    await assert.rejects(failing.put(K1, { v: 'new' }), (err: unknown) => {
      assert.ok(err instanceof CacheError);
      assert.equal(err.code, 'ENOSPC');
      assert.equal(err.path, good.entryPath(K1));
      assert.ok(err.message.includes(good.entryPath(K1)), err.message);
      assert.match(err.message, /cannot write entry .*: ENOSPC: simulated failure/);
      return true;
    });
    assert.equal(failing.stats.writes, 0);
    assert.deepEqual(await files(root), before, 'no temp file left behind');
    assert.deepEqual(await good.get(K1), { v: 'old' });
    assert.deepEqual(await good.get(K2), { v: 'other' });
  }));

test('a write that fails half-way (ENOSPC) leaves no temp file and the old entry readable', () =>
  withCache(async ({ root }) => {
    const good = new CacheStore(root);
    await good.put(K1, { v: 'old' });
    const before = await files(root);
    let tempSeen = '';
    const open: typeof fsp.open = async (path, flags, mode) => {
      const fh = await fsp.open(path, flags, mode);
      if (flags !== 'wx') return fh;
      tempSeen = String(path);
      let calls = 0;
      // The first write succeeds (a partial file exists), the second fails.
      return new Proxy(fh, {
        get(target, prop, receiver) {
          if (prop === 'write') {
            return (...args: Parameters<fsp.FileHandle['write']>) =>
              ++calls === 1 ? (target.write as (...a: unknown[]) => unknown)(...args) : fsError('ENOSPC', 'write')();
          }
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    };
    const failing = new CacheStore(root, { fs: { open } });
    await assert.rejects(failing.put(K1, { v: 'new', big: new Float64Array(1000) }), { name: 'CacheError', code: 'ENOSPC' });
    assert.match(tempSeen, /\/\.[0-9a-f]{64}\.\d+\.[0-9a-f]+\.tmp$/);
    assert.deepEqual(await files(root), before);
    assert.deepEqual(await good.get(K1), { v: 'old' });
  }));

test('a file standing where a directory should be: CacheError, other entries readable', () =>
  withCache(async ({ root, store }) => {
    await store.put(K2, { v: 2 });
    await writeFile(join(root, K1.slice(0, 2)), 'not a directory');
    await assert.rejects(store.put(K1, { v: 1 }), (err: unknown) => {
      assert.ok(err instanceof CacheError);
      assert.equal(err.path, join(root, K1.slice(0, 2)));
      assert.ok(err.code === 'EEXIST' || err.code === 'ENOTDIR', err.code);
      assert.match(err.message, /cannot create directory/);
      return true;
    });
    assert.equal(await store.get(K1), undefined, 'a miss, not an error');
    assert.deepEqual(await store.get(K2), { v: 2 });
  }));

test('a failed delete throws CacheError', () =>
  withCache(async ({ root }) => {
    const store = new CacheStore(root, { fs: { unlink: fsError('EACCES', 'unlink') } });
    await store.put(K1, { v: 1 });
    await assert.rejects(store.delete(K1), { name: 'CacheError', code: 'EACCES' });
  }));

test('concurrent puts of one key from two stores leave one valid entry', () =>
  withCache(async ({ root, warnings }) => {
    const a = new CacheStore(root, { onWarning: (m) => warnings.push(m) });
    const b = new CacheStore(root, { onWarning: (m) => warnings.push(m) });
    const big = (seed: number) => ({ seed, w: new Float64Array(200_000).fill(seed) });
    for (let round = 0; round < 3; round++) {
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 8; i++) writes.push((i % 2 ? a : b).put(K1, big(i)));
      // Readers racing the writers see a complete value or nothing, never a corrupt one.
      const reads = Array.from({ length: 8 }, () => a.get<{ seed: number; w: Float64Array }>(K1));
      await Promise.all(writes);
      for (const r of await Promise.all(reads)) {
        if (r !== undefined) assert.ok(r.w.every((x) => x === r.seed));
      }
      const final = await b.get<{ seed: number; w: Float64Array }>(K1);
      assert.ok(final !== undefined && final.seed >= 0 && final.seed < 8);
      assert.ok(final.w.every((x) => x === final.seed));
    }
    assert.deepEqual(warnings, []);
    assert.equal(a.stats.corrupt + b.stats.corrupt, 0);
    assert.deepEqual(await files(root), [`${K1.slice(0, 2)}/${K1}.bin`], 'no temp files left');
  }));

test('get ignores temp files; clear() removes entries and stale temp files, and nothing else', () =>
  withCache(async ({ root, store, warnings }) => {
    await store.put(K1, { v: 1 });
    await store.put(K2, { v: 2 });
    const shard = join(root, K1.slice(0, 2));
    const stale = join(shard, `.${K1}.12345.abcdef.tmp`);
    const fresh = join(root, K2.slice(0, 2), `.${K2}.12345.abcdef.tmp`);
    await writeFile(stale, 'half an entry from a crashed run');
    await writeFile(fresh, 'a write in progress');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, old, old);
    // Files the cache does not own.
    await writeFile(join(root, 'README.txt'), 'mine');
    await writeFile(join(shard, 'notes.txt'), 'mine too');
    await mkdir(join(root, 'results'));
    await writeFile(join(root, 'results', 'x.csv'), 'a,b');

    assert.deepEqual(await store.get(K1), { v: 1 });
    await fsp.unlink(store.entryPath(K1));
    assert.equal(await store.get(K1), undefined, 'a temp file is not an entry');
    assert.deepEqual(warnings, []);

    // A corrupt entry moved aside is cleared too.
    await writeFile(store.entryPath(K2), 'garbage');
    assert.equal(await store.get(K2), undefined);

    const result = await store.clear();
    assert.deepEqual(result, { entries: 0, temp: 1, corrupt: 1 });
    assert.deepEqual(
      await files(root),
      ['README.txt', `${K1.slice(0, 2)}/notes.txt`, `${K2.slice(0, 2)}/.${K2}.12345.abcdef.tmp`, 'results/x.csv'].sort(),
    );
    assert.ok(!(await readdir(root)).includes('corrupt'), 'empty corrupt/ directory removed');
  }));

test('clear() removes every entry and empty shard directories; removeStaleTemp() only old temp files', () =>
  withCache(async ({ root, store }) => {
    for (let i = 0; i < 20; i++) await store.put(key(String(i)), { i });
    const stale = join(root, K1.slice(0, 2), `.${K1}.1.ff.tmp`);
    await mkdir(join(root, K1.slice(0, 2)), { recursive: true });
    await writeFile(stale, 'x');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, old, old);
    assert.equal(await store.removeStaleTemp(), 1);
    assert.equal((await files(root)).length, 20);
    assert.deepEqual(await store.clear(), { entries: 20, temp: 0, corrupt: 0 });
    assert.deepEqual(await readdir(root), []);
    assert.equal(await store.get(key('3')), undefined);
    // Clearing a cache that does not exist is fine.
    assert.deepEqual(await new CacheStore(join(root, 'nope')).clear(), { entries: 0, temp: 0, corrupt: 0 });
  }));

test('tempMaxAgeMs: 0 makes clear() remove every temp file', () =>
  withCache(
    async ({ root, store }) => {
      await mkdir(join(root, K1.slice(0, 2)));
      await writeFile(join(root, K1.slice(0, 2), `.${K1}.1.ff.tmp`), 'x');
      assert.deepEqual(await store.clear(), { entries: 0, temp: 1, corrupt: 0 });
    },
    { tempMaxAgeMs: 0 },
  ));

test('bad keys, undefined values and bad options are rejected', () =>
  withCache(async ({ root, store }) => {
    for (const bad of ['../../etc/passwd', 'ab', K1.toUpperCase(), `${K1}0`, '']) {
      await assert.rejects(store.put(bad, 1), /a key must be 64 lowercase hex digits/);
      await assert.rejects(store.get(bad), TypeError);
      await assert.rejects(store.has(bad), TypeError);
    }
    await assert.rejects(store.put(K1, undefined), /cannot store undefined/);
    await assert.rejects(store.put(K1, { m: new Map() }), /codec: cannot encode a Map at \$\.m/);
    assert.throws(() => new CacheStore(''), /root must be a non-empty directory path/);
    assert.throws(() => new CacheStore(root, { onWarning: 'x' as unknown as () => void }), /options\.onWarning must be a function, got string/);
    assert.throws(() => new CacheStore(root, { tempMaxAgeMs: -1 }), /options\.tempMaxAgeMs must be a number >= 0, got number -1/);
  }));

test('without onWarning, corruption is reported as a process warning', () =>
  withCache(async ({ root }) => {
    const store = new CacheStore(root);
    await store.put(K1, { v: 1 });
    await truncate(store.entryPath(K1), 70);
    const seen: Error[] = [];
    const listener = (w: Error) => seen.push(w);
    process.on('warning', listener);
    try {
      assert.equal(await store.get(K1), undefined);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', listener);
    }
    assert.equal(seen.length, 1);
    assert.match(seen[0]!.message, /is corrupt \(truncated/);
  }));
