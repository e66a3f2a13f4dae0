/**
 * Executes a plan: demand-driven from the collect step, reading the cache first, computing what
 * is missing (heavy steps in worker threads through p-queue + piscina), writing each finished
 * step to the cache at once, so an interrupted or failed run keeps all finished work.
 * Error policy: fail fast (default) or keep going; every failed step is reported at the end.
 */
import os from 'node:os';
import PQueue from 'p-queue';
import { Piscina } from 'piscina';
import type { CacheStore } from './cache.js';
import type { Results } from './collect.js';
import type { ChainMessage, WorkerTask } from './compute.js';
import { MessageChannel, MessagePort } from 'node:worker_threads';
import { computeStep } from './step.js';
import { DERIVED_KINDS } from './steps.js';
import type { EngineEvent } from './events.js';
import type { Plan, PlanStep } from './plan.js';
import { StepLocks, type StepLock, type StepLocksOptions } from './locks.js';
import type { RemoteExecutor } from './distributed/submit.js';
import { acceptProjection, inlineBackend, taskBackend, usesDenseRoute, type BackendResult, type Dataset, type Network, type PointSpectra, type RankProblem, type RanksBackend } from '../science/index.js';

export interface RunOptions {
  /** null: neither read nor write the cache (--no-cache). */
  readonly cache: CacheStore | null;
  /** Heavy steps at once (default: the core count). */
  readonly jobs?: number;
  readonly keepGoing?: boolean;
  /** Abort (Ctrl-C): running steps are stopped, finished ones are already cached. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: EngineEvent) => void;
  /** Per-step lock files in the cache (see locks.ts): timings for tests, or false for none. Default: on with a cache. */
  readonly locks?: StepLocksOptions | false;
  /**
   * Compute steps elsewhere (`hrank run --redis`): every step the cache lacks but collect is
   * looked up in, or computed through, this executor; its value then lands in the cache as usual.
   */
  readonly remote?: RemoteExecutor;
}

export interface StepFailure {
  readonly id: string;
  readonly message: string;
}

export interface RunResult {
  readonly ok: boolean;
  readonly interrupted: boolean;
  /** Step ids computed in this run, in completion order. */
  readonly computed: readonly string[];
  /** Step ids read from the cache. */
  readonly cached: readonly string[];
  readonly failed: readonly StepFailure[];
  /** Seconds per computed step id. */
  readonly seconds: Readonly<Record<string, number>>;
  /** The results, when every point finished. */
  readonly results?: Results;
}

class Interrupted extends Error {
  constructor() { super('interrupted'); }
}

class UpstreamFailed extends Error {}

/** The worker file next to this module: .ts under tsx (tests, dev), .js once built. */
function workerOptions(): { filename: string; execArgv: string[] } {
  const self = import.meta.url;
  const ts = self.endsWith('.ts');
  // tsx is resolved from here, not from the working directory, so source runs work from any folder.
  return { filename: new URL(ts ? './worker.ts' : './worker.js', self).href, execArgv: ts ? ['--import', import.meta.resolve('tsx')] : [] };
}

export async function runPlan(plan: Plan, opts: RunOptions): Promise<RunResult> {
  const jobs = Math.max(1, opts.jobs ?? os.availableParallelism());
  const emit = (e: EngineEvent): void => opts.onEvent?.(e);
  const cache = opts.cache;
  const abort = new AbortController();
  const onOuterAbort = (): void => abort.abort(new Interrupted());
  if (opts.signal?.aborted) onOuterAbort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });

  const computed: string[] = [];
  const cachedIds: string[] = [];
  const failed: StepFailure[] = [];
  const seconds: Record<string, number> = {};
  const queue = new PQueue({ concurrency: jobs });
  let pool: Piscina | undefined;
  /** Start every worker thread with the pool (they take ~0.2 s to load): set when heavy steps are due. */
  let warm = false;
  const getPool = (): Piscina => {
    if (!pool) {
      pool = new Piscina({ ...workerOptions(), maxThreads: jobs, minThreads: warm ? jobs : 0, idleTimeout: 1000 });
      // A worker that cannot start fails its task; the pool-level event must not crash the process.
      pool.on('error', (e: unknown) => emit({ type: 'warning', message: `worker error: ${e instanceof Error ? e.message : String(e)}` }));
    }
    return pool;
  };
  const memo = new Map<string, Promise<unknown>>();
  const all = new Set<Promise<unknown>>();

  const fail = (step: PlanStep, error: Error): never => {
    if (!(error instanceof UpstreamFailed) && !(error instanceof Interrupted) && !abort.signal.aborted) {
      failed.push({ id: step.id, message: error.message });
      emit({ type: 'failed', step, error });
      if (!opts.keepGoing) abort.abort(new Error(`step ${step.id} failed`));
    }
    throw error instanceof Interrupted || error instanceof UpstreamFailed ? error : new UpstreamFailed(step.id);
  };

  const checkAbort = (): void => {
    if (abort.signal.aborted) throw opts.signal?.aborted ? new Interrupted() : new UpstreamFailed('aborted');
  };

  const fromCache = async (step: PlanStep): Promise<unknown> => {
    if (!cache) return undefined;
    const v = await cache.get(step.key);
    if (v !== undefined) { cachedIds.push(step.id); emit({ type: 'cached', step }); }
    return v;
  };

  // Per-step locks: a step another hrank process is computing on this cache is waited for and
  // read from the cache, not computed twice. `held`: the locks this run holds, by step key.
  const locks = cache && opts.locks !== false ? new StepLocks(cache.root, { ...opts.locks, onWarning: (message) => emit({ type: 'warning', message }) }) : null;
  const held = new Map<string, StepLock>();
  const unlockStep = async (step: PlanStep): Promise<void> => {
    const lock = held.get(step.key);
    if (lock) { held.delete(step.key); await lock.release(); }
  };
  /**
   * Before computing a missing step: takes its lock, waiting while another live process holds
   * it. Resolves with the step's value when that process finished it (read from the cache),
   * else with undefined: the lock is ours (or locks are off) and the entry is still missing.
   */
  const lockStep = async (step: PlanStep): Promise<unknown> => {
    if (!locks || !cache || held.has(step.key)) return undefined;
    let trustReady = true;
    for (;;) {
      const got = await locks.acquire(step.key, { signal: abort.signal, step: step.id, ...(trustReady ? { ready: () => cache.has(step.key) } : {}) });
      if (got === 'ready') {
        const v = await fromCache(step);
        if (v !== undefined) return v;
        trustReady = false; // there, but corrupt (moved aside now): compute it ourselves
        continue;
      }
      held.set(step.key, got);
      // Re-check: the entry may have landed between our miss and taking the lock.
      const v = await fromCache(step);
      if (v !== undefined) { await unlockStep(step); return v; }
      return undefined;
    }
  };
  /** The members of a chain part this run may compute: those it holds, or can lock now and the cache still lacks. */
  const claimChainPart = async (part: readonly PlanStep[]): Promise<PlanStep[]> => {
    if (!locks || !cache) return [...part];
    const mine: PlanStep[] = [];
    for (const s of part) {
      if (!held.has(s.key)) {
        const lock = await locks.tryAcquire(s.key, s.id);
        if (!lock) continue; // another process computes it; its own resolve waits for the entry
        held.set(s.key, lock);
        if (await cache.has(s.key)) { await unlockStep(s); continue; }
      }
      mine.push(s);
    }
    return mine;
  };

  const finish = async (step: PlanStep, t0: number, value: unknown): Promise<unknown> => {
    if (cache) await cache.put(step.key, value, { kind: step.kind, id: step.id });
    await unlockStep(step);
    const s = (performance.now() - t0) / 1000;
    seconds[step.id] = s;
    computed.push(step.id);
    emit({ type: 'done', step, seconds: s });
    return value;
  };

  // Prefix-sum chains: the uncached ranks steps of each chain are split into at most `jobs`
  // worker jobs of consecutive sample sizes; each job sums once through its largest size.
  const chainJobs = new Map<string, () => Promise<Map<string, PointSpectra>>>();
  /** Per chain job: resolved once it has its inputs and is queued for a worker. */
  const chainQueued = new Map<() => Promise<Map<string, PointSpectra>>, Promise<void>>();
  const chainMembers = new Map<string, PlanStep[]>();
  for (const s of plan.steps) {
    if (s.kind === 'spectrum' && s.chain) {
      const list = chainMembers.get(s.chain.group) ?? [];
      list.push(s);
      chainMembers.set(s.chain.group, list);
    }
  }
  /** Uncached spectrum steps outside chains, and the uncached members of each chain (by sample size). */
  const dueRanks: PlanStep[] = [];
  const dueChains: PlanStep[][] = [];
  const prepareChains = async (): Promise<void> => {
    for (const s of plan.steps) if (s.kind === 'spectrum' && !s.chain && (!cache || !(await cache.has(s.key)))) dueRanks.push(s);
    for (const members of chainMembers.values()) {
      const needed: PlanStep[] = [];
      for (const s of members) if (!cache || !(await cache.has(s.key))) needed.push(s);
      if (needed.length > 0) dueChains.push(needed);
      needed.sort((a, b) => a.config.dataset.samples - b.config.dataset.samples);
      // Linear networks on the subspace route: one job sums the chain once and streams each
      // size's projections to all workers. Otherwise parts of consecutive sizes, each summing
      // through its largest.
      const cfg0 = needed[0]?.config;
      const streamed = jobs > 1 && cfg0?.model.activation === 'linear' && cfg0.rank.route === 'auto';
      for (const part of streamed ? [needed] : chainParts(needed, Math.min(jobs, needed.length))) {
        let started: Promise<Map<string, PointSpectra>> | undefined;
        let onQueued: () => void = () => undefined;
        const queued = new Promise<void>((r) => (onQueued = r));
        const run = (): Promise<Map<string, PointSpectra>> => (started ??= streamed ? runStreamedChain(part, onQueued) : runChainPart(part, onQueued));
        chainQueued.set(run, queued);
        for (const s of part) chainJobs.set(s.id, run);
      }
    }
  };

  /**
   * Runs a task in a worker once a queue slot is free. Bigger points go first (priority = P), so
   * a sweep's longest points do not end up alone at the tail.
   */
  const inWorker = <T>(task: WorkerTask, priority: number, onStart?: () => void, transfer?: Float64Array | MessagePort): Promise<T> =>
    queue.add(async () => {
      checkAbort();
      onStart?.();
      // A matrix the caller hands over (RanksBackend.eigenvalues may consume it) moves, uncopied.
      const transferList = transfer instanceof MessagePort ? [transfer]
        : transfer && transfer.buffer instanceof ArrayBuffer && transfer.byteOffset === 0 && transfer.byteLength === transfer.buffer.byteLength
          ? [transfer.buffer] : undefined;
      return (await getPool().run(task, { signal: abort.signal, ...(transferList ? { transferList } : {}) })) as T;
    }, { priority }) as Promise<T>;

  /** The science library's heavy pieces, each a worker task. */
  const poolBackend = (priority: number): RanksBackend => taskBackend((task, consumed) => inWorker<BackendResult>(task, priority, undefined, consumed));

  /**
   * The members of a chain part this run computes (see claimChainPart), with what their job needs:
   * the data and network of the largest wanted member only. Undefined when another process
   * computes them all.
   */
  const chainJobInput = async (wantedPart: PlanStep[]) => {
    // The largest wanted member's samples hold every member's (prefixes): resolved while claiming.
    const widest = wantedPart[wantedPart.length - 1]!;
    const inputs = Promise.all([
      resolve(plan.byId.get(widest.inputs.dataset)!) as Promise<Dataset>,
      resolve(plan.byId.get(widest.inputs.network)!) as Promise<Network>,
    ]);
    inputs.catch(() => undefined);
    const part = await claimChainPart(wantedPart);
    if (part.length === 0) return undefined;
    const largest = part[part.length - 1]!;
    const [data, net] = await inputs;
    const cfg = largest.config;
    const problem: RankProblem = { net, data, loss: cfg.loss, batchSize: cfg.batch_size ?? undefined };
    return { part, problem, which: cfg.hessians, boundaries: largest.chain!.boundaries, route: cfg.rank.route, P: net.theta.length };
  };

  /**
   * Starts the jobs of the due chains; resolves once each has its inputs and waits for a worker,
   * or is over (failed, or nothing left to claim).
   */
  const startChainJobs = async (): Promise<void> => {
    const jobs = new Set(dueChains.flatMap((c) => c.map((s) => chainJobs.get(s.id)!)));
    await Promise.all([...jobs].map((run) => {
      const done = run();
      done.catch(() => undefined);
      return Promise.race([done, chainQueued.get(run)!]).catch(() => undefined);
    }));
  };

  const runChainPart = async (wantedPart: PlanStep[], queued?: () => void): Promise<Map<string, PointSpectra>> => {
    const job = await chainJobInput(wantedPart);
    if (!job) return new Map();
    const { part, problem, which, boundaries, route, P } = job;
    let started = 0;
    queued?.();
    const out = await inWorker<PointSpectra[]>({
      kind: 'chain', problem, which, boundaries, route, wanted: part.map((s) => s.config.dataset.samples),
    }, P, () => { started = performance.now(); for (const s of part) emit({ type: 'start', step: s }); });
    const m = new Map<string, PointSpectra>();
    part.forEach((s, i) => m.set(s.id, out[i]));
    // Steps of the part share the job's time equally in timings.json.
    const each = (performance.now() - started) / part.length;
    for (const s of part) await finish(s, performance.now() - each, out[part.indexOf(s)]);
    return m;
  };

  /**
   * A chain summed once in one worker (streamChainProjections), its points' projections
   * eigensolved by whichever worker is free as they arrive. Gives exactly runChainPart's values:
   * an accepted projection is chainSpectra's own; a point whose check fails is computed alone
   * with chainSpectra (which falls back to dense sums).
   */
  const runStreamedChain = async (wantedPart: PlanStep[], queued?: () => void): Promise<Map<string, PointSpectra>> => {
    const job = await chainJobInput(wantedPart);
    if (!job) return new Map();
    const { part, problem, which, boundaries, route, P } = job;
    const bySize = new Map(part.map((s) => [s.config.dataset.samples, s]));
    const out = new Map<string, PointSpectra>();
    const ranked: Promise<void>[] = [];
    let arrivedAll: () => void = () => undefined;
    const arrived = new Promise<void>((r) => (arrivedAll = r));
    let count = 0;
    const rankPoint = async (m: ChainMessage): Promise<void> => {
      const step = bySize.get(m.samples)!;
      const t0 = performance.now();
      let value: PointSpectra | undefined;
      if (m.projections) {
        const results = await Promise.all(m.projections.map(async (pr) =>
          [pr.kind, acceptProjection(await inWorker<Float64Array>({ kind: 'eigen', a: pr.packed, n: pr.n }, P, undefined, pr.packed), pr, P)] as const));
        if (results.every(([, r]) => r !== undefined)) {
          value = { params: P, ...Object.fromEntries(results), seconds: { products: m.products, eigen: (performance.now() - t0) / 1000 } };
        }
      }
      // A check that failed: this point alone, as chainSpectra computes it (dense fallback).
      value ??= (await inWorker<PointSpectra[]>({ kind: 'chain', problem, which, boundaries, route, wanted: [m.samples] }, P))[0]!;
      out.set(step.id, value);
      await finish(step, t0 - m.products * 1000, value);
    };
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: ChainMessage) => {
      const p = rankPoint(m);
      p.catch(() => undefined);
      ranked.push(p);
      if (++count === part.length) arrivedAll();
    });
    try {
      queued?.();
      await inWorker<number>({
        kind: 'chain-stream', problem, which, boundaries, route, wanted: part.map((s) => s.config.dataset.samples), port: port2,
      }, P, () => { for (const s of part) emit({ type: 'start', step: s }); }, port2);
      // Every point was posted before the task returned; its messages may still be on the way.
      await arrived;
      await Promise.all(ranked);
    } finally {
      port1.close();
    }
    return out;
  };

  /** Values of a step's inputs, by role. */
  const inputsOf = async (step: PlanStep): Promise<Map<string, unknown>> => {
    const roles = Object.keys(step.inputs);
    const vals = await Promise.all(roles.map((r) => resolve(plan.byId.get(step.inputs[r])!)));
    return new Map(roles.map((r, i) => [r, vals[i]]));
  };

  /** A spectrum step: a chain member waits for its chain job; others run alone in a worker. */
  const computeSpectrumStep = async (step: PlanStep): Promise<unknown> => {
    if (step.chain) {
      let job = chainJobs.get(step.id);
      if (!job) {
        // Not foreseen as missing (e.g. its cache entry was corrupt): a job of its own.
        let started: Promise<Map<string, PointSpectra>> | undefined;
        job = () => (started ??= runChainPart([step]));
        chainJobs.set(step.id, job);
      }
      // runChainPart caches and reports each member. A member its job left out (another process
      // held its lock) is waited for; if that process gives it up, it runs in a job of its own.
      const mine = (await job()).get(step.id);
      if (mine !== undefined) return mine;
      const waited = await lockStep(step);
      return waited !== undefined ? waited : (await runChainPart([step])).get(step.id)!;
    }
    const inputs = await inputsOf(step);
    checkAbort();
    const waited = await lockStep(step);
    if (waited !== undefined) return waited;
    const cfg = step.config;
    const net = inputs.get('network') as Network;
    const problem: RankProblem = { net, data: inputs.get('dataset') as Dataset, loss: cfg.loss, batchSize: cfg.batch_size ?? undefined };
    const P = net.theta.length;
    if (usesDenseRoute(P, { route: cfg.rank.route })) {
      let started = 0;
      const r = await inWorker<PointSpectra>({ kind: 'point', problem, which: cfg.hessians }, P, () => { started = performance.now(); emit({ type: 'start', step }); });
      return finish(step, started, r);
    }
    // Larger points: the algorithm runs here, its heavy pieces on every worker at once.
    const started = performance.now();
    emit({ type: 'start', step });
    return finish(step, started, await computeStep(step, inputs, { backend: poolBackend(P), parallel: jobs }));
  };

  /** A step through the remote executor: a value another run stored, else computed by a worker. */
  const computeRemote = async (remote: RemoteExecutor, step: PlanStep): Promise<unknown> => {
    const stored = await remote.lookup(step);
    if (stored !== undefined) {
      if (cache) await cache.put(step.key, stored, { kind: step.kind, id: step.id });
      cachedIds.push(step.id);
      emit({ type: 'cached', step });
      return stored;
    }
    const inputs = await inputsOf(step);
    checkAbort();
    let t0 = performance.now();
    const value = await remote.compute(step, inputs, { signal: abort.signal, onStart: () => { t0 = performance.now(); emit({ type: 'start', step }); } });
    return finish(step, t0, value);
  };

  const resolve = (step: PlanStep): Promise<unknown> => {
    let p = memo.get(step.id);
    if (p) return p;
    p = (async () => {
      checkAbort();
      if (DERIVED_KINDS.has(step.kind)) {
        // Computed here whenever needed, never cached or locked (see DERIVED_KINDS).
        const inputs = await inputsOf(step);
        checkAbort();
        try {
          const t0 = performance.now();
          emit({ type: 'start', step });
          const value = await computeStep(step, inputs, { backend: inlineBackend(), parallel: 1 });
          seconds[step.id] = (performance.now() - t0) / 1000;
          computed.push(step.id);
          emit({ type: 'done', step, seconds: seconds[step.id]! });
          return value;
        } catch (e) {
          return fail(step, e instanceof Error ? e : new Error(String(e)));
        }
      }
      const hit = await fromCache(step);
      if (hit !== undefined) return hit;
      try {
        if (opts.remote && step.kind !== 'collect') return await computeRemote(opts.remote, step);
        if (step.kind === 'spectrum') return await computeSpectrumStep(step);
        const inputs = await inputsOf(step);
        checkAbort();
        const waited = await lockStep(step);
        if (waited !== undefined) return waited;
        const t0 = performance.now();
        emit({ type: 'start', step });
        return await finish(step, t0, await computeStep(step, inputs, { backend: inlineBackend(), parallel: 1 }));
      } catch (e) {
        return fail(step, e instanceof Error ? e : new Error(String(e)));
      } finally {
        await unlockStep(step);
      }
    })();
    memo.set(step.id, p);
    all.add(p);
    p.catch(() => undefined);
    return p;
  };

  let results: Results | undefined;
  let interrupted = false;
  try {
    if (!opts.remote) {
      await prepareChains();
      // Heavy steps are due: start the worker threads now, and start the chain jobs (they resolve
      // their largest sample's data themselves) and the inputs of the other heavy steps before
      // the many light steps of the points, which the event loop would otherwise serve first.
      if (dueRanks.length > 0 || dueChains.length > 0) {
        warm = true;
        getPool();
        const chainsQueued = startChainJobs();
        for (const s of dueRanks) {
          for (const role of ['network', 'dataset']) {
            const id = s.inputs[role];
            if (id) resolve(plan.byId.get(id)!).catch(() => undefined);
          }
        }
        // Chain jobs need nothing else: queue them for the workers before the light steps start
        // (measured: 0.3 s sooner on the sample-size study).
        await chainsQueued;
      }
    }
    results = (await resolve(plan.byId.get(plan.collect)!)) as Results;
  } catch (e) {
    if (e instanceof Interrupted || opts.signal?.aborted) interrupted = true;
  } finally {
    abort.abort(new UpstreamFailed('run over'));
    queue.clear();
    await Promise.allSettled([...all]);
    await Promise.allSettled([...held.values()].map((lock) => lock.release()));
    opts.signal?.removeEventListener('abort', onOuterAbort);
    if (pool) await pool.destroy();
  }
  interrupted ||= !!opts.signal?.aborted;
  const ok = results !== undefined && failed.length === 0 && !interrupted;
  return { ok, interrupted, computed, cached: cachedIds, failed, seconds, results: ok ? results : undefined };
}

/**
 * Splits a chain's members (sorted by sample size) into `parts` runs of consecutive sizes for
 * parallel jobs. Every job sums the Hessians from the first sample through its largest size, so
 * a job of small sizes sums less: it gets more points. Cost model: one unit per ranked point
 * (eigensolves, about equal across sizes) plus `SUM_COST` units per sample summed.
 */
export function chainParts<T extends { readonly config: { readonly dataset: { readonly samples: number } } }>(members: readonly T[], parts: number): T[][] {
  if (members.length === 0) return [];
  const n = members.length;
  const k = Math.min(parts, n);
  const cost = (from: number, to: number): number => (to - from) + SUM_COST * members[to - 1]!.config.dataset.samples;
  // best[p][e]: the smallest largest job cost splitting the first e members into p jobs.
  const best: number[][] = [[0, ...Array<number>(n).fill(Infinity)]];
  const cut: number[][] = [[]];
  for (let p = 1; p <= k; p++) {
    best.push(Array<number>(n + 1).fill(Infinity));
    cut.push(Array<number>(n + 1).fill(0));
    for (let e = p; e <= n; e++) {
      for (let s = p - 1; s < e; s++) {
        const c = Math.max(best[p - 1]![s]!, cost(s, e));
        if (c < best[p]![e]!) { best[p]![e] = c; cut[p]![e] = s; }
      }
    }
  }
  const out: T[][] = [];
  for (let p = k, e = n; p >= 1; p--) {
    const s = cut[p]![e]!;
    out.unshift(members.slice(s, e));
    e = s;
  }
  return out;
}

/**
 * Cost of summing one sample, in units of ranking one point. Measured on the sample-size study
 * (P 840) with both workers busy: ~5 ms per sample summed, ~150 ms per point ranked.
 */
export const SUM_COST = 1 / 30;
