/**
 * A worker thread that reads and checks a lock file (`readLock`) and sends back what tells an
 * unchanged study: its head and every point's id and key (`lock-keys.ts`). A lock of 100,000
 * points is 170 MB of JSON: reading and parsing it here overlaps the planning `hrank status` does
 * on the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LockError, readLock } from './lockfile.js';
import { keysOf, type LockKeysMessage } from './lock-keys.js';

const { file } = workerData as { file: string };
let message: LockKeysMessage;
try {
  const lock = await readLock(file);
  message = { ok: true, keys: lock === null ? null : keysOf(lock) };
} catch (e) {
  message = e instanceof LockError
    ? { ok: false, lockError: { source: e.source, message: e.message.slice(e.source.length + 2) } }
    : { ok: false, error: e instanceof Error ? e.message : String(e) };
}
parentPort!.postMessage(message);
