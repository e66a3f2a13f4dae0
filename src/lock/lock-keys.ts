/**
 * A lock file's head and its points' ids and keys, read in a worker thread (`read-thread.ts`)
 * while the caller goes on: what `hrank status` needs to call an unchanged study up to date. The
 * whole lock (`readLock`) is read only when something changed, to say what.
 */
import { Worker } from 'node:worker_threads';
import { LockError, readLock, type LockFile } from './lockfile.js';
import { threadFile } from '../util/thread-file.js';

export interface LockKeys {
  readonly head: Omit<LockFile, 'points'>;
  /** The points' ids and keys, in the lock's order. */
  readonly ids: readonly string[];
  readonly keys: readonly string[];
}

export type LockKeysMessage =
  | { readonly ok: true; readonly keys: LockKeys | null }
  | { readonly ok: false; readonly lockError: { readonly source: string; readonly message: string } }
  | { readonly ok: false; readonly error: string };

/**
 * The ids and keys of the lock at `file` (null: there is none), read in a worker thread. Rejects
 * with the `LockError` readLock would throw for a malformed lock. Should the thread itself fail
 * (not the lock), the lock is read here instead.
 */
export function readLockKeys(file: string): Promise<LockKeys | null> {
  return new Promise<LockKeys | null>((resolve, reject) => {
    const { filename, execArgv } = threadFile(import.meta.url, 'read-thread');
    let settled = false;
    const here = (): void => {
      if (settled) return;
      settled = true;
      readLock(file).then((lock) => resolve(lock === null ? null : keysOf(lock)), reject);
    };
    let worker: Worker;
    try {
      worker = new Worker(new URL(filename), { workerData: { file }, execArgv });
    } catch {
      here();
      return;
    }
    worker.once('message', (m: LockKeysMessage) => {
      settled = true;
      void worker.terminate();
      if (m.ok) resolve(m.keys);
      else if ('lockError' in m) reject(new LockError(m.lockError.source, m.lockError.message));
      else reject(new Error(m.error));
    });
    worker.once('error', here);
    worker.once('exit', here);
  });
}

/** The same, of a lock already read. */
export function keysOf(lock: LockFile): LockKeys {
  const { points, ...head } = lock;
  return { head, ids: points.map((p) => p.id), keys: points.map((p) => p.key) };
}
