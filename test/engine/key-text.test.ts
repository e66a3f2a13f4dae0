/**
 * The fast paths of keys (issue 18): the canonical writer that tracks no paths, and the key text
 * stepKey assembles by hand, must give exactly what the rules give: canonicalJson of the parts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import test from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../../src/engine/store/canonical.js';
import { ENGINE_VERSION, KEY_SALT, StepKeyMemo, stepKey } from '../../src/engine/store/keys.js';

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
    }), { numRuns: 300 });
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
