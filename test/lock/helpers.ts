/** Helpers of the lock tests: a temporary git repository, small pipelines, IDX files, the CLI in-process. */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/cli.js';
import { MAIN, captureIO } from '../cli/helpers.js';

/** The brief's small study: 2 points, about a second. */
export const SMALL = `version: 1
name: small
dataset: {source: gaussian-mixture, dim: 5, samples: 12, classes: 3}
model: {width: 3, depth: 1}
sweep:
  model.width: [2, 3]
`;

export function tempDir(prefix = 'hrank-lock-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs git in `dir` (no global or system configuration; identity given per commit). */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' },
  });
}

export function gitInit(dir: string): void {
  git(dir, 'init', '-q', '-b', 'main');
}

export function commit(dir: string, message: string, ...files: string[]): void {
  git(dir, 'add', '--', ...files);
  git(dir, '-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-q', '-m', message);
}

export function write(dir: string, name: string, text: string | Uint8Array): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** `hrank args...` in-process: exit code and captured output. */
export async function hrankIn(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIO();
  const code = await main(args, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/** `hrank run` with the cache and results inside `dir`. */
export async function runIn(dir: string, file: string): Promise<void> {
  const r = await hrankIn(['run', file, '--cache', path.join(dir, 'cache'), '--results', path.join(dir, 'results'), '--jobs', '2']);
  if (r.code !== 0) throw new Error(`hrank run ${file} exited ${r.code}\n${r.stderr}`);
}

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** An IDX image file and its labels: `n` images of side x side bytes (seeded), label i mod `classes`. */
export function idxFiles(n: number, side: number, classes: number, seed = 1): { images: Uint8Array; labels: Uint8Array } {
  let s = seed;
  const next = (): number => ((s = (s * 1103515245 + 12345) >>> 0), (s >>> 16) & 255);
  const pixels = Array.from({ length: n * side * side }, next);
  const images = Uint8Array.from([...u32(0x803), ...u32(n), ...u32(side), ...u32(side), ...pixels]);
  const labels = Uint8Array.from([...u32(0x801), ...u32(n), ...Array.from({ length: n }, (_, i) => i % classes)]);
  return { images, labels };
}

/** `hrank args...` as a child process in `cwd` (for commands that look at the current folder). */
export function hrankAt(cwd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath, ['--import', import.meta.resolve('tsx'), MAIN, ...args],
      { cwd, encoding: 'utf8', env: { ...process.env, HRANK_DEBUG: '', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}
