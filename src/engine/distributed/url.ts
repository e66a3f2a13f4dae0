/** `--redis` URLs, without loading a Redis client (the CLI checks the option with this). */

/** A `--redis` value that is not a Redis URL. */
export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

export interface RedisTarget {
  /** The URL as given (shown in messages; a password is masked). */
  readonly url: string;
  /** Masked for messages. */
  readonly shown: string;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
}

/** Parses `redis://[user:pass@]host[:port][/db]` (or `rediss://` for TLS). */
export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUrlError(`not a Redis URL: '${url}' (expected redis://host:port, e.g. redis://127.0.0.1:6379)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new RedisUrlError(`not a Redis URL: '${url}' (expected redis://host:port or rediss://host:port)`);
  }
  if (u.hostname === '') throw new RedisUrlError(`no host in the Redis URL '${url}'`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isSafeInteger(db) || db < 0) throw new RedisUrlError(`bad database number '${dbText}' in the Redis URL '${url}'`);
  const password = u.password === '' ? undefined : decodeURIComponent(u.password);
  const username = u.username === '' ? undefined : decodeURIComponent(u.username);
  const shown = password === undefined ? url : url.replace(`:${u.password}@`, ':***@');
  return { url, shown, host: u.hostname.replace(/^\[|\]$/g, ''), port, db, username, password, tls: u.protocol === 'rediss:' };
}

