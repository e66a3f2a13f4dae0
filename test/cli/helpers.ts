/** Shared helpers of the CLI tests: temp folders, small pipelines, captured I/O, the CLI as a child process. */
import { spawn } from 'node:child_process';
import { after, before } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CliIO } from '../../src/cli/io.js';
import { builtCli } from './built.js';

/** The repository root (child processes run there, so `--import tsx` resolves). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = path.join(ROOT, 'src/cli/main.ts');
/** tsx's loader by its absolute URL, so a child can run in any folder. */
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** A tiny study that runs in about a second: 2 points (seed 1 and 2), 11 steps. */
export const TINY = `version: 1
name: tiny
dataset:
  source: gaussian-mixture
  dim: 4
  samples: 12
  classes: 3
model:
  hidden: [3]
sweep:
  seed: [1, 2]
`;

/** A study whose ranks steps take a few seconds (for Ctrl-C). */
export const SLOW = `version: 1
name: slow
dataset:
  source: gaussian-mixture
  dim: 16
  samples: 100
  classes: 10
model:
  hidden: [16, 16]
sweep:
  seed: [1, 2, 3, 4]
`;

/** A fresh temp folder, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hrank-cli-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function writeText(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

export interface StudyFolder {
  readonly dir: string;
  /** The pipeline file. */
  readonly file: string;
  /** Where its cache and results folders go (not made). */
  readonly cache: string;
  readonly results: string;
}

/**
 * For the tests of a describe block: before them, a temporary folder holding the pipeline file
 * `name`, handed to `use`; after them, removed.
 */
export function studyFolder(name: string, text: string, use: (folder: StudyFolder) => void): void {
  let cleanup: () => Promise<void> = async () => undefined;
  before(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    use({ dir: t.dir, file: await writeText(t.dir, name, text), cache: path.join(t.dir, 'cache'), results: path.join(t.dir, 'results') });
  });
  after(() => cleanup());
}

export interface Captured extends CliIO {
  readonly stdout: () => string;
  readonly stderr: () => string;
}

/** A CliIO that records stdout and stderr (plain progress, no signals, exit throws). */
export function captureIO(env: Record<string, string | undefined> = {}): Captured {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    progressStream: undefined,
    env,
    onInterrupt: () => () => undefined,
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
    stdout: () => out,
    stderr: () => err,
  };
}

export interface ChildResult {
  readonly code: number | null;
  /** The signal that ended the child, if one did. */
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `hrank args...` as a child in the repository root or `cwd`: the sources transpiled once per
 * test process (built.ts), else `node --import tsx src/cli/main.ts`. `onStderr` sees stderr as it
 * grows and may signal the child.
 */
export function hrank(
  args: readonly string[],
  opts: { env?: Record<string, string>; cwd?: string; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void; timeoutMs?: number } = {},
): Promise<ChildResult> {
  return builtCli().then((main) => new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(main ? [main] : ['--import', TSX, MAIN]), ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, HRANK_DEBUG: '', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hrank ${args.join(' ')} timed out\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      opts.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  }));
}

/** Asserts there is no stack trace in a text ("    at fn (file:line:col)"). */
export function hasStack(text: string): boolean {
  return /^\s+at .+[(:]\d+:\d+\)?$/m.test(text);
}
