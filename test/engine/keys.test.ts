import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { canonicalJson } from '../../src/engine/store/canonical.js';
import { diffKeyParts, ENGINE_VERSION, explainKey, hashFile, KEY_SALT, stepKey, type KeyParts } from '../../src/engine/store/keys.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

const GOLDEN_PARTS: KeyParts = {
  salt: 'hrank-key-v1',
  kind: 'ranks',
  kindVersion: 1,
  params: { model: { hidden: [10, 10], activation: 'linear', bias: false }, loss: 'mse', samples: 100, lr: 0.5 },
  inputs: { network: A, dataset: B },
  files: { images: C },
  engine: '0.1.0',
};

function parts(overrides: Partial<KeyParts> = {}): KeyParts {
  return { ...GOLDEN_PARTS, ...overrides };
}

test('golden key: one literal key for fixed parts', () => {
  // If this test fails, what goes into keys (or how it is written) has changed. That is allowed
  // only together with a bump of KEY_SALT in src/engine/keys.ts, in the same commit, and then
  // this literal (and the salt above) is updated. Never update the literal alone: old cache
  // entries would be read as results of the new code.
  const { key, parts: normal } = stepKey(GOLDEN_PARTS);
  assert.equal(
    canonicalJson(normal),
    '{"engine":"0.1.0","files":{"images":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"},' +
      '"inputs":{"dataset":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","network":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},' +
      '"kind":"ranks","kindVersion":1,"params":{"loss":"mse","lr":0.5,"model":{"activation":"linear","bias":false,"hidden":[10,10]},"samples":100},' +
      '"salt":"hrank-key-v1"}',
  );
  assert.equal(key, 'c0d671093d6710419e219a55f9f133411cbdc17319c5f6c812c88b90231da490');
  assert.equal(KEY_SALT, 'hrank-key-v1', 'KEY_SALT changed: update GOLDEN_PARTS.salt and the literal key together');
});

test('stepKey returns the key and the parts as hashed', () => {
  const { key, parts: normal } = stepKey(parts({ params: { a: -0, b: undefined, c: [1] } }));
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.deepEqual(normal.params, { a: 0, c: [1] });
  assert.ok(Object.isFrozen(normal));
  assert.equal(key, stepKey(normal).key);
  assert.equal(typeof ENGINE_VERSION, 'string');
  assert.match(ENGINE_VERSION, /^\d+\.\d+\.\d+/);
});

test('key does not depend on key order, 1 vs 1.0, or -0 vs 0', () => {
  const k = (p: unknown, inputs: Record<string, string> = { network: A, dataset: B }) => stepKey(parts({ params: p, inputs })).key;
  assert.equal(k({ a: 1, b: { c: 2, d: 3 } }), k({ b: { d: 3, c: 2 }, a: 1 }));
  assert.equal(k({ x: 1.0 }), k({ x: 1 }));
  assert.equal(k({ x: -0 }), k({ x: 0 }));
  assert.equal(k({}, { network: A, dataset: B }), k({}, { dataset: B, network: A }));
});

test('every part changes the key', () => {
  const base = stepKey(GOLDEN_PARTS).key;
  const variants: Partial<KeyParts>[] = [
    { salt: 'hrank-key-v2' },
    { kind: 'rank' },
    { kindVersion: 2 },
    { params: { ...(GOLDEN_PARTS.params as object), samples: 101 } },
    { params: { ...(GOLDEN_PARTS.params as object), size: 1 } }, // dvc#10296: no name is ignored
    { inputs: { network: A, dataset: C } },
    { inputs: { net: A, dataset: B } },
    { inputs: { network: A } },
    { files: {} },
    { files: { labels: C } },
    { engine: '0.1.1' },
  ];
  const keys = new Set([base]);
  for (const v of variants) keys.add(stepKey(parts(v)).key);
  assert.equal(keys.size, variants.length + 1);
  // The same role and hash as an input or as a file are different keys.
  assert.notEqual(stepKey(parts({ inputs: { x: A }, files: {} })).key, stepKey(parts({ inputs: {}, files: { x: A } })).key);
  // A string that looks like a number is not the number.
  assert.notEqual(stepKey(parts({ params: { n: 1 } })).key, stepKey(parts({ params: { n: '1' } })).key);
});

test('bad parts are rejected, naming the part', () => {
  assert.throws(() => stepKey(parts({ params: { lr: NaN } })), /params\.lr: NaN is not allowed/);
  assert.throws(() => stepKey(parts({ params: { w: new Float64Array(1) } })), /params\.w: a Float64Array/);
  assert.throws(() => stepKey(parts({ inputs: { network: 'not-a-key' } })), /parts\.inputs\.network must be 64 lowercase hex/);
  assert.throws(() => stepKey(parts({ files: { images: A.toUpperCase() } })), /parts\.files\.images/);
  assert.throws(() => stepKey(parts({ kindVersion: 1.5 })), /kindVersion must be a non-negative integer, got number 1.5/);
  assert.throws(() => stepKey(parts({ kind: '' })), /parts\.kind must be a non-empty string/);
  assert.throws(() => stepKey({ ...GOLDEN_PARTS, seed: 1 } as KeyParts), /unknown part "seed"/);
  const { engine: _engine, ...missing } = GOLDEN_PARTS;
  assert.throws(() => stepKey(missing as KeyParts), /parts\.engine must be a non-empty string, got undefined/);
});

// --- properties -------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Rebuild every object with its keys in another (seeded) order. */
function reorder(value: Json, seed: number): Json {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    const out: { [key: string]: Json } = {};
    for (const k of keys) Object.defineProperty(out, k, { value: walk(v[k]!), enumerable: true, writable: true, configurable: true });
    return out;
  };
  return walk(value);
}

/** Paths of all leaves (primitives, empty arrays, empty objects). */
function leaves(value: Json, path: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value) && value.length > 0) value.forEach((v, i) => leaves(v, [...path, i], out));
  else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const k of Object.keys(value)) leaves(value[k]!, [...path, k], out);
  } else out.push(path);
  return out;
}

function getAt(value: Json, path: Path): Json {
  return path.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k]!, value);
}

function setAt(value: Json, path: Path, leaf: Json): Json {
  if (path.length === 0) return leaf;
  const copy = structuredClone(value) as Record<string | number, Json>;
  const parent = path.slice(0, -1).reduce<Record<string | number, Json>>((v, k) => v[k] as Record<string | number, Json>, copy);
  Object.defineProperty(parent, path[path.length - 1]!, { value: leaf, enumerable: true, writable: true, configurable: true });
  return copy as Json;
}

const params = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>;

test('property: reordering object keys never changes a key', () => {
  fc.assert(
    fc.property(params, fc.integer(), (p, seed) => {
      assert.equal(stepKey(parts({ params: reorder(p, seed) })).key, stepKey(parts({ params: p })).key);
    }),
    { numRuns: 300 },
  );
});

test('property: changing any leaf value always changes the key', () => {
  fc.assert(
    fc.property(params, fc.nat(), fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>, (p, which, replacement) => {
      const paths = leaves(p);
      const path = paths[which % paths.length]!;
      // A real change: the canonical text of the leaf differs (so not -0 for 0).
      fc.pre(canonicalJson(getAt(p, path)) !== canonicalJson(replacement));
      const changed = setAt(p, path, replacement);
      assert.notEqual(stepKey(parts({ params: changed })).key, stepKey(parts({ params: p })).key);
    }),
    { numRuns: 300 },
  );
});

// --- explain, hashFile ------------------------------------------------------------------------

test('explainKey lists every part, one parameter leaf per line', () => {
  const text = explainKey(GOLDEN_PARTS);
  assert.equal(
    text,
    [
      'key     c0d671093d6710419e219a55f9f133411cbdc17319c5f6c812c88b90231da490',
      'salt    hrank-key-v1',
      'engine  0.1.0',
      'kind    ranks v1',
      'param   loss = "mse"',
      'param   lr = 0.5',
      'param   model.activation = "linear"',
      'param   model.bias = false',
      'param   model.hidden[0] = 10',
      'param   model.hidden[1] = 10',
      'param   samples = 100',
      `input   dataset = ${B}`,
      `input   network = ${A}`,
      `file    images = ${C}`,
    ].join('\n'),
  );
  assert.match(explainKey(parts({ params: {} })), /^param {3}\(all\) = \{\}$/m);
  assert.match(explainKey(parts({ params: { 'a b': [] } })), /^param {3}\["a b"\] = \[\]$/m);
});

test('diffKeyParts says why a key changed', () => {
  const after = parts({ params: { ...(GOLDEN_PARTS.params as object), samples: 200 }, inputs: { network: A, dataset: C } });
  assert.deepEqual(diffKeyParts(GOLDEN_PARTS, after), [
    '- param   samples = 100',
    `- input   dataset = ${B}`,
    '+ param   samples = 200',
    `+ input   dataset = ${C}`,
  ]);
  assert.deepEqual(diffKeyParts(GOLDEN_PARTS, parts({ params: reorder(GOLDEN_PARTS.params as Json, 7) })), []);
});

test('hashFile is the sha256 of the contents', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hrank-keys-'));
  try {
    const empty = join(dir, 'empty');
    await writeFile(empty, '');
    assert.equal(await hashFile(empty), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const path = join(dir, 'big');
    await writeFile(path, big);
    assert.equal(await hashFile(path), createHash('sha256').update(big).digest('hex'));
    await assert.rejects(hashFile(join(dir, 'missing')), { code: 'ENOENT' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
