/**
 * The dataset files a study names must exist, be readable and be of the declared format before
 * anything runs. A missing file, an empty one or one whose header is not what the source needs
 * (IDX magic numbers and sizes, CIFAR-10 record sizes and labels) is a pipeline problem at the
 * place the file is named (the dataset key, or the swept value that names it), so `validate`,
 * `plan` and `run` report it like any other problem, from headers only, before any work.
 */
import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import { PipelineError } from '../pipeline/errors.js';
import { loadPipeline } from '../pipeline/load.js';
import { SourceMap } from '../pipeline/positions.js';
import type { FileRef, PathSegment, Point, Problem, Study } from '../pipeline/types.js';
import { CIFAR10_RECORD } from '../science/datasets/cifar10.js';
import { DatasetError } from '../science/datasets/errors.js';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, idxMagic, inspectIdx } from '../science/datasets/idx.js';

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
  const lineCounter = new LineCounter();
  const doc = parseDocument(study.text, { lineCounter });
  const map = new SourceMap(doc, lineCounter, study.text);
  const problems: Problem[] = [];
  const dotted = (segments: readonly PathSegment[]): string => segments.map((s, j) => (typeof s === 'number' ? `[${s}]` : j === 0 ? s : `.${s}`)).join('');
  const shownOf = (ref: FileRef): string => (ref.written === ref.path ? ref.path : `${ref.written} (${ref.path})`);
  const fileProblem = (named: NamedFile, code: 'unreadable-file' | 'bad-file', reason: string, hint: string): Problem => {
    const loc = map.locate(locateIn(study, named));
    return {
      code,
      file: study.file,
      path: dotted(named.segments),
      line: loc.line,
      column: loc.column,
      message: `${reason}: ${shownOf(named.ref)}`,
      hint,
      excerpt: { text: loc.text, width: loc.width },
    };
  };
  wanted.forEach((named, i) => {
    const reason = why[i];
    if (reason !== undefined) problems.push(fileProblem(named, 'unreadable-file', reason, 'dataset paths are relative to the pipeline file\'s folder unless absolute'));
  });
  if (problems.length === 0) {
    // Every file can be read: check that each is what the study declares, from its header.
    for (const issue of await formatIssues(study, points, wanted)) {
      if (issue.named) {
        problems.push(fileProblem(issue.named, 'bad-file', issue.message, issue.hint));
      } else {
        const loc = map.locate(issue.at);
        problems.push({
          code: 'bad-file',
          file: study.file,
          path: 'dataset.samples',
          line: loc.line,
          column: loc.column,
          message: issue.message,
          hint: issue.hint,
          excerpt: { text: loc.text, width: loc.width },
        });
      }
    }
  }
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** A dataset file that is not what the study declares (`named`), or a study asking for more samples than its files hold (`at`). */
type FormatIssue =
  | { readonly named: NamedFile; readonly message: string; readonly hint: string; readonly at?: undefined }
  | { readonly named?: undefined; readonly at: readonly PathSegment[]; readonly message: string; readonly hint: string };

/** An IDX file's magic number; undefined when it cannot be read as one (inspectIdx then says why). */
function magicOf(file: string): number | undefined {
  try {
    return idxMagic(file);
  } catch (err) {
    if (err instanceof DatasetError) return undefined;
    throw err;
  }
}

/** Bytes read from the start of a CIFAR-10 batch to check its first labels. */
const CIFAR_HEAD_RECORDS = 64;

/** The text of a DatasetError without the file name it starts with (the problem shows the file). */
function withoutFile(err: DatasetError): string {
  const m = err.message;
  return err.file !== undefined && m.startsWith(`${err.file}: `) ? m.slice(err.file.length + 2) : m;
}

/**
 * Header checks of every dataset file (each file, or IDX pair, once): IDX magic numbers, sizes
 * against the header and equal image and label counts (through `inspectIdx`, which reads only
 * the headers and the file sizes); CIFAR-10 sizes (whole 3073-byte records) and the labels of the
 * first records; an empty file of either kind; and, per point, at least `dataset.samples` samples.
 */
async function formatIssues(study: Study, points: readonly Point[], wanted: readonly NamedFile[]): Promise<FormatIssue[]> {
  const out: FormatIssue[] = [];
  const namedOf = new Map(wanted.map((n) => [n.ref.path, n]));
  const bad = new Set<string>();
  const reported = new Set<string>();
  const counts = new Map<string, number>();
  const report = (path: string, message: string, hint: string): void => {
    bad.add(path);
    if (reported.has(path)) return;
    reported.add(path);
    const named = namedOf.get(path) ?? wanted.find((n) => bad.has(n.ref.path)) ?? wanted[0]!;
    out.push({ named, message, hint });
  };
  const isEmpty = async (path: string): Promise<boolean> => (await stat(path)).size === 0;

  for (const point of points) {
    const d = point.config.dataset;
    if (d.source === 'idx') {
      const pair = `${d.images.path}\u0000${d.labels.path}`;
      if (!counts.has(pair) && !bad.has(d.images.path) && !bad.has(d.labels.path)) {
        let emptyOne = false;
        for (const [ref, kind] of [[d.images, 'images'], [d.labels, 'labels']] as const) {
          if (await isEmpty(ref.path)) {
            report(ref.path, `the file is empty; an IDX ${kind} file was expected`, 'check the path, or download the file again');
            emptyOne = true;
          }
        }
        if (emptyOne) continue;
        // Swapped files: each field names the other kind. Both are said, each at its own key.
        if (magicOf(d.images.path) === IDX_LABELS_MAGIC && magicOf(d.labels.path) === IDX_IMAGES_MAGIC) {
          const hint = 'dataset.images and dataset.labels look swapped: exchange the two paths';
          report(d.images.path, 'this is an IDX labels file (magic 0x00000801), where dataset.images needs an images file (0x00000803)', hint);
          report(d.labels.path, 'this is an IDX images file (magic 0x00000803), where dataset.labels needs a labels file (0x00000801)', hint);
          continue;
        }
        try {
          counts.set(pair, inspectIdx(d.images.path, d.labels.path).count);
        } catch (err) {
          if (!(err instanceof DatasetError)) throw err;
          const file = err.file ?? d.images.path;
          report(file, `not a usable IDX file (${withoutFile(err)})`, 'dataset.images needs an IDX images file (magic 0x00000803), dataset.labels its IDX labels file (0x00000801), plain or gzipped');
          continue;
        }
      }
      const count = counts.get(pair);
      if (count !== undefined && d.samples > count) samplesIssue(study, point, count, `${d.images.written}`, out);
    } else if (d.source === 'cifar10') {
      let records = 0;
      let usable = true;
      for (const ref of d.files) {
        if (bad.has(ref.path)) { usable = false; continue; }
        let n = counts.get(ref.path);
        if (n === undefined) {
          const issue = await cifarIssue(ref.path);
          if (typeof issue === 'string') {
            report(ref.path, issue, 'dataset.files lists CIFAR-10 binary batches (data_batch_1.bin ...): records of 1 label byte and 3072 pixel bytes');
            usable = false;
            continue;
          }
          n = issue;
          counts.set(ref.path, n);
        }
        records += n;
      }
      if (usable && d.samples > records) samplesIssue(study, point, records, d.files.map((f) => f.written).join(', '), out);
    }
  }
  return out;
}

/** Records in a CIFAR-10 batch file, or why it is not one. */
async function cifarIssue(path: string): Promise<number | string> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size === 0) return 'the file is empty; a CIFAR-10 binary batch was expected';
    if (size % CIFAR10_RECORD !== 0) {
      return `not a CIFAR-10 binary batch: its size, ${size} bytes, is not a whole number of ${CIFAR10_RECORD}-byte records (1 label byte + 3072 pixel bytes)`;
    }
    const records = size / CIFAR10_RECORD;
    const head = Buffer.alloc(Math.min(records, CIFAR_HEAD_RECORDS) * CIFAR10_RECORD);
    await fh.read(head, 0, head.length, 0);
    for (let r = 0; r * CIFAR10_RECORD < head.length; r++) {
      const label = head[r * CIFAR10_RECORD]!;
      if (label > 9) return `not a CIFAR-10 binary batch: record ${r} has label ${label} (labels are 0..9)`;
    }
    return records;
  } finally {
    await fh.close();
  }
}

/** A point asks for more samples than its files hold: the problem is at the samples setting. */
function samplesIssue(study: Study, point: Point, available: number, files: string, out: FormatIssue[]): void {
  const samples = point.config.dataset.samples;
  const message = `asks for ${samples} samples, but ${files} ${available === 1 ? 'holds 1 sample' : `hold${files.includes(', ') ? '' : 's'} ${available} samples`}`;
  if (out.some((o) => o.named === undefined && o.message === message)) return;
  const axis = study.sweep.axes.find((a) => a.path === 'dataset.samples');
  let at: readonly PathSegment[] = ['dataset', 'samples'];
  if (axis) {
    const i = axis.values.findIndex((v) => v === samples);
    at = axis.form === 'list' && i >= 0 ? ['sweep', axis.path, i] : ['sweep', axis.path];
  }
  out.push({ at, message, hint: 'ask for fewer samples (dataset.samples), or name a larger file' });
}

/**
 * Loads a pipeline file and checks its dataset files; throws a `PipelineError` listing every
 * problem of the file (or, when the file itself is fine, of its dataset files).
 */
export async function loadCheckedStudy(file: string): Promise<{ readonly study: Study; readonly points: readonly Point[]; readonly warnings: readonly Problem[] }> {
  const loaded = await loadPipeline(file);
  if (!loaded.ok) throw loaded.error;
  const problems = await datasetFileProblems(loaded.study, loaded.points);
  if (problems.length > 0) throw new PipelineError(problems);
  return loaded;
}
