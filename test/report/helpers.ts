/** A tiny study run once per test file (gaussian mixture, 4 points, about a second), for the report tests. */
import path from 'node:path';
import { runStudy, type StudyRun } from '../../src/study/study.js';
import { tempDir, writePipeline } from '../engine/helpers.js';

/** loss x width grid with spectra; the listed plot is normalised by #params. */
export const GRID = `description: report fixture
dataset: {source: gaussian-mixture, dim: 5, samples: 12, classes: 3}
model: {width: 3, depth: 1}
sweep:
  loss: [mse, cross-entropy]
  model.width: [2, 3]
report:
  spectra: true
  plots:
    - {x: model.width, normalize: params}
    - {x: model.width, title: "Ranks | <raw> & \\"quoted\\""}
`;

export interface Fixture {
  /** Temp folder holding the pipeline file, cache/ and results/. */
  readonly root: string;
  readonly file: string;
  readonly cache: string;
  readonly results: string;
  readonly run: StudyRun;
}

/** Writes `body` as pipeline `name` in a fresh temp folder and runs it (cache and results inside). */
export async function runFixture(body = GRID, name = 'fixture'): Promise<Fixture> {
  const root = tempDir('hrank-report-');
  const file = writePipeline(root, name, body);
  const cache = path.join(root, 'cache');
  const results = path.join(root, 'results');
  const warnings: string[] = [];
  const run = await runStudy(file, { cache, results, jobs: 2, onEvent: (e) => { if (e.type === 'warning') warnings.push(e.message); } });
  if (!run.run.ok) throw new Error(`fixture run failed: ${JSON.stringify(run.run.failed)}`);
  if (warnings.length > 0) throw new Error(`fixture run warned: ${warnings.join('; ')}`);
  return { root, file, cache, results, run };
}

/** `<g class="mark-TYPE role-mark NAME" ...>...</g>` groups of a vega SVG, with their contents. */
export function markGroups(svg: string, type: string, name: string): string[] {
  const out: string[] = [];
  const open = new RegExp(`<g class="mark-${type} role-mark ${name}"[^>]*>`, 'g');
  for (const m of svg.matchAll(open)) {
    // Mark groups hold only leaf elements (path, line, ...), so the first </g> closes them.
    const start = m.index! + m[0].length;
    out.push(svg.slice(start, svg.indexOf('</g>', start)));
  }
  return out;
}

/** Number of `<path` elements in a text. */
export function paths(text: string): number {
  return (text.match(/<path\b/g) ?? []).length;
}

/** Width and height of a PNG from its IHDR chunk; throws when the bytes are not a PNG. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || signature.some((b, i) => png[i] !== b)) throw new Error('not a PNG: bad signature');
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  if (String.fromCharCode(png[12]!, png[13]!, png[14]!, png[15]!) !== 'IHDR') throw new Error('not a PNG: first chunk is not IHDR');
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

/** Width and height of an SVG document from its root element. */
export function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg\b[^>]*?\bwidth="([\d.]+)"[^>]*?\bheight="([\d.]+)"/.exec(svg);
  if (!m) throw new Error('SVG without width and height');
  return { width: Number(m[1]), height: Number(m[2]) };
}
