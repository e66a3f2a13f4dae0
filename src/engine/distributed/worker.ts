/**
 * `hrank worker`: a long-running BullMQ worker that takes step jobs from `hrank:steps`, reads
 * the step's inputs by key from the shared store, computes the value with `computeStep` (the
 * same code as local runs: light steps here, dense points and chain members whole in a worker
 * thread, larger points here with their heavy pieces on every thread), stores it, and completes
 * the job. A worker that dies mid-step stops renewing its job's lock; another worker's stalled
 * check puts the job back in the queue after about `stallTimeoutMs`.
 */
import os from 'node:os';
import { Worker, type Job } from 'bullmq';
import { Piscina } from 'piscina';
import { CacheStore } from '../store/cache.js';
import { hashFile } from '../store/keys.js';
import { computeStep } from '../kinds/compute-step.js';
import { datasetFiles } from '../kinds/settings.js';
import { inlineBackend, taskBackend, usesDenseRoute, type Network, type RanksBackend } from '../../science/index.js';
import { QUEUE_NAME, QUEUE_PREFIX, stepProblem, type StepJobData, type StepJobResult } from './queue.js';
import { SharedStore, VALUE_PREFIX } from './redis-cache.js';
import { RedisWatchdog, closeWithin, connectChecked, connectionOptions, parseRedisUrl, plainClient, redisTimeoutMs, type RedisUnavailableError } from './redis.js';
import type { ThreadTask } from './worker-thread.js';
import { threadFile } from '../../util/thread-file.js';

export interface WorkerOptions {
  /** `redis://host:port[/db]`. */
  readonly redis: string;
  /** Steps at once, and worker threads (default: the core count). */
  readonly jobs?: number;
  /** Shared cache folder (same path on every machine), for values too large for Redis. */
  readonly cache?: string | null;
  /** A running step whose worker stops answering for this long goes to another worker (default 30 s). */
  readonly stallTimeoutMs?: number;
  /** Give up after Redis stopped answering for this long (default `redisTimeoutMs()`). */
  readonly redisTimeoutMs?: number;
  /** One line per event (ready, start, done, failed, warnings), without a newline. */
  readonly log?: (line: string) => void;
}

export interface StepWorker {
  /** `host:pid`. */
  readonly name: string;
  /** Settles when the worker stopped: resolves after `close()`, rejects when Redis went away. */
  readonly done: Promise<void>;
  /** Steps running now. */
  readonly running: () => number;
  /** Stops taking jobs; waits for running steps unless `force` (they then go to other workers). */
  close(force?: boolean): Promise<void>;
}

const fmt = (s: number): string => (s < 10 ? s.toFixed(2) : s.toFixed(1));

export async function startWorker(opts: WorkerOptions): Promise<StepWorker> {
  const target = parseRedisUrl(opts.redis);
  const jobs = Math.max(1, opts.jobs ?? os.availableParallelism());
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const name = `${os.hostname()}:${process.pid}`;
  const timeout = opts.redisTimeoutMs ?? redisTimeoutMs();
  const stall = Math.max(1_000, opts.stallTimeoutMs ?? 30_000);

  const client = plainClient(target, 'hrank-worker-store');
  await connectChecked(client, target, Math.min(timeout, 5_000));
  const dir = opts.cache ? new CacheStore(opts.cache, { onWarning: (m) => log(`warning: ${m}`) }) : null;
  const store = new SharedStore(client, { dir, onWarning: (m) => log(`warning: ${m}`) });

  const pool = new Piscina({ ...threadFile(import.meta.url, 'worker-thread'), maxThreads: jobs, minThreads: 0, idleTimeout: 60_000 });
  pool.on('error', (e: unknown) => log(`warning: worker thread error: ${e instanceof Error ? e.message : String(e)}`));
  const inThread = <T>(task: ThreadTask): Promise<T> => pool.run(task) as Promise<T>;
  const backend: RanksBackend = taskBackend((task) => inThread(task));

  let running = 0;
  const processStep = async (job: Job<StepJobData, StepJobResult>): Promise<StepJobResult> => {
    const problem = stepProblem(job.data);
    if (problem) throw new Error(problem);
    const step = job.data.step;
    // Already stored (e.g. retried after its first worker stored it but died before completing the job).
    if (!job.data.force) {
      const inRedis = (await client.exists(VALUE_PREFIX + step.key)) === 1;
      if (inRedis || (dir && await dir.has(step.key))) return { redis: inRedis, bytes: 0, seconds: 0, worker: name };
    }

    const inputs = new Map<string, unknown>();
    for (const [role, key] of Object.entries(step.parts.inputs)) {
      const v = await store.get(key);
      if (v === undefined) {
        throw new Error(`input ${role} (${step.inputs[role] ?? key}) is neither in Redis nor in ${dir ? `the shared cache ${dir.root}` : 'a shared cache (no --cache)'}; resubmit the study`);
      }
      inputs.set(role, v);
    }
    if (step.kind === 'dataset') await checkDatasetFiles(step.config.dataset, step.parts.files);

    running++;
    log(`start ${step.id}${job.attemptsStarted > 1 || job.stalledCounter > 0 ? ' (again: its first worker stopped)' : ''}`);
    const t0 = performance.now();
    let value: unknown;
    try {
      if (step.kind !== 'spectrum') {
        value = await computeStep(step, inputs, { backend: inlineBackend(), parallel: 1 });
      } else {
        const P = (inputs.get('network') as Network).theta.length;
        value = step.chain || usesDenseRoute(P, { route: step.config.rank.route })
          ? await inThread({ kind: 'step', step, inputs })
          : await computeStep(step, inputs, { backend, parallel: jobs });
      }
    } finally {
      running--;
    }
    const seconds = (performance.now() - t0) / 1000;
    const stored = await store.put(step.key, value, { kind: step.kind, id: step.id });
    log(`done ${step.id} ${fmt(seconds)} s`);
    return { ...stored, seconds, worker: name };
  };

  const worker = new Worker<StepJobData, StepJobResult>(QUEUE_NAME, processStep, {
    connection: connectionOptions(target, { blocking: true, name: 'hrank-worker' }),
    prefix: QUEUE_PREFIX,
    concurrency: jobs,
    lockDuration: stall,
    stalledInterval: stall,
    maxStalledCount: 2,
    // Seconds of a blocking wait for jobs (a wait in flight when Redis goes away delays the exit).
    drainDelay: 2,
    autorun: false,
  });
  let lastError = '';
  worker.on('error', (e: Error) => {
    // Repeated connection errors while Redis is away: once each (the watchdog decides).
    if (e.message !== lastError) log(`warning: ${e.message}`);
    lastError = e.message;
  });
  worker.on('failed', (job, e) => {
    if (job) log(`failed ${job.data?.step?.id ?? job.id}: ${e.message}`);
  });

  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);
  let closing: Promise<void> | undefined;
  /** `gone`: Redis went away, so nothing is closed politely. */
  const shutdown = (force: boolean, gone = false): Promise<void> => (closing ??= (async () => {
    watchdog.stop();
    // close(true) drops the connections at once; gone on in the background when it takes long.
    await closeWithin(() => worker.close(force), gone ? 1_000 : force ? 3_000 : 24 * 3600_000, () => void worker.close(true).catch(() => undefined));
    await pool.destroy();
    await closeWithin(() => client.quit(), gone ? 0 : 2_000, () => client.disconnect());
  })());

  const watchdog = new RedisWatchdog(target, timeout, (err: RedisUnavailableError) => {
    log('stopping: Redis stopped answering (running steps go to other workers once it is back)');
    void shutdown(true, true).finally(() => settle.reject(err));
  });

  void worker.run().catch((e: unknown) => {
    log(`error: ${e instanceof Error ? e.message : String(e)}`);
    void shutdown(true).finally(() => settle.reject(e instanceof Error ? e : new Error(String(e))));
  });
  await worker.waitUntilReady();
  log(`worker ${name} ready: ${jobs} ${jobs === 1 ? 'step' : 'steps'} at once, queue ${QUEUE_PREFIX}:${QUEUE_NAME} on ${target.shown}${dir ? `, shared cache ${dir.root}` : ''}`);

  return {
    name,
    done,
    running: () => running,
    close: async (force = false) => {
      await shutdown(force);
      settle.resolve();
    },
  };
}

/** A dataset step reads files: they must be on this machine, with the content the key was made from. */
async function checkDatasetFiles(d: Parameters<typeof datasetFiles>[0], expected: Readonly<Record<string, string>>): Promise<void> {
  for (const [role, file] of Object.entries(datasetFiles(d))) {
    let sha: string;
    try {
      sha = await hashFile(file);
    } catch (e) {
      throw new Error(`dataset file ${file} (${role}) cannot be read on this worker (${e instanceof Error ? e.message : String(e)}): every machine needs the dataset files at the same paths`);
    }
    if (expected[role] !== undefined && sha !== expected[role]) {
      throw new Error(`dataset file ${file} (${role}) on this worker differs from the submitter's (sha256 ${sha.slice(0, 12)}... instead of ${expected[role]!.slice(0, 12)}...)`);
    }
  }
}
