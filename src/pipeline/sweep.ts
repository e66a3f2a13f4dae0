/**
 * Checks of the sweep that the schema cannot express, and the sweep's axes.
 *
 * - every axis key is a dotted path to a settable value (not a section, not `name`, ...);
 * - every swept value is valid where it goes: each value is substituted into the file and the
 *   result validated against the schema; what is new compared with the file alone is reported at
 *   the sweep entry (the list item, or the range) that caused it;
 * - ranges: `to` >= `from`, at most MAX_POINTS values (step > 0 is the schema's);
 * - `model.width` / `model.depth` need the width/depth form, `model.hidden` the hidden form;
 * - zip: equal lengths; no duplicate points; at most MAX_POINTS points;
 * - every `report.plots[].x` is an axis.
 */
import { countPoints, combinations, formatValue, pointId } from './expand.js';
import { closestMatch, didYouMean, orList, show } from './hints.js';
import { formatPath, getPath, isRecord, setInPlace, without } from './paths.js';
import { fileShape, issueSignature, schemaIssues, validateAgainstSchema, type Issue, type Shape } from './schema.js';
import { MAX_POINTS, type Axis, type PathSegment, type SweepMode, type SweepValue } from './types.js';

/** Top-level keys that cannot be swept, and why. */
const NOT_SWEEPABLE: Readonly<Record<string, string>> = {
  version: 'it is the file format version',
  name: 'it names the results folder',
  description: 'it is only a description',
  sweep: 'it is the sweep itself',
  report: 'it describes the plots, not the computation',
  $schema: 'it is only a link for editors',
};

/** Every dotted path that can be swept (for suggestions). */
export const SWEEPABLE_PATHS: readonly string[] = (() => {
  const out: string[] = [];
  const walk = (shape: Shape, at: string): void => {
    if (shape.kind === 'section') {
      for (const [k, child] of shape.keys) {
        if (at === '' && k in NOT_SWEEPABLE) continue;
        walk(child, at === '' ? k : `${at}.${k}`);
      }
    } else out.push(at);
  };
  walk(fileShape, '');
  return out;
})();

export interface SweepCheck {
  readonly mode: SweepMode;
  /** The axes, when the sweep has no problems (else the well-formed ones). */
  readonly axes: readonly Axis[];
  /** Dotted paths the sweep supplies (required keys missing there are fine). */
  readonly supplied: ReadonlySet<string>;
  readonly issues: readonly Issue[];
  /** What is valid but likely not what was meant (a range that stops short of its `to`). */
  readonly warnings: readonly Issue[];
}

/** The dotted paths of the sweep's axes that look like paths (to excuse missing keys early). */
export function suppliedPaths(data: unknown): Set<string> {
  const sweep = isRecord(data) ? data['sweep'] : undefined;
  const out = new Set<string>();
  if (!isRecord(sweep)) return out;
  for (const key of Object.keys(sweep)) {
    if (key === 'mode') continue;
    const segs = splitKey(key);
    if (segs !== undefined) out.add(formatPath(segs));
  }
  return out;
}

/**
 * `model.hidden.0` -> ['model', 'hidden', 0], `model.layers[0].conv.channels` -> ['model',
 * 'layers', 0, 'conv', 'channels']; undefined when not a dotted path.
 */
export function splitKey(key: string): PathSegment[] | undefined {
  const parts = key.split('.');
  if (parts.some((p) => !/^([A-Za-z_][A-Za-z0-9_]*(\[\d+\])*|\d+)$/.test(p)) || /^\d/.test(parts[0] as string)) return undefined;
  const out: PathSegment[] = [];
  for (const p of parts) {
    if (/^\d+$/.test(p)) { out.push(Number(p)); continue; }
    const [name, ...indices] = p.split('[');
    out.push(name as string, ...indices.map((i) => Number(i.slice(0, -1))));
  }
  return out;
}

interface Draft {
  readonly key: string;
  readonly segments: readonly PathSegment[];
  readonly values: readonly SweepValue[];
  readonly form: 'list' | 'range';
}

/**
 * Checks the sweep of `data` (the whole file, already schema-validated; schema issues of the
 * sweep itself are not repeated here) and returns its axes.
 */
export function checkSweep(data: unknown, fileIssueCount: number): SweepCheck {
  const sweep = isRecord(data) ? data['sweep'] : undefined;
  const supplied = suppliedPaths(data);
  const mode: SweepMode = isRecord(sweep) && sweep['mode'] === 'zip' ? 'zip' : 'grid';
  const issues: Issue[] = [];
  if (!isRecord(sweep)) return { mode, axes: [], supplied, issues: plotIssues(data, [], []), warnings: [] };

  const core = without(data, ['sweep', 'report']);
  const baseline = new Set(schemaIssues(core, supplied).map(issueSignature));
  const sweptSource = supplied.has('dataset.source');

  const drafts: Draft[] = [];
  const warnings: Issue[] = [];
  let complete = true;
  for (const key of Object.keys(sweep)) {
    if (key === 'mode') continue;
    const at: PathSegment[] = ['sweep', key];
    const resolved = resolveAxisPath(key, core, sweptSource);
    if ('issue' in resolved) {
      issues.push({ code: 'bad-sweep', path: at, target: 'key', ...resolved.issue });
      complete = false;
      continue;
    }
    const values = sweep[key] === 'all' ? allValues(key, core) : sweepValues(sweep[key]);
    if (values === undefined) {
      complete = false; // reported by the schema
      continue;
    }
    if ('issue' in values) {
      issues.push({ code: 'bad-sweep', path: at, target: 'value', message: values.issue });
      complete = false;
      continue;
    }
    const draft: Draft = { key, segments: resolved.segments, values: values.values, form: values.form };
    const short = values.form === 'range' && sweep[key] !== 'all' ? rangeEndWarning(key, sweep[key] as Record<string, number>, values.values as number[]) : undefined;
    if (short) warnings.push(short);
    const valueIssues = checkValues(draft, core, supplied, baseline);
    if (valueIssues.length > 0) complete = false;
    issues.push(...valueIssues);
    drafts.push(draft);
  }

  // Axes that overlap (model.hidden and model.hidden.0) would overwrite each other.
  for (const a of drafts) {
    for (const b of drafts) {
      if (a !== b && a.segments.length < b.segments.length && a.segments.every((s, i) => s === b.segments[i])) {
        issues.push({ code: 'bad-sweep', path: ['sweep', b.key], target: 'key', message: `'${b.key}' is part of the axis '${a.key}'; sweep one or the other` });
        complete = false;
      }
    }
  }

  if (mode === 'zip' && drafts.length > 1) {
    const first = drafts[0] as Draft;
    for (const d of drafts.slice(1)) {
      if (d.values.length !== first.values.length) {
        issues.push({
          code: 'bad-sweep',
          path: ['sweep', d.key],
          target: 'key',
          message: `has ${count(d.values.length)} but '${first.key}' has ${count(first.values.length)}; mode: zip pairs the axes element-wise, so all need the same number of values`,
        });
        complete = false;
      }
    }
  }

  if (complete) {
    const n = countPoints(drafts, mode);
    if (n > MAX_POINTS) {
      issues.push({ code: 'bad-sweep', path: ['sweep'], target: 'key', message: `the sweep has ${n} points; at most ${MAX_POINTS} allowed` });
      complete = false;
    }
  }

  if (complete) issues.push(...duplicateIssues(drafts, mode));

  // Combinations of values that are fine one by one but not together (e.g. a zip of
  // dataset.source and dataset.images). Only worth it when everything else is clean.
  if (complete && issues.length === 0 && fileIssueCount === 0 && drafts.length > 1) {
    const fullBaseline = new Set(schemaIssues(core).map(issueSignature));
    const limit = 5;
    let reported = 0;
    const scratch = structuredClone(core);
    for (const values of combinations(drafts, mode)) {
      if (reported >= limit) break;
      const restores = drafts.map((d, i) => setInPlace(scratch, d.segments, values[i]));
      const valid = validateAgainstSchema(scratch).length === 0;
      const found = valid ? [] : schemaIssues(scratch);
      for (const restore of restores.reverse()) restore();
      for (const issue of found) {
        if (fullBaseline.has(issueSignature(issue)) || reported >= limit) continue;
        reported++;
        issues.push({
          code: 'bad-sweep',
          path: ['sweep'],
          target: 'key',
          message: `point ${pointId(drafts.map((d) => ({ path: d.key })), values)}: ${formatPath(issue.path)}: ${issue.message}`,
          ...(issue.hint === undefined ? {} : { hint: issue.hint }),
        });
      }
    }
  }

  const axes: Axis[] = drafts.map((d) => ({ path: d.key, segments: d.segments, values: d.values, form: d.form }));
  // Plots are checked against every axis key written, so a bad axis is not reported twice; hints
  // only suggest axes that are valid (not a misspelt one).
  issues.push(...plotIssues(data, Object.keys(sweep).filter((k) => k !== 'mode'), drafts.map((d) => d.key)));
  return { mode, axes, supplied, issues, warnings };
}

/** A range whose last value falls short of its `to` (`{from: 4, to: 10, step: 4}` gives 4 and 8). */
function rangeEndWarning(key: string, raw: Record<string, number>, values: readonly number[]): Issue | undefined {
  const to = raw['to'] as number;
  const step = raw['step'] ?? 1;
  const last = values[values.length - 1] as number;
  if (Math.abs(to - last) <= 1e-9 * step) return undefined;
  const shownValues = values.length <= 8 ? values.map(show).join(', ') : `${values.slice(0, 3).map(show).join(', ')}, ..., ${show(last)}`;
  return {
    code: 'range-end',
    path: ['sweep', key, 'to'],
    target: 'value',
    message: `the range gives ${shownValues} (${count(values.length)}): 'to' (${show(to)}) is not reached, the last value is ${show(last)}`,
    hint: `write to: ${show(last)} to say so, or choose a step that lands on ${show(to)}`,
  };
}

function count(n: number): string {
  return `${n} value${n === 1 ? '' : 's'}`;
}

type Resolved = { readonly segments: PathSegment[] } | { readonly issue: { readonly message: string; readonly hint?: string } };

/** Checks that an axis key is a dotted path to a settable value of this file. */
function resolveAxisPath(key: string, core: unknown, sweptSource: boolean): Resolved {
  const suggest = (): { hint?: string } => {
    const hint = didYouMean(key, SWEEPABLE_PATHS);
    return hint === undefined ? {} : { hint };
  };
  const segments = splitKey(key);
  if (segments === undefined) {
    return { issue: { message: `'${key}' is not a dotted path into the file (like model.width or dataset.samples)`, ...suggest() } };
  }
  const head = segments[0] as string;
  if (head in NOT_SWEEPABLE) return { issue: { message: `'${head}' cannot be swept: ${NOT_SWEEPABLE[head]}` } };

  let shape: Shape = fileShape;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as PathSegment;
    const here = formatPath(segments.slice(0, i));
    if (shape.kind === 'value') {
      return { issue: { message: `'${here}' is a single value; it has no '${String(seg)}' inside` } };
    }
    if (shape.kind === 'list') {
      if (typeof seg !== 'number') return { issue: { message: `'${here}' is a list; sweep the whole list or an item by its index (${here}[0])` } };
      const list = getPath(core, segments.slice(0, i));
      if (!Array.isArray(list)) return { issue: { message: `'${key}' sweeps an item of ${here}, which the file does not give as a list` } };
      if (seg >= list.length) {
        return { issue: { message: `${here} has ${list.length} item${list.length === 1 ? '' : 's'}; there is no item ${seg} (items count from 0)` } };
      }
      shape = shape.items;
      continue;
    }
    const child = typeof seg === 'string' ? shape.keys.get(seg) : undefined;
    // An entry of model.layers is a conv layer or a dense layer: a path must go into the one it is.
    const item = getPath(core, segments.slice(0, i));
    if (child !== undefined && i >= 3 && segments[i - 2] === 'layers' && isRecord(item) && !(String(seg) in item) && ('conv' in item || 'dense' in item)) {
      const kind = 'conv' in item ? 'conv' : 'dense';
      return { issue: { message: `${here} is a ${kind} layer; it has no '${String(seg)}'`, hint: kind === 'conv' ? `sweep ${here}.conv.channels, .kernel, .stride or .padding` : `sweep ${here}.dense` } };
    }
    if (child === undefined) {
      // Inside a list item (model.layers[0].conv.chanels) the whole-file paths have no match: suggest a key of this section.
      const near = suggest().hint ?? (typeof seg === 'string' && segments.slice(0, i).some((s) => typeof s === 'number') ? didYouMean(seg, [...shape.keys.keys()]) : undefined);
      return { issue: { message: `'${key}' is not a setting of the pipeline file; '${String(seg)}' does not exist ${here === '' ? 'at the top level' : `in ${here}`}`, ...(near === undefined ? {} : { hint: near }) } };
    }
    const sources = shape.variants?.get(String(seg));
    const source = getPath(core, [...segments.slice(0, i), 'source']);
    if (sources !== undefined && !sweptSource && typeof source === 'string' && !sources.includes(source) && sources.length > 0) {
      return { issue: { message: `'${key}' does not apply to source ${show(source)}; it is a setting of source ${orList(sources)}` } };
    }
    shape = child;
  }
  if (shape.kind === 'section') {
    const inner = [...shape.keys.keys()].map((k) => `${key}.${k}`);
    return { issue: { message: `'${key}' is a section; sweep one of its settings: ${inner.join(', ')}` } };
  }

  if (head === 'train' && !isRecord(getPath(core, ['train']))) {
    return {
      issue: {
        message: `'${key}' sweeps a setting of training, but the file has no train section`,
        hint: 'add a train section (optimizer, lr, steps, checkpoints) to train the network before its Hessians are computed',
      },
    };
  }

  const model = getPath(core, ['model']);
  if (isRecord(model) && segments[0] === 'model' && segments.length >= 2) {
    const target = segments[1];
    if ((target === 'width' || target === 'depth' || target === 'hidden') && 'layers' in model) {
      return { issue: { message: `sweeping model.${target} needs the ${target === 'hidden' ? 'hidden' : 'width/depth'} form of the model, but this file gives model.layers`, hint: 'sweep an entry of the layers, e.g. model.layers[0].conv.channels or model.layers[1].dense' } };
    }
    if (target === 'layers' && ('hidden' in model || 'width' in model || 'depth' in model)) {
      return { issue: { message: `sweeping model.layers needs the layers form of the model, but this file gives model.${'hidden' in model ? 'hidden' : 'width and model.depth'}`, hint: 'replace it by layers: [...] (conv and dense layers)' } };
    }
    if ((target === 'width' || target === 'depth') && 'hidden' in model) {
      return {
        issue: {
          message: `sweeping model.${target} needs the width/depth form of the model, but this file gives model.hidden`,
          hint: 'replace hidden: [...] by width: <w> and depth: <d>',
        },
      };
    }
    if (target === 'hidden' && ('width' in model || 'depth' in model)) {
      return {
        issue: {
          message: 'sweeping model.hidden needs the hidden form of the model, but this file gives model.width and model.depth',
          hint: 'replace width and depth by hidden: [...], or sweep model.width / model.depth',
        },
      };
    }
  }
  return { segments };
}

type Values =
  | { readonly values: readonly SweepValue[]; readonly form: 'list' | 'range' }
  | { readonly issue: string }
  | undefined;

/**
 * `train.checkpoint: all`: every checkpoint of train.checkpoints (in the range's form, so
 * problems of one are reported at the sweep entry). Undefined when the checkpoints are malformed
 * (the schema says why).
 */
function allValues(key: string, core: unknown): Values {
  if (key !== 'train.checkpoint') return undefined; // the schema allows 'all' for train.checkpoint only, and says so
  const raw = getPath(core, ['train', 'checkpoints']);
  if (Array.isArray(raw)) return raw.length > 0 && raw.every((c) => Number.isInteger(c)) ? { values: raw as number[], form: 'range' } : undefined;
  if (!isRecord(raw) || !Number.isInteger(raw['from']) || !Number.isInteger(raw['to'])) return undefined;
  const step = raw['step'] ?? 1;
  if (!Number.isInteger(step) || (step as number) < 1) return undefined;
  const range = expandRange(raw['from'] as number, raw['to'] as number, step as number);
  return 'issue' in range ? undefined : { values: range.values, form: 'range' };
}

/** The values of one axis: a non-empty list, or an expanded range. Undefined when malformed (the schema says why). */
function sweepValues(raw: unknown): Values {
  if (Array.isArray(raw)) return raw.length > 0 && raw.length <= MAX_POINTS ? { values: raw as SweepValue[], form: 'list' } : undefined;
  if (!isRecord(raw)) return undefined;
  const { from, to } = raw;
  const step = raw['step'] ?? 1;
  if (Object.keys(raw).some((k) => k !== 'from' && k !== 'to' && k !== 'step')) return undefined;
  if (typeof from !== 'number' || typeof to !== 'number' || typeof step !== 'number') return undefined;
  if (!Number.isFinite(from) || !Number.isFinite(to) || !Number.isFinite(step) || step <= 0) return undefined;
  const range = expandRange(from, to, step);
  return 'issue' in range ? range : { values: range.values, form: 'range' };
}

/**
 * from, from + step, ..., up to and including `to` (with a tolerance of 1e-9 steps for decimal
 * steps such as 0.1). Values are rounded to the decimals of `from` and `step`, so 0.1 + 0.2 is 0.3.
 */
export function expandRange(from: number, to: number, step: number): { values: number[] } | { issue: string } {
  if (!(step > 0)) return { issue: `step is ${show(step)}; it must be > 0` };
  if (to < from) return { issue: `'to' (${show(to)}) is below 'from' (${show(from)}); a range counts upwards from 'from' to 'to'` };
  const n = Math.floor((to - from) / step + 1e-9) + 1;
  if (n > MAX_POINTS) return { issue: `the range has ${n} values; at most ${MAX_POINTS} allowed` };
  const decimals = Math.min(20, Math.max(decimalsOf(from), decimalsOf(step)));
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = from + i * step;
    values.push(Number.isInteger(from) && Number.isInteger(step) ? v : Number(v.toFixed(decimals)));
  }
  return { values };
}

function decimalsOf(x: number): number {
  const m = /^-?\d*(?:\.(\d+))?(?:e([+-]\d+))?$/i.exec(String(x));
  if (m === null) return 15;
  return Math.max(0, (m[1]?.length ?? 0) - Number(m[2] ?? 0));
}

/**
 * Substitutes each value of one axis into the file and reports what becomes invalid: at the list
 * item for a list; at the range, naming the first bad value, for a range.
 */
function checkValues(draft: Draft, core: unknown, supplied: ReadonlySet<string>, baseline: ReadonlySet<string>): Issue[] {
  const out: Issue[] = [];
  const axisPath = formatPath(draft.segments);
  // Issues elsewhere in the file that every value causes are reported once, at the axis key.
  const elsewhere = new Map<string, { issue: Issue; values: SweepValue[] }>();
  let rangeBad = 0;
  const scratch = structuredClone(core);
  draft.values.forEach((value, i) => {
    const restore = setInPlace(scratch, draft.segments, value);
    const valid = validateAgainstSchema(scratch).length === 0;
    const fresh = valid ? [] : schemaIssues(scratch, supplied).filter((iss) => !baseline.has(issueSignature(iss)));
    restore();
    if (fresh.length === 0) return;
    if (draft.form === 'range') {
      if (rangeBad++ === 0) {
        const first = fresh[0] as Issue;
        const where = formatPath(first.path) === axisPath ? '' : `${formatPath(first.path)}: `;
        out.push({
          code: 'bad-sweep',
          path: ['sweep', draft.key],
          target: 'value',
          message: `${draft.key} = ${show(value)} (value ${i + 1} of ${draft.values.length} of the range): ${where}${first.message}`,
          ...(first.hint === undefined ? {} : { hint: first.hint }),
        });
      }
      return;
    }
    for (const iss of fresh) {
      if (formatPath(iss.path) === axisPath || formatPath(iss.path).startsWith(`${axisPath}[`) || formatPath(iss.path).startsWith(`${axisPath}.`)) {
        const inner = formatPath(iss.path).slice(axisPath.length);
        out.push({
          code: 'bad-sweep',
          path: ['sweep', draft.key, i, ...iss.path.slice(draft.segments.length)],
          target: 'value',
          message: `value for ${draft.key}${inner}: ${iss.message}`,
          ...(iss.hint === undefined ? {} : { hint: iss.hint }),
        });
      } else {
        const sig = issueSignature(iss);
        const entry = elsewhere.get(sig) ?? { issue: iss, values: [] };
        entry.values.push(value);
        elsewhere.set(sig, entry);
      }
    }
  });
  if (rangeBad > 1) {
    const first = out[out.length - 1] as Issue;
    out[out.length - 1] = { ...first, message: `${first.message} (${rangeBad - 1} more value${rangeBad === 2 ? '' : 's'} of the range fail too)` };
  }
  for (const { issue, values } of elsewhere.values()) {
    const which = values.length === draft.values.length ? `every value of ${draft.key}` : `${draft.key} = ${values.map(show).join(', ')}`;
    out.push({
      code: 'bad-sweep',
      path: ['sweep', draft.key],
      target: 'key',
      message: `with ${which}: ${formatPath(issue.path)}: ${issue.message}`,
      ...(issue.hint === undefined ? {} : { hint: issue.hint }),
    });
  }
  return out;
}

/** Repeated values in a grid axis, or repeated tuples in a zip, would give two identical points. */
function duplicateIssues(drafts: readonly Draft[], mode: SweepMode): Issue[] {
  const out: Issue[] = [];
  if (mode === 'grid' || drafts.length === 1) {
    for (const d of drafts) {
      const seen = new Map<string, number>();
      d.values.forEach((v, i) => {
        const id = formatValue(v);
        const first = seen.get(id);
        if (first === undefined) seen.set(id, i);
        else if (d.form === 'list') {
          out.push({
            code: 'bad-sweep',
            path: ['sweep', d.key, i],
            target: 'value',
            message: `${show(v)} is listed twice (items ${first + 1} and ${i + 1}); each value gives one point, so list it once`,
          });
        }
      });
    }
    return out;
  }
  const seen = new Map<string, number>();
  combinations(drafts, 'zip').forEach((values, i) => {
    const id = pointId(drafts.map((d) => ({ path: d.key })), values);
    const first = seen.get(id);
    if (first === undefined) seen.set(id, i);
    else {
      out.push({
        code: 'bad-sweep',
        path: ['sweep', (drafts[0] as Draft).key, i],
        target: 'value',
        message: `point ${i + 1} (${id}) repeats point ${first + 1}; each point must differ in at least one axis`,
      });
    }
  });
  return out;
}

/** Every `report.plots[].x` must name a sweep axis (`names`: every axis key written; `valid`: those that are axes). */
function plotIssues(data: unknown, names: readonly string[], valid: readonly string[]): Issue[] {
  const plots = getPath(data, ['report', 'plots']);
  if (!Array.isArray(plots)) return [];
  const out: Issue[] = [];
  plots.forEach((plot, i) => {
    const x = isRecord(plot) ? plot['x'] : undefined;
    const aggregate = isRecord(plot) ? plot['aggregate'] : undefined;
    if (typeof aggregate === 'string' && aggregate !== '') {
      if (aggregate === x) {
        out.push({ code: 'bad-reference', path: ['report', 'plots', i, 'aggregate'], target: 'value', message: `found ${show(aggregate)}, the plot's x itself; aggregate averages over another sweep axis: ${names.filter((n) => n !== x).join(', ') || 'the file has no other'}` });
      } else if (!names.includes(aggregate)) {
        const near = closestMatch(aggregate, valid.filter((n) => n !== x));
        out.push({
          code: 'bad-reference', path: ['report', 'plots', i, 'aggregate'], target: 'value',
          message: names.length === 0 ? `found ${show(aggregate)}, but the file has no sweep; a plot aggregates over a sweep axis` : `found ${show(aggregate)}; a plot aggregates over a sweep axis: ${names.join(', ')}`,
          ...(near === undefined ? {} : { hint: `did you mean '${near}'?` }),
        });
      }
    }
    if (typeof x !== 'string' || x === '' || names.includes(x)) return;
    const near = closestMatch(x, valid);
    const bad = near === undefined ? closestMatch(x, names) : undefined;
    const hint = near !== undefined ? `did you mean '${near}'?` : bad !== undefined ? `the sweep axis '${bad}' is not a setting itself (see its problem); once it is fixed, name it here` : undefined;
    out.push({
      code: 'bad-reference',
      path: ['report', 'plots', i, 'x'],
      target: 'value',
      message:
        names.length === 0
          ? `found ${show(x)}, but the file has no sweep; a plot's x must be a sweep axis`
          : `found ${show(x)}; a plot's x must be a sweep axis: ${names.join(', ')}`,
      ...(hint === undefined ? {} : { hint }),
    });
  });
  return out;
}
