/**
 * Canonical JSON: one text for one value, whatever order its keys were written in.
 *
 * Rules (the text feeds cache keys, so changing any rule means bumping `KEY_SALT` in `keys.ts`):
 * - object keys are sorted by UTF-16 code units (`Array.prototype.sort` without a comparator),
 *   at every depth; arrays keep their order;
 * - numbers use JavaScript's shortest round-trip form, so `1` and `1.0` (the same double) give
 *   `1`; `-0` is written `0`; `NaN`, `Infinity` and `-Infinity` are rejected;
 * - keys whose value is `undefined` are dropped (as `JSON.stringify` does); `undefined` inside an
 *   array is rejected (JSON would silently turn it into `null`);
 * - only plain JSON is accepted: `null`, booleans, finite numbers, strings, arrays and plain
 *   objects. Typed arrays, Maps, Dates, class instances, bigints, functions, symbols and
 *   cycles are rejected;
 * - no key is ever filtered out by its name.
 *
 * Every rejection is a `CanonicalJsonError` naming the path of the offending value, e.g.
 * `$.model.hidden[1]`. Canonical text is also valid JSON: `JSON.parse` gives back the value
 * (with `-0` as `0` and undefined members gone).
 */

export class CanonicalJsonError extends TypeError {
  override readonly name = 'CanonicalJsonError';
  constructor(
    /** Where the value sits, `$` being the root: `$.model.hidden[1]`, `$["odd key"]`. */
    readonly path: string,
    message: string,
  ) {
    super(`canonicalJson: ${path}: ${message}`);
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `$.a`, `$["a b"]`: how error messages name an object member. */
export function memberPath(parent: string, key: string): string {
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  return proto?.constructor?.name ?? 'object';
}

/** True for `{}`-style objects: prototype `Object.prototype` or `null`. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The canonical JSON text of `value` (see the module comment for the rules). `root` names the
 * value in error paths (default `$`; `stepKey` passes `params`).
 */
export function canonicalJson(value: unknown, root = '$'): string {
  return canonicalText(value, root).text;
}

/**
 * `canonicalJson`, and whether `value` was already in canonical form (plain JSON, members in
 * sorted order at every depth, no -0, no undefined member): then `JSON.parse(text)` deep-equals
 * it, and a caller may keep `value` instead of parsing the text back.
 */
export function canonicalText(value: unknown, root = '$'): { readonly text: string; readonly asIs: boolean } {
  // Already canonical (a collect step's 100,000 points are written so): the engine's own writer
  // makes the text, about eight times faster than the writers below.
  if (inCanonicalForm(value, 0)) return { text: JSON.stringify(value), asIs: true };
  return { text: canonicalSlow(value, root), asIs: false };
}

/**
 * True when JSON.stringify(value) is its canonical text: plain JSON with finite numbers and no
 * -0, object members (own, string-keyed, none undefined) in sorted order, no undefined array
 * item, not too deep. False for anything else, including what the writers below reject.
 */
function inCanonicalForm(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= FAST_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!inCanonicalForm(value[i], depth + 1)) return false;
    return true;
  }
  if (!isPlainObject(value) || Object.getOwnPropertySymbols(value).length > 0) return false;
  let previous: string | undefined;
  // for...in lists integer-like keys first, in numeric order: `"10"` after `"9"` fails the check.
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return false;
    if (previous !== undefined && !(previous < key)) return false;
    const member = value[key];
    if (member === undefined || !inCanonicalForm(member, depth + 1)) return false;
    previous = key;
  }
  return true;
}

function canonicalSlow(value: unknown, root: string): string {
  // The fast writer makes the same text without tracking paths (a plan hashes hundreds of
  // thousands of values); anything it does not accept is written again by the checking writer,
  // which throws the error naming the path.
  const fast = writeFast(value, 0);
  if (fast !== undefined) return fast;
  const parts: string[] = [];
  write(value, root, parts, new Set());
  return parts.join('');
}

/** Deeper than this, the fast writer leaves the value to the checking one (which finds cycles). */
const FAST_DEPTH = 64;

/** The canonical text of `value` by the rules above, or undefined for anything they reject (or too deep). */
function writeFast(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) return undefined;
      return value === 0 ? '0' : JSON.stringify(value);
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 'null';
  if (depth >= FAST_DEPTH) return undefined;
  if (Array.isArray(value)) {
    let text = '[';
    for (let i = 0; i < value.length; i++) {
      const item = writeFast(value[i], depth + 1);
      if (item === undefined) return undefined;
      text += i > 0 ? `,${item}` : item;
    }
    return `${text}]`;
  }
  if (!isPlainObject(value) || Object.getOwnPropertySymbols(value).length > 0) return undefined;
  let text = '{';
  let first = true;
  for (const key of sortedKeys(value)) {
    const member = value[key];
    if (member === undefined) continue;
    const item = writeFast(member, depth + 1);
    if (item === undefined) return undefined;
    text += `${first ? '' : ','}${JSON.stringify(key)}:${item}`;
    first = false;
  }
  return `${text}}`;
}

/**
 * Object.keys(value).sort(): small objects (nearly every one a plan hashes) sorted in place by
 * insertion, comparing by UTF-16 code units as the default sort does, without its work copy.
 */
function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

function write(value: unknown, path: string, out: string[], ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CanonicalJsonError(path, `${value} is not allowed (parameters must be finite numbers)`);
      }
      // Object.is(-0, 0) is false; -0 and 0 are one parameter value.
      out.push(value === 0 ? '0' : JSON.stringify(value));
      return;
    case 'undefined':
      throw new CanonicalJsonError(path, 'undefined is not allowed here (only object members may be undefined, and are dropped)');
    case 'bigint':
    case 'symbol':
    case 'function':
      throw new CanonicalJsonError(path, `a ${typeof value} is not plain JSON`);
    case 'object':
      break;
  }
  if (value === null) {
    out.push('null');
    return;
  }
  const obj = value as object;
  if (ancestors.has(obj)) throw new CanonicalJsonError(path, 'a cycle is not plain JSON');
  if (Array.isArray(obj)) {
    ancestors.add(obj);
    out.push('[');
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out.push(',');
      write(obj[i], `${path}[${i}]`, out, ancestors);
    }
    out.push(']');
    ancestors.delete(obj);
    return;
  }
  if (ArrayBuffer.isView(obj)) {
    throw new CanonicalJsonError(path, `a ${describe(obj)} is not allowed (parameters are plain JSON; pass a plain array)`);
  }
  if (!isPlainObject(obj)) {
    throw new CanonicalJsonError(path, `a ${describe(obj)} is not plain JSON (expected a plain object)`);
  }
  if (Object.getOwnPropertySymbols(obj).length > 0) {
    throw new CanonicalJsonError(path, 'symbol-keyed members are not plain JSON');
  }
  ancestors.add(obj);
  out.push('{');
  let first = true;
  for (const key of Object.keys(obj).sort()) {
    const member = obj[key];
    if (member === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(key), ':');
    write(member, memberPath(path, key), out, ancestors);
  }
  out.push('}');
  ancestors.delete(obj);
}
