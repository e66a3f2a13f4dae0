/**
 * The results folder's own record, `.hrank-stamp.json`: which pipeline file the folder belongs
 * to, and whether it already holds what a run would write.
 *
 * Owner: a results folder belongs to one pipeline file (two files with the same `name:` would
 * otherwise mix their rows, plots and provenance in one folder). The owner is written before the
 * first file of a run, as a path relative to the folder, so moving the whole repository keeps it.
 *
 * Stamp: a rerun that computed nothing (every step cached) would otherwise rebuild the same plots
 * and pages each time, which costs more than the rest of a warm run together (loading vega,
 * rendering SVG and PNG). The stamp is a hash of everything the written files are a function of:
 * hrank's version, the pipeline file's text, its git state (provenance names the commit), and the
 * results and details. It is written last, after every file, and cleared before a rewrite starts:
 * a folder whose write was cut short has no stamp and is written again.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Study } from '../pipeline/types.js';
import { HRANK_VERSION } from '../version.js';
import type { Results } from '../engine/kinds/collect.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { resultsJsonChunks, type Provenance } from '../report/results.js';

export const STAMP_FILE = '.hrank-stamp.json';

export interface StampFile {
  /** The pipeline file the folder belongs to, relative to the folder ('/'-separated); absent in folders written before owners were kept. */
  readonly pipeline?: string;
  /** null while a write is under way (or after one was cut short). */
  readonly stamp: string | null;
  /** The files written with the stamp, relative to the results folder. */
  readonly files: readonly string[];
}

/** `withSpectra`: whether the report could draw the spectra it was asked for (they come from the cache). */
export function resultsStamp(study: Study, results: Results, git: Provenance['git'], withSpectra: boolean): string {
  // The sha256 of JSON.stringify({ format, hrank, spectra, pipeline, file, git, results:
  // resultsJson(results), details }), fed to the hash in pieces (a row, a point's details at a
  // time): at 100,000 points that text is hundreds of MB, never made whole.
  const hash = createHash('sha256');
  const head = JSON.stringify({
    format: 1,
    hrank: HRANK_VERSION,
    spectra: study.report.spectra && withSpectra,
    pipeline: study.text,
    file: path.resolve(study.file),
    git,
  });
  hash.update(`${head.slice(0, -1)},"results":"`);
  // Each piece escaped as the whole string would be (pieces end between rows, never inside a character).
  for (const piece of resultsJsonChunks(results)) hash.update(JSON.stringify(piece).slice(1, -1));
  hash.update('"');
  const details = results.details as unknown;
  if (Array.isArray(details)) {
    hash.update(',"details":[');
    details.forEach((d, i) => hash.update(`${i > 0 ? ',' : ''}${JSON.stringify(d) ?? 'null'}`));
    hash.update(']');
  } else if (details !== undefined) hash.update(`,"details":${JSON.stringify(details)}`);
  hash.update('}');
  return hash.digest('hex');
}

/** The folder's record, or undefined when it has none (or one hrank cannot read). */
export async function readStampFile(dir: string): Promise<StampFile | undefined> {
  try {
    const saved = JSON.parse(await fsp.readFile(path.join(dir, STAMP_FILE), 'utf8')) as StampFile;
    if (saved === null || typeof saved !== 'object' || !Array.isArray(saved.files)) return undefined;
    return saved;
  } catch {
    return undefined;
  }
}

/** The owner's absolute path, from a record. */
export function ownerOf(dir: string, saved: StampFile | undefined): string | undefined {
  return typeof saved?.pipeline === 'string' ? path.resolve(dir, ...saved.pipeline.split('/')) : undefined;
}

/** The files of an up-to-date folder (absolute paths), or null when any is missing or the stamp differs. */
export async function upToDateFiles(dir: string, stamp: string): Promise<string[] | null> {
  const saved = await readStampFile(dir);
  if (saved?.stamp !== stamp) return null;
  const files = saved.files.map((f) => path.join(dir, ...f.split('/')));
  const present = await Promise.all(files.map((f) => fsp.stat(f).then((s) => s.isFile(), () => false)));
  return present.every(Boolean) ? files : null;
}

const relativeOwner = (dir: string, pipeline: string): string => path.relative(path.resolve(dir), path.resolve(pipeline)).split(path.sep).join('/');

/** Marks the folder as `pipeline`'s, with no stamp: written before the first file of a rewrite. */
export async function clearStamp(dir: string, pipeline: string): Promise<void> {
  const body: StampFile = { pipeline: relativeOwner(dir, pipeline), stamp: null, files: [] };
  await writeFileAtomic(path.join(dir, STAMP_FILE), `${JSON.stringify(body, null, 2)}\n`);
}

export async function writeStamp(dir: string, pipeline: string, stamp: string, files: readonly string[]): Promise<void> {
  const rel = files.map((f) => path.relative(dir, f).split(path.sep).join('/'));
  const body: StampFile = { pipeline: relativeOwner(dir, pipeline), stamp, files: rel };
  await writeFileAtomic(path.join(dir, STAMP_FILE), `${JSON.stringify(body, null, 2)}\n`);
}
