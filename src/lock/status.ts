/**
 * Is a study's lock file up to date? Computed from a plan (keys only; nothing is computed and
 * the cache is not read): a point is up to date when the lock holds its id with the same ranks
 * key, which covers every input of its results. A point whose key changed is explained from
 * what the lock recorded: the engine's versions, the dataset files' hashes, the point's
 * settings and its sample-size chain.
 */
import { canonicalJson } from '../engine/store/canonical.js';
import { FIXED_COLUMNS } from '../engine/kinds/collect.js';
import { ENGINE_VERSION, KEY_SALT } from '../engine/store/keys.js';
import type { Plan } from '../engine/kinds/plan.js';
import { KIND_VERSIONS } from '../engine/kinds/kinds.js';
import { formatValue } from '../pipeline/expand.js';
import type { SweepValue } from '../pipeline/types.js';
import { pointKeys, settingsOf, pipelineHash, type LockFile, type LockPoint, type SettingValue } from './lockfile.js';

export type StudyState = 'up to date' | 'stale' | 'never run';

export type ReasonKind =
  /** A value of the pipeline file that the point's results depend on. */
  | 'pipeline'
  /** The bytes of a dataset file. */
  | 'dataset-file'
  /** The engine version, the key schema or a step kind's version. */
  | 'engine'
  /** The sample sizes whose prefix sums the point is computed from. */
  | 'chain'
  /** A point that the lock does not hold. */
  | 'new-point'
  /** A point of the lock that the pipeline no longer has. */
  | 'removed-point'
  /** The key changed for a reason none of the above names (planning rules of a new hrank). */
  | 'other';

export interface Reason {
  readonly kind: ReasonKind;
  readonly message: string;
}

export interface PointChange {
  readonly id: string;
  readonly change: 'new' | 'changed' | 'removed';
  readonly reasons: readonly Reason[];
}

export interface StudyStatus {
  /** The pipeline file, as given. */
  readonly file: string;
  /** Its lock file. */
  readonly lock: string;
  readonly study: string;
  readonly state: StudyState;
  /** Points of the pipeline. */
  readonly points: number;
  /** Points that are new, changed or removed, in sweep order (removed ones last). */
  readonly changes: readonly PointChange[];
  /** Things worth knowing that do not make the study stale. */
  readonly notes: readonly string[];
}

/** A value in a reason: `8`, `[8, 8]`, `mse`, `null`, `(unset)`. */
export function showSetting(v: SettingValue | undefined): string {
  if (v === undefined) return '(unset)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map((x) => showSetting(x)).join(', ')}]`;
  return typeof v === 'string' ? formatValue(v) : String(v);
}

function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

/** `a.b 1 -> 2, c x -> y` for the entries of two records that differ, in sorted key order. */
function recordDiff(before: Readonly<Record<string, SettingValue>>, after: Readonly<Record<string, SettingValue>>): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => !same(before[k], after[k])).map((k) => `${k} ${showSetting(before[k])} -> ${showSetting(after[k])}`);
}

/** Engine-side reasons that hold for every point of a lock (empty when the engine is the same). */
export function engineReasons(lock: Pick<LockFile, 'engine' | 'key_salt' | 'kinds'>): Reason[] {
  const out: Reason[] = [];
  if (lock.engine !== ENGINE_VERSION) out.push({ kind: 'engine', message: `engine version changed: ${lock.engine} -> ${ENGINE_VERSION}` });
  if (lock.key_salt !== KEY_SALT) out.push({ kind: 'engine', message: `cache key schema changed: ${lock.key_salt} -> ${KEY_SALT}` });
  const kinds = Object.keys(KIND_VERSIONS).sort() as (keyof typeof KIND_VERSIONS)[];
  const moved = kinds.filter((k) => k !== 'collect' && lock.kinds[k] !== KIND_VERSIONS[k]);
  if (moved.length > 0) {
    out.push({ kind: 'engine', message: `step versions changed: ${moved.map((k) => `${k} ${lock.kinds[k] ?? '(none)'} -> ${KIND_VERSIONS[k]}`).join(', ')}` });
  }
  return out;
}

/** A point as planned now: a lock point without results, plus its sweep coordinates. */
interface Current extends Omit<LockPoint, 'results'> {
  readonly coords: Readonly<Record<string, SweepValue>>;
}

function currentPoints(plan: Plan): Current[] {
  return plan.points.map((pp) => {
    const { key, inputs, files, prefix } = pointKeys(plan, pp);
    return {
      id: pp.point.id,
      key,
      inputs,
      files,
      settings: settingsOf(pp.point.config),
      ...(Array.isArray(prefix) ? { chain: prefix as number[] } : {}),
      coords: pp.point.coords,
    };
  });
}

function short(hash: string | undefined): string {
  return hash === undefined ? '(none)' : hash.slice(0, 12);
}

/** Why a point held by the lock under the same id has another key now. */
function changeReasons(global: readonly Reason[], before: LockPoint, now: Current): Reason[] {
  const reasons: Reason[] = [...global];
  const roles = [...new Set([...Object.keys(before.files), ...Object.keys(now.files)])].sort();
  const files = roles.filter((r) => before.files[r] !== now.files[r]);
  if (files.length > 0) {
    const named = (role: string): string => {
      const written = role === 'images' || role === 'labels' ? now.settings[`dataset.${role}`] : undefined;
      return typeof written === 'string' ? `${role} (${written})` : role;
    };
    reasons.push({
      kind: 'dataset-file',
      message: `dataset file changed: ${files.map((r) => `${named(r)} sha256 ${short(before.files[r])} -> ${short(now.files[r])}`).join(', ')}`,
    });
  }
  const settings = recordDiff(before.settings, now.settings);
  if (settings.length > 0) reasons.push({ kind: 'pipeline', message: `pipeline value changed: ${settings.join(', ')}` });
  if (!same(before.chain ?? null, now.chain ?? null)) {
    reasons.push({
      kind: 'chain',
      message: `sample-size chain changed: ${showSetting((before.chain ?? null) as SettingValue)} -> ${showSetting((now.chain ?? null) as SettingValue)} (the sample sizes whose prefix sums it is computed from)`,
    });
  }
  if (reasons.length === 0) {
    const inputs = [...new Set([...Object.keys(before.inputs), ...Object.keys(now.inputs)])].sort().filter((r) => before.inputs[r] !== now.inputs[r]);
    reasons.push({ kind: 'other', message: `cache key changed${inputs.length ? ` (inputs ${inputs.join(', ')})` : ''}: planned differently by this hrank` });
  }
  return reasons;
}

/** Axis values of a lock point: its results columns before the fixed ones. */
function lockCoords(lock: LockFile, p: LockPoint): Record<string, SweepValue> {
  const fixed = new Set<string>(FIXED_COLUMNS);
  const out: Record<string, SweepValue> = {};
  for (const c of lock.columns) if (!fixed.has(c)) out[c] = p.results[c] as SweepValue;
  return out;
}

/**
 * The status of a planned study against its lock (null: no lock file). `file` and `lockFile`
 * only name things in the result.
 */
export function studyStatus(plan: Plan, lock: LockFile | null, file: string, lockFile: string): StudyStatus {
  const base = { file, lock: lockFile, study: plan.study.name, points: plan.points.length };
  if (lock === null) return { ...base, state: 'never run', changes: [], notes: [] };

  const now = currentPoints(plan);
  const held = new Map(lock.points.map((p) => [p.id, p]));
  const planned = new Set(now.map((p) => p.id));
  const global = engineReasons(lock);
  const changes: PointChange[] = [];
  const replaced = new Map<string, string>();

  now.forEach((p, i) => {
    const before = held.get(p.id);
    if (before === undefined) {
      // A point in the same place of the sweep that is gone: a sweep value was changed.
      const old = lock.points[i];
      let message = 'new point';
      if (old !== undefined && !planned.has(old.id)) {
        replaced.set(old.id, p.id);
        const was = lockCoords(lock, old);
        const coordDiff = recordDiff(was as Record<string, SettingValue>, p.coords as Record<string, SettingValue>);
        const detail = coordDiff.length > 0 ? coordDiff : recordDiff(old.settings, p.settings);
        message = `new point in place of ${old.id}${detail.length ? ` (pipeline value changed: ${detail.join(', ')})` : ''}`;
      }
      changes.push({ id: p.id, change: 'new', reasons: [{ kind: 'new-point', message }] });
    } else if (before.key !== p.key) {
      changes.push({ id: p.id, change: 'changed', reasons: changeReasons(global, before, p) });
    }
  });
  for (const p of lock.points) {
    if (planned.has(p.id)) continue;
    const by = replaced.get(p.id);
    changes.push({
      id: p.id,
      change: 'removed',
      reasons: [{ kind: 'removed-point', message: by ? `no longer in the pipeline (replaced by ${by})` : 'no longer in the pipeline' }],
    });
  }

  const notes: string[] = [];
  if (changes.length === 0) {
    if (lock.pipeline.sha256 !== pipelineHash(plan.study)) {
      notes.push('the pipeline file was edited, but no point\'s results depend on the edit (the next run refreshes the lock)');
    }
    if (lock.study !== plan.study.name) notes.push(`the study was renamed: ${lock.study} -> ${plan.study.name}`);
  }
  return { ...base, state: changes.length === 0 ? 'up to date' : 'stale', changes, notes };
}
