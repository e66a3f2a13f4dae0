/** Sweep expansion: the points of a study, their ids and their settings. */
import { normalizeConfig } from './normalize.js';
import { setInPlace, without } from './paths.js';
import type { Axis, PipelineDocument, Point, Study, SweepMode, SweepValue } from './types.js';

/**
 * A value as it appears in point ids: integers without decimals (`8`, and `8.0` is the same
 * number), other numbers in JavaScript's shortest form (`0.1`), -0 as `0`, plain strings as is
 * (quoted as JSON when they hold anything but letters, digits and `_ . - / + : @`), lists as
 * `[8,8]`, mappings (layers) as `{dense:4}`, null (a key's default) as `null`.
 */
export function formatValue(value: SweepValue | null): string {
  // null: the key's default (e.g. `rank.rtol: [null, 1e-10]`, NumPy's rule beside a fixed one).
  if (value === null) return 'null';
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return /^[A-Za-z0-9_.\-/+:@]+$/.test(value) ? value : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(',')}]`;
  // A mapping (an item of a swept model.layers list): {conv:{channels:8,kernel:3}}.
  return `{${Object.entries(value as unknown as Record<string, SweepValue>).map(([k, v]) => `${k}:${formatValue(v)}`).join(',')}}`;
}

/** `loss=mse,model.width=8` (axes in file order), or `main` when there are no axes. */
export function pointId(axes: readonly Pick<Axis, 'path'>[], values: readonly SweepValue[]): string {
  if (axes.length === 0) return 'main';
  return axes.map((a, i) => `${a.path}=${formatValue(values[i] as SweepValue)}`).join(',');
}

/**
 * The value tuples of a sweep, in order. Grid: the cartesian product, the first axis varying
 * slowest. Zip: element-wise (the axes have equal lengths after validation; the shortest wins
 * otherwise). No axes: one empty tuple.
 */
export function combinations(axes: readonly Pick<Axis, 'values'>[], mode: SweepMode): SweepValue[][] {
  if (axes.length === 0) return [[]];
  if (mode === 'zip') {
    const n = Math.min(...axes.map((a) => a.values.length));
    return Array.from({ length: n }, (_, i) => axes.map((a) => a.values[i] as SweepValue));
  }
  let out: SweepValue[][] = [[]];
  for (const axis of axes) out = out.flatMap((prefix) => axis.values.map((v) => [...prefix, v]));
  return out;
}

/** Number of points of a sweep, without expanding it. */
export function countPoints(axes: readonly Pick<Axis, 'values'>[], mode: SweepMode): number {
  if (axes.length === 0) return 1;
  if (mode === 'zip') return Math.min(...axes.map((a) => a.values.length));
  return axes.reduce((n, a) => n * a.values.length, 1);
}

/** Every point of the study, in expansion order, each with its full settings. */
export function expandSweep(study: Study): Point[] {
  const { axes, mode } = study.sweep;
  // One private copy of the document, with each point's values set in place: normalizeConfig
  // copies what it keeps, so the points share nothing with it.
  const scratch = structuredClone(without(study.document, ['sweep', 'report']));
  return combinations(axes, mode).map((values, index) => {
    const restores = axes.map((axis, i) => setInPlace(scratch, axis.segments, values[i]));
    const config = normalizeConfig(scratch as PipelineDocument, study.dir);
    for (const restore of restores.reverse()) restore();
    const coords: Record<string, SweepValue> = {};
    axes.forEach((a, i) => {
      coords[a.path] = values[i] as SweepValue;
    });
    return { index, id: pointId(axes, values), values, coords, config };
  });
}
