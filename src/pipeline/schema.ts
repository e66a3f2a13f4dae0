/**
 * The pipeline schema (schemas/pipeline.schema.json), its ajv validator, and the one place that
 * turns ajv errors into issues a user can act on: what was found, what is allowed, a suggestion.
 *
 * An `Issue` is a problem without a position: a path in the data and what to point at (the value,
 * the key, or the parent's key). The loader attaches file positions; sweep checks attach the
 * position of the sweep entry that caused the issue.
 */
import standaloneValidate from './schema.validate.js';
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import schemaJson from '../../schemas/pipeline.schema.json' with { type: 'json' };
import { closestMatch, didYouMean, orList, show, showWithKind } from './hints.js';
import { decodePointer, formatPath, getPath, isRecord } from './paths.js';
import type { Target } from './positions.js';
import type { PathSegment, ProblemCode } from './types.js';

/** The JSON Schema of pipeline files, version 1. */
export const pipelineSchema: AnySchemaObject = schemaJson as AnySchemaObject;

/** A problem found in the data, not yet tied to a position in the text. */
export interface Issue {
  readonly code: ProblemCode;
  /** Path of the offending value (for a missing key: of the key that is missing). */
  readonly path: readonly PathSegment[];
  /** What the position should point at. */
  readonly target: Target;
  readonly message: string;
  readonly hint?: string;
}

/** Identity of an issue, to compare issues found in two versions of the data. */
export function issueSignature(issue: Issue): string {
  return `${issue.code}\u0000${formatPath(issue.path)}\u0000${issue.message}`;
}

// ---------------------------------------------------------------------------------------------
// Validation

// Compiled at build time by scripts/build-schema.mjs (ajv's standalone code, with the options
// written there), so no command compiles the schema at start.
const validator = (): ValidateFunction => standaloneValidate as unknown as ValidateFunction;

/** The raw ajv errors of `data` against the pipeline schema (empty when valid). */
export function validateAgainstSchema(data: unknown): ErrorObject[] {
  const validate = validator();
  return validate(data) ? [] : [...(validate.errors ?? [])];
}

/**
 * Validates and maps: every schema issue of `data`, deduplicated. `supplied` holds dotted paths
 * that the sweep supplies: a required key missing at one of them is not an issue.
 */
export function schemaIssues(data: unknown, supplied: ReadonlySet<string> = new Set()): Issue[] {
  return mapAjvErrors(validateAgainstSchema(data), data, supplied);
}

// ---------------------------------------------------------------------------------------------
// The shape of the schema: which keys exist where (for sweep paths and hints).

export type Shape =
  | {
      readonly kind: 'section';
      readonly keys: ReadonlyMap<string, Shape>;
      /** For a section with variants (dataset): the variants allowing each key. */
      readonly variants?: ReadonlyMap<string, readonly string[]>;
    }
  | { readonly kind: 'list'; readonly items: Shape }
  | { readonly kind: 'value' };

function deref(schema: unknown): AnySchemaObject {
  if (!isRecord(schema)) return {};
  const ref = schema['$ref'];
  if (typeof ref === 'string' && ref.startsWith('#/$defs/')) {
    const defs = pipelineSchema['$defs'] as Record<string, unknown>;
    return deref(defs[ref.slice('#/$defs/'.length)]);
  }
  return schema as AnySchemaObject;
}

function buildShape(raw: unknown): Shape {
  const schema = deref(raw);
  const branches = Array.isArray(schema['oneOf']) ? (schema['oneOf'] as unknown[]).map(deref) : [];
  const discriminator = isRecord(schema['discriminator']) ? String(schema['discriminator']['propertyName']) : undefined;
  if (branches.length > 0 && discriminator !== undefined) {
    const keys = new Map<string, Shape>();
    const variants = new Map<string, string[]>();
    for (const b of branches) {
      const tag = String(deref(deref(b['properties'])[discriminator])['const']);
      for (const [k, v] of Object.entries(deref(b['properties']))) {
        if (!keys.has(k)) keys.set(k, buildShape(v));
        variants.set(k, [...(variants.get(k) ?? []), tag]);
      }
    }
    return { kind: 'section', keys, variants };
  }
  if (isRecord(schema['properties'])) {
    const keys = new Map<string, Shape>();
    for (const [k, v] of Object.entries(schema['properties'])) keys.set(k, buildShape(v));
    return { kind: 'section', keys };
  }
  if (schema['type'] === 'array' && schema['items'] !== undefined) return { kind: 'list', items: buildShape(schema['items']) };
  return { kind: 'value' };
}

/** The shape of the whole file. */
export const fileShape: Shape = buildShape(pipelineSchema);

/** For each key name, the dotted paths of the sections it belongs to ('' = top level). */
const keyHomes: ReadonlyMap<string, readonly string[]> = (() => {
  const homes = new Map<string, string[]>();
  const walk = (shape: Shape, at: string): void => {
    if (shape.kind === 'list') return walk(shape.items, at === '' ? at : `${at}[]`);
    if (shape.kind !== 'section') return;
    for (const [k, child] of shape.keys) {
      homes.set(k, [...(homes.get(k) ?? []), at]);
      walk(child, at === '' ? k : `${at}.${k}`);
    }
  };
  walk(fileShape, '');
  return homes;
})();

/** A short description of what a schema allows: "an integer >= 1", "one of mse, cosh", ... */
export function describeSchema(raw: unknown): string {
  const s = deref(raw);
  if (Array.isArray(s['enum'])) return `one of ${(s['enum'] as unknown[]).map(show).join(', ')}`;
  if ('const' in s) return show(s['const']);
  switch (s['type']) {
    case 'integer':
    case 'number': {
      const noun = s['type'] === 'integer' ? 'an integer' : 'a number';
      const bounds = describeBounds(s);
      return bounds === '' ? noun : `${noun} ${bounds}`;
    }
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    default:
      return 'a value';
  }
}

function describeBounds(s: AnySchemaObject): string {
  const min = s['minimum'] as number | undefined;
  const max = s['maximum'] as number | undefined;
  const xmin = s['exclusiveMinimum'] as number | undefined;
  const xmax = s['exclusiveMaximum'] as number | undefined;
  if (min !== undefined && max !== undefined) return `between ${min} and ${max}`;
  const parts: string[] = [];
  if (min !== undefined) parts.push(`>= ${min}`);
  if (xmin !== undefined) parts.push(`> ${xmin}`);
  if (max !== undefined) parts.push(`<= ${max}`);
  if (xmax !== undefined) parts.push(`< ${xmax}`);
  return parts.join(' and ');
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'nothing',
};

// ---------------------------------------------------------------------------------------------
// ajv errors -> issues

/**
 * Maps ajv errors to issues. Noise is removed first: `if` errors, `propertyNames` errors (the
 * sweep checks report bad axis names with better messages), and the alternatives of `anyOf` /
 * `oneOf`: when every alternative fails on the value's type, one type issue names them all;
 * otherwise only the errors of the closest alternative (fewest errors) are kept. Errors at a
 * path that already has a type error are dropped. Duplicates are merged.
 */
export function mapAjvErrors(errors: readonly ErrorObject[], data: unknown, supplied: ReadonlySet<string> = new Set()): Issue[] {
  const isSupplied = (e: ErrorObject): boolean => {
    const parent = decodePointer(e.instancePath, data);
    if (e.keyword === 'required') {
      // The model's width/depth form is only required when `hidden` is absent: a swept
      // model.hidden supplies the other form.
      if (e.schemaPath.endsWith('/else/required') && (supplied.has(formatPath([...parent, 'hidden'])) || supplied.has(formatPath([...parent, 'layers'])))) return true;
      return supplied.has(formatPath([...parent, String(e.params['missingProperty'])]));
    }
    if (e.keyword === 'discriminator' && e.params['error'] === 'tag' && !(isRecord(e.data) && e.params['tag'] in e.data))
      return supplied.has(formatPath([...parent, String(e.params['tag'])]));
    return false;
  };
  let list = errors.filter((e) => e.keyword !== 'if' && !e.schemaPath.includes('/propertyNames') && !isSupplied(e));
  const issues: Issue[] = [];

  const alternatives = list
    .filter((e) => e.keyword === 'anyOf' || (e.keyword === 'oneOf' && e.params['passingSchemas'] == null))
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const alt of alternatives) {
    if (!list.includes(alt)) continue;
    const branchSchemas = Array.isArray(alt.schema) ? (alt.schema as unknown[]) : [];
    const inside = (e: ErrorObject, k: number): boolean =>
      e.schemaPath.startsWith(`${alt.schemaPath}/${k}/`) &&
      (e.instancePath === alt.instancePath || e.instancePath.startsWith(`${alt.instancePath}/`));
    const byBranch = branchSchemas.map((_, k) => list.filter((e) => inside(e, k)));
    const mismatch = byBranch.map((errs) => errs.some((e) => e.keyword === 'type' && e.instancePath === alt.instancePath));
    const drop = new Set<ErrorObject>([alt, ...byBranch.flat()]);
    let keep: ErrorObject[] = [];
    if (mismatch.length > 0 && mismatch.every(Boolean)) {
      const path = decodePointer(alt.instancePath, data);
      const expected = branchSchemas.map((b) => {
        const s = deref(b);
        return typeof s['title'] === 'string' ? s['title'] : describeSchema(s);
      });
      issues.push({ code: 'bad-type', path, target: 'value', message: `expected ${orList(expected)}, found ${showWithKind(alt.data)}` });
    } else {
      let best = -1;
      byBranch.forEach((errs, k) => {
        if (!mismatch[k] && (best < 0 || errs.length < (byBranch[best] as ErrorObject[]).length)) best = k;
      });
      keep = best >= 0 ? (byBranch[best] as ErrorObject[]) : [];
    }
    list = list.filter((e) => !drop.has(e) || keep.includes(e));
  }

  // A type error at a path makes every other error at that same path noise.
  const typed = new Set(list.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  list = list.filter((e) => e.keyword === 'type' || !typed.has(e.instancePath));

  // Neither `hidden` nor `width` + `depth`: one issue, not two.
  const formErrors = list.filter((e) => e.keyword === 'required' && e.schemaPath.endsWith('/else/required'));
  const byParent = new Map<string, ErrorObject[]>();
  for (const e of formErrors) byParent.set(e.instancePath, [...(byParent.get(e.instancePath) ?? []), e]);
  for (const [pointer, errs] of byParent) {
    const parent = decodePointer(pointer, data);
    const missing = errs.map((e) => String(e.params['missingProperty']));
    const found = missing.length >= 2 ? 'found neither' : `'${missing[0]}' is missing`;
    issues.push({
      code: 'missing-key',
      path: [...parent, missing[0] as string],
      target: 'parent',
      message: `${formatPath(parent) || 'the file'} needs either 'hidden' (a list of hidden widths) or both 'width' and 'depth' (depth hidden layers of that width), or 'layers' (conv and dense layers); ${found}`,
    });
  }
  list = list.filter((e) => !formErrors.includes(e));

  for (const e of list) issues.push(mapOne(e, data));

  const seen = new Set<string>();
  return issues.filter((i) => {
    const sig = issueSignature(i);
    if (seen.has(sig)) return false;
    seen.add(sig);
    return true;
  });
}

function mapOne(e: ErrorObject, data: unknown): Issue {
  const path = decodePointer(e.instancePath, data);
  const parentSchema = e.parentSchema ?? {};
  const value = e.data;
  switch (e.keyword) {
    case 'type': {
      const types = Array.isArray(e.params['type']) ? (e.params['type'] as string[]) : String(e.params['type']).split(',');
      const expected = orList(types.map((t) => TYPE_NAMES[t] ?? t));
      let hint: string | undefined;
      if (types.includes('string') && (typeof value === 'number' || typeof value === 'boolean')) hint = `put it in quotes: "${String(value)}"`;
      else if ((types.includes('integer') || types.includes('number')) && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
        hint = 'remove the quotes to make it a number';
      else if (types.includes('array') && value !== null && typeof value !== 'object') hint = `write a list, e.g. [${show(value)}]`;
      const found = typeof value === 'number' && types.includes('integer') && !types.includes('number') ? show(value) : showWithKind(value);
      return withHint({ code: 'bad-type', path, target: 'value', message: `expected ${expected}, found ${found}` }, hint);
    }
    case 'additionalProperties': {
      const key = String(e.params['additionalProperty']);
      const props = isRecord(parentSchema['properties']) ? Object.keys(parentSchema['properties']) : [];
      const allowed = props.filter((k) => k !== '$schema');
      const variant = variantOf(parentSchema);
      const where = `${inWhere(path)}${variant === undefined ? '' : ` (source ${variant})`}`;
      return withHint(
        { code: 'unknown-key', path: [...path, key], target: 'key', message: `unknown key '${key}' ${where}; allowed keys: ${allowed.join(', ')}` },
        didYouMean(key, allowed) ?? homeHint(key, path, variant),
      );
    }
    case 'required': {
      const key = String(e.params['missingProperty']);
      const props = isRecord(parentSchema['properties']) ? parentSchema['properties'] : {};
      const variant = variantOf(parentSchema);
      const where = `${inWhere(path)}${variant === undefined ? '' : ` (required for source ${variant})`}`;
      const desc = key in props ? `; expected ${describeSchema(props[key])}` : '';
      return { code: 'missing-key', path: [...path, key], target: 'parent', message: `missing key '${key}' ${where}${desc}` };
    }
    case 'false schema': {
      const key = String(path[path.length - 1]);
      const parent = getPath(data, path.slice(0, -1));
      if (isRecord(parent) && 'layers' in parent && key !== 'layers') {
        return {
          code: 'conflict',
          path,
          target: 'key',
          message: `'${key}' cannot be combined with 'layers'; give either layers: [...] (conv and dense layers), hidden: [...], or width and depth`,
          hint: "write every hidden layer in layers, e.g. - dense: 32",
        };
      }
      const others = isRecord(parent) && 'hidden' in parent && key !== 'hidden' ? "'hidden'" : 'the other keys here';
      return {
        code: 'conflict',
        path,
        target: 'key',
        message: `'${key}' cannot be combined with ${others}; give either hidden: [...] or width and depth`,
      };
    }
    case 'enum': {
      const allowed = (e.params['allowedValues'] as unknown[]) ?? [];
      const names = allowed.map((a) => String(a));
      return withHint(
        { code: 'bad-value', path, target: 'value', message: `found ${show(value)}; allowed: ${allowed.map(show).join(', ')}` },
        typeof value === 'string' ? didYouMean(value, names) : undefined,
      );
    }
    case 'const':
      return { code: 'bad-value', path, target: 'value', message: `found ${show(value)}; must be ${show(e.params['allowedValue'])}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { code: 'bad-value', path, target: 'value', message: `found ${show(value)}; must be ${describeSchema(parentSchema)}` };
    case 'minProperties':
    case 'maxProperties': {
      const keys = isRecord(value) ? Object.keys(value) : [];
      const found = keys.length === 0 ? 'an empty mapping' : `${keys.length} keys (${keys.join(', ')})`;
      const expected = typeof parentSchema['description'] === 'string' ? parentSchema['description'] : `${e.keyword === 'minProperties' ? 'at least' : 'at most'} ${Number(e.params['limit'])} key(s)`;
      return { code: 'bad-value', path, target: 'value', message: `found ${found}; expected ${expected}` };
    }
    case 'minItems': {
      const limit = Number(e.params['limit']);
      const n = Array.isArray(value) ? value.length : 0;
      const found = n === 0 ? 'an empty list' : `${n} item${n === 1 ? '' : 's'}`;
      return { code: 'bad-value', path, target: 'value', message: `found ${found}; give at least ${limit} item${limit === 1 ? '' : 's'}` };
    }
    case 'maxItems': {
      const n = Array.isArray(value) ? value.length : 0;
      return { code: 'bad-value', path, target: 'value', message: `found ${n} items; at most ${Number(e.params['limit'])} allowed` };
    }
    case 'uniqueItems': {
      const i = Number(e.params['i']);
      const j = Number(e.params['j']);
      const later = Math.max(i, j);
      const item = Array.isArray(value) ? value[later] : undefined;
      return { code: 'bad-value', path: [...path, later], target: 'value', message: `${show(item)} is listed twice (items ${Math.min(i, j) + 1} and ${later + 1}); list each value once` };
    }
    case 'minLength':
      return { code: 'bad-value', path, target: 'value', message: 'found an empty string; give a non-empty one' };
    case 'maxLength':
      return {
        code: 'bad-value',
        path,
        target: 'value',
        message: `found ${typeof value === 'string' ? value.length : 0} characters; at most ${Number(e.params['limit'])} allowed`,
      };
    case 'pattern': {
      const described = typeof parentSchema['description'] === 'string' ? parentSchema['description'] : `text matching ${String(e.params['pattern'])}`;
      return { code: 'bad-value', path, target: 'value', message: `found ${show(value)}; expected ${described}` };
    }
    case 'discriminator': {
      const tag = String(e.params['tag']);
      const tags = variantTags(parentSchema);
      const tagValue = isRecord(value) ? value[tag] : undefined;
      if (e.params['error'] === 'mapping') {
        return withHint(
          { code: 'bad-value', path: [...path, tag], target: 'value', message: `found ${show(tagValue)}; allowed: ${tags.map(show).join(', ')}` },
          typeof tagValue === 'string' ? didYouMean(tagValue, tags) : undefined,
        );
      }
      if (tagValue === undefined) {
        return { code: 'missing-key', path: [...path, tag], target: 'parent', message: `missing key '${tag}' ${inWhere(path)}; expected one of ${tags.map(show).join(', ')}` };
      }
      return { code: 'bad-type', path: [...path, tag], target: 'value', message: `expected one of ${tags.map(show).join(', ')}, found ${showWithKind(tagValue)}` };
    }
    default:
      return { code: 'bad-value', path, target: 'value', message: `found ${show(value)}; ${e.message ?? 'not allowed'}` };
  }
}

/** "in model", "at the top level" */
function inWhere(path: readonly PathSegment[]): string {
  return path.length === 0 ? 'at the top level' : `in ${formatPath(path)}`;
}

function withHint(issue: Issue, hint: string | undefined): Issue {
  return hint === undefined ? issue : { ...issue, hint };
}

/** The discriminator value a branch schema stands for (`mnist` for dataset's first branch). */
function variantOf(schema: AnySchemaObject): string | undefined {
  const props = schema['properties'];
  if (!isRecord(props)) return undefined;
  const source = props['source'];
  return isRecord(source) && typeof source['const'] === 'string' ? source['const'] : undefined;
}

function variantTags(schema: AnySchemaObject): string[] {
  const branches = Array.isArray(schema['oneOf']) ? (schema['oneOf'] as unknown[]) : [];
  return branches.map((b) => variantOf(deref(b))).filter((t): t is string => t !== undefined);
}

/** "'width' belongs in model" / "'dim' is a setting of source gaussian-mixture". */
function homeHint(key: string, path: readonly PathSegment[], variant: string | undefined): string | undefined {
  const here = formatPath(path.filter((s) => typeof s === 'string'));
  if (variant !== undefined) {
    const shape = shapeAt(path);
    const sources = shape?.kind === 'section' ? shape.variants?.get(key) : undefined;
    if (sources !== undefined && sources.length > 0) return `'${key}' is a setting of source ${orList([...sources])}`;
  }
  const homes = (keyHomes.get(key) ?? []).filter((h) => h !== here);
  if (homes.length > 0) return `'${key}' belongs ${homes.map((h) => (h === '' ? 'at the top level' : `in ${h}`)).join(' or ')}`;
  const all = [...keyHomes.keys()];
  const near = closestMatch(key, all);
  if (near !== undefined) {
    const h = keyHomes.get(near) ?? [];
    return `did you mean '${near}' (${h.map((x) => (x === '' ? 'at the top level' : `in ${x}`)).join(' or ')})?`;
  }
  return undefined;
}

/** The shape at a path of string keys (list indices skipped), or undefined. */
export function shapeAt(path: readonly PathSegment[]): Shape | undefined {
  let shape: Shape | undefined = fileShape;
  for (const seg of path) {
    if (shape === undefined) return undefined;
    if (shape.kind === 'list') {
      shape = shape.items;
      if (typeof seg === 'number') continue;
    }
    if (shape.kind !== 'section' || typeof seg !== 'string') return undefined;
    shape = shape.keys.get(seg);
  }
  return shape;
}
