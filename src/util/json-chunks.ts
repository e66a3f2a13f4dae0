/**
 * `JSON.stringify(value, null, 2)` (and, for the cache, `JSON.stringify(value)`) in pieces, so a file of 100,000 rows is written as it is made
 * (util/atomic-write.ts takes the pieces) instead of as one string: joined, the pieces are that
 * text exactly. Arrays and objects of more than a few members are walked member by member (each
 * member written by JSON.stringify itself, re-indented); smaller ones are left to JSON.stringify
 * whole. For plain data (what hrank writes): no toJSON, no replacer. Hand-written: a streaming
 * JSON writer would be a dependency for twenty lines, and none promises JSON.stringify's bytes.
 */

/** Fewer members than this: one piece. */
const WHOLE = 64;

/** `JSON.stringify(value, null, 2)` as pieces, the value nested at `indent`. */
export function* jsonChunks(value: unknown, indent = ''): Generator<string> {
  yield* pieces(value, { space: '  ', walked: 0 }, indent, 0);
}

/**
 * `JSON.stringify(value)` (compact) in pieces of about `batch` characters: joined, exactly that
 * text. For plain data (no toJSON), as jsonChunks; the cache writes a collect step's structure
 * (100,000 points' rows and details) this way, never as one string.
 */
export function* compactJsonChunks(value: unknown, batch = 1 << 20): Generator<string> {
  let pending = '';
  // The top levels walked whatever their size: a cache header is `{root: {rows: [...]}}`.
  for (const piece of pieces(value, { space: '', walked: 3 }, '', 0)) {
    pending += piece;
    if (pending.length >= batch) {
      yield pending;
      pending = '';
    }
  }
  if (pending !== '') yield pending;
}

interface Layout {
  /** JSON.stringify's indent: '' (compact) or '  '. */
  readonly space: string;
  /** Containers shallower than this are walked member by member whatever their size. */
  readonly walked: number;
}

/** `JSON.stringify(value, null, layout.space)` in pieces, the value nested at `indent`, `depth` deep. */
function* pieces(value: unknown, layout: Layout, indent: string, depth: number): Generator<string> {
  if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    yield nested(value, layout.space, indent);
    return;
  }
  const inner = `${indent}${layout.space}`;
  // Where a member begins and where the container closes: new lines only when indented.
  const open = layout.space === '' ? '' : `\n${inner}`;
  const close = layout.space === '' ? '' : `\n${indent}`;
  const small = (n: number): boolean => depth >= layout.walked && n < WHOLE;
  if (Array.isArray(value)) {
    if (small(value.length)) {
      yield nested(value, layout.space, indent);
      return;
    }
    yield '[';
    for (let i = 0; i < value.length; i++) {
      yield i > 0 ? `,${open}` : open;
      // As JSON.stringify writes them: what has no JSON form is null in an array.
      const item = value[i] as unknown;
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') yield 'null';
      else yield* pieces(item, layout, inner, depth + 1);
    }
    yield value.length === 0 ? ']' : `${close}]`;
    return;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (small(keys.length)) {
    yield nested(value, layout.space, indent);
    return;
  }
  let first = true;
  for (const key of keys) {
    const member = obj[key];
    // As JSON.stringify does: members with no JSON form are left out.
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    yield `${first ? '{' : ','}${open}${JSON.stringify(key)}:${layout.space === '' ? '' : ' '}`;
    first = false;
    yield* pieces(member, layout, inner, depth + 1);
  }
  yield first ? '{}' : `${close}}`;
}

/** JSON.stringify(value, null, space) of a value nested at `indent` (its inner lines indented further). */
function nested(value: unknown, space: string, indent: string): string {
  const text = JSON.stringify(value, null, space) ?? 'null';
  return indent === '' || !text.includes('\n') ? text : text.replace(/\n/g, `\n${indent}`);
}
