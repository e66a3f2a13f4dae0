/**
 * The fonts of the plots: DejaVu Sans from the `dejavu-fonts-ttf` npm package, so that a fresh
 * machine without any system font still draws text, and every machine draws the same pixels.
 *
 * Vega lays out text (legend width, axis title offsets) from text widths. In Node it has no
 * canvas to measure them and guesses 0.8 em per character, which leaves wide gaps; `textWidth`
 * measures with the font's own advance widths instead (read from its `cmap` and `hmtx` tables).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The family name used in the plots (and given to resvg as its default). */
export const FONT_FAMILY = 'DejaVu Sans';

/** Folder of the DejaVu TrueType files inside the npm package. */
export function fontDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
}

/** The font files resvg is given: regular and bold (the plots use no other face). */
export function fontFiles(): string[] {
  const dir = fontDir();
  return ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => path.join(dir, f));
}

/** Advance widths of one font, in em. */
export interface FontMetrics {
  /** Width of a code point in em (the `.notdef` width for code points the font lacks). */
  readonly advance: (codePoint: number) => number;
}

/** Reads the advance widths of a TrueType file (cmap format 4 or 12, hmtx). */
export function readFontMetrics(bytes: Uint8Array): FontMetrics {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = new Map<string, number>();
  const numTables = v.getUint16(4);
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    const tag = String.fromCharCode(v.getUint8(rec), v.getUint8(rec + 1), v.getUint8(rec + 2), v.getUint8(rec + 3));
    tables.set(tag, v.getUint32(rec + 8));
  }
  const table = (tag: string): number => {
    const off = tables.get(tag);
    if (off === undefined) throw new Error(`font: no '${tag}' table`);
    return off;
  };
  const unitsPerEm = v.getUint16(table('head') + 18);
  const numberOfHMetrics = v.getUint16(table('hhea') + 34);
  const hmtx = table('hmtx');
  const glyphAdvance = (glyph: number): number => v.getUint16(hmtx + 4 * Math.min(glyph, numberOfHMetrics - 1));

  // The best Unicode subtable: format 12 (full range) over format 4 (BMP).
  const cmap = table('cmap');
  let sub4 = -1;
  let sub12 = -1;
  for (let i = 0; i < v.getUint16(cmap + 2); i++) {
    const rec = cmap + 4 + 8 * i;
    const platform = v.getUint16(rec);
    const encoding = v.getUint16(rec + 2);
    const off = cmap + v.getUint32(rec + 4);
    const format = v.getUint16(off);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    if (format === 12 && sub12 < 0) sub12 = off;
    if (format === 4 && sub4 < 0) sub4 = off;
  }
  const glyphOf = (cp: number): number => {
    if (sub12 >= 0) {
      const groups = v.getUint32(sub12 + 12);
      for (let g = 0; g < groups; g++) {
        const rec = sub12 + 16 + 12 * g;
        const start = v.getUint32(rec);
        const end = v.getUint32(rec + 4);
        if (cp >= start && cp <= end) return v.getUint32(rec + 8) + (cp - start);
      }
      return 0;
    }
    if (sub4 < 0 || cp > 0xffff) return 0;
    const segX2 = v.getUint16(sub4 + 6);
    const ends = sub4 + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const ranges = deltas + segX2;
    for (let s = 0; s < segX2 / 2; s++) {
      const end = v.getUint16(ends + 2 * s);
      if (cp > end) continue;
      const start = v.getUint16(starts + 2 * s);
      if (cp < start) return 0;
      const delta = v.getUint16(deltas + 2 * s);
      const rangeOffset = v.getUint16(ranges + 2 * s);
      if (rangeOffset === 0) return (cp + delta) & 0xffff;
      const at = ranges + 2 * s + rangeOffset + 2 * (cp - start);
      const glyph = v.getUint16(at);
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number>();
  return {
    advance: (cp) => {
      let w = cache.get(cp);
      if (w === undefined) {
        w = glyphAdvance(glyphOf(cp)) / unitsPerEm;
        cache.set(cp, w);
      }
      return w;
    },
  };
}

let regular: FontMetrics | undefined;
let bold: FontMetrics | undefined;

function metrics(isBold: boolean): FontMetrics {
  if (isBold) return (bold ??= readFontMetrics(readFileSync(path.join(fontDir(), 'DejaVuSans-Bold.ttf'))));
  return (regular ??= readFontMetrics(readFileSync(path.join(fontDir(), 'DejaVuSans.ttf'))));
}

/** Width in pixels of `text` set in DejaVu Sans at `fontSize` (no kerning). */
export function textWidth(text: string, fontSize: number, isBold = false): number {
  const m = metrics(isBold);
  let w = 0;
  for (const ch of text) w += m.advance(ch.codePointAt(0)!);
  return w * fontSize;
}

/** True for a vega `fontWeight` that selects the bold face. */
export function isBoldWeight(weight: unknown): boolean {
  if (weight === 'bold' || weight === 'bolder') return true;
  const n = typeof weight === 'number' ? weight : typeof weight === 'string' ? Number(weight) : NaN;
  return Number.isFinite(n) && n >= 600;
}
