/**
 * Keeps a long run's JS heap near what it holds. A sweep of 100,000 tiny points makes about
 * 400,000 steps whose short-lived objects (cache writes and step locks in flight for
 * milliseconds) outlive the young generation, so V8 lets the old one grow to two or three times
 * the live data before a full collection: at 24,000 points, 960 MB of peak memory for at most
 * 260 MB held (measured with --trace-gc). `HeapBound.tick()`, called per finished step, and
 * `settle()`, between the phases that write results, ask for a full collection whenever the
 * heap has grown by `slack` (or half of what it held) since the last one. V8 offers no such call
 * without --expose-gc, which a CLI started by npx cannot pass: hand-written, with the known idiom
 * of setting the flag at run time (v8.setFlagsFromString) and taking `gc` from a new vm context.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** Heap growth between full collections (bytes; at least half the heap held, see settle). */
export const HEAP_SLACK = 128 * 2 ** 20;
/** Steps between looks at the heap (a look costs microseconds; steps take milliseconds). */
const EVERY = 512;

let collector: (() => void) | null | undefined;

/** The full collector, or null where this V8 refuses the flag. */
function fullCollector(): (() => void) | null {
  if (collector !== undefined) return collector;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    collector = typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    collector = null;
  }
  return collector;
}

export class HeapBound {
  #ticks = 0;
  #after: number;
  constructor(private readonly slack = HEAP_SLACK) {
    this.#after = v8.getHeapStatistics().used_heap_size;
  }

  /** One step done: every EVERY steps, `settle`. */
  tick(): void {
    if (++this.#ticks % EVERY === 0) this.settle();
  }

  /** A full collection if the heap grew by `slack` since the last (between a run's phases: results, report, lock). */
  settle(): void {
    // At least half the heap held after the last collection: each costs about what it traces,
    // so collections stay a fixed share of the run's time however much it holds.
    if (v8.getHeapStatistics().used_heap_size - this.#after < Math.max(this.slack, this.#after / 2)) return;
    const gc = fullCollector();
    if (!gc) return;
    gc();
    this.#after = v8.getHeapStatistics().used_heap_size;
  }
}
