/**
 * A study's results folder as hrank's own: which pipeline file it belongs to (checked before a
 * run writes into it), and its removal by `hrank clean --all`, which removes what hrank wrote
 * and nothing else.
 */
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { studyNameIn } from '../pipeline/name.js';
import type { Study } from '../pipeline/types.js';
import { FIGURE_FILE, PLOTS_DIR, REPORT_FILES, RESULTS_FILES } from '../report/names.js';
import { StudyRefused } from './errors.js';
import { ownerOf, readStampFile, STAMP_FILE } from './stamp.js';

const shown = (file: string): string => {
  const rel = path.relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
};

/** A provenance.json written by hrank (folders written before owners were recorded). */
async function hasOurProvenance(dir: string): Promise<boolean> {
  try {
    const p = JSON.parse(await fsp.readFile(path.join(dir, 'provenance.json'), 'utf8')) as { hrank?: unknown; pipeline?: { sha256?: unknown } };
    return typeof p?.hrank === 'string' && typeof p.pipeline?.sha256 === 'string';
  } catch {
    return false;
  }
}

/**
 * Checks that `study` may write into `dir`: the folder is absent or empty, or hrank's and not
 * another pipeline file's. Another file that still exists with the same `name:` keeps the folder
 * (refused, naming both files and the way out); one that was renamed or removed hands it over
 * (returned as a warning). Throws `StudyRefused` (exit 2).
 */
export async function claimResultsFolder(dir: string, study: Study): Promise<{ readonly warning?: string }> {
  const me = path.resolve(study.file);
  const saved = await readStampFile(dir);
  const owner = ownerOf(dir, saved);
  if (owner !== undefined && owner !== me) {
    const exists = existsSync(owner);
    const otherName = exists ? await studyNameIn(owner) : undefined;
    if (otherName === study.name) {
      throw new StudyRefused(
        `${shown(dir)} holds the results of ${shown(owner)}, and ${shown(me)} has the same name (name: ${study.name}); ` +
          'one results folder per pipeline file, or their rows, plots and provenance would mix',
        `give ${shown(me)} a name of its own (name: is its results folder), or run it with --results <another folder>`,
      );
    }
    return {
      warning: `${shown(dir)} held the results of ${shown(owner)}, which ${exists ? (otherName === undefined ? 'no longer reads as a pipeline file' : `is now named '${otherName}'`) : 'no longer exists'}; it now holds those of ${shown(me)}`,
    };
  }
  if (saved === undefined) {
    const entries = await fsp.readdir(dir).catch(() => [] as string[]);
    if (entries.length > 0 && !(await hasOurProvenance(dir))) {
      throw new StudyRefused(
        `${shown(dir)} holds files hrank did not write (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', ...' : ''}); hrank writes a study's results into a folder of its own`,
        'move those files, or run with --results <another folder>',
      );
    }
  }
  return {};
}

/** hrank's temp files (util/atomic-write.ts): `<name>.<pid>.<12 hex>.tmp`, left by a write that was cut short. */
const TEMP_FILE = /^(.+)\.\d+\.[0-9a-f]{12}\.tmp$/;

export interface CleanedResults {
  /** The results root (absolute). */
  readonly root: string;
  /** Study folders emptied of hrank's files (their names). */
  readonly studies: readonly string[];
  /** Files hrank removed. */
  readonly files: number;
  /** What was left, relative to the root: entries hrank did not write. */
  readonly left: readonly string[];
  /** The root itself was removed (nothing else was in it). */
  readonly rootRemoved: boolean;
}

/**
 * `hrank clean --all`: in each study folder of `root` that hrank wrote (it has hrank's stamp, or
 * provenance of an earlier hrank), removes the files hrank writes (by name) and the folders they
 * leave empty. Everything else stays, and is listed in `left`.
 */
export async function removeResults(root: string, opts: { readonly keepRoot?: boolean } = {}): Promise<CleanedResults> {
  const abs = path.resolve(root);
  const entries = await fsp.readdir(abs, { withFileTypes: true });
  const studies: string[] = [];
  const left: string[] = [];
  let files = 0;
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const dir = path.join(abs, entry.name);
    if (!entry.isDirectory()) { left.push(entry.name); continue; }
    const saved = await readStampFile(dir);
    if (saved === undefined && !(await hasOurProvenance(dir))) { left.push(`${entry.name}/`); continue; }
    const listed = new Set<string>([...RESULTS_FILES, ...REPORT_FILES, STAMP_FILE]);
    for (const f of saved?.files ?? []) listed.add(f);
    const ours = (rel: string): boolean => {
      const temp = TEMP_FILE.exec(path.posix.basename(rel));
      const base = temp ? path.posix.join(path.posix.dirname(rel), temp[1] as string) : rel;
      if (listed.has(base)) return true;
      const [folder, name, ...more] = base.split('/');
      return folder === PLOTS_DIR && name !== undefined && more.length === 0 && FIGURE_FILE.test(name);
    };
    const removedHere = await removeOurs(dir, '', ours);
    files += removedHere.removed;
    for (const rest of removedHere.left) left.push(`${entry.name}/${rest}`);
    if (removedHere.left.length === 0) await fsp.rmdir(dir).catch(() => undefined);
    studies.push(entry.name);
  }
  let rootRemoved = false;
  if (left.length === 0 && !opts.keepRoot) rootRemoved = await fsp.rmdir(abs).then(() => true, () => false);
  return { root: abs, studies, files, left, rootRemoved };
}

/** Removes the regular files under `dir` that `ours` names (paths relative to the study folder), and sub-folders left empty. */
async function removeOurs(dir: string, prefix: string, ours: (rel: string) => boolean): Promise<{ removed: number; left: string[] }> {
  let removed = 0;
  const left: string[] = [];
  for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      // Only the plots folder holds hrank's files; any other folder is the user's.
      if (rel !== PLOTS_DIR) { left.push(`${rel}/`); continue; }
      const inner = await removeOurs(full, rel, ours);
      removed += inner.removed;
      left.push(...inner.left);
      if (inner.left.length === 0) await fsp.rmdir(full).catch(() => undefined);
    } else if (entry.isFile() && ours(rel)) {
      await fsp.unlink(full);
      removed++;
    } else {
      left.push(rel);
    }
  }
  return { removed, left };
}
