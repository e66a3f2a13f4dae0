/**
 * `hrank validate <file...>`: every problem of every file (each with file:line:col, the dotted
 * path, what was found and what is allowed), including dataset files that cannot be read.
 * Exit 2 when any file has a problem.
 */
import { formatProblem } from '../../pipeline/errors.js';
import { loadPipeline } from '../../pipeline/load.js';
import type { Problem } from '../../pipeline/types.js';
import { datasetFileProblems } from '../datafiles.js';
import { EXIT_INPUT, EXIT_OK } from '../errors.js';
import { plural } from '../format.js';
import type { CliIO } from '../io.js';
import type { ValidateOptions } from '../options.js';

export type FileCheck =
  | { readonly file: string; readonly ok: true; readonly points: number }
  | { readonly file: string; readonly ok: false; readonly problems: readonly Problem[] };

/** Checks one pipeline file and the dataset files it names. */
export async function checkFile(file: string): Promise<FileCheck> {
  const loaded = await loadPipeline(file);
  if (!loaded.ok) return { file, ok: false, problems: loaded.problems };
  const problems = await datasetFileProblems(loaded.study, loaded.points);
  if (problems.length > 0) return { file, ok: false, problems };
  return { file, ok: true, points: loaded.points.length };
}

export async function validateCommand(opts: ValidateOptions, io: CliIO): Promise<number> {
  let bad = 0;
  let problems = 0;
  for (const file of opts.files) {
    const check = await checkFile(file);
    if (check.ok) {
      io.out(`${file}: ok (${plural(check.points, 'point')})\n`);
    } else {
      bad++;
      problems += check.problems.length;
      io.err(`${check.problems.map(formatProblem).join('\n')}\n`);
      io.err(`${file}: ${plural(check.problems.length, 'problem')}\n`);
    }
  }
  if (bad > 0 && opts.files.length > 1) io.err(`${plural(problems, 'problem')} in ${plural(bad, 'file')} of ${opts.files.length}\n`);
  return bad > 0 ? EXIT_INPUT : EXIT_OK;
}
