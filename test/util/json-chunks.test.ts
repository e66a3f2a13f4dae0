/**
 * Big files written in pieces (issue 18): jsonChunks joined is JSON.stringify(value, null, 2)
 * byte for byte, at every size (small values whole, big arrays and objects member by member),
 * and writeFileAtomic writes a generator's pieces as one file, or leaves the target alone when
 * making them fails.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import fc from 'fast-check';
import { compactJsonChunks, jsonChunks } from '../../src/util/json-chunks.js';
import { decode, encode, encodeChunks } from '../../src/engine/store/codec.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';
import { tempDir } from '../engine/helpers.js';

const join = (v: unknown): string => [...jsonChunks(v)].join('');

test('jsonChunks joined = JSON.stringify(value, null, 2), for any JSON value, big arrays and objects included', () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
    assert.equal(join(v), JSON.stringify(v, null, 2));
  }), { numRuns: 300 });
  // Past the size written whole: nested big arrays and objects, undefined members and items, -0, strings with newlines.
  const big = {
    rows: Array.from({ length: 300 }, (_, i) => ({ id: `p${i}\n"q"`, v: i % 7 === 0 ? -0 : i / 3, list: [i, [i, null]], gone: undefined })),
    map: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k ${i}`, i % 2 ? { a: [i] } : undefined])),
    holes: [...Array.from({ length: 100 }, (_, i) => (i % 3 ? i : undefined)), {}, [], ''],
    empty: Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`u${i}`, undefined])),
  };
  assert.equal(join(big), JSON.stringify(big, null, 2));
  assert.equal(join(big.rows), JSON.stringify(big.rows, null, 2));
  assert.ok([...jsonChunks(big.rows)].length > 300, 'a big array comes in pieces');
  // The compact form likewise (the cache's header), in pieces of about the batch size.
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
    assert.equal([...compactJsonChunks(v, 16)].join(''), JSON.stringify(v));
  }), { numRuns: 300 });
  assert.equal([...compactJsonChunks(big, 1000)].join(''), JSON.stringify(big));
  assert.ok([...compactJsonChunks(big, 1000)].length > 5);
});

test('the cache codec writes a big structure\'s header in pieces: it decodes to the value, special numbers and typed arrays included', () => {
  // About 3 MB of header: several pieces; a typed array after it (its offset aligned).
  const value = {
    rows: Array.from({ length: 20_000 }, (_, i) => [i, `p${i}`, i % 5 === 0 ? NaN : i % 7 === 0 ? -0 : i / 3, { a: [i, null] }]),
    details: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, { x: i === 3 ? Infinity : i, u: undefined }])),
    spectrum: Float64Array.from([1.5, -0, 2 ** -1074, Number.MAX_VALUE]),
  };
  const { chunks, byteLength } = encodeChunks(value);
  assert.ok(chunks.length > 3, `${chunks.length} chunks`);
  assert.equal(byteLength, chunks.reduce((n, c) => n + c.byteLength, 0));
  const back = decode(encode(value)) as typeof value;
  assert.deepEqual(back.rows.slice(0, 50), value.rows.slice(0, 50));
  assert.deepEqual(back.rows.at(-1), value.rows.at(-1));
  assert.ok(Object.is(back.rows[7]![2], -0) && Number.isNaN(back.rows[5]![2]));
  assert.equal(back.details.k3!.x, Infinity);
  assert.deepEqual([...back.spectrum], [...value.spectrum]);
  assert.ok(Object.is(back.spectrum[1], -0));
});

test('writeFileAtomic writes an iterable of pieces as one file; a failure while making them leaves the target as it was', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'out.json');
  const pieces = function* (): Generator<string | Uint8Array> {
    for (let i = 0; i < 5000; i++) yield `line ${i} é\n`;
    yield Buffer.from('bytes\n');
    yield '';
  };
  await writeFileAtomic(file, pieces());
  assert.equal(readFileSync(file, 'utf8'), [...pieces()].map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString('utf8'))).join(''));
  writeFileSync(file, 'before\n');
  const failing = function* (): Generator<string> {
    yield 'x'.repeat(3 << 20);
    throw new Error('made wrong');
  };
  await assert.rejects(writeFileAtomic(file, failing()), /made wrong/);
  assert.equal(readFileSync(file, 'utf8'), 'before\n');
  assert.deepEqual(readdirSync(dir), ['out.json'], 'no temp file left');
  assert.ok(existsSync(file));
});
