/**
 * The dataset files a study names must exist and be readable before anything runs. A missing
 * file is a pipeline problem at the place the file is named (the dataset key, or the swept
 * value that names it), so `validate`, `plan` and `run` report it like any other problem.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { PipelineError } from '../pipeline/errors.js';
import { loadPipeline } from '../pipeline/load.js';
import { SourceMap } from '../pipeline/positions.js';
import type { FileRef, PathSegment, Point, Problem, Study } from '../pipeline/types.js';

interface NamedFile {
  /** Where the dataset names it, e.g. ['dataset', 'files', 1]. */
  readonly segments: readonly PathSegment[];
  readonly ref: FileRef;
}

/** The files one point's dataset reads. */
function filesOf(point: Point): NamedFile[] {
  const d = point.config.dataset;
  switch (d.source) {
    case 'idx': return [{ segments: ['dataset', 'images'], ref: d.images }, { segments: ['dataset', 'labels'], ref: d.labels }];
    case 'cifar10': return d.files.map((ref, i) => ({ segments: ['dataset', 'files', i], ref }));
    default: return [];
  }
}

/** Why a file cannot be read, in plain words; undefined when it can. */
async function unreadable(file: string): Promise<string | undefined> {
  try {
    const s = await stat(file);
    if (s.isDirectory()) return 'is a folder, not a file';
    await access(file, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'file not found';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    return `cannot read it (${(err as Error).message})`;
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Where a file is named: the dataset key when the file says it there, else the swept value
 * that supplies it (an axis on the key itself, e.g. `dataset.images`, or on a folder of it,
 * e.g. `dataset.files`).
 */
function locateIn(study: Study, named: NamedFile): readonly PathSegment[] {
  const [, key, index] = named.segments;
  const base = (study.document.dataset as Record<string, unknown>)[key as string];
  const written = index === undefined ? base : Array.isArray(base) ? base[index as number] : undefined;
  if (written === named.ref.written) return named.segments;
  for (const axis of study.sweep.axes) {
    const s = axis.segments;
    const onKey = s.length >= 2 && s[0] === 'dataset' && s[1] === key;
    if (!onKey) continue;
    for (let i = 0; i < axis.values.length; i++) {
      const value = axis.values[i];
      if (s.length === named.segments.length && value === named.ref.written) return ['sweep', axis.path, i];
      if (s.length === 2 && index !== undefined && Array.isArray(value) && same(value[index as number], named.ref.written)) {
        return ['sweep', axis.path, i, index];
      }
    }
    return ['sweep', axis.path];
  }
  return named.segments;
}

/**
 * A problem for each dataset file of the study that cannot be read (each file once, at the
 * first place it is named), in file order.
 */
export async function datasetFileProblems(study: Study, points: readonly Point[]): Promise<Problem[]> {
  const seen = new Set<string>();
  const wanted: NamedFile[] = [];
  for (const point of points) {
    for (const named of filesOf(point)) {
      if (seen.has(named.ref.path)) continue;
      seen.add(named.ref.path);
      wanted.push(named);
    }
  }
  if (wanted.length === 0) return [];
  const why = await Promise.all(wanted.map((n) => unreadable(n.ref.path)));
  if (why.every((w) => w === undefined)) return [];

  const lineCounter = new LineCounter();
  const doc = parseDocument(study.text, { lineCounter });
  const map = new SourceMap(doc, lineCounter, study.text);
  const problems: Problem[] = [];
  wanted.forEach((named, i) => {
    const reason = why[i];
    if (reason === undefined) return;
    const at = locateIn(study, named);
    const loc = map.locate(at);
    const shown = named.ref.written === named.ref.path ? named.ref.path : `${named.ref.written} (${named.ref.path})`;
    problems.push({
      code: 'unreadable-file',
      file: study.file,
      path: named.segments.map((s, j) => (typeof s === 'number' ? `[${s}]` : j === 0 ? s : `.${s}`)).join(''),
      line: loc.line,
      column: loc.column,
      message: `${reason}: ${shown}`,
      hint: 'dataset paths are relative to the pipeline file\'s folder unless absolute',
      excerpt: { text: loc.text, width: loc.width },
    });
  });
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * Loads a pipeline file and checks its dataset files; throws a `PipelineError` listing every
 * problem of the file (or, when the file itself is fine, of its dataset files).
 */
export async function loadCheckedStudy(file: string): Promise<{ readonly study: Study; readonly points: readonly Point[] }> {
  const loaded = await loadPipeline(file);
  if (!loaded.ok) throw loaded.error;
  const problems = await datasetFileProblems(loaded.study, loaded.points);
  if (problems.length > 0) throw new PipelineError(problems);
  return loaded;
}
