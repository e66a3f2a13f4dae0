/**
 * Argument parsing: the commander program, built from the option table (`options.ts`), and
 * `parseArgs`, which returns the typed command without running anything. Commander never exits
 * the process here (`exitOverride`) and writes nowhere (`configureOutput`): help, version and
 * usage errors come back as text and an exit code (0 for help and version, 2 for usage errors).
 */
import { Command, CommanderError, Option } from 'commander';
import { HRANK_VERSION } from '../version.js';
import { COMMANDS, OPTIONS, UsageProblem, type OptionSpec, type ParsedCommand } from './options.js';

export type ParseResult =
  /** `given`: the options written on the command line (the rest took their defaults, which a project file may change). */
  | { readonly kind: 'command'; readonly command: ParsedCommand; readonly given: ReadonlySet<string> }
  /** Nothing to run: print `stdout` and `stderr` and exit with `code`. */
  | { readonly kind: 'exit'; readonly code: number; readonly stdout: string; readonly stderr: string };

/** Exit code of a usage error (and of invalid input). */
export const USAGE_EXIT = 2;

const EPILOG = `
Exit codes: 0 ok, 1 a run failed, 2 invalid input or usage, 130 interrupted.
Progress is drawn live on a terminal; HRANK_PROGRESS=plain prints a line per step instead.
Set HRANK_DEBUG=1 to see stack traces of unexpected errors.`;

function toOption(spec: OptionSpec): Option {
  // Commander shows a default only when there is a value; a default in words goes in the text.
  const words = spec.default === undefined && spec.defaultDescription !== undefined ? ` (default: ${spec.defaultDescription})` : '';
  const option = new Option(spec.flags, spec.description + words);
  if (spec.default !== undefined) option.default(spec.default, spec.defaultDescription);
  if (spec.parse) {
    const parse = spec.parse;
    // commander hands repeated options their previous value (see `collect`).
    option.argParser((raw: string, previous: unknown) => parse(raw, previous));
  }
  return option;
}

/**
 * The commander program. `onCommand` receives the typed command when one is parsed; `write`
 * receives everything commander would print.
 */
export function buildProgram(onCommand: (command: ParsedCommand, given: ReadonlySet<string>) => void, write: { out: (s: string) => void; err: (s: string) => void }): Command {
  const program = new Command('hrank')
    .description('Hessian-rank studies from YAML pipeline files')
    .version(HRANK_VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureOutput({ writeOut: write.out, writeErr: write.err, outputError: (text, w) => w(text) })
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .addHelpText('after', EPILOG);

  for (const spec of COMMANDS) {
    const cmd = program.command(spec.name).description(spec.summary);
    for (const a of spec.args) cmd.argument(a.syntax, a.description);
    for (const name of spec.options) cmd.addOption(toOption(OPTIONS[name]));
    if (spec.examples?.length) cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}\n${EPILOG}`);
    cmd.action((...params: unknown[]) => {
      const self = params[params.length - 1] as Command;
      const args = params.slice(0, spec.args.length);
      const given = (name: string): boolean => self.getOptionValueSource(name) === 'cli';
      onCommand(spec.build(args, self.opts(), given), new Set(Object.keys(self.opts()).filter(given)));
    });
  }
  return program;
}

/** Parses `argv` (the arguments after `hrank`) into a typed command, or the exit to take. Pure. */
export function parseArgs(argv: readonly string[]): ParseResult {
  let stdout = '';
  let stderr = '';
  let parsed: ParsedCommand | undefined;
  let given: ReadonlySet<string> = new Set();
  const program = buildProgram((c, g) => { parsed = c; given = g; }, { out: (s) => (stdout += s), err: (s) => (stderr += s) });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every other commander exit (unknown command or option, missing
      // argument, bad value, no command at all) is a usage error.
      return { kind: 'exit', code: err.exitCode === 0 ? 0 : USAGE_EXIT, stdout, stderr };
    }
    if (err instanceof UsageProblem) {
      return { kind: 'exit', code: USAGE_EXIT, stdout, stderr: `${stderr}error: ${err.message}\n(add --help for usage)\n` };
    }
    throw err;
  }
  if (parsed === undefined) {
    // Not reached with the commands above (commander shows help when no command is given).
    return { kind: 'exit', code: USAGE_EXIT, stdout, stderr: stderr || `error: no command given\n${program.helpInformation()}` };
  }
  return { kind: 'command', command: parsed, given };
}
