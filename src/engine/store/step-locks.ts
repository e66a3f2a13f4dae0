/**
 * Per-step lock files, so that two hrank processes sharing a cache do not compute the same step
 * twice: the first takes the step's lock and computes, the second waits for the entry (or for
 * the lock to go) and reads it from the cache.
 *
 * A lock is `<cache>/locks/<key>.lock`, created with O_CREAT | O_EXCL (`open(path, 'wx')`), so
 * exactly one creator wins on a local file system. It holds JSON: pid, hostname, the time the
 * lock was taken, the holder process's start time and a random token. While the holder computes,
 * a heartbeat touches the file's mtime every `heartbeatMs`.
 *
 * Why a hand-written lock rather than `proper-lockfile`: the cache needs a few dozen lines of
 * O_EXCL create + pid/heartbeat staleness, and owning them lets a waiter ask "is the entry there
 * yet?" between polls and judge a dead holder at once (same host, pid gone) instead of only after
 * a timeout. proper-lockfile (mkdir locks, mtime only) does neither and is not installed.
 *
 * A lock is stale (and is broken by the next process that wants it) when:
 * - its holder ran on this host and its pid is gone (or is a zombie, or was reused by a process
 *   that started after the lock was taken);
 * - its holder is this process but no live handle of this process owns it (left by a crash of an
 *   earlier run in a process that reused our pid);
 * - its heartbeat (mtime) is older than `staleMs` (any host: a holder on another machine that
 *   stopped refreshing, e.g. because it was killed);
 * - it is empty or unreadable and older than `emptyGraceMs` (a holder killed between creating and
 *   writing it).
 * Breaking happens under a short-lived `<lock>.break` file (O_EXCL too), re-judging the lock under
 * it, so two breakers cannot both take over, nor remove a fresh lock by mistake. Should any race
 * still be lost, the worst outcome is a step computed twice: entries are written atomically and
 * are a pure function of their key, so the cache stays consistent either way.
 *
 * Locks are advisory and only about work: the cache's correctness never depends on them.
 */
import { randomBytes } from 'node:crypto';
import { getMaxListeners, setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FILE_SLOTS } from './file-slots.js';

/** What a lock file holds. */
export interface LockInfo {
  readonly pid: number;
  readonly hostname: string;
  /** When the lock was taken (ISO 8601). */
  readonly started: string;
  /** When the holding process started (ms since the epoch), to tell a reused pid. */
  readonly processStarted: number;
  /** Random; tells this lock from a later one at the same path. */
  readonly token: string;
  /** The step, for people looking at the file. */
  readonly step?: string;
}

export interface StepLocksOptions {
  /** How often a holder touches its lock (default 5 s). */
  readonly heartbeatMs?: number;
  /** A lock whose heartbeat is older than this is stale (default 60 s). */
  readonly staleMs?: number;
  /** First wait between polls of a waiter (default 25 ms; grows to `maxPollMs`). */
  readonly pollMs?: number;
  /** Longest wait between polls (default 250 ms). */
  readonly maxPollMs?: number;
  /** An empty or unreadable lock older than this is stale (default 2 s). */
  readonly emptyGraceMs?: number;
  /** Called when a stale lock is broken (one line). */
  readonly onWarning?: (message: string) => void;
}

/** Why a lock is (or is not) stale. */
export interface LockState {
  readonly info: LockInfo | undefined;
  readonly raw: string;
  readonly mtimeMs: number;
  readonly stale: boolean;
  readonly reason: string;
}

const LOCK_FILE = /^[0-9a-f]{64}\.lock$/;
/** A breaker's `.break` file older than this was left by a breaker that died. */
const BREAK_STALE_MS = 10_000;
const HOST = os.hostname();
/** This process's start time, ms since the epoch. */
const PROCESS_STARTED = Date.now() - process.uptime() * 1000;
/** Tokens of the locks this process holds (a lock with our pid and another token is stale). */
const HELD_HERE = new Set<string>();

/**
 * The heartbeat of every lock this process holds: one timer (however many locks), touching each
 * lock's mtime every `heartbeatMs` (the shortest asked for). Unref'd: it never keeps the process alive.
 */
const HEARTBEAT = {
  locks: new Set<StepLock>(),
  timer: undefined as NodeJS.Timeout | undefined,
  everyMs: Infinity,
  add(lock: StepLock, everyMs: number): void {
    this.locks.add(lock);
    if (this.timer === undefined || everyMs < this.everyMs) {
      clearInterval(this.timer);
      this.everyMs = Math.min(this.everyMs, everyMs);
      this.timer = setInterval(() => {
        for (const l of this.locks) void l.refresh();
      }, this.everyMs);
      this.timer.unref();
    }
  },
  remove(lock: StepLock): void {
    this.locks.delete(lock);
    if (this.locks.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.everyMs = Infinity;
    }
  },
};

export class StepLock {
  #released = false;

  constructor(
    readonly key: string,
    readonly path: string,
    readonly info: LockInfo,
    heartbeatMs: number,
  ) {
    HELD_HERE.add(info.token);
    HEARTBEAT.add(this, heartbeatMs);
  }

  get released(): boolean {
    return this.#released;
  }

  /** Touches the lock (the heartbeat); false when it is no longer ours. */
  async refresh(): Promise<boolean> {
    if (this.#released) return false;
    const now = new Date();
    try {
      await fsp.utimes(this.path, now, now);
      return true;
    } catch {
      return false;
    }
  }

  /** Removes the lock if it is still ours. Idempotent; never throws. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    HEARTBEAT.remove(this);
    HELD_HERE.delete(this.info.token);
    try {
      const raw = await FILE_SLOTS.run(() => fsp.readFile(this.path, 'utf8'));
      if (parseInfo(raw)?.token === this.info.token) await fsp.unlink(this.path);
    } catch {
      // gone already, or broken by someone who judged it stale
    }
  }
}

function parseInfo(raw: string): LockInfo | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockInfo> | null;
    if (v && typeof v.pid === 'number' && typeof v.hostname === 'string' && typeof v.token === 'string') return v as LockInfo;
  } catch {
    // not JSON
  }
  return undefined;
}

/** Whether a process with this pid runs on this host (and is not a zombie); its start time when known. */
export function processState(pid: number): { alive: boolean; startedMs?: number } {
  if (!Number.isSafeInteger(pid) || pid <= 0) return { alive: false };
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return { alive: false };
  }
  // Linux: a zombie (killed, not yet reaped) is dead for our purposes; the start time tells a
  // reused pid from the holder.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return { alive: false };
    const startedMs = procStartMs(Number(fields[19]));
    return startedMs === undefined ? { alive: true } : { alive: true, startedMs };
  } catch {
    return { alive: true };
  }
}

let bootMs: number | null | undefined;
/** A /proc start time (clock ticks since boot) in ms since the epoch; undefined when unknown or not trustworthy here. */
function procStartMs(ticks: number): number | undefined {
  if (bootMs === undefined) {
    bootMs = null;
    try {
      const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
      const self = readFileSync('/proc/self/stat', 'utf8');
      const selfTicks = Number(self.slice(self.lastIndexOf(')') + 2).split(' ')[19]);
      if (btime) {
        const boot = Number(btime[1]) * 1000;
        // Trust the conversion only if it puts this process's start where Node says it was
        // (USER_HZ is 100 almost everywhere; if not, pid reuse is caught by the heartbeat instead).
        if (Math.abs(boot + selfTicks * 10 - PROCESS_STARTED) < 3000) bootMs = boot;
      }
    } catch {
      // not Linux
    }
  }
  return bootMs === null || !Number.isFinite(ticks) ? undefined : bootMs + ticks * 10;
}

export class StepLocks {
  /** `<cache>/locks`. */
  readonly dir: string;
  readonly heartbeatMs: number;
  readonly staleMs: number;
  readonly pollMs: number;
  readonly maxPollMs: number;
  readonly emptyGraceMs: number;
  readonly #warn: (message: string) => void;

  constructor(cacheRoot: string, opts: StepLocksOptions = {}) {
    this.dir = join(cacheRoot, 'locks');
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.staleMs = opts.staleMs ?? 60_000;
    this.pollMs = opts.pollMs ?? 25;
    this.maxPollMs = opts.maxPollMs ?? 250;
    this.emptyGraceMs = opts.emptyGraceMs ?? 2000;
    this.#warn = opts.onWarning ?? (() => undefined);
  }

  /** Made once per instance (every acquire used to ask: a system call per step). */
  #dirMade: Promise<unknown> | undefined;
  #ensureDir(): Promise<unknown> {
    this.#dirMade ??= fsp.mkdir(this.dir, { recursive: true }).catch((err: unknown) => {
      this.#dirMade = undefined;
      throw err;
    });
    return this.#dirMade;
  }

  lockPath(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new TypeError(`locks: a key must be 64 lowercase hex digits, got ${JSON.stringify(key)}`);
    return join(this.dir, `${key}.lock`);
  }

  /** The lock of `key` as it is now, or undefined when there is none. */
  async inspect(key: string): Promise<LockState | undefined> {
    const path = this.lockPath(key);
    let raw: string;
    let mtimeMs: number;
    try {
      ({ raw, mtimeMs } = await FILE_SLOTS.run(async () => {
        const fh = await fsp.open(path, 'r');
        try {
          return { mtimeMs: (await fh.stat()).mtimeMs, raw: await fh.readFile('utf8') };
        } finally {
          await fh.close();
        }
      }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const info = parseInfo(raw);
    const age = Date.now() - mtimeMs;
    const verdict = (stale: boolean, reason: string): LockState => ({ info, raw, mtimeMs, stale, reason });
    if (info === undefined) {
      return age > this.emptyGraceMs ? verdict(true, `unreadable lock, ${Math.round(age / 1000)} s old`) : verdict(false, 'being written');
    }
    if (age > this.staleMs) return verdict(true, `no heartbeat for ${Math.round(age / 1000)} s (held by pid ${info.pid} on ${info.hostname})`);
    if (info.hostname === HOST) {
      if (info.pid === process.pid) {
        return HELD_HERE.has(info.token) ? verdict(false, 'held by this process') : verdict(true, `left by an earlier run with this pid (${info.pid})`);
      }
      const st = processState(info.pid);
      if (!st.alive) return verdict(true, `process ${info.pid} is gone`);
      if (st.startedMs !== undefined && typeof info.processStarted === 'number' && st.startedMs > info.processStarted + 5000) {
        return verdict(true, `pid ${info.pid} now belongs to another process`);
      }
      return verdict(false, `held by process ${info.pid}`);
    }
    return verdict(false, `held by process ${info.pid} on ${info.hostname}`);
  }

  /** Takes the lock of `key` if it is free (or stale); undefined when another live holder has it. */
  async tryAcquire(key: string, step?: string): Promise<StepLock | undefined> {
    const path = this.lockPath(key);
    await this.#ensureDir();
    for (let attempt = 0; attempt < 3; attempt++) {
      const info: LockInfo = {
        pid: process.pid,
        hostname: HOST,
        started: new Date().toISOString(),
        processStarted: PROCESS_STARTED,
        token: randomBytes(12).toString('hex'),
        ...(step === undefined ? {} : { step }),
      };
      try {
        await FILE_SLOTS.run(async () => {
          const fh = await fsp.open(path, 'wx').catch(async (err: NodeJS.ErrnoException) => {
            // The folder was removed under us (hrank clean of an idle cache): make it again.
            if (err.code !== 'ENOENT') throw err;
            await fsp.mkdir(this.dir, { recursive: true });
            return fsp.open(path, 'wx');
          });
          try {
            await fh.writeFile(`${JSON.stringify(info)}\n`);
          } finally {
            await fh.close();
          }
        });
        return new StepLock(key, path, info, this.heartbeatMs);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const state = await this.inspect(key);
      if (state === undefined) continue; // released meanwhile: try again
      if (!state.stale) return undefined;
      if (await this.#breakStale(key, state)) {
        this.#warn(`cache: took over the lock of ${step ?? key.slice(0, 12)} (${state.reason})`);
      }
    }
    return undefined;
  }

  /**
   * Waits until the lock of `key` is ours (resolves with it) or `ready()` says the work is done
   * (resolves with 'ready'). Polls with a growing interval; a stale lock is broken at once.
   * Rejects with the signal's reason when `signal` aborts.
   */
  async acquire(key: string, opts: { readonly signal?: AbortSignal; readonly ready?: () => Promise<boolean>; readonly step?: string } = {}): Promise<StepLock | 'ready'> {
    let delay = this.pollMs;
    // Every step waiting on a lock listens to the run's signal while it sleeps: many at once is
    // expected, not a leak.
    if (opts.signal && getMaxListeners(opts.signal) < 10_000) setMaxListeners(10_000, opts.signal);
    for (;;) {
      opts.signal?.throwIfAborted();
      if (opts.ready && (await opts.ready())) return 'ready';
      const lock = await this.tryAcquire(key, opts.step);
      if (lock) return lock;
      try {
        await sleep(delay, undefined, { signal: opts.signal });
      } catch {
        opts.signal?.throwIfAborted();
      }
      delay = Math.min(this.maxPollMs, Math.ceil(delay * 1.5));
    }
  }

  /**
   * Removes a stale lock; false when it was not removed (another breaker is at it, or the lock
   * changed since it was judged stale). Breakers take `<lock>.break` (O_EXCL) first and judge
   * the lock again under it, so two of them cannot both remove a lock, nor one remove a fresh
   * lock taken after the other's removal. A `.break` file left by a breaker that died is removed
   * after BREAK_STALE_MS.
   */
  async #breakStale(key: string, state: LockState): Promise<boolean> {
    const path = this.lockPath(key);
    const mutex = `${path}.break`;
    try {
      await FILE_SLOTS.run(async () => (await fsp.open(mutex, 'wx')).close());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await fsp.stat(mutex).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > BREAK_STALE_MS) await fsp.unlink(mutex).catch(() => undefined);
      return false;
    }
    try {
      const now = await this.inspect(key);
      if (now === undefined || !now.stale || now.raw !== state.raw) return false;
      await fsp.unlink(path);
      return true;
    } catch {
      return false;
    } finally {
      await fsp.unlink(mutex).catch(() => undefined);
    }
  }

  /** Removes every lock file that is stale now (for `hrank clean`); returns how many. */
  async removeStale(): Promise<number> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch {
      return 0;
    }
    let n = 0;
    for (const name of names) {
      if (!LOCK_FILE.test(name)) continue;
      const state = await this.inspect(name.slice(0, 64)).catch(() => undefined);
      if (state?.stale && (await this.#breakStale(name.slice(0, 64), state))) n++;
    }
    return n;
  }
}
