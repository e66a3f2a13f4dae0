#!/usr/bin/env node
/** The `hrank` executable (node_modules/.bin/hrank, linked by scripts/bin-link.mjs). Everything else is in `cli.ts`. */
import { main } from './cli.js';
import { EXIT_FAILED, reportError } from './errors.js';

// `hrank plan x.yaml | head`: a closed pipe ends the output, not with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  lastResort(err);
});

/** Errors that escaped every handler (a bug): reported like any other error, exit 1. */
function lastResort(err: unknown): void {
  reportError(err, { err: (text) => void process.stderr.write(text), env: process.env });
  process.exit(EXIT_FAILED);
}
process.on('uncaughtException', lastResort);
process.on('unhandledRejection', lastResort);

/** Resolves once everything written to `stream` so far is handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });
}

const code = await main(process.argv.slice(2));
// A write larger than a pipe's buffer (64 KiB: `hrank plan big.yaml --json | jq`) is still
// queued here even though pipes are "synchronous": exiting now would cut it off. Wait for both.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
// Then leave rather than letting the event loop drain: Node's teardown after a natural drain takes
// tens of milliseconds with no SIGINT handler installed, so a second Ctrl-C landing there ended
// the process by signal instead of with 130.
process.exit(code);
