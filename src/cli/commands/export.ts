/**
 * `hrank export <file>`: a study's points as NumPy files (study/export.ts). Prints where each
 * point went; --json prints the same as data.
 */
import path from 'node:path';
import { ExportRefused, exportStudy } from '../../study/export.js';
import { loadCheckedStudy } from '../datafiles.js';
import { EXIT_OK, InputError } from '../errors.js';
import { plural } from '../format.js';
import type { CliIO } from '../io.js';
import type { ExportOptions } from '../options.js';

export async function exportCommand(opts: ExportOptions, io: CliIO): Promise<number> {
  await loadCheckedStudy(opts.file);
  let result;
  try {
    result = await exportStudy(opts.file, {
      points: opts.points,
      ...(opts.what ? { what: opts.what } : {}),
      ...(opts.out ? { out: opts.out } : {}),
      cache: opts.cache,
      noCache: opts.noCache,
      ...(opts.maxMemory !== undefined ? { maxMemory: opts.maxMemory } : {}),
      onEvent: (e) => { if (e.type === 'warning') io.err(`warning: ${e.message}\n`); },
    });
  } catch (err) {
    if (err instanceof ExportRefused) throw new InputError(err.message);
    throw err;
  }
  if (opts.json) {
    io.out(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  }
  const lines = [`${result.study}: exported ${plural(result.points.length, 'point')} to ${result.dir}`];
  for (const p of result.points) {
    lines.push(`  ${path.relative(result.dir, p.dir) || '.'}: ${p.files.map((f) => f.file).join(', ')}, manifest.json`);
    for (const s of p.skipped) lines.push(`    left out ${s}`);
  }
  lines.push('read them with numpy.load(path); manifest.json names each file, its shape and the ranks hrank read');
  io.out(`${lines.join('\n')}\n`);
  return EXIT_OK;
}
