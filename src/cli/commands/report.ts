/**
 * `hrank report <file>`: rebuilds a study's report (table.md, plots/, report.html) from the
 * cache, computing nothing. When the cache lacks a step the report needs, it names every such
 * step and exits 1 (`hrank run` computes them).
 */
import path from 'node:path';
import { NotCachedError, reportFromCache } from '../../study/study.js';
import { loadCheckedStudy } from '../datafiles.js';
import { EXIT_FAILED, EXIT_OK } from '../errors.js';
import { plural } from '../format.js';
import type { CliIO } from '../io.js';
import type { ReportOptions } from '../options.js';

/** Most missing steps listed one per line (the rest are counted). */
const MAX_LISTED = 20;

export async function reportCommand(opts: ReportOptions, io: CliIO): Promise<number> {
  const { study } = await loadCheckedStudy(opts.file);
  let rebuilt;
  try {
    rebuilt = await reportFromCache(opts.file, {
      results: opts.results,
      cache: opts.cache,
      onEvent: (e) => { if (e.type === 'warning') io.err(`warning: ${e.message}\n`); },
    });
  } catch (err) {
    if (!(err instanceof NotCachedError)) throw err;
    const lines = [`error: ${study.name}: the report needs ${plural(err.missing.length, 'step')} that the cache ${err.cacheDir} does not hold:`];
    for (const id of err.missing.slice(0, MAX_LISTED)) lines.push(`  ${id}`);
    if (err.missing.length > MAX_LISTED) lines.push(`  ... and ${err.missing.length - MAX_LISTED} more`);
    lines.push(`nothing was computed or written; \`hrank run ${opts.file}\` computes them`);
    io.err(`${lines.join('\n')}\n`);
    return EXIT_FAILED;
  }
  const plots = rebuilt.files.filter((f) => path.basename(path.dirname(f)) === 'plots');
  const lines = [
    `${study.name}: report rebuilt from the cache (nothing computed)`,
    `report: ${path.join(rebuilt.dir, 'report.html')}`,
    `table: ${path.join(rebuilt.dir, 'table.md')}`,
    `plots: ${path.join(rebuilt.dir, 'plots')} (${plural(plots.length, 'file')})`,
  ];
  io.out(`${lines.join('\n')}\n`);
  return EXIT_OK;
}
