/**
 * Prefix-sum chains in a run: the spectrum steps of points that differ only in their sample size
 * (plan.ts `chain`) are computed together. The uncached members of each chain go to at most `jobs`
 * worker jobs of consecutive sizes, each summing once through its largest size; on linear
 * networks with more than one worker, one job sums the whole chain and streams each size's
 * projections to every worker (the same values as a chain part).
 */
import { MessageChannel } from 'node:worker_threads';
import { acceptProjection, type Dataset, type Network, type PointSpectra, type RankProblem } from '../../science/index.js';
import type { CacheStore } from '../store/cache.js';
import type { Plan, PlanStep } from '../kinds/plan.js';
import type { StepClaims } from './claims.js';
import type { EngineEvent } from './events.js';
import type { WorkerPool } from './pool.js';
import type { ChainMessage } from './tasks.js';

export interface ChainContext {
  readonly plan: Plan;
  readonly cache: CacheStore | null;
  readonly jobs: number;
  readonly pool: WorkerPool;
  readonly claims: StepClaims;
  /** A step's value (from the cache or computed): the run's demand-driven resolver. */
  readonly resolve: (step: PlanStep) => Promise<unknown>;
  /** Stores a computed step, releases its claim and reports it done. */
  readonly finish: (step: PlanStep, t0: number, value: unknown) => Promise<unknown>;
  readonly emit: (event: EngineEvent) => void;
}

type ChainJob = () => Promise<Map<string, PointSpectra>>;

export class ChainRunner {
  /** The job that computes each chain member, by step id. */
  private readonly jobOf = new Map<string, ChainJob>();
  /** Per job: resolved once it has its inputs and is queued for a worker. */
  private readonly queued = new Map<ChainJob, Promise<void>>();
  /** The uncached members of each chain (by sample size), once `prepare` ran. */
  private readonly due: PlanStep[][] = [];

  constructor(private readonly ctx: ChainContext) {}

  /** True when some chain has members to compute. */
  get pending(): boolean { return this.due.length > 0; }

  /** Finds each chain's uncached members and cuts them into jobs. */
  async prepare(): Promise<void> {
    const { plan, cache, jobs } = this.ctx;
    const members = new Map<string, PlanStep[]>();
    for (const s of plan.steps) {
      if (s.kind === 'spectrum' && s.chain) {
        const list = members.get(s.chain.group) ?? [];
        list.push(s);
        members.set(s.chain.group, list);
      }
    }
    for (const list of members.values()) {
      const inCache = cache ? await Promise.all(list.map((s) => cache.has(s.key))) : list.map(() => false);
      const needed = list.filter((_, i) => !inCache[i]);
      if (needed.length === 0) continue;
      this.due.push(needed);
      needed.sort((a, b) => a.config.dataset.samples - b.config.dataset.samples);
      // Linear networks on the subspace route: one job sums the chain once and streams each
      // size's projections to all workers. Otherwise parts of consecutive sizes, each summing
      // through its largest.
      const cfg = needed[0]!.config;
      const streamed = jobs > 1 && cfg.model.activation === 'linear' && cfg.rank.route === 'auto';
      for (const part of streamed ? [needed] : chainParts(needed, Math.min(jobs, needed.length))) {
        let started: Promise<Map<string, PointSpectra>> | undefined;
        let onQueued: () => void = () => undefined;
        const queued = new Promise<void>((r) => (onQueued = r));
        const job: ChainJob = () => (started ??= streamed ? this.runStreamed(part, onQueued) : this.runPart(part, onQueued));
        this.queued.set(job, queued);
        for (const s of part) this.jobOf.set(s.id, job);
      }
    }
  }

  /**
   * Starts the jobs of the due chains; resolves once each has its inputs and waits for a worker,
   * or is over (failed, or nothing left to claim).
   */
  async start(): Promise<void> {
    const jobs = new Set(this.due.flatMap((c) => c.map((s) => this.jobOf.get(s.id)!)));
    await Promise.all([...jobs].map((job) => {
      const done = job();
      done.catch(() => undefined);
      return Promise.race([done, this.queued.get(job)!]).catch(() => undefined);
    }));
  }

  /** A chain member's spectrum: from its job; a member the job left out is waited for, or computed alone. */
  async spectrumOf(step: PlanStep): Promise<unknown> {
    let job = this.jobOf.get(step.id);
    if (!job) {
      // Not foreseen as missing (e.g. its cache entry was corrupt): a job of its own.
      let started: Promise<Map<string, PointSpectra>> | undefined;
      job = () => (started ??= this.runPart([step]));
      this.jobOf.set(step.id, job);
    }
    // A job caches and reports each member. A member its job left out (another process held its
    // lock) is waited for; if that process gives it up, it runs in a job of its own.
    const mine = (await job()).get(step.id);
    if (mine !== undefined) return mine;
    const waited = await this.ctx.claims.claim(step);
    return waited !== undefined ? waited : (await this.runPart([step])).get(step.id)!;
  }

  /**
   * The members of a part this run computes (those it can claim), with what their job needs: the
   * data and network of the largest wanted member only. Undefined when another process computes
   * them all.
   */
  private async input(wanted: PlanStep[]) {
    const { plan, resolve, claims } = this.ctx;
    // The largest wanted member's samples hold every member's (prefixes): resolved while claiming.
    const widest = wanted[wanted.length - 1]!;
    const inputs = Promise.all([
      resolve(plan.byId.get(widest.inputs.dataset)!) as Promise<Dataset>,
      resolve(plan.byId.get(widest.inputs.network)!) as Promise<Network>,
    ]);
    inputs.catch(() => undefined);
    const part = await claims.claimPart(wanted);
    if (part.length === 0) return undefined;
    const largest = part[part.length - 1]!;
    const [data, net] = await inputs;
    const cfg = largest.config;
    const problem: RankProblem = { net, data, loss: cfg.loss, batchSize: cfg.batch_size ?? undefined };
    const job = { problem, which: cfg.hessians, boundaries: largest.chain!.boundaries, route: cfg.rank.route, wanted: part.map((s) => s.config.dataset.samples) };
    return { part, job, P: net.theta.length };
  }

  private async runPart(wanted: PlanStep[], queued?: () => void): Promise<Map<string, PointSpectra>> {
    const input = await this.input(wanted);
    if (!input) return new Map();
    const { part, job, P } = input;
    const { pool, emit, finish } = this.ctx;
    let started = 0;
    queued?.();
    const out = await pool.run<PointSpectra[]>({ kind: 'chain', ...job }, P, () => { started = performance.now(); for (const s of part) emit({ type: 'start', step: s }); });
    const m = new Map<string, PointSpectra>();
    part.forEach((s, i) => m.set(s.id, out[i]!));
    // Steps of the part share the job's time equally in timings.json.
    const each = (performance.now() - started) / part.length;
    for (const [i, s] of part.entries()) await finish(s, performance.now() - each, out[i]);
    return m;
  }

  /**
   * A chain summed once in one worker (tasks.ts streamChainProjections), its sizes' projections
   * eigensolved by whichever worker is free as they arrive. Gives exactly runPart's values: an
   * accepted projection is chainSpectra's own; a size whose check fails is computed alone with
   * chainSpectra (which falls back to dense sums).
   */
  private async runStreamed(wanted: PlanStep[], queued?: () => void): Promise<Map<string, PointSpectra>> {
    const input = await this.input(wanted);
    if (!input) return new Map();
    const { part, job, P } = input;
    const { pool, emit, finish } = this.ctx;
    const bySize = new Map(part.map((s) => [s.config.dataset.samples, s]));
    const out = new Map<string, PointSpectra>();
    const ranked: Promise<void>[] = [];
    let arrivedAll: () => void = () => undefined;
    const arrived = new Promise<void>((r) => (arrivedAll = r));
    let count = 0;
    const rankSize = async (m: ChainMessage): Promise<void> => {
      const step = bySize.get(m.samples)!;
      const t0 = performance.now();
      let value: PointSpectra | undefined;
      if (m.projections) {
        const results = await Promise.all(m.projections.map(async (pr) =>
          [pr.kind, acceptProjection(await pool.run<Float64Array>({ kind: 'eigen', a: pr.packed, n: pr.n }, P, undefined, pr.packed), pr, P)] as const));
        if (results.every(([, r]) => r !== undefined)) {
          value = { params: P, ...Object.fromEntries(results), seconds: { products: m.products, eigen: (performance.now() - t0) / 1000 } };
        }
      }
      // A check that failed: this size alone, as chainSpectra computes it (dense fallback).
      value ??= (await pool.run<PointSpectra[]>({ kind: 'chain', ...job, wanted: [m.samples] }, P))[0]!;
      out.set(step.id, value);
      await finish(step, t0 - m.products * 1000, value);
    };
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: ChainMessage) => {
      const p = rankSize(m);
      p.catch(() => undefined);
      ranked.push(p);
      if (++count === part.length) arrivedAll();
    });
    try {
      queued?.();
      await pool.run<number>({ kind: 'chain-stream', ...job, port: port2 }, P, () => { for (const s of part) emit({ type: 'start', step: s }); }, port2);
      // Every size was posted before the task returned; its messages may still be on the way.
      await arrived;
      await Promise.all(ranked);
    } finally {
      port1.close();
    }
    return out;
  }
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
