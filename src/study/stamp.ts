/**
 * Whether a results folder already holds what a run would write. A rerun that computed nothing
 * (every step cached) would otherwise rebuild the same plots and pages each time, which costs
 * more than the rest of a warm run together (loading vega, rendering SVG and PNG).
 *
 * The stamp is a hash of everything the written files are a function of: hrank's version, the
 * pipeline file's text, its git state (provenance names the commit), and the results and details.
 * It is written last, after every file, and removed before a rewrite starts: a folder whose write
 * was cut short has no stamp and is written again.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Study } from '../pipeline/types.js';
import { HRANK_VERSION } from '../version.js';
import type { Results } from '../engine/kinds/collect.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { resultsJson, type Provenance } from '../report/results.js';

export const STAMP_FILE = '.hrank-stamp.json';

interface StampFile {
  readonly stamp: string;
  /** The files written with it, relative to the results folder. */
  readonly files: readonly string[];
}

/** `withSpectra`: whether the report could draw the spectra it was asked for (they come from the cache). */
export function resultsStamp(study: Study, results: Results, git: Provenance['git'], withSpectra: boolean): string {
  return createHash('sha256').update(JSON.stringify({
    format: 1,
    hrank: HRANK_VERSION,
    spectra: study.report.spectra && withSpectra,
    pipeline: study.text,
    file: path.resolve(study.file),
    git,
    results: resultsJson(results),
    details: results.details,
  })).digest('hex');
}

/** The files of an up-to-date folder (absolute paths), or null when any is missing or the stamp differs. */
export async function upToDateFiles(dir: string, stamp: string): Promise<string[] | null> {
  let saved: StampFile;
  try {
    saved = JSON.parse(await fsp.readFile(path.join(dir, STAMP_FILE), 'utf8')) as StampFile;
  } catch {
    return null;
  }
  if (saved?.stamp !== stamp || !Array.isArray(saved.files)) return null;
  const files = saved.files.map((f) => path.join(dir, ...f.split('/')));
  const present = await Promise.all(files.map((f) => fsp.stat(f).then((s) => s.isFile(), () => false)));
  return present.every(Boolean) ? files : null;
}

export async function removeStamp(dir: string): Promise<void> {
  await fsp.rm(path.join(dir, STAMP_FILE), { force: true });
}

export async function writeStamp(dir: string, stamp: string, files: readonly string[]): Promise<void> {
  const rel = files.map((f) => path.relative(dir, f).split(path.sep).join('/'));
  const body: StampFile = { stamp, files: rel };
  await writeFileAtomic(path.join(dir, STAMP_FILE), `${JSON.stringify(body, null, 2)}\n`);
}
