import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CodecError, decode, encode, encodeChunks } from '../../src/engine/store/codec.js';

/**
 * Bit-exact equality: numbers by Object.is (so -0 !== 0 and NaN === NaN), typed arrays by type
 * and bytes (so NaN payloads and subnormals count), objects by own keys.
 */
function assertBitExact(actual: unknown, expected: unknown, path = '$'): void {
  if (ArrayBuffer.isView(expected)) {
    assert.ok(ArrayBuffer.isView(actual), `${path}: expected a ${expected.constructor.name}`);
    assert.equal(actual.constructor, expected.constructor, `${path}: type`);
    const a = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength);
    const e = new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength);
    assert.ok(Buffer.from(a).equals(Buffer.from(e)), `${path}: bytes differ`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((item, i) => assertBitExact(actual[i], item, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object' && !Array.isArray(actual), `${path}: expected an object`);
    assert.deepEqual(Object.keys(actual), Object.keys(expected), `${path}: keys`);
    for (const k of Object.keys(expected)) {
      assertBitExact((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}.${k}`);
    }
    return;
  }
  assert.ok(Object.is(actual, expected), `${path}: ${String(actual)} is not ${String(expected)}`);
}

const roundTrip = (v: unknown, copy?: boolean) => decode(encode(v), copy === undefined ? {} : { copy });

test('special numbers round-trip bit for bit, as plain numbers and inside typed arrays', () => {
  const specials = [-0, 0, NaN, Infinity, -Infinity, 5e-324, -5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, 0.1];
  const value = { plain: specials, f64: Float64Array.from(specials), f32: Float32Array.from([NaN, -0, Infinity, 1e-45]) };
  const out = roundTrip(value);
  assertBitExact(out, value);
  assert.deepStrictEqual(out, value);
});

test('NaN payloads in typed arrays are kept (bytes are copied, not reinterpreted)', () => {
  const bytes = new Uint8Array(8 * 4);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x7ff00000, true);
  view.setUint32(4, 0x7ff80001, true); // quiet NaN with a payload (little-endian high word)
  view.setUint32(8, 0xffffffff, true);
  view.setUint32(12, 0xfff7ffff, true); // signalling NaN, sign bit set
  view.setUint32(16, 1, true); // smallest subnormal
  view.setUint32(28, 0x80000000, true); // -0
  const f = new Float64Array(bytes.buffer);
  assertBitExact(roundTrip({ f }), { f });
});

test('all supported typed-array types, empty arrays, and views with an offset', () => {
  const base = Float64Array.from([1, 2, 3, 4, 5]);
  const value = {
    f64: base.subarray(1, 4), // byteOffset 8 into a larger buffer
    f32: new Float32Array([1.5, -2.25, 3]), // 12 bytes: padding follows
    i32: Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 0, -1]),
    u32: Uint32Array.from([2 ** 32 - 1, 0]),
    i16: Int16Array.from([-32768, 32767, 1]),
    u16: Uint16Array.from([65535]),
    i8: Int8Array.from([-128, 127, 0]),
    u8: Uint8Array.from([255, 0, 7]),
    u8c: Uint8ClampedArray.from([255, 0]),
    empty: new Float64Array(0),
    i32odd: new Int32Array(new ArrayBuffer(16), 4, 3), // byteOffset 4
  };
  const out = roundTrip(value) as Record<string, ArrayBufferView>;
  assertBitExact(out, value);
  for (const ta of Object.values(out)) assert.equal(ta.byteOffset, 0, 'copy mode: every array owns its memory');
});

test('structure: objects, arrays, undefined, strings and odd keys round-trip', () => {
  const value = {
    a: [1, 'two', null, true, undefined, [], {}],
    nested: { deep: { deeper: [{ x: -0 }] } },
    none: undefined,
    '': 'empty key',
    'a.b': 'dotted',
    ['__proto__']: 'no prototype pollution',
    unicode: 'é\u{1F600}\ud800', // includes a lone surrogate
    tagLike: ['t', 0],
    tagObject: { t: 0, a: 1, n: 'NaN', u: [] },
  };
  Object.defineProperty(value, '__proto__', { value: { looks: 'like a prototype' }, enumerable: true });
  const out = roundTrip(value) as Record<string, unknown>;
  assertBitExact(out, value);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.ok(Object.hasOwn(out, '__proto__'));
  assert.deepEqual(roundTrip(7), 7);
  assert.deepEqual(roundTrip('s'), 's');
  assert.equal(roundTrip(null), null);
  assert.equal(roundTrip(undefined), undefined);
});

test('a typed array referenced twice is stored once and decodes as one array', () => {
  const w = Float64Array.from([1, 2]);
  const bytes = encode({ a: w, b: [w] });
  assert.ok(bytes.length < encode({ a: w, b: [Float64Array.from(w)] }).length);
  const out = decode(bytes) as { a: Float64Array; b: Float64Array[] };
  assert.equal(out.a, out.b[0]);
});

test('layout: magic, version, header length, 8-byte aligned arrays, raw little-endian bytes', () => {
  const w = Float64Array.from([1.5, -0]);
  const n = Int32Array.from([1, -2, 3]);
  const bytes = encode({ n, w });
  assert.equal(bytes.toString('latin1', 0, 4), 'HRCD');
  assert.equal(bytes.readUInt32LE(4), 1);
  const h = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.toString('utf8', 12, 12 + h)) as { blobs: [string, number, number][] };
  const dataStart = Math.ceil((12 + h) / 8) * 8;
  assert.deepEqual(header.blobs, [
    ['i32', 0, 3],
    ['f64', 16, 2], // 12 bytes of Int32 padded to 16
  ]);
  assert.equal(bytes.readInt32LE(dataStart + 8), 3);
  assert.equal(bytes.readDoubleLE(dataStart + 16), 1.5);
  assert.ok(Object.is(bytes.readDoubleLE(dataStart + 24), -0));
  assert.equal(bytes.length, dataStart + 32);
  for (const [, offset] of header.blobs) assert.equal((dataStart + offset) % 8, 0);
});

test('large arrays: the header stays small and bytes are not copied on encode', () => {
  const n = 4_000_000; // 32 MB
  const big = new Float64Array(n);
  for (let i = 0; i < n; i += 997) big[i] = i * 1e-3;
  const ints = new Int32Array(n / 2).fill(-7);
  const { chunks, byteLength } = encodeChunks({ big, ints, label: 'x' });
  assert.ok(chunks[0]!.byteLength < 200, `header chunk is ${chunks[0]!.byteLength} bytes`);
  assert.equal(chunks[1]!.buffer, big.buffer, 'encodeChunks hands out the array memory itself');
  assert.equal(byteLength, chunks.reduce((s, c) => s + c.byteLength, 0));
  const t0 = performance.now();
  const out = decode(encode({ big, ints, label: 'x' })) as { big: Float64Array; ints: Int32Array };
  const ms = performance.now() - t0;
  assertBitExact(out.big, big);
  assertBitExact(out.ints, ints);
  assert.ok(ms < 5000, `48 MB round trip took ${ms} ms`);
});

test('decode with copy: false gives views into the bytes (aligned) and copies otherwise', () => {
  const w = Float64Array.from([1, 2, 3]);
  const bytes = encode({ w });
  const view = (decode(bytes, { copy: false }) as { w: Float64Array }).w;
  assert.equal(view.buffer, bytes.buffer);
  assertBitExact(view, w);
  // Misaligned input: the same bytes one position into a buffer.
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const copied = (decode(shifted.subarray(1), { copy: false }) as { w: Float64Array }).w;
  assert.notEqual(copied.buffer, shifted.buffer);
  assertBitExact(copied, w);
});

test('values that are not plain data are rejected with their path', () => {
  assert.throws(() => encode({ a: [new Map()] }), (e: unknown) => e instanceof CodecError && /Map at \$\.a\[0\]/.test(e.message));
  assert.throws(() => encode({ d: new Date(0) }), /Date at \$\.d/);
  assert.throws(() => encode({ b: Buffer.from('x') }), /Buffer at \$\.b/);
  assert.throws(() => encode({ big: new BigInt64Array(1) }), /BigInt64Array/);
  assert.throws(() => encode({ n: 1n }), /bigint at \$\.n/);
  assert.throws(() => encode({ f: () => 0 }), /function at \$\.f/);
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  assert.throws(() => encode(cyclic), /cycle at \$\[0\]/);
});

test('malformed bytes give a CodecError, never a wrong value', () => {
  const good = encode({ w: Float64Array.from([1, 2, 3]) });
  const bad = (mutate: (b: Buffer) => Buffer) => () => decode(mutate(Buffer.from(good)));
  assert.throws(bad((b) => b.subarray(0, 5)), CodecError);
  assert.throws(bad((b) => b.subarray(0, b.length - 8)), /truncated: blob 0/);
  assert.throws(
    bad((b) => ((b[0] = 0x58), b)),
    /bad magic/,
  );
  assert.throws(
    bad((b) => (b.writeUInt32LE(9, 4), b)),
    /unsupported codec version 9/,
  );
  assert.throws(
    bad((b) => (b.writeUInt32LE(1e6, 8), b)),
    /truncated: header/,
  );
  assert.throws(
    bad((b) => (b.write('X', 13, 'latin1'), b)),
    /header is not valid JSON/,
  );
  const withHeader = (header: unknown) => {
    const h = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(12);
    prefix.write('HRCD', 0, 'latin1');
    prefix.writeUInt32LE(1, 4);
    prefix.writeUInt32LE(h.length, 8);
    return () => decode(Buffer.concat([prefix, h, Buffer.alloc(64)]));
  };
  assert.throws(withHeader({ root: ['t', 3], blobs: [] }), /bad typed-array reference at \$/);
  assert.throws(withHeader({ root: ['x'], blobs: [] }), /bad tag "x" at \$/);
  assert.throws(withHeader({ root: { a: ['n', 'nan'] }, blobs: [] }), /bad number tag at \$\.a/);
  assert.throws(withHeader({ root: null, blobs: [['f16', 0, 1]] }), /unknown type "f16"/);
  assert.throws(withHeader({ root: null, blobs: [['f64', 4, 1]] }), /bad offset 4/);
  assert.throws(withHeader({ root: null }), /"root" and "blobs"/);
});

// --- property ---------------------------------------------------------------------------------

/** Float64Array from arbitrary bytes: every bit pattern (NaN payloads, subnormals, -0). */
const rawF64 = fc.uint8Array({ maxLength: 64 }).map((b) => new Float64Array(b.buffer.slice(0, b.length - (b.length % 8))));
const typedArray = fc.oneof(
  rawF64,
  rawF64.map((f) => f.subarray(Math.min(1, f.length))),
  fc.float64Array({ maxLength: 20 }),
  fc.int32Array({ maxLength: 20 }),
  fc.float32Array({ maxLength: 20 }),
  fc.uint8Array({ maxLength: 20 }),
  fc.int16Array({ maxLength: 20 }),
);
const leaf = fc.oneof(
  fc.double(), // includes -0, NaN, infinities, subnormals
  fc.integer(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  typedArray,
);
const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('tree'), { maxLength: 5 }),
    fc.dictionary(fc.string(), tie('tree'), { maxKeys: 5, noNullPrototype: true }),
  ),
}));

test('property: random nested structures round-trip bit for bit', () => {
  fc.assert(
    fc.property(tree, fc.boolean(), (value, copy) => {
      assertBitExact(roundTrip(value, copy), value);
    }),
    { numRuns: 500 },
  );
});
