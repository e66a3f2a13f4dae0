/**
 * `hrank explain <file> [--point ID] [--json]`: each point's predictions derived with its own
 * numbers, beside what was measured (study/explain.ts). Text by default, the same as data with
 * --json.
 */
import { derivationText } from '../../report/derivation.js';
import { explainStudy } from '../../study/explain.js';
import { EXIT_OK } from '../errors.js';
import { displayPath } from '../format.js';
import type { CliIO } from '../io.js';
import type { ExplainOptions } from '../options.js';

export async function explainCommand(opts: ExplainOptions, io: CliIO): Promise<number> {
  const ex = await explainStudy(opts.file, { results: opts.results, points: opts.points });
  if (opts.json) {
    io.out(`${JSON.stringify(ex, null, 2)}\n`);
    return EXIT_OK;
  }
  if (ex.stale) io.err(`warning: ${ex.stale}\n`);
  const none = ex.stale ? 'none (the results folder is stale)' : `none yet (run \`hrank run ${opts.file}\`)`;
  const head = `${ex.study}: ${ex.points.length} ${ex.points.length === 1 ? 'point' : 'points'}; measurements ${ex.results ? `from ${displayPath(ex.results)}` : none}\n`;
  io.out(`${head}\n${ex.points.map(derivationText).join('\n')}`);
  return EXIT_OK;
}
