/** Shared helpers of the reliability tests: a seeded PRNG, cache scans, results snapshots, a killable CLI child. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { CacheStore } from '../../src/engine/store/cache.js';
import { MAIN, ROOT } from '../cli/helpers.js';

/** mulberry32: a small seeded PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A small multi-point study: 6 points, 31 steps; its 6 ranks steps take about a second on one worker. */
export const STUDY = `version: 1
name: trial
dataset:
  source: gaussian-mixture
  dim: 8
  samples: 40
  classes: 4
model:
  hidden: [8, 8]
sweep:
  seed: [1, 2, 3, 4, 5, 6]
`;

/** Entry keys of a cache folder with the inode of each entry file (a rewritten entry gets a new one). */
export function entryInodes(cache: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const key of entryKeys(cache)) out.set(key, statSync(path.join(cache, key.slice(0, 2), `${key}.bin`)).ino);
  return out;
}

/** Keys of the entry files in a cache folder (not temp files, not moved-aside ones). */
export function entryKeys(cache: string): Set<string> {
  const keys = new Set<string>();
  if (!existsSync(cache)) return keys;
  for (const shard of readdirSync(cache)) {
    if (!/^[0-9a-f]{2}$/.test(shard)) continue;
    for (const f of readdirSync(path.join(cache, shard))) {
      const m = /^([0-9a-f]{64})\.bin$/.exec(f);
      if (m) keys.add(m[1]!);
    }
  }
  return keys;
}

/** Reads every entry through the checksum; returns the warnings (empty when every entry is sound). */
export async function verifyCache(cache: string): Promise<string[]> {
  const warnings: string[] = [];
  const store = new CacheStore(cache, { onWarning: (m) => warnings.push(m) });
  for (const key of entryKeys(cache)) {
    if ((await store.get(key)) === undefined) warnings.push(`entry ${key} unreadable`);
  }
  return warnings;
}

/** The files of a results folder that are a pure function of the pipeline (byte-comparable). */
export const PURE_RESULTS = ['results.csv', 'results.json', 'details.json', 'table.md'] as const;

export function snapshot(dir: string, names: readonly string[] = PURE_RESULTS): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, readFileSync(path.join(dir, n), 'utf8')]));
}

/** Every file of a folder (recursively) with its bytes, for "unchanged" checks. */
export function allFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

export interface Spawned {
  readonly child: ChildProcess;
  /** Resolves when the child has exited (and been reaped). */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves when stderr first satisfies `test` (or the child has exited). */
  readonly when: (test: (stderr: string) => boolean) => Promise<void>;
}

export { builtCli } from '../cli/built.js';

/**
 * `hrank args...` as a child process, with plain progress on stderr: the sources through tsx, or
 * with `main` (from `builtCli()`) the transpiled CLI.
 */
export function spawnHrank(args: readonly string[], env: Record<string, string> = {}, main?: string): Spawned {
  const child = spawn(process.execPath, [...(main ? [main] : ['--import', 'tsx', MAIN]), ...args], {
    cwd: ROOT,
    env: { ...process.env, HRANK_DEBUG: '', HRANK_PROGRESS: 'plain', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { test: (stderr: string) => boolean; resolve: () => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of [...waiters]) {
      if (w.test(stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      for (const w of waiters) w.resolve();
      resolve({ code, signal, stdout, stderr });
    });
  });
  let exited = false;
  child.on('close', () => (exited = true));
  const when = (test: (stderr: string) => boolean): Promise<void> =>
    new Promise((resolve) => {
      if (exited || test(stderr)) resolve();
      else waiters.push({ test, resolve });
    });
  return { child, done, when };
}
