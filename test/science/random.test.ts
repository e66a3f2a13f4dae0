import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, streamSeed } from '../../src/science/random.js';

test('same seed and stream give the same numbers; other streams differ', () => {
  const a = new Rng(7, 'w1');
  const b = new Rng(7, 'w1');
  const c = new Rng(7, 'w2');
  const xs = Array.from({ length: 5 }, () => a.normal());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.normal()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.normal()));
  assert.notEqual(streamSeed(1, 'x'), streamSeed(2, 'x'));
});

test('normals have mean ~0 and variance ~1; truncated normals respect the bound', () => {
  const r = new Rng(3, 'stats');
  let s = 0, s2 = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) { const z = r.normal(); s += z; s2 += z * z; }
  assert.ok(Math.abs(s / n) < 0.03, `mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.05, `variance ${s2 / n}`);
  for (let i = 0; i < 2000; i++) assert.ok(Math.abs(r.truncatedNormal(2)) <= 2);
});
