/** Worker-thread entry (piscina): runs CPU-heavy pieces of steps off the main thread. */
import { Piscina } from 'piscina';
import { runTask, type WorkerTask } from './tasks.js';

export default async function run(task: WorkerTask) {
  const result = await runTask(task);
  // Large float arrays (subspace rows, eigenvalues) go back by transfer, not by copy: a row
  // block of a deep point is tens of MB, and copying it costs fresh pages on the other side.
  const buffers = ownedBuffers(result);
  if (buffers.length === 0) return result;
  return Piscina.move({ [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: result } as never);
}

/** The ArrayBuffers of the Float64Arrays directly in a result, when each is wholly its array's own. */
function ownedBuffers(result: unknown): ArrayBuffer[] {
  const arrays = result instanceof Float64Array ? [result]
    : result !== null && typeof result === 'object' && !Array.isArray(result)
      ? Object.values(result).filter((v): v is Float64Array => v instanceof Float64Array) : [];
  const buffers = new Set<ArrayBuffer>();
  for (const a of arrays) {
    if (!(a.buffer instanceof ArrayBuffer) || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return [];
    buffers.add(a.buffer);
  }
  return [...buffers];
}
