/**
 * Connections to the Redis server of a cluster (`--redis redis://host:port[/db]`): URL checking,
 * connection options that never hang (bounded connect, bounded retries), a first probe that
 * fails fast with a readable message, and a watchdog that notices a server gone away.
 *
 * BullMQ's own connections retry forever by design (blocking commands need it), so whether Redis
 * is still there is decided here: every process that talks to Redis pings it through its own
 * small client, and gives up after `redisTimeoutMs()` without an answer.
 */
import type { RedisOptions } from 'bullmq';
import { Redis, type RedisOptions as ClientOptions } from 'ioredis';
import type { RedisTarget } from './url.js';

export { RedisUrlError, parseRedisUrl, type RedisTarget } from './url.js';

/** A Redis server that cannot be reached, or that stopped answering. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/** Seconds without an answer from Redis before a run or a worker gives up (HRANK_REDIS_TIMEOUT, default 20). */
export function redisTimeoutMs(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env.HRANK_REDIS_TIMEOUT;
  const s = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 20_000;
}

/**
 * ioredis options for one client. `blocking`: BullMQ's worker and event connections, which must
 * retry requests forever (`maxRetriesPerRequest: null`); the watchdog bounds the wait instead.
 */
export function connectionOptions(target: RedisTarget, opts: { blocking?: boolean; name?: string } = {}): RedisOptions {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
    connectionName: opts.name ?? 'hrank',
    connectTimeout: 5_000,
    // A socket that does not close when asked is destroyed after this (ioredis: 2 s).
    disconnectTimeout: 300,
    // Reconnect every 0.2 - 1 s; the watchdog decides when to give up.
    retryStrategy: (times: number) => Math.min(200 * times, 1_000),
    maxRetriesPerRequest: opts.blocking ? null : 3,
    enableReadyCheck: true,
  };
}

/** A plain client (values, probes): requests fail after a few reconnection attempts, never hang. */
export function plainClient(target: RedisTarget, name: string): Redis {
  const client = new Redis({ ...connectionOptions(target, { name }), lazyConnect: true } as ClientOptions);
  // Connection errors surface through failed commands and the watchdog; without a listener
  // ioredis would print each one.
  client.on('error', () => undefined);
  return client;
}

function reason(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return reason(err.errors[0]);
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

function unreachable(target: RedisTarget, err: unknown): RedisUnavailableError {
  return new RedisUnavailableError(
    `cannot reach Redis at ${target.shown} (${reason(err)}); is redis-server running there and reachable from this machine?`,
  );
}

/**
 * Checks within `timeoutMs` that the server answers (one short-lived client per attempt, no
 * reconnecting), then connects `client` (created with `lazyConnect`). Throws a
 * `RedisUnavailableError` naming the URL and the reason otherwise.
 */
export async function connectChecked(client: Redis, target: RedisTarget, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = new Error('no answer');
  for (;;) {
    const probe = new Redis({
      ...connectionOptions(target, { name: 'hrank-probe' }),
      lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false,
      connectTimeout: Math.max(200, Math.min(3_000, deadline - Date.now())),
    } as ClientOptions);
    let socketError: unknown;
    probe.on('error', (e: unknown) => (socketError = e));
    try {
      await withTimeout(probe.connect(), Math.max(300, deadline - Date.now()));
      const pong = await withTimeout(probe.ping(), Math.max(300, deadline - Date.now()));
      if (pong !== 'PONG') throw new Error(`unexpected answer to PING: ${String(pong)}`);
      break;
    } catch (err) {
      // The socket's own error (ECONNREFUSED, ENOTFOUND...) says more than "Connection is closed".
      last = socketError ?? err;
      // Wrong password or database: retrying will not help.
      if (/NOAUTH|WRONGPASS|invalid password|DB index is out of range|invalid DB/i.test(reason(err)) || Date.now() + 500 >= deadline) {
        throw unreachable(target, last);
      }
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      probe.disconnect();
    }
  }
  try {
    await withTimeout(client.connect(), Math.max(1_000, deadline - Date.now()));
  } catch (err) {
    client.disconnect();
    throw unreachable(target, err);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${(ms / 1000).toFixed(1)} s`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * Pings Redis every second through its own client; after `timeoutMs` without a PONG calls
 * `onLost` once with a `RedisUnavailableError`. `stop()` ends it (and its client).
 */
export class RedisWatchdog {
  readonly #client: Redis;
  readonly #timer: NodeJS.Timeout;
  #lastOk = Date.now();
  #lastError: unknown;
  #socketError: unknown;
  #busy = false;
  #lost = false;

  constructor(readonly target: RedisTarget, readonly timeoutMs: number, onLost: (err: RedisUnavailableError) => void) {
    this.#client = plainClient(target, 'hrank-watchdog');
    // The socket's error (ECONNREFUSED...) says more than a failed PING ("max retries").
    this.#client.on('error', (e: unknown) => (this.#socketError = e));
    this.#client.connect().catch((e: unknown) => (this.#lastError = e));
    this.#timer = setInterval(() => {
      if (this.#lost) return;
      if (Date.now() - this.#lastOk > timeoutMs) {
        this.#lost = true;
        const e = this.#socketError ?? this.#lastError;
        const why = e === undefined ? 'no answer' : reason(e);
        onLost(new RedisUnavailableError(`lost the connection to Redis at ${target.shown}: no answer for ${Math.round(timeoutMs / 1000)} s (${why})`));
        return;
      }
      if (this.#busy) return;
      this.#busy = true;
      withTimeout(this.#client.ping(), Math.min(5_000, timeoutMs))
        .then(() => { this.#lastOk = Date.now(); this.#lastError = this.#socketError = undefined; })
        .catch((e: unknown) => { this.#lastError = e; })
        .finally(() => { this.#busy = false; });
    }, Math.min(1_000, Math.max(100, timeoutMs / 4)));
    this.#timer.unref();
  }

  get lost(): boolean {
    return this.#lost;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#client.disconnect();
  }
}

/** Runs `close` but gives up after `ms` (a server gone away must not keep the process alive). */
export async function closeWithin(close: () => Promise<unknown>, ms: number, onTimeout?: () => void): Promise<void> {
  if (ms <= 0) {
    onTimeout?.();
    return;
  }
  try {
    await withTimeout(close(), ms);
  } catch {
    onTimeout?.();
  }
}
