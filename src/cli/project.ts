/**
 * The project's paths in place of the built-in defaults: when a project file (hrank.yaml) governs
 * the current folder, `--cache`, `--results` and status's pipelines folder default to its paths,
 * so a command gives the same answer from any subfolder. Options written on the command line
 * win. Without a project file the defaults stay relative to the current folder.
 */
import path from 'node:path';
import { findProjectFile, loadProject } from '../pipeline/project.js';
import type { ParsedCommand } from './options.js';

export function withProject(command: ParsedCommand, given: ReadonlySet<string>, cwd: string = process.cwd()): ParsedCommand {
  // init reads (or makes) the project itself; validate, diff and worker take no such paths.
  if (command.command === 'init' || command.command === 'validate' || command.command === 'diff' || command.command === 'worker') return command;
  const file = findProjectFile(cwd);
  if (file === undefined) return command;
  const project = loadProject(file);
  const shown = (abs: string): string => path.relative(cwd, abs) || '.';
  const cache = given.has('cache') ? undefined : shown(project.cache);
  const results = given.has('results') ? undefined : shown(project.results);
  const paths = <T extends object>(options: T, keys: readonly ('cache' | 'results')[]): T => ({
    ...options,
    ...(keys.includes('cache') && cache !== undefined ? { cache } : {}),
    ...(keys.includes('results') && results !== undefined ? { results } : {}),
  });
  switch (command.command) {
    case 'run': return { command: 'run', options: paths(command.options, ['cache', 'results']) };
    case 'report': return { command: 'report', options: paths(command.options, ['cache', 'results']) };
    case 'clean': return { command: 'clean', options: paths(command.options, ['cache', 'results']) };
    case 'plan': return { command: 'plan', options: paths(command.options, ['cache']) };
    case 'export': return { command: 'export', options: paths(command.options, ['cache']) };
    case 'show': return { command: 'show', options: paths(command.options, ['results']) };
    case 'explain': return { command: 'explain', options: paths(command.options, ['results']) };
    case 'status': return { command: 'status', options: { ...command.options, pipelines: shown(project.pipelines) } };
  }
}
