/**
 * Figures to files without a browser: vega-lite compiles to vega in Node, vega's headless view
 * draws SVG (no canvas needed), and @resvg/resvg-js turns the SVG into PNG with the DejaVu
 * fonts shipped through npm (no system fonts: the same pixels on every machine).
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { FONT_FAMILY, fontFiles, isBoldWeight, textWidth } from './fonts.js';

/** PNG pixels per SVG pixel. */
export const PNG_SCALE = 2;

/** Messages of the vega-lite compiler: collected, never printed (a warning is not the user's business). */
export interface CompileMessages {
  readonly warnings: string[];
}

/** vega-lite to vega. Warnings go to `messages` when given, else nowhere. */
export function compileSpec(spec: TopLevelSpec, messages?: CompileMessages): vega.Spec {
  const keep = (...args: readonly unknown[]): void => void messages?.warnings.push(args.map(String).join(' '));
  let level = 0;
  const logger = {
    level(l?: number) { if (l === undefined) return level; level = l; return logger; },
    info: () => logger, debug: () => logger,
    warn: (...a: unknown[]) => { keep(...a); return logger; },
    error: (...a: unknown[]) => { keep(...a); return logger; },
  };
  return compile(spec, { logger: logger as unknown as NonNullable<Parameters<typeof compile>[1]>['logger'] }).spec;
}

interface TextItem {
  readonly fontSize?: number;
  readonly fontWeight?: unknown;
}

/**
 * Vega measures text with a canvas when it has one and otherwise guesses 0.8 em per character.
 * Here text is measured with DejaVu Sans's own advance widths (vega calls a user-defined
 * `textMetrics.width` for layout and truncation), so legends and axis titles sit where the
 * PNG draws them. Installed once, for the vega instance of this process.
 */
let metricsInstalled = false;
function installTextMetrics(): void {
  if (metricsInstalled) return;
  const metrics = (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics;
  metrics.width = (item, text) => {
    const s = text == null ? '' : String(text).trim();
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    return s === '' || size <= 0 ? 0 : textWidth(s, size, isBoldWeight(item.fontWeight));
  };
  metricsInstalled = true;
}

/** A vega spec drawn as a standalone SVG document. */
export async function renderSvg(spec: vega.Spec): Promise<string> {
  installTextMetrics();
  const view = new vega.View(vega.parse(spec), { renderer: 'none', logLevel: vega.None });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** An SVG document as PNG bytes, `scale` device pixels per SVG pixel. */
export function svgToPng(svg: string, scale = PNG_SCALE): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { fontFiles: fontFiles(), loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
    background: 'white',
  });
  return resvg.render().asPng();
}

