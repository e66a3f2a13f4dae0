/**
 * The fast paths of keys (issue 18): the canonical writer that tracks no paths, and the key text
 * stepKey assembles by hand, must give exactly what the rules give: canonicalJson of the parts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import test from 'node:test';
import fc from 'fast-check';
import { canonicalJson, canonicalText } from '../../src/engine/store/canonical.js';
import { ENGINE_VERSION, KEY_SALT, KindKeys, StepKeyMemo, stepKey } from '../../src/engine/store/keys.js';

const json = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const hex = fc.stringMatching(/^[0-9a-f]{64}$/);

test('stepKey = sha256 of canonicalJson(parts), for any parameters, inputs and files; the memo gives the same keys and shares parameters', () => {
  const memo = new StepKeyMemo();
  fc.assert(fc.property(json, fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), hex, { maxKeys: 3 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), hex, { maxKeys: 2 }), fc.nat(5),
    (params, inputs, files, version) => {
      const parts = { salt: KEY_SALT, kind: 'ranks', kindVersion: version, params, inputs, files, engine: ENGINE_VERSION };
      const made = stepKey(parts);
      const want = createHash('sha256').update(canonicalJson(made.parts), 'utf8').digest('hex');
      assert.equal(made.key, want);
      assert.equal(canonicalJson(made.parts.params), canonicalJson(params));
      const again = stepKey(parts, memo);
      assert.equal(again.key, made.key);
      assert.equal(stepKey({ ...parts, params: JSON.parse(JSON.stringify(params)) as unknown }, memo).parts.params, again.parts.params);
      // The planner's key maker: the same key, the same normal parameters.
      const kindKeys = new KindKeys({ salt: KEY_SALT, kind: 'ranks', kindVersion: version, engine: ENGINE_VERSION });
      const planned = kindKeys.key(params, inputs, files);
      assert.equal(planned.key, made.key);
      assert.equal(canonicalJson(planned.params), canonicalJson(made.parts.params));
      // Many inputs, given as sorted roles and their keys: the same key.
      const roles = Object.keys(inputs).sort();
      assert.equal(kindKeys.keyOfSorted(params, roles, roles.map((r) => inputs[r]!), files).key, made.key);
      if (roles.length > 1) assert.throws(() => kindKeys.keyOfSorted(params, [...roles].reverse(), [...roles].reverse().map((r) => inputs[r]!), files), /out of order/);
    }), { numRuns: 300 });
  assert.throws(() => new KindKeys({ salt: KEY_SALT, kind: '', kindVersion: 1, engine: ENGINE_VERSION }), /parts\.kind must be a non-empty string/);
  assert.throws(() => new KindKeys({ salt: KEY_SALT, kind: 'ranks', kindVersion: 1, engine: ENGINE_VERSION }).key({}, { spectrum: 'abc' }, {}), /parts\.inputs\.spectrum must be 64 lowercase hex digits/);
});

test('canonicalJson: the fast writer and the checking one agree; what the rules reject is still named at its path', () => {
  fc.assert(fc.property(json, (v) => {
    const text = canonicalJson(v);
    // A fixed point: canonical text parses back to a value whose canonical text is the same.
    assert.equal(canonicalJson(JSON.parse(text)), text);
  }), { numRuns: 300 });
  assert.throws(() => canonicalJson({ a: [1, { b: NaN }] }), /\$\.a\[1\]\.b: NaN is not allowed/);
  const cyclic: Record<string, unknown> = { x: 1 };
  cyclic.self = { back: cyclic };
  assert.throws(() => canonicalJson(cyclic), /\$\.self\.back: a cycle/);
  assert.equal(canonicalJson({ b: -0, a: [1.0, 'x', null, true], c: undefined }), '{"a":[1,"x",null,true],"b":0}');
});

/** The value with its object members in sorted order at every depth. */
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
  return v;
}

function integerKeys(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(integerKeys);
  if (v === null || typeof v !== 'object') return false;
  return Object.keys(v).some((k) => /^(0|[1-9][0-9]*)$/.test(k) && Number(k) < 2 ** 32 - 1) || Object.values(v).some(integerKeys);
}

test('canonicalText: values already in canonical form are written by JSON.stringify, to the same text; anything else is not taken as is', () => {
  fc.assert(fc.property(json, (v) => {
    const text = canonicalJson(v);
    const s = canonicalText(sorted(v));
    assert.equal(s.text, text);
    // JSON has no -0, so every key-sorted JSON value is in canonical form, unless it has
    // integer-like keys (objects list those first, whatever the order they were written in).
    if (!integerKeys(v)) assert.equal(s.asIs, true);
    if (s.asIs) assert.equal(JSON.stringify(sorted(v)), text);
    const as = canonicalText(v);
    assert.equal(as.text, text);
    if (as.asIs) assert.equal(JSON.stringify(v), text);
  }), { numRuns: 300 });
  // Integer-like keys: for...in lists them in numeric order, the rules sort them as text.
  assert.deepEqual(canonicalText({ 9: 'a', 10: 'b' }), { text: '{"10":"b","9":"a"}', asIs: false });
  assert.deepEqual(canonicalText({ a: -0, b: [1] }), { text: '{"a":0,"b":[1]}', asIs: false });
  assert.deepEqual(canonicalText({ a: 1, b: undefined }), { text: '{"a":1}', asIs: false });
  // What JSON.stringify would quietly write or drop is still rejected.
  assert.throws(() => canonicalText({ a: 1, [Symbol('s')]: 2 }), /symbol-keyed members/);
  assert.throws(() => canonicalText({ a: new Date(0) }), /\$\.a: a Date is not plain JSON/);
  assert.throws(() => canonicalText({ a: { toJSON: () => 1 } }), /\$\.a\.toJSON: a function is not plain JSON/);
  assert.throws(() => canonicalText({ a: [1, Infinity] }), /\$\.a\[1\]: Infinity is not allowed/);
  assert.throws(() => canonicalText([1, undefined]), /\$\[1\]: undefined is not allowed/);
});
