/**
 * Is a study's lock file up to date? Computed from a plan (keys only; nothing is computed and
 * the cache is not read): a point is up to date when the lock holds it, under the same id, with
 * the same ranks key, which covers every input of its results. Points are matched by id, then
 * by key, then by their axis values (match.ts), so an added axis or a changed setting is named
 * as such rather than as points removed and added. A point whose key changed is explained from
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
import { pointKey, pointKeys, settingsOf, pipelineHash, type LockFile, type LockPoint, type SettingValue } from './lockfile.js';
import { matchPoints, type MatchSide } from './match.js';
import type { LockKeys } from './lock-keys.js';

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
  /** A point the lock holds under another id, with the same key. */
  | 'renamed'
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
  /** The id the lock holds the point under, when it differs (the point was matched by key or by its axis values). */
  readonly was?: string;
  /** renamed: the same results under another id (a sweep axis added or renamed). */
  readonly change: 'new' | 'changed' | 'renamed' | 'removed';
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
  /** Points whose results the lock holds under the same key (renamed ones included). */
  readonly unchanged: number;
  /** Points that are new, changed, renamed or removed, in sweep order (removed ones last). */
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

/**
 * A point as planned now: a lock point without results, plus its sweep coordinates. Its id and
 * key are read at once; what the lock would record of it otherwise (settings, input keys, files,
 * chain) is made when a reason or a match needs it: an up-to-date study of 100,000 points never does.
 */
class Current implements Omit<LockPoint, 'results'> {
  readonly id: string;
  readonly key: string;
  readonly coords: Readonly<Record<string, SweepValue>>;
  #settings: Record<string, SettingValue> | undefined;
  #keys: ReturnType<typeof pointKeys> | undefined;

  constructor(private readonly plan: Plan, private readonly pp: Plan['points'][number]) {
    this.id = pp.point.id;
    this.key = pointKey(plan, pp);
    this.coords = pp.point.coords;
  }

  #pointKeys(): ReturnType<typeof pointKeys> {
    return (this.#keys ??= pointKeys(this.plan, this.pp));
  }

  get settings(): Record<string, SettingValue> {
    return (this.#settings ??= settingsOf(this.pp.point.config));
  }

  get inputs(): Record<string, string> {
    return this.#pointKeys().inputs;
  }

  get files(): Record<string, string> {
    return this.#pointKeys().files;
  }

  get chain(): number[] | undefined {
    const prefix = this.#pointKeys().prefix;
    return Array.isArray(prefix) ? (prefix as number[]) : undefined;
  }
}

function currentPoints(plan: Plan): Current[] {
  return plan.points.map((pp) => new Current(plan, pp));
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

/** The values each axis takes over a set of points (canonical text of each value). */
function axisValues(points: readonly Readonly<Record<string, SweepValue>>[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const c of points) for (const [axis, v] of Object.entries(c)) out.set(axis, (out.get(axis) ?? new Set()).add(canonicalJson(v)));
  return out;
}

/**
 * What sets a point apart from the other version's points: its axis values the other never
 * takes (`model.width 4 is new`), its axes the other has not, or else a combination of values
 * the other never paired.
 */
function novelty(coords: Readonly<Record<string, SweepValue>>, other: Map<string, Set<string>>, valueWord: string, axisWord: string, combination: string): string {
  const parts: string[] = [];
  for (const [axis, v] of Object.entries(coords)) {
    const seen = other.get(axis);
    if (seen === undefined) parts.push(`${axis} is ${axisWord}`);
    else if (!seen.has(canonicalJson(v))) parts.push(`${axis} ${showSetting(v as SettingValue)} is ${valueWord}`);
  }
  return parts.length > 0 ? parts.join(', ') : combination;
}

/**
 * The status of a planned study whose lock holds every point under the same id and key and no
 * other (what studyStatus finds, from the lock's ids and keys alone: `lock-keys.ts`), or
 * undefined when anything differs: studyStatus on the whole lock then says what.
 */
export function unchangedStatus(plan: Plan, lock: LockKeys, file: string, lockFile: string): StudyStatus | undefined {
  if (lock.ids.length !== plan.points.length) return undefined;
  const keyOf = new Map<string, string>();
  lock.ids.forEach((id, i) => keyOf.set(id, lock.keys[i]!));
  for (const pp of plan.points) if (keyOf.get(pp.point.id) !== pointKey(plan, pp)) return undefined;
  return { file, lock: lockFile, study: plan.study.name, points: plan.points.length, state: 'up to date', unchanged: plan.points.length, changes: [], notes: unchangedNotes(plan, lock.head) };
}

/** Notes on a study none of whose points changed: an edit that changed no point, a new name. */
function unchangedNotes(plan: Plan, lock: Pick<LockFile, 'pipeline' | 'study'>): string[] {
  const notes: string[] = [];
  if (lock.pipeline.sha256 !== pipelineHash(plan.study)) {
    notes.push('the pipeline file was edited, but no point\'s results depend on the edit (the next run refreshes the lock)');
  }
  if (lock.study !== plan.study.name) notes.push(`the study was renamed: ${lock.study} -> ${plan.study.name}`);
  return notes;
}

/**
 * The status of a planned study against its lock (null: no lock file). `file` and `lockFile`
 * only name things in the result.
 */
export function studyStatus(plan: Plan, lock: LockFile | null, file: string, lockFile: string): StudyStatus {
  const base = { file, lock: lockFile, study: plan.study.name, points: plan.points.length };
  if (lock === null) return { ...base, state: 'never run', unchanged: 0, changes: [], notes: [] };

  const now = currentPoints(plan);
  const global = engineReasons(lock);
  // Coordinates and settings made only when matching gets past ids and keys (lazy getters).
  const side = (p: LockPoint | Current, coords: () => Readonly<Record<string, SweepValue>>): MatchSide => {
    let c: Readonly<Record<string, SweepValue>> | undefined;
    return { id: p.id, key: p.key, get coords() { return (c ??= coords()); }, get settings() { return p.settings; } };
  };
  const matching = matchPoints(lock.points.map((p) => side(p, () => lockCoords(lock, p))), now.map((p) => side(p, () => p.coords)));
  const changes: PointChange[] = [];
  let unchanged = 0;
  for (const [i, j] of matching.pairs) {
    const before = lock.points[i]!;
    const p = now[j]!;
    if (before.key === p.key) {
      unchanged++;
      if (before.id !== p.id) {
        changes.push({ id: p.id, was: before.id, change: 'renamed', reasons: [{ kind: 'renamed', message: `same results as ${before.id} (same cache key; only its id changed): a run rewrites the lock, computing nothing` }] });
      }
    } else {
      changes.push({ id: p.id, ...(before.id !== p.id ? { was: before.id } : {}), change: 'changed', reasons: changeReasons(global, before, p) });
    }
  }
  // The values each side's axes take: only to say what is new or gone.
  const lockAxes = matching.added.length > 0 ? axisValues(lock.points.map((p) => lockCoords(lock, p))) : new Map<string, Set<string>>();
  const nowAxes = matching.removed.length > 0 ? axisValues(now.map((p) => p.coords)) : new Map<string, Set<string>>();
  for (const j of matching.added) {
    changes.push({ id: now[j]!.id, change: 'new', reasons: [{ kind: 'new-point', message: `new point: ${novelty(now[j]!.coords, lockAxes, 'new', 'a new axis', 'a combination of axis values the lock does not hold')}` }] });
  }
  // In sweep order (a renamed or changed point where the pipeline has it), removed ones last.
  const order = new Map(now.map((p, j) => [p.id, j]));
  changes.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  for (const i of matching.removed) {
    const p = lock.points[i]!;
    changes.push({ id: p.id, change: 'removed', reasons: [{ kind: 'removed-point', message: `no longer in the pipeline: ${novelty(lockCoords(lock, p), nowAxes, 'no longer swept', 'an axis no longer swept', 'a combination of axis values the pipeline no longer makes')}` }] });
  }

  const notes = changes.length === 0 ? unchangedNotes(plan, lock) : [];
  return { ...base, state: changes.length === 0 ? 'up to date' : 'stale', unchanged, changes, notes };
}
