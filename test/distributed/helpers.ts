/**
 * Redis for the distributed tests, and hrank as child processes.
 *
 * Redis: HRANK_TEST_REDIS (.ci/run starts one and sets it), else a redis-server of our own on a
 * free port in a temp folder when the binary exists, else none: the tests then SKIP, loudly.
 * Each test file works in a database of its own (`/N` in the URL) and empties it first.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = path.join(ROOT, 'src/cli/main.ts');

export function tempDir(prefix = 'hrank-dist-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A TCP port nobody listens on (at the time of asking). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function redisServerBinary(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const bin = r.stdout.trim();
  return r.status === 0 && bin !== '' ? bin : undefined;
}

/** A redis-server of our own: `stop()` kills it (SIGKILL with `hard`) and removes its folder. */
export interface OwnRedis {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(hard?: boolean): Promise<void>;
}

export async function startRedis(bin: string, port?: number): Promise<OwnRedis> {
  const p = port ?? await freePort();
  const dir = tempDir('hrank-redis-');
  const child = spawn(bin, ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--databases', '16'], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const url = `redis://127.0.0.1:${p}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (await ping(url)) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${p}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, port: p, process: child,
    stop: async (hard = false) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(hard ? 'SIGKILL' : 'SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function ping(url: string): Promise<boolean> {
  const c = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 500, disconnectTimeout: 50 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

export interface TestRedis {
  /** Base URL (no database). */
  readonly url: string;
  /** URL of database `db`, emptied. */
  database(db: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The Redis of this test run, or a reason to skip (printed loudly by `skipLoudly`).
 */
export async function testRedis(): Promise<TestRedis | string> {
  const given = process.env.HRANK_TEST_REDIS;
  let base: string;
  let stop = async (): Promise<void> => undefined;
  if (given !== undefined && given !== '') {
    base = given;
    if (!await ping(given)) return `HRANK_TEST_REDIS=${given} does not answer`;
  } else {
    const bin = redisServerBinary();
    if (!bin) return 'HRANK_TEST_REDIS is unset and there is no redis-server binary (apt-get install -y redis-server)';
    const own = await startRedis(bin);
    base = own.url;
    stop = () => own.stop();
  }
  return {
    url: base,
    database: async (db) => {
      const u = new URL(base);
      u.pathname = `/${db}`;
      const c = new Redis(u.href, { maxRetriesPerRequest: 1, connectTimeout: 2_000, disconnectTimeout: 50 });
      try { await c.flushdb(); } finally { c.disconnect(); }
      return u.href;
    },
    stop,
  };
}

export function skipLoudly(t: { skip: (message?: string) => void }, why: string): void {
  const message = `${why}: the distributed (Redis) tests did NOT run`;
  console.warn(`\n${'!'.repeat(100)}\n!!! SKIPPED: ${message}\n${'!'.repeat(100)}\n`);
  t.skip(message);
}

/** A running `hrank ...` child process with its output so far. */
export interface Child {
  readonly process: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Exit code (null when killed by a signal) once it ended. */
  readonly exited: Promise<number | null>;
  /** Resolves when stderr (from character `from` on) matches `re` (rejects after `ms`). */
  waitFor(re: RegExp, ms?: number, from?: number): Promise<void>;
}

const children = new Set<ChildProcess>();

/** Kills every child still running (after each test file). */
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

export function hrank(args: readonly string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, HRANK_DEBUG: '', HRANK_PROGRESS: 'plain', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  const watchers: { test: () => boolean; resolve: () => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const w of [...watchers]) if (w.test()) { watchers.splice(watchers.indexOf(w), 1); w.resolve(); }
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => { children.delete(child); resolve(code); }));
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (re, ms = 30_000, from = 0) => new Promise<void>((resolve, reject) => {
      const test = (): boolean => re.test(err.slice(from));
      if (test()) { resolve(); return; }
      const timer = setTimeout(() => reject(new Error(`no ${re} in stderr of hrank ${args.join(' ')} after ${ms} ms:\n${err}`)), ms);
      watchers.push({ test, resolve: () => { clearTimeout(timer); resolve(); } });
      void exited.then(() => { if (!test()) { clearTimeout(timer); reject(new Error(`hrank ${args.join(' ')} ended without ${re}:\n${err}`)); } });
    }),
  };
}

/** Waits for a child's exit, failing after `ms`. */
export async function exitOf(c: Child, ms = 60_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      c.exited,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms\nstdout:\n${c.stdout()}\nstderr:\n${c.stderr()}`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
