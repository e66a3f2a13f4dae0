/**
 * `hrank run --redis`: the remote executor `runPlan` uses instead of computing steps here. For
 * each step the local cache lacks it first looks for the value in the shared store (another run
 * computed it), else uploads the step's inputs to the store where they are missing, enqueues a
 * job whose id is the step's cache key (so duplicates collapse into one job), and waits for it:
 * QueueEvents tell when a worker takes it ('start' in the display) and when it completes, and a
 * poll every 2 s catches anything the event stream missed (a job already finished, a job removed).
 * Then the value is read from the store; `runPlan` puts it in the local cache, so a rerun is a
 * local-cache hit.
 *
 * Redis going away: a watchdog fails every waiting step with a message naming the server after
 * `redisTimeoutMs()` without an answer; every step finished before is already in the local cache.
 */
import os from 'node:os';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CacheStore } from '../store/cache.js';
import { plainStep, type PlanStep } from '../kinds/plan.js';
import type { Network } from '../../science/index.js';
import type { RemoteExecutor } from '../exec/run.js';
import { JOB_FORMAT, QUEUE_NAME, QUEUE_PREFIX, jobPriority, type StepJobData, type StepJobResult } from './queue.js';
import { SharedStore, ValueTooLargeError } from './redis-cache.js';
import {
  RedisUnavailableError, RedisWatchdog, closeWithin, connectChecked, connectionOptions, parseRedisUrl, plainClient, redisTimeoutMs,
  type RedisTarget,
} from './redis.js';

export interface SubmitterOptions {
  /** `redis://host:port[/db]`. */
  readonly redis: string;
  /** The submitter's cache (the shared folder, when values are too large for Redis); null: --no-cache. */
  readonly cache: CacheStore | null;
  /** Use values already in the shared store (false with --no-cache: compute every step again). */
  readonly reuse?: boolean;
  readonly onWarning?: (message: string) => void;
  /** Give up after Redis stopped answering for this long (default `redisTimeoutMs()`). */
  readonly redisTimeoutMs?: number;
  /** Store poll period (default 2 s). */
  readonly pollMs?: number;
}

interface Waiter {
  readonly step: PlanStep;
  readonly onStart: () => void;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  started: boolean;
  settled: boolean;
  checking: boolean;
  /** Parameter count (spectrum steps), for the job's priority. */
  params: number;
}

const REDIS_DOWN = /max retries per request|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Stream isn't writeable|no answer within/i;

export class RedisSubmitter implements RemoteExecutor {
  readonly name = `${os.hostname()}:${process.pid}`;
  readonly #target: RedisTarget;
  readonly #client: Redis;
  readonly #store: SharedStore;
  readonly #queue: Queue<StepJobData, StepJobResult>;
  readonly #events: QueueEvents;
  readonly #watchdog: RedisWatchdog;
  readonly #cache: CacheStore | null;
  readonly #reuse: boolean;
  readonly #warn: (message: string) => void;
  readonly #waiters = new Map<string, Waiter>();
  /** The steps waiting on each abort signal (one listener per signal: see #watchAbort). */
  readonly #aborts = new WeakMap<AbortSignal, Set<Waiter>>();
  /** Keys known to be in the store (inputs uploaded or seen). */
  readonly #present = new Set<string>();
  readonly #poll: NodeJS.Timeout;
  #broken: Error | undefined;
  #closed = false;

  private constructor(target: RedisTarget, client: Redis, opts: SubmitterOptions, timeout: number) {
    this.#target = target;
    this.#client = client;
    this.#cache = opts.cache;
    this.#reuse = opts.reuse ?? true;
    this.#warn = opts.onWarning ?? ((m) => process.emitWarning(m, { code: 'HRANK_REDIS' }));
    this.#store = new SharedStore(client, { onWarning: this.#warn });
    this.#queue = new Queue<StepJobData, StepJobResult>(QUEUE_NAME, { connection: connectionOptions(target, { name: 'hrank-submit' }), prefix: QUEUE_PREFIX });
    this.#queue.on('error', () => undefined);
    // Short blocking reads: a read in flight when Redis goes away keeps the process alive until it times out.
    this.#events = new QueueEvents(QUEUE_NAME, { connection: connectionOptions(target, { blocking: true, name: 'hrank-events' }), prefix: QUEUE_PREFIX, blockingTimeout: 2_000 });
    this.#events.on('error', () => undefined);
    this.#events.on('active', ({ jobId }) => this.#started(jobId));
    this.#events.on('completed', ({ jobId, returnvalue }) => {
      const w = this.#waiters.get(jobId);
      if (w) void this.#finish(w, parseResult(returnvalue));
    });
    this.#events.on('failed', ({ jobId, failedReason }) => {
      const w = this.#waiters.get(jobId);
      if (w) this.#settle(w, new Error(failureMessage(failedReason)));
    });
    this.#events.on('stalled', ({ jobId }) => {
      const w = this.#waiters.get(jobId);
      if (w) this.#warn(`${w.step.id}: its worker stopped answering; the step goes back to the queue for another worker`);
    });
    this.#watchdog = new RedisWatchdog(target, timeout, (err) => {
      this.#broken = err;
      for (const w of [...this.#waiters.values()]) this.#settle(w, err);
    });
    this.#poll = setInterval(() => {
      for (const w of this.#waiters.values()) void this.#check(w).catch(() => undefined);
    }, opts.pollMs ?? 2_000);
  }

  /** Connects (a clear `RedisUnavailableError` within a few seconds when Redis cannot be reached). */
  static async open(opts: SubmitterOptions): Promise<RedisSubmitter> {
    const target = parseRedisUrl(opts.redis);
    const timeout = opts.redisTimeoutMs ?? redisTimeoutMs();
    const client = plainClient(target, 'hrank-submit-store');
    await connectChecked(client, target, Math.min(timeout, 5_000));
    const s = new RedisSubmitter(target, client, opts, timeout);
    try {
      await Promise.race([
        Promise.all([s.#queue.waitUntilReady(), s.#events.waitUntilReady()]),
        new Promise((_, reject) => setTimeout(() => reject(new RedisUnavailableError(`Redis at ${target.shown} did not get ready within ${Math.round(timeout / 1000)} s`)), timeout).unref()),
      ]);
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  async lookup(step: PlanStep): Promise<unknown> {
    if (!this.#reuse) return undefined;
    this.#throwIfBroken();
    try {
      const v = await this.#store.get(step.key);
      if (v !== undefined) this.#present.add(step.key);
      return v;
    } catch (e) {
      throw this.#redisError(e);
    }
  }

  compute(step: PlanStep, inputs: ReadonlyMap<string, unknown>, ctx: { readonly signal: AbortSignal; readonly onStart: () => void }): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (ctx.signal.aborted) { reject(ctx.signal.reason); return; }
      if (this.#broken) { reject(this.#broken); return; }
      let unwatch = (): void => undefined;
      const w: Waiter = {
        step, onStart: ctx.onStart, started: false, settled: false, checking: false, params: 0,
        resolve: (v) => { unwatch(); resolve(v); },
        reject: (e) => { unwatch(); reject(e); },
      };
      unwatch = this.#watchAbort(ctx.signal, w);
      (async () => {
        for (const [role, key] of Object.entries(step.parts.inputs)) await this.#upload(key, inputs.get(role), step.inputs[role] ?? role);
        if (!this.#reuse) await this.#store.forget(step.key);
        w.params = step.kind === 'spectrum' ? (inputs.get('network') as Network | undefined)?.theta.length ?? 0 : 0;
        if (w.settled) return;
        this.#waiters.set(step.key, w);
        await this.#enqueue(w);
        await this.#check(w);
      })().catch((e: unknown) => this.#settle(w, this.#redisError(e)));
    });
  }

  /**
   * Settles `w` when `signal` aborts. One listener per signal for all its steps: a study sends
   * every step at once, and a listener each would pass Node's limit of 10 per signal (and print
   * MaxListenersExceededWarning). Returns the function that stops watching `w`.
   */
  #watchAbort(signal: AbortSignal, w: Waiter): () => void {
    let watched = this.#aborts.get(signal);
    if (watched === undefined) {
      const set = new Set<Waiter>();
      watched = set;
      this.#aborts.set(signal, set);
      signal.addEventListener('abort', () => { for (const x of [...set]) this.#settle(x, signal.reason); set.clear(); }, { once: true });
    }
    const set = watched;
    set.add(w);
    return () => void set.delete(w);
  }

  /** Stops listening and closes every connection (never waits more than a few seconds). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poll);
    this.#watchdog.stop();
    for (const w of [...this.#waiters.values()]) this.#settle(w, new Error('the submitter closed'));
    // Redis gone: closing cannot be polite; it goes on in the background, bounded by disconnects.
    const ms = this.#broken ? 1_000 : 3_000;
    await Promise.all([
      closeWithin(() => this.#events.close(), ms, () => void this.#events.disconnect().catch(() => undefined)),
      closeWithin(() => this.#queue.close(), ms, () => void this.#queue.disconnect().catch(() => undefined)),
    ]);
    await closeWithin(() => this.#client.quit(), ms, () => this.#client.disconnect());
  }

  #throwIfBroken(): void {
    if (this.#broken) throw this.#broken;
  }

  #redisError(e: unknown): unknown {
    if (this.#broken) return this.#broken;
    if (!(e instanceof Error) || !REDIS_DOWN.test(e.message)) return e;
    return new RedisUnavailableError(`lost the connection to Redis at ${this.#target.shown} (${e.message})`);
  }

  /** Makes sure the store holds an input a worker will read. */
  async #upload(key: string, value: unknown, id: string): Promise<void> {
    if (this.#present.has(key)) return;
    if (!(await this.#client.exists(`hrank:value:${key}`))) {
      if (value === undefined) throw new Error(`input ${id} has no value to send to the workers`);
      try {
        await this.#store.put(key, value, { id });
      } catch (e) {
        // Too large for Redis: workers read it from the shared cache folder, which must hold it.
        if (!(e instanceof ValueTooLargeError) || !this.#cache || !(await this.#cache.has(key))) throw e;
      }
    }
    this.#present.add(key);
  }

  async #enqueue(w: Waiter): Promise<void> {
    const { step } = w;
    const data: StepJobData = { format: JOB_FORMAT, step: plainStep(step), submitter: this.name, ...(this.#reuse ? {} : { force: true }) };
    await this.#queue.add(step.kind, data, {
      jobId: step.key,
      priority: jobPriority(step, w.params),
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
    });
    // The same key failed before (an earlier run): try again rather than report the old failure.
    if ((await this.#queue.getJobState(step.key)) === 'failed') {
      const job = await Job.fromId<StepJobData, StepJobResult>(this.#queue, step.key);
      await job?.retry('failed').catch(() => undefined);
    }
  }

  /** Where a job is (poll and after enqueueing): start, finish or fail the waiter accordingly. */
  async #check(w: Waiter): Promise<void> {
    if (w.settled || w.checking || this.#closed) return;
    w.checking = true;
    try {
      const state = await this.#queue.getJobState(w.step.key);
      switch (state) {
        case 'active':
          this.#started(w.step.key);
          break;
        case 'failed': {
          const job = await Job.fromId<StepJobData, StepJobResult>(this.#queue, w.step.key);
          this.#settle(w, new Error(failureMessage(job?.failedReason)));
          break;
        }
        case 'completed':
        case 'unknown':
          // Completed (and removed): the value is in the store. Gone otherwise: enqueue again.
          if (await this.#client.exists(`hrank:value:${w.step.key}`) || (this.#cache && await this.#cache.has(w.step.key))) {
            await this.#finish(w, undefined);
          } else if (!w.settled) {
            await this.#enqueue(w);
          }
          break;
        default:
          break;
      }
    } finally {
      w.checking = false;
    }
  }

  #started(jobId: string): void {
    const w = this.#waiters.get(jobId);
    if (!w || w.started || w.settled) return;
    w.started = true;
    w.onStart();
  }

  /** The job completed: read the value from the store (or the shared folder) and resolve. */
  async #finish(w: Waiter, result: StepJobResult | undefined): Promise<void> {
    if (w.settled) return;
    try {
      let value = await this.#store.get(w.step.key);
      if (value === undefined && this.#cache) value = await this.#cache.get(w.step.key);
      if (value === undefined) {
        const where = result?.worker ? ` on worker ${result.worker}` : '';
        throw new Error(
          `${w.step.id} finished${where}, but its value is neither in Redis nor in the cache ${this.#cache?.root ?? '(none: --no-cache)'}; ` +
          'values too large for Redis need --cache on a folder the workers and this submitter share',
        );
      }
      if (!w.started) { w.started = true; w.onStart(); }
      this.#present.add(w.step.key);
      this.#settle(w, undefined, value);
    } catch (e) {
      this.#settle(w, this.#redisError(e));
    }
  }

  #settle(w: Waiter, error: unknown, value?: unknown): void {
    if (w.settled) return;
    w.settled = true;
    if (this.#waiters.get(w.step.key) === w) this.#waiters.delete(w.step.key);
    if (error !== undefined) w.reject(error);
    else w.resolve(value);
  }
}

function parseResult(raw: unknown): StepJobResult | undefined {
  if (typeof raw === 'string') {
    try { return JSON.parse(raw) as StepJobResult; } catch { return undefined; }
  }
  return raw !== null && typeof raw === 'object' ? (raw as StepJobResult) : undefined;
}

function failureMessage(reason: string | undefined): string {
  if (!reason) return 'the step failed on a worker';
  if (/stalled more than allowable limit/i.test(reason)) return `its workers stopped while computing it, more than twice (${reason})`;
  return reason;
}
