/**
 * `hrank`: parse the arguments, run one command, map whatever it throws to a message and an
 * exit code (`errors.ts`). Each command's module, and so the engine, is imported only when that
 * command runs, so `--help`, `--version` and usage errors stay fast.
 */
import { parseArgs } from './args.js';
import { reportError } from './errors.js';
import { processIO, type CliIO } from './io.js';
import type { ParsedCommand } from './options.js';

/** Runs one parsed command; resolves with its exit code (errors are thrown, not mapped). */
export async function execute(command: ParsedCommand, io: CliIO): Promise<number> {
  switch (command.command) {
    case 'run': return (await import('./commands/run.js')).runCommand(command.options, io);
    case 'validate': return (await import('./commands/validate.js')).validateCommand(command.options, io);
    case 'plan': return (await import('./commands/plan.js')).planCommand(command.options, io);
    case 'clean': return (await import('./commands/clean.js')).cleanCommand(command.options, io);
    case 'report': return (await import('./commands/report.js')).reportCommand(command.options, io);
    case 'show': return (await import('./commands/show.js')).showCommand(command.options, io);
    case 'status': return (await import('./commands/status.js')).statusCommand(command.options, io);
    case 'diff': return (await import('./commands/diff.js')).diffCommand(command.options, io);
    case 'export': return (await import('./commands/export.js')).exportCommand(command.options, io);
    case 'explain': return (await import('./commands/explain.js')).explainCommand(command.options, io);
    case 'init': return (await import('./commands/init.js')).initCommand(command.options, io);
    case 'worker': return (await import('./commands/worker.js')).workerCommand(command.options, io);
  }
}

/** The whole CLI: `argv` is what follows `hrank`. Resolves with the exit code; never throws. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed.kind === 'exit') {
    if (parsed.stdout) io.out(parsed.stdout);
    if (parsed.stderr) io.err(parsed.stderr);
    return parsed.code;
  }
  try {
    // The project file (hrank.yaml) is read only when a command runs: --help stays fast.
    const { withProject } = await import('./project.js');
    return await execute(withProject(parsed.command, parsed.given), io);
  } catch (err) {
    return reportError(err, io);
  }
}
