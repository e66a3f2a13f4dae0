/**
 * `hrank clean`: empty the cache folder (only what the cache layout creates: entries, stale temp
 * files, moved-aside corrupt entries); with `--all`, also remove the results hrank wrote (the
 * files of the study folders it recognises by their stamp), leaving anything else and saying so.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CacheStore } from '../../engine/store/cache.js';
import { removeResults } from '../../study/results-folder.js';
import { EXIT_OK, InputError } from '../errors.js';
import { plural } from '../format.js';
import type { CliIO } from '../io.js';
import type { CleanOptions } from '../options.js';

/**
 * Why a folder must not be removed even when empty: the file-system root, the home folder, the current
 * folder or one of its parents. Undefined when it may be removed.
 */
export function unsafeToRemove(dir: string, cwd = process.cwd()): string | undefined {
  const abs = path.resolve(cwd, dir);
  if (abs === path.parse(abs).root) return 'it is the root of the file system';
  if (abs === path.resolve(os.homedir())) return 'it is the home folder';
  const rel = path.relative(abs, path.resolve(cwd));
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) return 'it is the current folder or one of its parents';
  return undefined;
}

export async function cleanCommand(opts: CleanOptions, io: CliIO): Promise<number> {
  const resultsDir = path.resolve(opts.results);
  if (opts.all) {
    const s = await stat(resultsDir).catch(() => undefined);
    if (s !== undefined && !s.isDirectory()) throw new InputError(`clean --all: ${resultsDir} is not a folder; left alone`);
  }
  const store = new CacheStore(opts.cache, { onWarning: (m) => io.err(`warning: ${m}\n`) });
  if (!existsSync(store.root)) {
    io.out(`cache: ${store.root} does not exist; nothing to remove\n`);
  } else {
    const r = await store.clear();
    const extra = [r.temp ? plural(r.temp, 'stale temp file') : '', r.corrupt ? plural(r.corrupt, 'corrupt entry', 'corrupt entries') : ''].filter(Boolean);
    io.out(`cache: removed ${plural(r.entries, 'entry', 'entries')}${extra.length ? ` (and ${extra.join(', ')})` : ''} from ${store.root}\n`);
  }
  if (opts.all) {
    if (!existsSync(resultsDir)) {
      io.out(`results: ${resultsDir} does not exist; nothing to remove\n`);
      return EXIT_OK;
    }
    // Only what hrank wrote goes: its files in the study folders it recognises by their stamp.
    const r = await removeResults(resultsDir, { keepRoot: unsafeToRemove(opts.results) !== undefined });
    const studies = r.studies.length === 0 ? 'no study folders of hrank' : `${plural(r.studies.length, 'study folder')} (${r.studies.join(', ')}): ${plural(r.files, 'file')}`;
    io.out(`results: removed ${studies} from ${r.root}${r.rootRemoved ? ', and the folder itself' : ''}\n`);
    if (r.left.length > 0) {
      const shown = r.left.slice(0, 8).join(', ') + (r.left.length > 8 ? `, ... (${r.left.length})` : '');
      io.out(`results: left ${plural(r.left.length, 'entry', 'entries')} hrank did not write: ${shown}\n`);
    }
  }
  return EXIT_OK;
}
