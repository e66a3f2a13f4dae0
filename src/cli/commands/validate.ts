/**
 * `hrank validate <file...>`: every problem of every file (each with file:line:col, the dotted
 * path, what was found and what is allowed), including dataset files that cannot be read.
 * Exit 2 when any file has a problem.
 */
import path from 'node:path';
import { formatProblem, formatWarning } from '../../pipeline/errors.js';
import { loadPipeline } from '../../pipeline/load.js';
import type { Problem } from '../../pipeline/types.js';
import { datasetFileProblems } from '../datafiles.js';
import { EXIT_INPUT, EXIT_OK } from '../errors.js';
import { plural } from '../format.js';
import type { CliIO } from '../io.js';
import type { ValidateOptions } from '../options.js';

export type FileCheck =
  | { readonly file: string; readonly ok: true; readonly points: number; readonly name: string; readonly text: string; readonly warnings: readonly Problem[] }
  | { readonly file: string; readonly ok: false; readonly problems: readonly Problem[] };

/** Checks one pipeline file and the dataset files it names. */
export async function checkFile(file: string): Promise<FileCheck> {
  const loaded = await loadPipeline(file);
  if (!loaded.ok) return { file, ok: false, problems: loaded.problems };
  const problems = await datasetFileProblems(loaded.study, loaded.points);
  if (problems.length > 0) return { file, ok: false, problems };
  return { file, ok: true, points: loaded.points.length, name: loaded.study.name, text: loaded.study.text, warnings: loaded.warnings };
}

/**
 * Files of one run of validate that share a `name:` (each would write into the same results
 * folder): one problem per file after the first, at its `name:` key.
 */
export function duplicateNames(checks: readonly FileCheck[]): Problem[] {
  const first = new Map<string, string>();
  const out: Problem[] = [];
  for (const c of checks) {
    if (!c.ok) continue;
    const earlier = first.get(c.name);
    if (earlier === undefined) { first.set(c.name, c.file); continue; }
    if (path.resolve(earlier) === path.resolve(c.file)) continue; // the same file given twice
    const lines = c.text.split(/\r?\n/);
    const i = lines.findIndex((l) => /^name\s*:/.test(l));
    out.push({
      code: 'duplicate-name',
      file: c.file,
      path: 'name',
      line: i + 1,
      column: i >= 0 ? 1 : 0,
      message: `'${c.name}' is also the name of ${earlier}; both would write the results folder ${c.name}/ (one results folder per pipeline file)`,
      hint: `give ${path.basename(c.file)} a name of its own`,
      ...(i >= 0 ? { excerpt: { text: lines[i] as string, width: 4 } } : {}),
    });
  }
  return out;
}

export async function validateCommand(opts: ValidateOptions, io: CliIO): Promise<number> {
  let bad = 0;
  let problems = 0;
  const checks: FileCheck[] = [];
  for (const file of opts.files) {
    const check = await checkFile(file);
    checks.push(check);
    if (check.ok) {
      if (check.warnings.length > 0) io.err(`${check.warnings.map(formatWarning).join('\n')}\n`);
      io.out(`${file}: ok (${plural(check.points, 'point')}${check.warnings.length > 0 ? `, ${plural(check.warnings.length, 'warning')}` : ''})\n`);
    } else {
      bad++;
      problems += check.problems.length;
      io.err(`${check.problems.map(formatProblem).join('\n')}\n`);
      io.err(`${file}: ${plural(check.problems.length, 'problem')}\n`);
    }
  }
  const dups = duplicateNames(checks);
  if (dups.length > 0) {
    io.err(`${dups.map((p) => formatProblem(p)).join('\n')}\n`);
    bad += new Set(dups.map((p) => p.file)).size;
    problems += dups.length;
  }
  if (bad > 0 && opts.files.length > 1) io.err(`${plural(problems, 'problem')} in ${plural(bad, 'file')} of ${opts.files.length}\n`);
  return bad > 0 ? EXIT_INPUT : EXIT_OK;
}
