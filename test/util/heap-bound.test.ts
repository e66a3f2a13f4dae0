/** HeapBound (issue 18): a long run's heap is collected once it has grown past its slack. */
import assert from 'node:assert/strict';
import test from 'node:test';
import v8 from 'node:v8';
import { HeapBound } from '../../src/util/heap-bound.js';

test('HeapBound collects the garbage once the heap has grown past its slack, without --expose-gc', () => {
  const bound = new HeapBound(1 << 20);
  // About 30 MB of objects, then dropped: garbage until a collection.
  let junk: unknown[] | null = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `x${i}`, list: [i, i + 1] }));
  assert.equal(junk.length, 300_000);
  junk = null;
  const before = v8.getHeapStatistics().used_heap_size;
  bound.settle();
  const after = v8.getHeapStatistics().used_heap_size;
  assert.ok(after < before - 10e6, `heap ${before} -> ${after} bytes`);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'the collector is not put on the global object');
});
