/**
 * Lock files: `<file-stem>.lock.json` beside a pipeline file, written after every successful
 * run and meant to be committed next to it (as `dvc.lock` is). A lock records what the results
 * were computed from and what they were, so `hrank status` can tell, by planning alone, whether
 * they still hold, and `hrank diff` can compare results between git revisions.
 *
 * A lock holds no timestamps, no absolute paths and nothing machine-specific: cache keys depend
 * only on content (parameters, dataset file bytes, engine version), so a lock written on one
 * machine reads as up to date on any other with the same pipeline and data.
 *
 * Layout (fields in this order; maps sorted by key; points in sweep order, one block each):
 *
 *   lockfile   format version (1)
 *   study      the study's name
 *   pipeline   { file: the pipeline file's name (no folder), sha256: hash of its canonical content }
 *   hrank, engine, key_salt, kinds   versions: hrank, ENGINE_VERSION, KEY_SALT, step kind versions
 *   columns    the results columns, in order
 *   points[]   id, key (the ranks step's cache key), inputs (the keys that key is made from),
 *              files (sha256 of dataset files by role), settings (the point's settings, dotted
 *              path -> value; what a key change is explained with), chain (sample sizes summed,
 *              for points computed from shared prefix sums), results (the results row)
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Cell, Results } from '../engine/kinds/collect.js';
import { canonicalJson, isPlainObject } from '../engine/store/canonical.js';
import { ENGINE_VERSION, KEY_SALT, hashFile } from '../engine/store/keys.js';
import type { Plan } from '../engine/kinds/plan.js';
import { KIND_VERSIONS } from '../engine/kinds/kinds.js';
import type { Config, Study } from '../pipeline/types.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { HRANK_VERSION } from '../version.js';

/** Version of the lock file format. */
export const LOCK_VERSION = 1;

/** A settings value: what a pipeline key holds (file references as written). */
export type SettingValue = string | number | boolean | null | readonly SettingValue[];

export interface LockPoint {
  /** The point's id, e.g. `model.width=8` (`main` without sweep). */
  readonly id: string;
  /** Cache key of the point's ranks step: it covers everything the point's results depend on. */
  readonly key: string;
  /** The keys the ranks step's key is made from, by role (`spectrum`, and its `dataset`, `network`). */
  readonly inputs: Readonly<Record<string, string>>;
  /** sha256 of the dataset's files by role (`images`, `labels`, `file0`...); empty for built-in data. */
  readonly files: Readonly<Record<string, string>>;
  /** The point's settings by dotted path (`model.hidden`, `dataset.samples`), sorted; no batch_size. */
  readonly settings: Readonly<Record<string, SettingValue>>;
  /** Sample sizes summed up to this point's when it comes from shared prefix sums (absent otherwise). */
  readonly chain?: readonly number[];
  /** The point's results row: column -> value. */
  readonly results: Readonly<Record<string, Cell>>;
}

export interface LockFile {
  readonly lockfile: number;
  readonly study: string;
  readonly pipeline: { readonly file: string; readonly sha256: string };
  readonly hrank: string;
  readonly engine: string;
  readonly key_salt: string;
  readonly kinds: Readonly<Record<string, number>>;
  readonly columns: readonly string[];
  readonly points: readonly LockPoint[];
}

/** A lock file that cannot be read as one (bad JSON, missing fields, a newer format). */
export class LockError extends Error {
  override readonly name = 'LockError';
  constructor(
    /** The lock file (or `rev:path`) as named to the user. */
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

/** `study.yaml` -> `study.lock.json`, in the same folder. */
export function lockPathFor(pipelineFile: string): string {
  const dir = path.dirname(pipelineFile);
  const base = path.basename(pipelineFile).replace(/\.ya?ml$/i, '');
  return path.join(dir, `${base}.lock.json`);
}

/** True for a path that names a lock file. */
export function isLockPath(file: string): boolean {
  return file.endsWith('.lock.json');
}

/**
 * sha256 of the pipeline's canonical content: the parsed YAML as canonical JSON, so comments,
 * blank lines, quoting and key order do not change it.
 */
export function pipelineHash(study: Pick<Study, 'document' | 'text'>): string {
  let text: string;
  try {
    text = canonicalJson(study.document);
  } catch {
    // Not reached for a document that passed validation; the raw text is the safe fallback.
    text = study.text;
  }
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function isFileRef(v: unknown): v is { written: string; path: string } {
  return isPlainObject(v) && typeof v.written === 'string' && typeof v.path === 'string' && Object.keys(v).length === 2;
}

function settingValue(v: unknown): SettingValue {
  if (isFileRef(v)) return v.written;
  if (Array.isArray(v)) return v.map(settingValue);
  return v as SettingValue;
}

/**
 * A point's settings as dotted path -> value, sorted: every setting that can change a result
 * (`batch_size` is left out: it bounds memory and never changes one). Dataset files appear as
 * written in the pipeline file (relative paths stay relative).
 */
export function settingsOf(config: Config): Record<string, SettingValue> {
  const out: Record<string, SettingValue> = {};
  const walk = (value: unknown, prefix: string): void => {
    if (isPlainObject(value) && !isFileRef(value)) {
      for (const key of Object.keys(value)) walk(value[key], prefix ? `${prefix}.${key}` : key);
      return;
    }
    out[prefix] = settingValue(value);
  };
  const { batch_size: _unused, ...rest } = config;
  walk(rest, '');
  return sortKeys(out);
}

function sortKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key] as T;
  return out;
}

/**
 * What a lock records of a point's keys: the key of its ranks step (which covers everything its
 * results depend on), the keys that key is made from (its spectrum, and the spectrum's dataset
 * and network), the dataset files' hashes and the prefix sums it reads (sample-size chains).
 */
export function pointKeys(plan: Plan, pp: Plan['points'][number]): { key: string; inputs: Record<string, string>; files: Record<string, string>; prefix: unknown } {
  const spectrum = plan.byId.get(pp.steps.spectrum);
  const dataset = plan.byId.get(pp.steps.dataset);
  if (!spectrum || !dataset) throw new Error(`lock: point ${pp.point.id} has no spectrum or dataset step`);
  return {
    key: pointKey(plan, pp),
    inputs: { ...spectrum.parts.inputs, spectrum: spectrum.key },
    files: { ...dataset.parts.files },
    prefix: (spectrum.parts.params as { prefix?: unknown } | null)?.prefix,
  };
}

/** The key a lock records for a point: its ranks step's. */
export function pointKey(plan: Plan, pp: Plan['points'][number]): string {
  const ranks = plan.byId.get(pp.steps.ranks);
  if (!ranks) throw new Error(`lock: point ${pp.point.id} has no ranks step`);
  return ranks.key;
}

/** The lock of a finished run: `results` holds one row per plan point, in plan order. */
export function buildLock(plan: Plan, results: Results): LockFile {
  return { ...lockHead(plan, results), points: plan.points.map((_, i) => lockPoint(plan, results, i)) };
}

/** A lock without its points (what comes before them in the file). */
function lockHead(plan: Plan, results: Results): Omit<LockFile, 'points'> {
  if (results.rows.length !== plan.points.length) {
    throw new Error(`buildLock: ${results.rows.length} results rows for ${plan.points.length} points`);
  }
  return {
    lockfile: LOCK_VERSION,
    study: plan.study.name,
    pipeline: { file: path.basename(plan.study.file), sha256: pipelineHash(plan.study) },
    hrank: HRANK_VERSION,
    engine: ENGINE_VERSION,
    key_salt: KEY_SALT,
    kinds: sortKeys(KIND_VERSIONS),
    columns: [...results.columns],
  };
}

/** The lock's record of the plan's i-th point. */
function lockPoint(plan: Plan, results: Results, i: number): LockPoint {
  const pp = plan.points[i]!;
  const { key, inputs, files, prefix } = pointKeys(plan, pp);
  const row = results.rows[i]!;
  return {
    id: pp.point.id,
    key,
    inputs: sortKeys(inputs),
    files: sortKeys(files),
    settings: settingsOf(pp.point.config),
    ...(Array.isArray(prefix) ? { chain: prefix as number[] } : {}),
    results: Object.fromEntries(results.columns.map((c, j) => [c, row[j] ?? null])),
  };
}

/**
 * serializeLock(buildLock(plan, results)) in pieces, a point at a time: a lock of 100,000 points
 * is never one object or one string.
 */
export function* lockChunks(plan: Plan, results: Results): Generator<string> {
  const head = lockHead(plan, results);
  if (plan.points.length === 0) {
    yield serializeLock({ ...head, points: [] });
    return;
  }
  // The head's text ends with "\n}": the points go in before it, as `pretty` writes a list of objects.
  yield `${pretty(head, '').slice(0, -2)},\n  "points": [\n`;
  for (let i = 0; i < plan.points.length; i++) yield `${i > 0 ? ',\n' : ''}    ${pretty(lockPoint(plan, results, i), '    ')}`;
  yield '\n  ]\n}\n';
}

// ---------------------------------------------------------------------------------------------
// Text.

function isScalar(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

/** Arrays of scalars (and of such arrays) go on one line: `[4, 4]`. */
function isFlat(v: unknown): boolean {
  return isScalar(v) || (Array.isArray(v) && v.every(isFlat));
}

function inline(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
  return JSON.stringify(v);
}

function pretty(v: unknown, indent: string): string {
  if (isFlat(v)) return inline(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    return `[\n${v.map((item) => inner + pretty(item, inner)).join(',\n')}\n${indent}]`;
  }
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${pretty(obj[k], inner)}`).join(',\n')}\n${indent}}`;
}

/** The lock as text: pretty-printed JSON, one point per block, short lists on one line, final newline. */
export function serializeLock(lock: LockFile): string {
  return `${pretty(lock, '')}\n`;
}

const HEX64 = /^[0-9a-f]{64}$/;

function need(ok: boolean, source: string, message: string): asserts ok {
  if (!ok) throw new LockError(source, message);
}

function hashRecord(v: unknown): v is Record<string, string> {
  return isPlainObject(v) && Object.values(v).every((h) => typeof h === 'string');
}

/** Reads a lock file's text; throws a `LockError` naming `source` when it is not a lock hrank can read. */
export function parseLock(text: string, source: string): LockFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new LockError(source, `not valid JSON (${(err as Error).message}); rerun the study to rewrite it`);
  }
  need(isPlainObject(data), source, 'not a lock file (expected a JSON object)');
  const d = data as Record<string, unknown>;
  need(typeof d.lockfile === 'number', source, 'not a lock file (no "lockfile" version)');
  need(
    (d.lockfile as number) <= LOCK_VERSION,
    source,
    `lock file format ${String(d.lockfile)} was written by a newer hrank (this one reads format ${LOCK_VERSION}); upgrade hrank`,
  );
  need(typeof d.study === 'string', source, '"study" must be a string');
  need(isPlainObject(d.pipeline) && typeof (d.pipeline as Record<string, unknown>).sha256 === 'string', source, '"pipeline.sha256" is missing');
  for (const f of ['hrank', 'engine', 'key_salt'] as const) need(typeof d[f] === 'string', source, `"${f}" must be a string`);
  need(isPlainObject(d.kinds), source, '"kinds" must be an object');
  need(Array.isArray(d.columns) && d.columns.every((c) => typeof c === 'string'), source, '"columns" must be a list of names');
  need(Array.isArray(d.points), source, '"points" must be a list');
  const ids = new Set<string>();
  (d.points as unknown[]).forEach((p, i) => {
    const at = `points[${i}]`;
    need(isPlainObject(p), source, `${at} must be an object`);
    const q = p as Record<string, unknown>;
    need(typeof q.id === 'string' && q.id !== '', source, `${at}.id must be a non-empty string`);
    need(!ids.has(q.id as string), source, `${at}.id ${JSON.stringify(q.id)} appears twice`);
    ids.add(q.id as string);
    need(typeof q.key === 'string' && HEX64.test(q.key), source, `${at}.key must be 64 hex digits`);
    need(hashRecord(q.inputs), source, `${at}.inputs must map roles to keys`);
    need(hashRecord(q.files), source, `${at}.files must map roles to hashes`);
    need(isPlainObject(q.settings), source, `${at}.settings must be an object`);
    need(q.chain === undefined || (Array.isArray(q.chain) && q.chain.every((n) => typeof n === 'number')), source, `${at}.chain must be a list of numbers`);
    need(isPlainObject(q.results), source, `${at}.results must be an object`);
  });
  return data as unknown as LockFile;
}

/** Reads the lock file at `file`; null when there is none. Throws a `LockError` for a malformed one. */
export async function readLock(file: string): Promise<LockFile | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LockError(file, `cannot read it (${(err as Error).message})`);
  }
  return parseLock(text, file);
}

/** Writes the lock of a finished run beside the pipeline file; returns its path. */
export async function writeLock(pipelineFile: string, plan: Plan, results: Results): Promise<string> {
  const file = lockPathFor(pipelineFile);
  const pieces = [...lockChunks(plan, results)];
  // Unchanged: leave the file (and its mtime) alone. Compared by length and sha256, the file read
  // as a stream (a lock of 100,000 points is ~170 MB).
  const hash = createHash('sha256');
  let bytes = 0;
  for (const p of pieces) {
    hash.update(p, 'utf8');
    bytes += Buffer.byteLength(p, 'utf8');
  }
  const size = await stat(file).then((s) => (s.isFile() ? s.size : -1), () => -1);
  const same = size === bytes && (await hashFile(file).catch(() => undefined)) === hash.digest('hex');
  if (!same) await writeFileAtomic(file, pieces);
  return file;
}

