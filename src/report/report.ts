/**
 * The report of a study, written into its results folder next to the results:
 *
 *   table.md                  the results table with a check column per Hessian
 *   plots/<figure>.svg, .png  every figure (rank figures, spectra when asked for)
 *   report.html               one self-contained page: plots, table, pipeline file, provenance
 *
 * `buildReport` makes the files in memory (a pure function of its input, apart from the
 * provenance it is given); `writeReport` writes them, each atomically (temp file, then rename;
 * report.html last), and removes figure files of earlier reports that are no longer made.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Study } from '../pipeline/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { reportHtml, type PageFigure } from './html.js';
import type { ReportInput } from './model.js';
import { reportFigures, type Figure } from './plots.js';
import { compileSpec, renderSvg, svgToPng } from './render.js';
import type { Provenance } from './results.js';
import { tableMarkdown } from './table.js';
import { FIGURE_FILE, PLOTS_DIR } from './names.js';

export type { PointSpectra, ReportInput, Spectrum } from './model.js';

export { PLOTS_DIR } from './names.js';

export interface ReportFile {
  /** Path relative to the results folder, with `/` separators. */
  readonly name: string;
  readonly data: string | Uint8Array;
}

export interface BuiltReport {
  /** In the order they are written; report.html last. */
  readonly files: readonly ReportFile[];
  readonly figures: readonly Figure[];
  /** Per figure id: the static SVG. */
  readonly svgs: ReadonlyMap<string, string>;
}

/** Why a study that asks for spectra gets none (undefined when it gets them, or does not ask). */
function spectraNote(input: ReportInput): string | undefined {
  if (!input.study.report.spectra) return undefined;
  if (input.spectra) return undefined;
  return 'Spectra were asked for (report.spectra: true) but the eigenvalues are not at hand: they are read from the cache, and this run did not use one (--no-cache). Run `hrank run` with the cache, or `hrank report`, to draw them.';
}

export async function buildReport(input: ReportInput): Promise<BuiltReport> {
  const figures = reportFigures(input.study, input.results, input.spectra);
  const files: ReportFile[] = [];
  const svgs = new Map<string, string>();
  const page: PageFigure[] = [];
  for (const figure of figures) {
    const svg = await renderSvg(compileSpec(figure.static));
    svgs.set(figure.id, svg);
    files.push({ name: `${PLOTS_DIR}/${figure.id}.svg`, data: svg });
    files.push({ name: `${PLOTS_DIR}/${figure.id}.png`, data: svgToPng(svg) });
    page.push({ figure, vega: compileSpec(figure.interactive) });
  }
  files.push({ name: 'table.md', data: tableMarkdown(input.study, input.results) });
  files.push({ name: 'report.html', data: reportHtml(input, page, { spectra: spectraNote(input) }) });
  return { files, figures, svgs };
}


/**
 * Builds the report and writes it into `dir` (the study's results folder). Returns the paths
 * written, report.html last.
 */
export async function writeReport(dir: string, input: ReportInput): Promise<string[]> {
  const built = await buildReport(input);
  const written: string[] = [];
  for (const f of built.files) {
    const file = path.join(dir, ...f.name.split('/'));
    await writeFileAtomic(file, f.data);
    written.push(file);
  }
  // Figures of an earlier report that this one does not make (a plot or a point removed).
  const plotsDir = path.join(dir, PLOTS_DIR);
  const keep = new Set(built.files.map((f) => f.name));
  const present = await fsp.readdir(plotsDir).catch(() => [] as string[]);
  for (const name of present) {
    if (FIGURE_FILE.test(name) && !keep.has(`${PLOTS_DIR}/${name}`)) await fsp.rm(path.join(plotsDir, name), { force: true });
  }
  return written;
}

/**
 * The provenance.json in a results folder, when it belongs to a run of this exact pipeline file
 * (same sha256 of its text); null otherwise.
 */
export async function readProvenance(dir: string, study: Study): Promise<Provenance | null> {
  try {
    const p = JSON.parse(await fsp.readFile(path.join(dir, 'provenance.json'), 'utf8')) as Provenance;
    const sha = createHash('sha256').update(study.text).digest('hex');
    return p?.pipeline?.sha256 === sha ? p : null;
  } catch {
    return null;
  }
}
