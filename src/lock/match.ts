/**
 * Which point of one version of a study is which point of another. Ids alone mislead: adding a
 * sweep axis renames every point (`model.width=4` becomes `loss=mse,model.width=4`), and a
 * changed value of an axis puts a new point where an old one was. Points are matched, in order:
 *
 * 1. by id;
 * 2. by cache key (the same computation under another id: an axis added or renamed);
 * 3. by what they are: the same values on every axis both versions sweep, and of those the
 *    pair with the fewest differing settings (so after `samples: 50 -> 40` and a new loss axis,
 *    the mse points pair with the old ones, which were mse, and the cross-entropy ones are new).
 *
 * What remains is new (only in the second version) or removed (only in the first).
 */
import { canonicalJson } from '../engine/store/canonical.js';

export interface MatchSide {
  readonly id: string;
  /** The cache key of the point's results, when known (lock files; not results folders). */
  readonly key?: string;
  /** The point's values on the sweep axes. */
  readonly coords: Readonly<Record<string, unknown>>;
  /** Every setting of the point, when known (lock files). */
  readonly settings?: Readonly<Record<string, unknown>>;
}

export type MatchedBy = 'id' | 'key' | 'coords';

export interface Matching {
  /** [index in before, index in after, how]; in the order of `after`. */
  readonly pairs: readonly (readonly [number, number, MatchedBy])[];
  /** Indices in `after` with no partner. */
  readonly added: readonly number[];
  /** Indices in `before` with no partner. */
  readonly removed: readonly number[];
}

const text = (v: unknown): string => canonicalJson(v ?? null);

/** Settings that differ between two points (every key of either). */
export function settingsDistance(a: Readonly<Record<string, unknown>> | undefined, b: Readonly<Record<string, unknown>> | undefined): number {
  if (a === undefined || b === undefined) return 0;
  let n = 0;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (text(a[k]) !== text(b[k])) n++;
  return n;
}

/** Most candidate pairs compared in one group of step 3 (beyond it, a group pairs in sweep order). */
const MAX_PAIRS = 1_000_000;

export function matchPoints(before: readonly MatchSide[], after: readonly MatchSide[]): Matching {
  const pairs: [number, number, MatchedBy][] = [];
  const freeBefore = new Set(before.map((_, i) => i));
  const freeAfter = new Set(after.map((_, i) => i));
  const take = (i: number, j: number, how: MatchedBy): void => {
    pairs.push([i, j, how]);
    freeBefore.delete(i);
    freeAfter.delete(j);
  };

  const byId = new Map(before.map((p, i) => [p.id, i]));
  after.forEach((p, j) => {
    const i = byId.get(p.id);
    if (i !== undefined) take(i, j, 'id');
  });

  const byKey = new Map<string, number[]>();
  for (const i of freeBefore) {
    const k = before[i]!.key;
    if (k !== undefined) byKey.set(k, [...(byKey.get(k) ?? []), i]);
  }
  for (const j of [...freeAfter]) {
    const k = after[j]!.key;
    const list = k === undefined ? undefined : byKey.get(k);
    const i = list?.shift();
    if (i !== undefined) take(i, j, 'key');
  }

  // 3. by what they are: only while points are left on both sides (none in an unchanged study).
  if (freeBefore.size > 0 && freeAfter.size > 0) {
    // Axes both versions sweep: a point's values on them say which point it is.
    const axesOf = (side: readonly MatchSide[]): Set<string> => new Set(side.flatMap((p) => Object.keys(p.coords)));
    const beforeAxes = axesOf(before);
    const common = [...axesOf(after)].filter((a) => beforeAxes.has(a)).sort();
    const signature = (p: MatchSide): string => text(common.map((a) => p.coords[a]));
    const groups = new Map<string, { before: number[]; after: number[] }>();
    for (const i of freeBefore) {
      const s = signature(before[i]!);
      const g = groups.get(s) ?? { before: [], after: [] };
      g.before.push(i);
      groups.set(s, g);
    }
    for (const j of freeAfter) {
      const g = groups.get(signature(after[j]!));
      if (g) g.after.push(j);
    }
    for (const g of groups.values()) {
      if (g.after.length === 0) continue;
      if (g.before.length * g.after.length > MAX_PAIRS) {
        g.after.forEach((j, n) => { if (n < g.before.length) take(g.before[n]!, j, 'coords'); });
        continue;
      }
      const candidates = g.after.flatMap((j) => g.before.map((i) => ({ i, j, d: settingsDistance(before[i]!.settings, after[j]!.settings) })));
      candidates.sort((x, y) => x.d - y.d || x.j - y.j || x.i - y.i);
      for (const c of candidates) if (freeBefore.has(c.i) && freeAfter.has(c.j)) take(c.i, c.j, 'coords');
    }
  }

  pairs.sort((x, y) => x[1] - y[1]);
  return { pairs, added: [...freeAfter].sort((a, b) => a - b), removed: [...freeBefore].sort((a, b) => a - b) };
}
