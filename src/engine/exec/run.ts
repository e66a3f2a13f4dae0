/**
 * Executes a plan: demand-driven from the collect step, reading the cache first, computing what
 * is missing (heavy steps in worker threads: pool.ts; sample-size chains: chains.ts), writing each
 * finished step to the cache at once, so an interrupted or failed run keeps all finished work.
 * Error policy: fail fast (default) or keep going; every failed step is reported at the end, with
 * a code the caller maps to advice.
 */
import os from 'node:os';
import PQueue from 'p-queue';
import { inlineBackend, usesDenseRoute, type Dataset, type Network, type PointSpectra, type RankProblem } from '../../science/index.js';
import { CacheError, type CacheStore } from '../store/cache.js';
import { FILE_SLOTS } from '../store/file-slots.js';
import { StepLocks, type StepLocksOptions } from '../store/step-locks.js';
import type { Results } from '../kinds/collect.js';
import { computeStep } from '../kinds/compute-step.js';
import { DERIVED_KINDS } from '../kinds/kinds.js';
import { collectedInput } from '../kinds/collect.js';
import type { Plan, PlanStep } from '../kinds/plan.js';
import { ChainRunner } from './chains.js';
import { StepClaims } from './claims.js';
import { Interrupted, RunControl, UpstreamFailed } from './control.js';
import type { EngineEvent } from './events.js';
import { WorkerPool } from './pool.js';

/** Computes steps elsewhere (`hrank run --redis`: distributed/submit.ts implements it). */
export interface RemoteExecutor {
  /** The value of a step already in the shared store, or undefined. */
  lookup(step: PlanStep): Promise<unknown>;
  /** Computes `step` elsewhere from its input values (by role); `onStart` when a worker takes it. */
  compute(step: PlanStep, inputs: ReadonlyMap<string, unknown>, ctx: { readonly signal: AbortSignal; readonly onStart: () => void }): Promise<unknown>;
}

export interface RunOptions {
  /** null: neither read nor write the cache (--no-cache). */
  readonly cache: CacheStore | null;
  /** Heavy steps at once (default: the core count). */
  readonly jobs?: number;
  readonly keepGoing?: boolean;
  /** Abort (Ctrl-C): running steps are stopped, finished ones are already cached. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: EngineEvent) => void;
  /** Per-step lock files in the cache (see store/step-locks.ts): timings for tests, or false for none. Default: on with a cache. */
  readonly locks?: StepLocksOptions | false;
  /**
   * Compute steps elsewhere (`hrank run --redis`): every step the cache lacks but collect is
   * looked up in, or computed through, this executor; its value then lands in the cache as usual.
   */
  readonly remote?: RemoteExecutor;
}

/**
 * Why a step failed, for advice: `cache:<errno>` when writing or reading the cache failed
 * (`cache:ENOSPC`, `cache:EACCES`, ...), the error's own code when it has one, else `error`.
 */
export type FailureCode = string;

export interface StepFailure {
  readonly id: string;
  readonly message: string;
  readonly code: FailureCode;
}

export interface RunResult {
  readonly ok: boolean;
  readonly interrupted: boolean;
  /** Step ids computed (and stored) in this run, in completion order. */
  readonly computed: readonly string[];
  /** Derived step ids computed in this run (never stored: see DERIVED_KINDS). */
  readonly derived: readonly string[];
  /** Step ids read from the cache. */
  readonly cached: readonly string[];
  readonly failed: readonly StepFailure[];
  /** Seconds per computed step id. */
  readonly seconds: Readonly<Record<string, number>>;
  /** The results, when every point finished. */
  readonly results?: Results;
}

function failureCode(error: Error): FailureCode {
  if (error instanceof CacheError) return `cache:${error.code ?? 'error'}`;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : 'error';
}

/** The collect step's inputs asked for at once (about 80 points' worth: three inputs per point). */
const WINDOW = 256;

export async function runPlan(plan: Plan, opts: RunOptions): Promise<RunResult> {
  const jobs = Math.max(1, opts.jobs ?? os.availableParallelism());
  const emit = (e: EngineEvent): void => opts.onEvent?.(e);
  const cache = opts.cache;
  const control = new RunControl(opts.signal);

  const computed: string[] = [];
  const derived: string[] = [];
  const cachedIds: string[] = [];
  const failed: StepFailure[] = [];
  const seconds: Record<string, number> = {};
  const memo = new Map<string, Promise<unknown>>();
  const all = new Set<Promise<unknown>>();
  // A step's value is kept until every step that reads it is over (its consumers, counted from
  // the plan), then let go: a sweep of 100,000 points would otherwise hold every network,
  // dataset and spectrum to the end. Asked for again later (a chain job), it is read again.
  const consumers = new Map<string, number>();
  // The collect step reads each of its roles once as it goes (release below): a step several
  // points share counts once per role there, once per reading step elsewhere.
  for (const s of plan.steps) {
    const ids = s.kind === 'collect' ? Object.values(s.inputs) : new Set(Object.values(s.inputs));
    for (const id of ids) consumers.set(id, (consumers.get(id) ?? 0) + 1);
  }
  const release = (id: string): void => {
    const left = (consumers.get(id) ?? 1) - 1;
    consumers.set(id, left);
    if (left <= 0) memo.delete(id);
  };
  const consumed = (step: PlanStep): void => {
    for (const id of new Set(Object.values(step.inputs))) release(id);
  };

  const fail = (step: PlanStep, error: Error): never => {
    if (!(error instanceof UpstreamFailed) && !(error instanceof Interrupted) && !control.signal.aborted) {
      failed.push({ id: step.id, message: error.message, code: failureCode(error) });
      emit({ type: 'failed', step, error });
      if (!opts.keepGoing) control.stop(new Error(`step ${step.id} failed`));
    }
    throw error instanceof Interrupted || error instanceof UpstreamFailed ? error : new UpstreamFailed(step.id);
  };

  const fromCache = async (step: PlanStep): Promise<unknown> => {
    if (!cache) return undefined;
    const v = await cache.get(step.key);
    if (v !== undefined) { cachedIds.push(step.id); emit({ type: 'cached', step }); }
    return v;
  };

  // Steps in flight from claim to stored, bounded by the machine, never by the sweep: each holds a
  // lock file and its value on the way to the cache. Light steps: as many as the cache has file
  // slots (their writes overlap); heavy ones: two per worker (the next task is always ready), the
  // biggest first.
  const lightGate = new PQueue({ concurrency: FILE_SLOTS.size });
  const heavyGate = new PQueue({ concurrency: 2 * jobs });
  const pool = new WorkerPool(jobs, control, (message) => emit({ type: 'warning', message }));
  // A step another hrank process is computing on this cache is waited for and read from the
  // cache, not computed twice.
  const locks = cache && opts.locks !== false ? new StepLocks(cache.root, { ...opts.locks, onWarning: (message) => emit({ type: 'warning', message }) }) : null;
  const claims = new StepClaims(cache, locks, fromCache, control.signal);

  const finish = async (step: PlanStep, t0: number, value: unknown): Promise<unknown> => {
    if (cache) await cache.put(step.key, value, { kind: step.kind, id: step.id });
    await claims.release(step);
    const s = (performance.now() - t0) / 1000;
    seconds[step.id] = s;
    computed.push(step.id);
    emit({ type: 'done', step, seconds: s });
    return value;
  };

  /**
   * Values of a step's inputs, by role. With keepGoing every input is waited for before a failed
   * one fails the step, so a failed point does not end the run while others still compute. The
   * collect step's (every point's) are asked for through a window of POINTS_IN_FLIGHT points'
   * worth, point by point: asking for all at once would start every step of the study at once
   * (400,000 waiting steps at 100,000 points, each holding its frame and queue entry), bounded
   * only by memory; the window waits for every input before failing, as keepGoing asks.
   */
  const inputsOf = async (step: PlanStep): Promise<Map<string, unknown>> => {
    const roles = Object.keys(step.inputs);
    if (step.kind !== 'collect' || roles.length <= WINDOW) {
      const pending = roles.map((r) => resolve(plan.byId.get(step.inputs[r])!));
      if (opts.keepGoing) {
        const settled = await Promise.allSettled(pending);
        const failed = settled.find((s) => s.status === 'rejected');
        if (failed) throw (failed as PromiseRejectedResult).reason;
      }
      const vals = await Promise.all(pending);
      return new Map(roles.map((r, i) => [r, vals[i]]));
    }
    const vals: unknown[] = new Array(roles.length);
    let next = 0;
    let first: unknown;
    let failed = false;
    const lane = async (): Promise<void> => {
      while (next < roles.length) {
        const i = next++;
        const id = step.inputs[roles[i]!]!;
        try {
          // Kept as the collect step reads it (no spectra), and let go by the run once read
          // (the collect step is its last reader): 100,000 points' spectra are never all held.
          vals[i] = collectedInput(roles[i]!, await resolve(plan.byId.get(id)!));
          release(id);
        } catch (e) {
          if (!failed) { failed = true; first = e; }
        }
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, lane));
    if (failed) throw first;
    return new Map(roles.map((r, i) => [r, vals[i]]));
  };

  const chains = new ChainRunner({ plan, cache, jobs, pool, claims, resolve: (s) => resolve(s), finish, emit });

  /** A spectrum step: a chain member waits for its chain job; a dense point runs whole in a worker; others here, their pieces on every worker. */
  const computeSpectrum = async (step: PlanStep): Promise<unknown> => {
    if (step.chain) return chains.spectrumOf(step);
    const inputs = await inputsOf(step);
    const cfg = step.config;
    const net = inputs.get('network') as Network;
    const P = net.theta.length;
    return heavyGate.add(async () => {
      control.check();
      const waited = await claims.claim(step);
      if (waited !== undefined) return waited;
      const problem: RankProblem = { net, data: inputs.get('dataset') as Dataset, loss: cfg.loss, batchSize: cfg.batch_size ?? undefined };
      if (usesDenseRoute(P, { route: cfg.rank.route })) {
        let started = 0;
        const r = await pool.run<PointSpectra>({ kind: 'point', problem, which: cfg.hessians }, P, () => { started = performance.now(); emit({ type: 'start', step }); });
        return finish(step, started, r);
      }
      const started = performance.now();
      emit({ type: 'start', step });
      return finish(step, started, await computeStep(step, inputs, { backend: pool.backend(P), parallel: jobs }));
    }, { priority: P });
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
    control.check();
    let t0 = performance.now();
    const value = await remote.compute(step, inputs, { signal: control.signal, onStart: () => { t0 = performance.now(); emit({ type: 'start', step }); } });
    return finish(step, t0, value);
  };

  /** A derived step (DERIVED_KINDS): computed here whenever needed, never cached or claimed. */
  const computeDerived = async (step: PlanStep): Promise<unknown> => {
    const inputs = await inputsOf(step);
    control.check();
    const t0 = performance.now();
    emit({ type: 'start', step });
    const value = await computeStep(step, inputs, { backend: inlineBackend(), parallel: 1 });
    seconds[step.id] = (performance.now() - t0) / 1000;
    derived.push(step.id);
    emit({ type: 'done', step, seconds: seconds[step.id]! });
    return value;
  };

  const resolve = (step: PlanStep): Promise<unknown> => {
    let p = memo.get(step.id);
    if (p) return p;
    p = (async () => {
      control.check();
      if (DERIVED_KINDS.has(step.kind)) {
        try {
          return await computeDerived(step);
        } catch (e) {
          return fail(step, e instanceof Error ? e : new Error(String(e)));
        }
      }
      const hit = await fromCache(step);
      if (hit !== undefined) return hit;
      try {
        if (opts.remote && step.kind !== 'collect') return await computeRemote(opts.remote, step);
        if (step.kind === 'spectrum') return await computeSpectrum(step);
        const inputs = await inputsOf(step);
        return await lightGate.add(async () => {
          control.check();
          const waited = await claims.claim(step);
          if (waited !== undefined) return waited;
          const t0 = performance.now();
          emit({ type: 'start', step });
          return await finish(step, t0, await computeStep(step, inputs, { backend: inlineBackend(), parallel: 1, signal: control.signal }));
        });
      } catch (e) {
        return fail(step, e instanceof Error ? e : new Error(String(e)));
      } finally {
        await claims.release(step);
      }
    })();
    memo.set(step.id, p);
    all.add(p);
    p.catch(() => undefined).finally(() => {
      all.delete(p!);
      if (step.kind !== 'collect') consumed(step);
    });
    return p;
  };

  let results: Results | undefined;
  let interrupted = false;
  try {
    // Collected results in the cache (a rerun): nothing else is read.
    const collected = cache !== null && (await cache.has(plan.byId.get(plan.collect)!.key));
    if (!opts.remote && !collected) {
      await chains.prepare();
      // The cache's answers come in parallel (FILE_SLOTS bounds the files open).
      const spectra = plan.steps.filter((s) => s.kind === 'spectrum' && !s.chain);
      const inCache = cache ? await Promise.all(spectra.map((s) => cache.has(s.key))) : spectra.map(() => false);
      const dueSpectra = spectra.filter((_, i) => !inCache[i]);
      // Heavy steps are due: start the worker threads now, and start the chain jobs (they resolve
      // their largest sample's data themselves) and the inputs of the other heavy steps before
      // the many light steps of the points, which the event loop would otherwise serve first.
      if (dueSpectra.length > 0 || chains.pending) {
        pool.warm();
        const chainsQueued = chains.start();
        // The first ones only: the rest come as the collect step's window reaches their points.
        for (const s of dueSpectra.slice(0, 8 * jobs)) {
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
    if (e instanceof Interrupted || control.interrupted) interrupted = true;
  } finally {
    control.stop(new UpstreamFailed('run over'));
    pool.clearQueue();
    await Promise.allSettled([...all]);
    await claims.releaseAll();
    control.dispose();
    await pool.close();
  }
  interrupted ||= control.interrupted;
  const ok = results !== undefined && failed.length === 0 && !interrupted;
  return { ok, interrupted, computed, derived, cached: cachedIds, failed, seconds, results: ok ? results : undefined };
}

export { chainParts, SUM_COST } from './chains.js';
