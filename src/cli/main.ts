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

const code = await main(process.argv.slice(2));
// Leave now rather than letting the event loop drain: Node's teardown after a natural drain takes
// tens of milliseconds with no SIGINT handler installed, so a second Ctrl-C landing there ended
// the process by signal instead of with 130. Every write before this point was awaited or is
// synchronous (stdout and stderr are synchronous for files, pipes and terminals on POSIX).
process.exit(code);
