/**
 * `hrank init <name>`: writes `<name>.yaml` from a commented template that validates and runs as
 * written, into the project's pipelines folder (or `--dir`). Outside a project it first makes
 * one: `hrank.yaml` at the git root (or here, outside git), and a `.gitignore` for the cache and
 * results when there is none. Never overwrites a file; the name must be a valid study name (it
 * becomes the results folder).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_DEFAULTS, PROJECT_FILE, findProjectFile, gitRoot, loadProject, projectTemplate } from '../../pipeline/project.js';
import { pipelineSchema } from '../../pipeline/schema.js';
import { studyTemplate } from '../../templates/study.js';
import { EXIT_OK, InputError } from '../errors.js';
import { displayPath } from '../format.js';
import type { CliIO } from '../io.js';
import type { InitOptions } from '../options.js';

/** The pattern study names follow (from the pipeline schema). */
export function studyNamePattern(): RegExp {
  const props = pipelineSchema.properties as Record<string, { pattern?: string; description?: string }> | undefined;
  return new RegExp(props?.name?.pattern ?? '^[A-Za-z0-9][A-Za-z0-9._-]*$');
}

/** The study name of an `init` argument (a trailing `.yaml` is dropped); throws `InputError` for an invalid one. */
export function studyNameOf(raw: string): string {
  const name = raw.replace(/\.ya?ml$/i, '');
  if (!studyNamePattern().test(name)) {
    throw new InputError(
      `'${raw}' is not a valid study name: use letters, digits, '.', '_' and '-', starting with a letter or digit (it becomes the results folder results/<name>/)`,
    );
  }
  return name;
}

/** Writes `text` to a new file; false when the file exists (nothing is ever overwritten, not even by a race). */
async function writeNew(file: string, text: string): Promise<boolean> {
  await mkdir(path.dirname(file), { recursive: true });
  try {
    await writeFile(file, text, { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Writes the new pipeline file; returns its path. Throws `InputError` when the file exists. */
export async function initStudy(rawName: string, dir: string): Promise<string> {
  const name = studyNameOf(rawName);
  const file = path.join(dir, `${name}.yaml`);
  if (!(await writeNew(file, studyTemplate(name)))) throw new InputError(`${file} already exists; not overwriting it (choose another name, or remove the file)`);
  return file;
}

/** The lines of the project's .gitignore that keep the cache and results out of git. */
function ignoreLines(root: string, cache: string, results: string): string[] {
  return [cache, results].map((abs) => path.relative(root, abs)).filter((rel) => rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)).map((rel) => `/${rel.split(path.sep).join('/')}/`);
}

export async function initCommand(opts: InitOptions, io: CliIO): Promise<number> {
  const cwd = process.cwd();
  const name = studyNameOf(opts.name);
  const shown = (abs: string): string => displayPath(abs, cwd);
  const notes: string[] = [];
  let pipelinesDir: string;
  const existing = findProjectFile(cwd);
  if (existing !== undefined) {
    pipelinesDir = loadProject(existing).pipelines;
  } else {
    // A new project at the git root (outside git: here).
    const root = gitRoot(cwd) ?? cwd;
    pipelinesDir = opts.dir !== undefined ? path.resolve(opts.dir) : path.join(root, PROJECT_DEFAULTS.pipelines);
    const rel = path.relative(root, pipelinesDir);
    const folder = rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? pipelinesDir : rel.split(path.sep).join('/');
    const projectFile = path.join(root, PROJECT_FILE);
    await writeNew(projectFile, projectTemplate(folder));
    notes.push(`created ${shown(projectFile)}: the project's root (cache and results go to ${shown(path.join(root, PROJECT_DEFAULTS.cache))}/ and ${shown(path.join(root, PROJECT_DEFAULTS.results))}/ from any folder below it)`);
    const lines = ignoreLines(root, path.join(root, PROJECT_DEFAULTS.cache), path.join(root, PROJECT_DEFAULTS.results));
    const ignore = path.join(root, '.gitignore');
    if (await writeNew(ignore, `# hrank: the cache and results are rebuilt from the pipeline files\n${lines.join('\n')}\n`)) {
      notes.push(`created ${shown(ignore)}: ${lines.join(' ')}`);
    } else {
      // The user's .gitignore is theirs: say what it lacks, never edit it.
      const have = readFileSync(ignore, 'utf8').split(/\r?\n/).map((l) => l.trim());
      const missing = lines.filter((l) => !have.includes(l) && !have.includes(l.slice(1)) && !have.includes(l.slice(1, -1)) && !have.includes(l.slice(0, -1)));
      if (missing.length > 0) notes.push(`note: ${shown(ignore)} does not ignore ${missing.join(' ')}; add ${missing.length === 1 ? 'that line' : 'those lines'} to keep the cache and results out of git`);
    }
  }
  const dir = opts.dir !== undefined ? path.resolve(opts.dir) : pipelinesDir;
  if (!existsSync(dir)) await mkdir(dir, { recursive: true });
  const file = await initStudy(name, dir);
  const rel = shown(file);
  io.out(`${[...notes, `created ${rel}`].join('\n')}\nnext: hrank run ${rel}   (then commit ${path.basename(file)} and its lock file)\n`);
  return EXIT_OK;
}
