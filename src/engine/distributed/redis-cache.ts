/**
 * The store every machine of a cluster reads step values from, by cache key:
 *
 * - small values (encoded under `maxRedisBytes`, default 16 MB) live in Redis under
 *   `hrank:value:<key>`: 4 bytes "HRKV", the sha256 of the rest, then the value as `codec.ts`
 *   encodes it (the bytes the cache files hold), with an expiry (default 7 days; every machine
 *   keeps its own copy in its cache folder, the submitter re-uploads what a worker needs);
 * - every value also goes to the shared cache folder when one is named (`--cache DIR` on a
 *   folder all machines mount at the same path: the same `CacheStore` as local runs), and larger
 *   values go only there.
 *
 * A value that fails its checksum or does not decode is a miss (with a warning), never returned.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CacheStore, PutMeta } from '../store/cache.js';
import { decode, encode } from '../store/codec.js';

export const VALUE_PREFIX = 'hrank:value:';
const MAGIC = Buffer.from('HRKV', 'latin1');
const HEAD = MAGIC.length + 32;

export interface SharedStoreOptions {
  /** The shared cache folder (all machines, same path), or null. */
  readonly dir?: CacheStore | null;
  /** Encoded values up to this size go to Redis (default 16 MB). */
  readonly maxRedisBytes?: number;
  /** Expiry of values in Redis, in seconds (default 7 days). */
  readonly ttlSeconds?: number;
  readonly onWarning?: (message: string) => void;
}

/** Where `put` stored a value. */
export interface Stored {
  /** In Redis (else only in the shared folder). */
  readonly redis: boolean;
  /** Encoded size. */
  readonly bytes: number;
}

/** A value too large for Redis with no shared cache folder to put it in. */
export class ValueTooLargeError extends Error {
  override readonly name = 'ValueTooLargeError';
}

export const DEFAULT_MAX_REDIS_BYTES = 16 * 1024 * 1024;

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

export class SharedStore {
  readonly dir: CacheStore | null;
  readonly maxRedisBytes: number;
  readonly ttlSeconds: number;
  readonly #warn: (message: string) => void;

  constructor(readonly client: Redis, opts: SharedStoreOptions = {}) {
    this.dir = opts.dir ?? null;
    this.maxRedisBytes = opts.maxRedisBytes ?? DEFAULT_MAX_REDIS_BYTES;
    this.ttlSeconds = opts.ttlSeconds ?? 7 * 24 * 3600;
    this.#warn = opts.onWarning ?? ((m) => process.emitWarning(m, { code: 'HRANK_REDIS' }));
  }

  /** Whether Redis (or the shared folder) holds a value for `key`. */
  async has(key: string): Promise<boolean> {
    if ((await this.client.exists(VALUE_PREFIX + key)) === 1) return true;
    return this.dir ? this.dir.has(key) : false;
  }

  /** The value for `key` from Redis, else from the shared folder; undefined when neither has it. */
  async get(key: string): Promise<unknown> {
    const bytes = await this.client.getBuffer(VALUE_PREFIX + key);
    if (bytes !== null) {
      const value = this.#unpack(key, bytes);
      if (value !== undefined) return value;
    }
    return this.dir ? this.dir.get(key) : undefined;
  }

  /**
   * Stores `value` under `key`: in Redis when small enough, and in the shared folder when there
   * is one. Throws `ValueTooLargeError` when it fits neither.
   */
  async put(key: string, value: unknown, meta: PutMeta = {}): Promise<Stored> {
    const payload = encode(value);
    const small = HEAD + payload.length <= this.maxRedisBytes;
    if (!small && !this.dir) {
      throw new ValueTooLargeError(
        `the value of ${meta.id ?? key} is ${mb(payload.length)}, more than the ${mb(this.maxRedisBytes)} hrank puts in Redis: ` +
        'give the workers and the submitter --cache DIR on a folder all of them share (same path everywhere)',
      );
    }
    if (this.dir) await this.dir.put(key, value, meta);
    if (small) {
      const digest = createHash('sha256').update(payload).digest();
      await this.client.set(VALUE_PREFIX + key, Buffer.concat([MAGIC, digest, payload]), 'EX', this.ttlSeconds);
    }
    return { redis: small, bytes: payload.length };
  }

  /** Removes `key` from Redis (not from the shared folder). */
  async forget(key: string): Promise<void> {
    await this.client.del(VALUE_PREFIX + key);
  }

  #unpack(key: string, bytes: Buffer): unknown {
    const bad = (why: string): undefined => {
      this.#warn(`redis: value ${VALUE_PREFIX}${key} is unusable (${why}); treating it as missing`);
      return undefined;
    };
    if (bytes.length < HEAD || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return bad('not an hrank value');
    const payload = bytes.subarray(HEAD);
    if (!createHash('sha256').update(payload).digest().equals(bytes.subarray(MAGIC.length, HEAD))) return bad('checksum mismatch');
    try {
      return decode(payload);
    } catch (e) {
      return bad(e instanceof Error ? e.message : String(e));
    }
  }
}
