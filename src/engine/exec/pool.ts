/**
 * The worker threads of a run: a p-queue bounds the tasks in flight to `jobs` (bigger points first:
 * priority = P, so a sweep's longest points do not end up alone at the tail), piscina runs them
 * in `pool-thread.ts`. Matrices a task consumes and message ports move to the thread uncopied.
 */
import PQueue from 'p-queue';
import { Piscina } from 'piscina';
import { MessagePort } from 'node:worker_threads';
import { taskBackend, type BackendResult, type RanksBackend } from '../../science/index.js';
import type { WorkerTask } from './tasks.js';
import { UpstreamFailed, type RunControl } from './control.js';
import { threadFile } from '../../util/thread-file.js';


export class WorkerPool {
  private readonly queue: PQueue;
  private pool?: Piscina;
  /** Tasks queued and not started: clearQueue settles them (p-queue's clear drops them silently). */
  private readonly waiting = new Set<(e: Error) => void>();
  /** Start every thread with the pool (they take ~0.2 s to load): set when heavy steps are due. */
  private warmed = false;

  constructor(private readonly jobs: number, private readonly control: RunControl, private readonly warn: (message: string) => void) {
    this.queue = new PQueue({ concurrency: jobs });
  }

  /** Starts every thread now. */
  warm(): void {
    this.warmed = true;
    this.threads();
  }

  private threads(): Piscina {
    if (!this.pool) {
      this.pool = new Piscina({ ...threadFile(import.meta.url, 'pool-thread'), maxThreads: this.jobs, minThreads: this.warmed ? this.jobs : 0, idleTimeout: 1000 });
      // A thread that cannot start fails its task; the pool-level event must not crash the process.
      this.pool.on('error', (e: unknown) => this.warn(`worker error: ${e instanceof Error ? e.message : String(e)}`));
    }
    return this.pool;
  }

  /** Runs a task in a thread once a queue slot is free; `onStart` when it leaves the queue. */
  run<T>(task: WorkerTask, priority: number, onStart?: () => void, transfer?: Float64Array | MessagePort): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.add(reject);
      (this.queue.add(async () => {
        this.waiting.delete(reject);
        return this.start<T>(task, onStart, transfer);
      }, { priority }) as Promise<T>).then(resolve, reject);
    });
  }

  private async start<T>(task: WorkerTask, onStart?: () => void, transfer?: Float64Array | MessagePort): Promise<T> {
    {
      this.control.check();
      onStart?.();
      // A matrix the caller hands over (RanksBackend.eigenvalues may consume it) moves, uncopied.
      const transferList = transfer instanceof MessagePort ? [transfer]
        : transfer && transfer.buffer instanceof ArrayBuffer && transfer.byteOffset === 0 && transfer.byteLength === transfer.buffer.byteLength
          ? [transfer.buffer] : undefined;
      return (await this.threads().run(task, { signal: this.control.signal, ...(transferList ? { transferList } : {}) })) as T;
    }
  }

  /** The science library's heavy pieces, each a task at this priority. */
  backend(priority: number): RanksBackend {
    return taskBackend((task, consumed) => this.run<BackendResult>(task, priority, undefined, consumed));
  }

  /** Drops the tasks still queued (the run is over). */
  clearQueue(): void {
    this.queue.clear();
    for (const reject of this.waiting) reject(new UpstreamFailed('run over'));
    this.waiting.clear();
  }

  /** Ends the threads. */
  async close(): Promise<void> {
    this.clearQueue();
    if (this.pool) await this.pool.destroy();
  }
}
