/**
 * Open files in flight, bounded: every cache read and write and every step-lock operation holds
 * one slot while its file is open, so however large a sweep, hrank's own concurrency never asks
 * the system for more files than the machine needs to keep its disk busy. The slot count comes
 * from the machine (cores) and the process's soft open-file limit (`ulimit -n`), never from the
 * sweep.
 *
 * A file that still cannot be opened because the limit is exhausted (by something else: a
 * parent's leaked descriptors, a tiny `ulimit -n`) is retried for a moment, then reported with
 * a message that names the limit and how to raise it; EMFILE never reaches a user bare.
 *
 * Hand-written, a few lines over p-queue (already the run's queue): graceful-fs retries EMFILE
 * but patches the callback `fs` only, not `fs/promises`, and bounds nothing.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import PQueue from 'p-queue';

/** The soft limit on open files of this process (`ulimit -n`), or undefined where it cannot be read (not Linux). */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m || m[1] === 'unlimited') return undefined;
    return Number(m[1]);
  } catch {
    return undefined;
  }
}

/** The most files hrank keeps open at once for the cache and its locks (more does not speed a disk up). */
const MAX_SLOTS = 64;

/**
 * Slots for a machine: 8 per core up to MAX_SLOTS, and at most an eighth of the open-file limit
 * (a slot may hold two descriptors: an entry's temp file and its folder's fsync; the rest is
 * left to Node, its worker threads, the report and whatever else the process opens).
 */
export function fileSlotCount(limit = openFileLimit(), cores = os.availableParallelism()): number {
  const byMachine = Math.min(MAX_SLOTS, Math.max(8, 8 * cores));
  return limit === undefined ? byMachine : Math.max(1, Math.min(byMachine, Math.floor(limit / 8)));
}

/** True for the errors of an exhausted descriptor table: this process's (EMFILE) or the system's (ENFILE). */
export function isOutOfFiles(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/** Files could not be opened: the limit is exhausted by something other than hrank's own bounded use. */
export class TooManyOpenFilesError extends Error {
  override readonly name = 'TooManyOpenFilesError';
  /** EMFILE (this process's limit) or ENFILE (the system's table). */
  readonly code: string;
  constructor(cause: NodeJS.ErrnoException, limit = openFileLimit()) {
    const system = cause.code === 'ENFILE';
    super(system
      ? `the system's table of open files is full (ENFILE) while opening ${cause.path ?? 'a file'}: other programs hold them; close some, or raise fs.file-max, and rerun (finished steps are cached)`
      : `too many open files (EMFILE) while opening ${cause.path ?? 'a file'}: this process may hold ${limit ?? 'only a few'} (its soft limit, \`ulimit -n\`${limit !== undefined ? ` = ${limit}` : ''}) and hrank keeps at most ${fileSlotCount(limit)} open itself, so something else holds the rest; raise the limit (e.g. \`ulimit -n 4096\`) and rerun (finished steps are cached)`, { cause });
    this.code = cause.code ?? 'EMFILE';
  }
}

/** How long an operation that meets EMFILE/ENFILE waits in all before giving up (ms). */
const RETRY_MS = [10, 20, 50, 100, 200, 400, 800, 1500];

export class FileSlots {
  readonly size: number;
  readonly #queue: PQueue;

  constructor(size = fileSlotCount()) {
    this.size = Math.max(1, Math.floor(size));
    this.#queue = new PQueue({ concurrency: this.size });
  }

  /** Operations holding a slot now. */
  get active(): number {
    return this.#queue.pending;
  }

  /**
   * Runs `op` (which opens at most a file and a folder, and closes them before it settles) in a
   * slot. An op that meets EMFILE/ENFILE is run again after a pause (it must be safe to repeat:
   * each of the cache's and locks' is), and past RETRY_MS throws TooManyOpenFilesError.
   */
  async run<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#queue.add(op);
      } catch (err) {
        if (!isOutOfFiles(err)) throw err;
        if (attempt >= RETRY_MS.length) throw new TooManyOpenFilesError(err as NodeJS.ErrnoException);
        await sleep(RETRY_MS[attempt]!);
      }
    }
  }
}

/** The slots of this process: every cache and lock folder shares them. */
export const FILE_SLOTS = new FileSlots();
