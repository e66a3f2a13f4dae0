/**
 * Sanity limits on sizes, beyond what the schema says is well-formed: a study asking for 10^12
 * samples or a layer of 10^15 units is a typo (or an attack), and is refused where it is written
 * (the value, or the sweep entry that supplies it) instead of surfacing later as an allocation
 * failure. The limits are far above anything hrank can compute; the memory estimate of `plan`
 * and `run` (`--max-memory`) is what decides whether a study fits this machine.
 */
import { show } from './hints.js';
import { getPath } from './paths.js';
import type { Issue } from './schema.js';
import type { Axis, PathSegment, SweepValue } from './types.js';

interface Limit {
  readonly max: number;
  readonly what: string;
}

/** Largest value of each size setting (dotted path; `model.hidden[]` is every hidden width). */
export const SIZE_LIMITS: Readonly<Record<string, Limit>> = {
  'dataset.samples': { max: 10_000_000, what: 'samples' },
  'dataset.dim': { max: 1_000_000, what: 'input dimensions' },
  'dataset.resize': { max: 4096, what: 'pixels per side' },
  'dataset.classes': { max: 10_000, what: 'classes' },
  'model.width': { max: 1_000_000, what: 'units per layer' },
  'model.depth': { max: 1000, what: 'hidden layers' },
  'model.hidden[]': { max: 1_000_000, what: 'units per layer' },
  'model.layers.dense': { max: 1_000_000, what: 'units per layer' },
  'model.layers.conv.channels': { max: 100_000, what: 'channels per layer' },
  'model.layers.conv.kernel': { max: 4096, what: 'pixels per kernel side' },
  'model.layers.conv.stride': { max: 4096, what: 'pixels per stride' },
  batch_size: { max: 10_000_000, what: 'samples per batch' },
};

/** Most hidden layers a `model.hidden` list may give. */
export const MAX_HIDDEN_LAYERS = 1000;

function over(value: unknown, limit: Limit): string | undefined {
  if (typeof value !== 'number' || value <= limit.max) return undefined;
  return `found ${show(value)}; at most ${limit.max} ${limit.what} (a sanity limit: hrank cannot compute anything near this size)`;
}

/** Issues of one value set at `segments` (a size, or a hidden list). */
function valueIssues(segments: readonly PathSegment[], value: unknown): { inner: PathSegment[]; message: string }[] {
  const key = segments.filter((s) => typeof s === 'string').join('.');
  const out: { inner: PathSegment[]; message: string }[] = [];
  if (key === 'model.hidden' && typeof segments[segments.length - 1] === 'number') {
    const m = over(value, SIZE_LIMITS['model.hidden[]']!);
    if (m) out.push({ inner: [], message: m });
    return out;
  }
  if (key === 'model.hidden') {
    if (!Array.isArray(value)) return out;
    if (value.length > MAX_HIDDEN_LAYERS) {
      out.push({ inner: [], message: `found ${value.length} hidden layers; at most ${MAX_HIDDEN_LAYERS} (a sanity limit)` });
      return out;
    }
    value.forEach((w, i) => {
      const m = over(w, SIZE_LIMITS['model.hidden[]']!);
      if (m) out.push({ inner: [i], message: m });
    });
    return out;
  }
  const limit = SIZE_LIMITS[key];
  const m = limit ? over(value, limit) : undefined;
  if (m) out.push({ inner: [], message: m });
  return out;
}

/**
 * Every size over its limit: in the file (at the value) and in the sweep (at the list item, or at
 * the range, naming its first value over the limit). `data` is schema-valid.
 */
export function limitIssues(data: unknown, axes: readonly Axis[]): Issue[] {
  const issues: Issue[] = [];
  const fixed: PathSegment[][] = [
    ['dataset', 'samples'], ['dataset', 'dim'], ['dataset', 'resize'], ['dataset', 'classes'],
    ['model', 'width'], ['model', 'depth'], ['model', 'hidden'], ['batch_size'],
  ];
  const layers = getPath(data, ['model', 'layers']);
  if (Array.isArray(layers)) {
    if (layers.length > MAX_HIDDEN_LAYERS) issues.push({ code: 'bad-value', path: ['model', 'layers'], target: 'value', message: `found ${layers.length} layers; at most ${MAX_HIDDEN_LAYERS} (a sanity limit)` });
    else {
      layers.forEach((_, i) => {
        for (const k of ['dense', 'conv.channels', 'conv.kernel', 'conv.stride']) fixed.push(['model', 'layers', i, ...k.split('.')]);
      });
    }
  }
  for (const path of fixed) {
    const value = getPath(data, path);
    if (value === undefined) continue;
    for (const v of valueIssues(path, value)) issues.push({ code: 'bad-value', path: [...path, ...v.inner], target: 'value', message: v.message });
  }
  for (const axis of axes) {
    const sweepKey = ['sweep', axis.path];
    if (axis.form === 'range') {
      const bad = axis.values.map((v: SweepValue) => valueIssues(axis.segments, v)).find((list) => list.length > 0);
      if (bad) issues.push({ code: 'bad-sweep', path: sweepKey, target: 'value', message: `${axis.path}: ${bad[0]!.message}` });
      continue;
    }
    axis.values.forEach((v, i) => {
      for (const b of valueIssues(axis.segments, v)) {
        issues.push({ code: 'bad-sweep', path: [...sweepKey, i, ...b.inner], target: 'value', message: `value for ${axis.path}: ${b.message}` });
      }
    });
  }
  return issues;
}
