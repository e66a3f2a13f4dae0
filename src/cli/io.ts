/**
 * What a command may touch of the outside world, so that commands can be called in-process by
 * tests with captured output. `processIO()` is the real thing.
 */

export interface CliIO {
  /** Writes to stdout (results, summaries, JSON). */
  readonly out: (text: string) => void;
  /** Width of stdout when it is a terminal (tables are split to fit it); undefined otherwise. */
  readonly outColumns?: number;
  /** Writes to stderr (progress, problems, errors). */
  readonly err: (text: string) => void;
  /** The terminal to draw live progress on (listr2), or undefined for plain progress lines. */
  readonly progressStream: NodeJS.WriteStream | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Calls `handler` on each Ctrl-C (SIGINT); returns the function that stops listening. */
  readonly onInterrupt: (handler: () => void) => () => void;
  /** Leaves at once with `code` (a second Ctrl-C). */
  readonly exit: (code: number) => void;
}

export function processIO(): CliIO {
  const tty = process.stderr.isTTY === true && process.env.TERM !== 'dumb' && process.env.HRANK_PROGRESS !== 'plain';
  return {
    out: (text) => void process.stdout.write(text),
    ...(process.stdout.isTTY === true && process.stdout.columns > 0 ? { outColumns: process.stdout.columns } : {}),
    err: (text) => void process.stderr.write(text),
    progressStream: tty ? process.stderr : undefined,
    env: process.env,
    onInterrupt: (handler) => {
      process.on('SIGINT', handler);
      return () => void process.off('SIGINT', handler);
    },
    exit: (code) => process.exit(code),
  };
}
