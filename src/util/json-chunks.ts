/**
 * `JSON.stringify(value, null, 2)` in pieces, so a file of 100,000 rows is written as it is made
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
  if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    yield nested(value, indent);
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length < WHOLE) {
      yield nested(value, indent);
      return;
    }
    yield '[';
    for (let i = 0; i < value.length; i++) {
      yield i > 0 ? `,\n${inner}` : `\n${inner}`;
      // As JSON.stringify writes them: what has no JSON form is null in an array.
      const item = value[i] as unknown;
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') yield 'null';
      else yield* jsonChunks(item, inner);
    }
    yield `\n${indent}]`;
    return;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length < WHOLE) {
    yield nested(value, indent);
    return;
  }
  let first = true;
  for (const key of keys) {
    const member = obj[key];
    // As JSON.stringify does: members with no JSON form are left out.
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    yield `${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `;
    first = false;
    yield* jsonChunks(member, inner);
  }
  yield first ? '{}' : `\n${indent}}`;
}

/** JSON.stringify(value, null, 2) of a value nested at `indent` (its inner lines indented further). */
function nested(value: unknown, indent: string): string {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  return indent === '' || !text.includes('\n') ? text : text.replace(/\n/g, `\n${indent}`);
}

/**
 * `JSON.stringify(value)` (compact) in pieces of about `batch` characters: joined, exactly that
 * text. For plain data (no toJSON), as jsonChunks; the cache writes a collect step's structure
 * (100,000 points' rows and details) this way, never as one string.
 */
export function* compactJsonChunks(value: unknown, batch = 1 << 20): Generator<string> {
  let pending = '';
  for (const piece of compactPieces(value)) {
    pending += piece;
    if (pending.length >= batch) {
      yield pending;
      pending = '';
    }
  }
  if (pending !== '') yield pending;
}

/** Containers this shallow are walked member by member whatever their size (a cache header's structure is `{root: {rows: [...]}}`). */
const WALKED = 3;

function* compactPieces(value: unknown, depth = 0): Generator<string> {
  if (value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  if (Array.isArray(value)) {
    if (depth >= WALKED && value.length < WHOLE) {
      yield JSON.stringify(value);
      return;
    }
    yield '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield ',';
      const item = value[i] as unknown;
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') yield 'null';
      else yield* compactPieces(item, depth + 1);
    }
    yield ']';
    return;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (depth >= WALKED && keys.length < WHOLE) {
    yield JSON.stringify(value);
    return;
  }
  let first = true;
  for (const key of keys) {
    const member = obj[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    yield `${first ? '{' : ','}${JSON.stringify(key)}:`;
    first = false;
    yield* compactPieces(member, depth + 1);
  }
  yield first ? '{}' : '}';
}
