/**
 * The one place where errors become messages and exit codes. Known input errors exit 2 and say
 * where the problem is (file:line:col for pipeline problems, the file for dataset problems);
 * anything else, a cache write failure included, is `error: message` and exit 1. Stack traces
 * only with HRANK_DEBUG=1.
 */
import { PipelineError, formatProblem } from '../pipeline/errors.js';
import { DatasetError } from '../science/datasets/errors.js';
import { StudyRefused } from '../study/errors.js';
import type { CliIO } from './io.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_INPUT = 2;
export const EXIT_INTERRUPTED = 130;

/** A problem with what the user asked for, found by a command (not a bug): exit 2, no stack. */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** True when HRANK_DEBUG asks for stack traces. */
export function debugEnabled(env: CliIO['env']): boolean {
  const v = env.HRANK_DEBUG;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** The text for a dataset problem: `file: message` (the message may already start with the file). */
export function datasetMessage(err: DatasetError): string {
  if (err.file === undefined || err.message.startsWith(`${err.file}:`)) return err.message;
  return `${err.file}: ${err.message}`;
}

/** Failures (exit 1) whose message says all there is: engine/distributed/redis.ts's RedisUnavailableError. */
const EXPLAINED_FAILURES = new Set(['RedisUnavailableError']);

/** Prints `err` as the user should see it and returns the exit code. */
export function reportError(err: unknown, io: Pick<CliIO, 'err' | 'env'>): number {
  const debug = debugEnabled(io.env);
  const stack = (): void => {
    if (debug && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
  };
  if (err instanceof PipelineError) {
    io.err(`${err.problems.map(formatProblem).join('\n')}\n`);
    stack();
    return EXIT_INPUT;
  }
  if (err instanceof DatasetError) {
    io.err(`${datasetMessage(err)}\n`);
    stack();
    return EXIT_INPUT;
  }
  if (err instanceof StudyRefused) {
    io.err(`error: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
    stack();
    return EXIT_INPUT;
  }
  if (err instanceof InputError) {
    io.err(`error: ${err.message}\n`);
    stack();
    return EXIT_INPUT;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.err(`error: ${message}\n`);
  // A failure the message fully explains (Redis unreachable): no stack trace to offer. Matched by
  // name, so this module does not load the Redis client.
  if (err instanceof Error && EXPLAINED_FAILURES.has(err.name)) {
    stack();
    return EXIT_FAILED;
  }
  if (debug) stack();
  else io.err('(set HRANK_DEBUG=1 for a stack trace)\n');
  return EXIT_FAILED;
}
