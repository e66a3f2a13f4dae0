/**
 * The project file, `hrank.yaml`: one root for a study repository. It names where the pipeline
 * files live and where the cache and results go, so every command gives the same answers from
 * any subfolder. hrank finds it by looking upwards from the current folder, stopping at the git
 * root (a folder holding `.git`).
 *
 * The file's contract is schemas/project.schema.json. Its four keys are checked here by hand
 * (a test checks the answers agree with the schema compiled by ajv): mapping ajv's errors for
 * four keys would take more code than the check, and the CLI would pay ajv's start-up for it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { PipelineError } from './errors.js';
import { didYouMean, show } from './hints.js';
import { isRecord } from './paths.js';
import { SourceMap } from './positions.js';
import type { PathSegment, Problem, ProblemCode } from './types.js';

export const PROJECT_FILE = 'hrank.yaml';

/** The project file's settings, as absolute paths. */
export interface Project {
  /** The project file. */
  readonly file: string;
  /** Its folder: relative paths in it start here. */
  readonly root: string;
  readonly pipelines: string;
  readonly cache: string;
  readonly results: string;
}

export const PROJECT_DEFAULTS = { pipelines: 'pipelines', cache: 'cache', results: 'results' } as const;
const KEYS = ['$schema', 'version', 'pipelines', 'cache', 'results'] as const;

/** The project file that governs `from`: the nearest `hrank.yaml` upwards, not above the git root. */
export function findProjectFile(from: string): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    const file = path.join(dir, PROJECT_FILE);
    if (existsSync(file)) return file;
    const parent = path.dirname(dir);
    if (parent === dir || existsSync(path.join(dir, '.git'))) return undefined;
    dir = parent;
  }
}

/** The git root above `from` (the nearest folder holding `.git`), if any. */
export function gitRoot(from: string): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, '.git'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Reads and checks a project file; throws `PipelineError` naming file:line:col of every problem. */
export function loadProject(file: string): Project {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PipelineError([{ code: 'unreadable-file', file, path: '', line: 0, column: 0, message: `cannot read the project file: ${(err as Error).message}` }]);
  }
  return parseProject(text, file);
}

export function parseProject(text: string, file: string): Project {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const map = new SourceMap(doc, lines, text);
  const problem = (code: ProblemCode, at: PathSegment[], target: 'key' | 'value' | 'parent', message: string, hint?: string): Problem => {
    const loc = map.locate(at, target);
    return { code, file, path: at.join('.'), line: loc.line, column: loc.column, message, ...(hint ? { hint } : {}), excerpt: { text: loc.text, width: loc.width } };
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const loc = map.at(e.pos[0]);
    throw new PipelineError([{ code: 'yaml-syntax', file, path: '', line: loc.line, column: loc.column, message: `${e.message.split('\n')[0]} (YAML)`, excerpt: { text: loc.text, width: loc.width } }]);
  }
  const data: unknown = doc.toJS();
  const problems: Problem[] = [];
  if (!isRecord(data)) {
    throw new PipelineError([problem('bad-type', [], 'value', `found ${data === null || data === undefined ? 'an empty file' : 'no mapping'}; a project file is a mapping with version: 1 and, optionally, pipelines, cache and results`)]);
  }
  for (const key of Object.keys(data)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      const hint = didYouMean(key, KEYS.filter((k) => k !== '$schema'));
      problems.push(problem('unknown-key', [key], 'key', `unknown key '${key}' in the project file; allowed: version, pipelines, cache, results`, hint));
    }
  }
  if (!('version' in data)) problems.push(problem('missing-key', [], 'parent', "missing key 'version'; write version: 1"));
  else if (data['version'] !== 1) problems.push(problem('bad-value', ['version'], 'value', `found ${show(data['version'])}; the only project file version is 1`));
  for (const key of ['pipelines', 'cache', 'results'] as const) {
    if (!(key in data)) continue;
    const v = data[key];
    if (typeof v !== 'string' || v.trim() === '') problems.push(problem('bad-type', [key], 'value', `found ${show(v)}; ${key} is a folder path (relative to ${PROJECT_FILE}'s folder unless absolute)`));
  }
  if (problems.length > 0) throw new PipelineError(problems);
  const root = path.dirname(path.resolve(file));
  const at = (key: keyof typeof PROJECT_DEFAULTS): string => path.resolve(root, (data[key] as string | undefined) ?? PROJECT_DEFAULTS[key]);
  return { file: path.resolve(file), root, pipelines: at('pipelines'), cache: at('cache'), results: at('results') };
}

/** The project file `hrank init` writes. */
export function projectTemplate(pipelines: string = PROJECT_DEFAULTS.pipelines): string {
  const folder = /^[\w./-]+$/.test(pipelines) ? pipelines : JSON.stringify(pipelines);
  return `# hrank project file: the root of this study repository. Every hrank command run in this
# folder or below finds it, so cache and results go to the same place from anywhere.
# Paths are relative to this file's folder. Reference: schemas/project.schema.json
version: 1
pipelines: ${folder}   # pipeline files: where hrank status looks and hrank init writes
cache: cache           # content-addressed cache of every step (safe to delete: hrank clean)
results: results       # one <study name>/ folder per pipeline file
`;
}
