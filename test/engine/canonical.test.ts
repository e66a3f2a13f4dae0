import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson, CanonicalJsonError } from '../../src/engine/store/canonical.js';

test('keys are sorted at every depth; arrays keep their order', () => {
  const a = canonicalJson({ b: 1, a: { d: [3, 1, 2], c: null } });
  const b = canonicalJson({ a: { c: null, d: [3, 1, 2] }, b: 1 });
  assert.equal(a, '{"a":{"c":null,"d":[3,1,2]},"b":1}');
  assert.equal(a, b);
  assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
});

test('keys sort by UTF-16 code units, not by locale', () => {
  assert.equal(canonicalJson({ b: 0, B: 0, a: 0, é: 0, '10': 0, '9': 0 }), '{"10":0,"9":0,"B":0,"a":0,"b":0,"é":0}');
});

test('1 and 1.0 are one number; numbers use the shortest round-trip form', () => {
  assert.equal(canonicalJson({ x: 1.0 }), canonicalJson({ x: 1 }));
  assert.equal(canonicalJson([1.0, 0.1, 1e21, 5e-324, 123456789012]), '[1,0.1,1e+21,5e-324,123456789012]');
});

test('-0 is written as 0', () => {
  assert.equal(canonicalJson(-0), '0');
  assert.equal(canonicalJson({ x: -0, y: [-0] }), '{"x":0,"y":[0]}');
});

test('NaN and infinities are rejected with the path named', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(
      () => canonicalJson({ model: { hidden: [10, bad] } }),
      (err: unknown) => err instanceof CanonicalJsonError && err.path === '$.model.hidden[1]' && err.message.includes(String(bad)),
    );
  }
  assert.throws(() => canonicalJson({ 'learning rate': NaN }, 'params'), /params\["learning rate"\]: NaN is not allowed/);
});

test('undefined members are dropped; undefined in an array is rejected', () => {
  assert.equal(canonicalJson({ a: 1, b: undefined }), '{"a":1}');
  assert.equal(canonicalJson({ a: { b: undefined } }), '{"a":{}}');
  assert.throws(() => canonicalJson({ a: [1, undefined] }), /\$\.a\[1\]: undefined is not allowed/);
  assert.throws(() => canonicalJson(undefined), /: \$: undefined/);
});

test('typed arrays and other non-JSON values are rejected with their path', () => {
  assert.throws(() => canonicalJson({ w: new Float64Array(2) }), /\$\.w: a Float64Array is not allowed/);
  assert.throws(() => canonicalJson({ w: new Int32Array(2) }), /Int32Array/);
  assert.throws(() => canonicalJson({ w: Buffer.from('x') }), /Buffer/);
  assert.throws(() => canonicalJson({ m: new Map() }), /\$\.m: a Map is not plain JSON/);
  assert.throws(() => canonicalJson({ d: new Date(0) }), /Date/);
  assert.throws(() => canonicalJson({ c: new (class Point { x = 1; })() }), /Point/);
  assert.throws(() => canonicalJson({ n: 1n }), /\$\.n: a bigint/);
  assert.throws(() => canonicalJson({ f: () => 1 }), /function/);
  assert.throws(() => canonicalJson({ [Symbol('s')]: 1 }), /symbol-keyed/);
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.throws(() => canonicalJson(cyclic), /\$\.self: a cycle/);
});

test('shared (non-cyclic) references are fine', () => {
  const shared = { k: 1 };
  assert.equal(canonicalJson({ a: shared, b: shared }), '{"a":{"k":1},"b":{"k":1}}');
});

test('regression dvc#10296: no key is filtered by its name', () => {
  assert.equal(canonicalJson({ size: 3, name: 'x', seed: 1, __proto__x: 0 }), '{"__proto__x":0,"name":"x","seed":1,"size":3}');
  const own = JSON.parse('{"__proto__": 1}') as unknown;
  assert.equal(canonicalJson(own), '{"__proto__":1}');
});

test('null-prototype objects are plain objects', () => {
  const o = Object.create(null) as Record<string, unknown>;
  o.b = 2;
  o.a = 1;
  assert.equal(canonicalJson(o), '{"a":1,"b":2}');
});

test('property: canonical text is JSON that parses back to the value (with -0 as 0)', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
      const text = canonicalJson(value);
      const normal = JSON.parse(JSON.stringify(value)) as unknown; // JSON.stringify also writes -0 as 0
      assert.deepEqual(JSON.parse(text), normal);
      assert.equal(canonicalJson(JSON.parse(text)), text);
    }),
  );
});
