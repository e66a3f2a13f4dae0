/**
 * Claims on steps, so two hrank processes on one cache never compute a step twice: before
 * computing a step the cache lacks, a run takes the step's lock (store/step-locks.ts), or waits
 * while another live process holds it and then reads the step's value from the cache.
 */
import type { CacheStore } from '../store/cache.js';
import type { StepLock, StepLocks } from '../store/step-locks.js';
import type { PlanStep } from '../kinds/plan.js';

export class StepClaims {
  /** The locks this run holds, by step key. */
  private readonly held = new Map<string, StepLock>();

  constructor(
    private readonly cache: CacheStore | null,
    private readonly locks: StepLocks | null,
    /** Reads a step from the cache (counting and reporting the hit); undefined on a miss. */
    private readonly fromCache: (step: PlanStep) => Promise<unknown>,
    private readonly signal: AbortSignal,
  ) {}

  /**
   * Before computing a missing step: takes its lock, waiting while another live process holds
   * it. Resolves with the step's value when that process finished it (read from the cache),
   * else with undefined: the lock is ours (or locks are off) and the entry is still missing.
   */
  async claim(step: PlanStep): Promise<unknown> {
    const { locks, cache } = this;
    if (!locks || !cache || this.held.has(step.key)) return undefined;
    let trustReady = true;
    for (;;) {
      const got = await locks.acquire(step.key, { signal: this.signal, step: step.id, ...(trustReady ? { ready: () => cache.has(step.key) } : {}) });
      if (got === 'ready') {
        const v = await this.fromCache(step);
        if (v !== undefined) return v;
        trustReady = false; // there, but corrupt (moved aside now): compute it ourselves
        continue;
      }
      this.held.set(step.key, got);
      // Re-check: the entry may have landed between our miss and taking the lock.
      const v = await this.fromCache(step);
      if (v !== undefined) { await this.release(step); return v; }
      return undefined;
    }
  }

  /** The members of a chain part this run may compute: those it holds, or can lock now and the cache still lacks. */
  async claimPart(part: readonly PlanStep[]): Promise<PlanStep[]> {
    const { locks, cache } = this;
    if (!locks || !cache) return [...part];
    const mine: PlanStep[] = [];
    for (const s of part) {
      if (!this.held.has(s.key)) {
        const lock = await locks.tryAcquire(s.key, s.id);
        if (!lock) continue; // another process computes it; its own resolve waits for the entry
        this.held.set(s.key, lock);
        if (await cache.has(s.key)) { await this.release(s); continue; }
      }
      mine.push(s);
    }
    return mine;
  }

  async release(step: PlanStep): Promise<void> {
    const lock = this.held.get(step.key);
    if (lock) { this.held.delete(step.key); await lock.release(); }
  }

  async releaseAll(): Promise<void> {
    await Promise.allSettled([...this.held.values()].map((lock) => lock.release()));
    this.held.clear();
  }
}
