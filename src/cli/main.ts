#!/usr/bin/env node
/** The `hrank` executable (package.json `bin`). Everything else is in `cli.ts`. */
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

process.exitCode = await main(process.argv.slice(2));
// Winding down (worker threads ending): a Ctrl-C now still leaves with the interrupted code.
process.on('SIGINT', () => process.exit(130));
