/**
 * Cache keys. `stepKey` is the only place a key is made: from an explicit list of named parts,
 * never from a step's output bytes, so `hrank plan` can compute every key without running
 * anything (an upstream step is represented by its key).
 *
 *   key = sha256 hex of canonicalJson({ salt, kind, kindVersion, params, inputs, files, engine })
 *
 * Changing what goes into a key, or how it is written (including the canonical JSON rules),
 * must bump `KEY_SALT` in the same commit; `test/engine/keys.test.ts` pins a literal key.
 */
import crypto, { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { canonicalJson, canonicalText, memberPath } from './canonical.js';

/** Version of the key schema. Bump it whenever the parts or their encoding change. */
export const KEY_SALT = 'hrank-key-v1';

/**
 * Version of the engine's results. Part of every key: bumping it invalidates the whole cache.
 * Bump it when a change anywhere could alter what a step computes.
 */
export const ENGINE_VERSION = '0.1.0';

/** Everything that decides a step's cache key, by name. */
export interface KeyParts {
  /** Key-schema version: `KEY_SALT`. */
  readonly salt: string;
  /** Step kind, e.g. `ranks`. */
  readonly kind: string;
  /** Version of that kind's implementation: bump it when the step computes something else. */
  readonly kindVersion: number;
  /** The step's parameters, plain JSON (canonicalised; see `canonical.ts`). */
  readonly params: unknown;
  /** Keys of the upstream steps, by role name (`{ network: '3fa1...' }`). */
  readonly inputs: Readonly<Record<string, string>>;
  /** sha256 hex of input files (`hashFile`), by role name (`{ images: '9c0e...' }`). */
  readonly files: Readonly<Record<string, string>>;
  /** Engine version: `ENGINE_VERSION`. */
  readonly engine: string;
}

export interface StepKey {
  /** 64 lowercase hex digits. */
  readonly key: string;
  /**
   * The parts the key was made from, with `params` as hashed (canonical: -0 as 0, undefined
   * members dropped; without a memo, the caller's own value when it was already canonical).
   */
  readonly parts: KeyParts;
}

const PART_NAMES: readonly (keyof KeyParts)[] = ['salt', 'kind', 'kindVersion', 'params', 'inputs', 'files', 'engine'];
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** True for a string that can be a key or a content hash: 64 lowercase hex digits. */
export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 80 ? value.slice(0, 80) + '...' : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}

function hashMap(name: 'inputs' | 'files', value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`stepKey: parts.${name} must be an object of role name -> sha256 hex, got ${describe(value)}`);
  }
  // A frozen plain map is kept as it is (nobody can change it under the key): a collect step's
  // 300,000 input roles are not copied.
  const keep = Object.isFrozen(value) && Object.getPrototypeOf(value) === Object.prototype;
  const out: Record<string, string> = keep ? (value as Record<string, string>) : {};
  for (const role of Object.keys(value)) {
    const hash = (value as Record<string, unknown>)[role];
    if (role === '') throw new TypeError(`stepKey: parts.${name} has an empty role name`);
    if (!isSha256Hex(hash)) {
      throw new TypeError(
        `stepKey: ${memberPath(`parts.${name}`, role)} must be 64 lowercase hex digits (a ${name === 'inputs' ? 'step key' : 'hashFile result'}), got ${describe(hash)}`,
      );
    }
    if (!keep) out[role] = hash;
  }
  return out;
}

function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`stepKey: parts.${name} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/**
 * What a plan's keys share (`stepKey`'s memo): one frozen copy of each distinct parameter text
 * and empty role map, so 100,000 points' steps do not each hold their own `{ rtol: null, atol: 0 }`.
 * (Key texts are not kept: most of a big sweep's steps are distinct, and holding 400,000 texts of
 * ~400 bytes costs the collector more than hashing a repeated one again.)
 */
export class StepKeyMemo {
  readonly params = new Map<string, unknown>();
}

/** An empty role map (no inputs, no files): KindKeys writes it without looking. */
export const EMPTY_ROLES: Readonly<Record<string, string>> = Object.freeze({});
const EMPTY = EMPTY_ROLES;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A key and its normal parameters, without the parts object (`KindKeys`). */
export interface KeyAndParams {
  readonly key: string;
  /** `params` as hashed: see `StepKey.parts`. */
  readonly params: unknown;
}

/**
 * The cache key of a step, and the parts it was made from. Throws a `TypeError` naming the part
 * when a part is missing, unknown or malformed, and a `CanonicalJsonError` naming the path
 * (`params.lr`) when the parameters are not plain JSON with finite numbers.
 */
export function stepKey(parts: KeyParts, memo?: StepKeyMemo): StepKey {
  const n = normalise(parts, memo);
  const normal: KeyParts = Object.freeze({
    salt: n.salt,
    kind: n.kind,
    kindVersion: n.kindVersion,
    params: n.params,
    inputs: memo && Object.keys(n.inputs).length === 0 ? EMPTY : Object.freeze(n.inputs),
    files: memo && Object.keys(n.files).length === 0 ? EMPTY : Object.freeze(n.files),
    engine: n.engine,
  });
  return Object.freeze({ key: sha256Hex(n.text), parts: normal });
}

/**
 * `stepKey` for the many steps of one kind a planner makes, to the same key: the kind's constant
 * parts (salt, kind, version, engine) are checked and written once, and `key` returns the key
 * and normal parameters without a parts object. A planner of 100,000 points holds about 400,000
 * steps: it keeps their parameters and inputs and makes a step's parts only when asked (each
 * would otherwise hold two more objects, for the collector to trace on every pass).
 */
export class KindKeys {
  readonly #head: string;
  readonly #middle: string;
  readonly #tail: string;
  readonly #memo: StepKeyMemo | undefined;

  /** Without a memo, parameters already canonical are kept as given (see `normalParams`). */
  constructor(parts: Pick<KeyParts, 'salt' | 'kind' | 'kindVersion' | 'engine'>, memo?: StepKeyMemo) {
    // The constant parts checked as stepKey checks them, and written where its text has them.
    const n = normalise({ ...parts, params: null, inputs: EMPTY, files: EMPTY }, memo);
    this.#head = `{"engine":${JSON.stringify(n.engine)},"files":`;
    this.#middle = `,"kind":${JSON.stringify(n.kind)},"kindVersion":${n.kindVersion},"params":`;
    this.#tail = `,"salt":${JSON.stringify(n.salt)}}`;
    this.#memo = memo;
  }

  /** The key of a step of this kind: `stepKey({ ...constant parts, params, inputs, files }).key`, and its normal params. */
  key(params: unknown, inputs: Readonly<Record<string, string>>, files: Readonly<Record<string, string>>): KeyAndParams {
    return this.#keyOf(params, this.#inputsText(inputs), files);
  }

  /** The key of the text stepKey hashes, the inputs' canonical text given. */
  #keyOf(params: unknown, inputsText: string, files: Readonly<Record<string, string>>): KeyAndParams {
    const p = normalParams(params, this.#memo);
    const filesText = files === EMPTY ? '{}' : canonicalJson(hashMap('files', files));
    const text = `${this.#head}${filesText},"inputs":${inputsText}${this.#middle}${p.text}${this.#tail}`;
    return { key: sha256Hex(text), params: p.params };
  }

  /** Quoted role names, as the inputs' canonical text writes them (a kind has a few). */
  readonly #quoted = new Map<string, string>();

  /**
   * canonicalJson(hashMap('inputs', inputs)), written directly for the usual map (a few roles,
   * in sorted order, each a key): a planner writes one per step.
   */
  #inputsText(inputs: Readonly<Record<string, string>>): string {
    if (inputs === EMPTY) return '{}';
    if (Object.getPrototypeOf(inputs) !== Object.prototype) return canonicalJson(hashMap('inputs', inputs));
    let text = '{';
    let previous: string | undefined;
    for (const role in inputs) {
      const key = inputs[role];
      // Anything unusual (out of order, a bad key, an inherited member) goes the checking way.
      if (!Object.hasOwn(inputs, role) || role === '' || (previous !== undefined && !(previous < role)) || !isSha256Hex(key)) {
        return canonicalJson(hashMap('inputs', inputs));
      }
      let quoted = this.#quoted.get(role);
      if (quoted === undefined) this.#quoted.set(role, (quoted = `${JSON.stringify(role)}:"`));
      text += previous === undefined ? `${quoted}${key}"` : `,${quoted}${key}"`;
      previous = role;
    }
    return `${text}}`;
  }

  /**
   * `key` for a step with very many inputs (a collect step has three per point), given as roles
   * in strictly ascending order (UTF-16 code units, as canonical JSON sorts members) and their
   * keys: the same key, written without making a map of 300,000 roles.
   */
  keyOfSorted(params: unknown, roles: readonly string[], keys: readonly string[], files: Readonly<Record<string, string>>): KeyAndParams {
    const members: string[] = new Array<string>(roles.length);
    for (let j = 0; j < roles.length; j++) {
      const role = roles[j]!;
      if (role === '') throw new TypeError('stepKey: parts.inputs has an empty role name');
      if (j > 0 && !(roles[j - 1]! < role)) throw new TypeError(`stepKey: ${memberPath('parts.inputs', role)} is out of order (KindKeys.keyOfSorted takes roles in strictly ascending order)`);
      const key = keys[j];
      if (!isSha256Hex(key)) throw new TypeError(`stepKey: ${memberPath('parts.inputs', role)} must be 64 lowercase hex digits (a step key), got ${describe(key)}`);
      members[j] = `${JSON.stringify(role)}:"${key}"`;
    }
    return this.#keyOf(params, `{${members.join(',')}}`, files);
  }
}

interface Normal {
  readonly salt: string;
  readonly kind: string;
  readonly kindVersion: number;
  readonly params: unknown;
  readonly inputs: Record<string, string>;
  readonly files: Record<string, string>;
  readonly engine: string;
  /** The canonical text the key hashes. */
  readonly text: string;
}

function normalise(parts: KeyParts, memo: StepKeyMemo | undefined): Normal {
  if (parts === null || typeof parts !== 'object') throw new TypeError(`stepKey: parts must be an object, got ${describe(parts)}`);
  for (const name in parts) {
    if (!Object.hasOwn(parts, name)) continue;
    if (!(PART_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`stepKey: unknown part ${JSON.stringify(name)} (parts are ${PART_NAMES.join(', ')}); every part that matters must have a name here`);
    }
  }
  const salt = nonEmptyString('salt', parts.salt);
  const kind = nonEmptyString('kind', parts.kind);
  const engine = nonEmptyString('engine', parts.engine);
  const kindVersion = parts.kindVersion;
  if (typeof kindVersion !== 'number' || !Number.isSafeInteger(kindVersion) || kindVersion < 0) {
    throw new TypeError(`stepKey: parts.kindVersion must be a non-negative integer, got ${describe(kindVersion)}`);
  }
  const p = normalParams(parts.params, memo);
  const inputs = hashMap('inputs', parts.inputs);
  const files = hashMap('files', parts.files);
  // canonicalJson of the normal parts, written out: its members in sorted order, `params` as
  // already written (canonical text is a fixed point: writing its parse again gives the same text).
  // KindKeys writes the same text.
  const text = `{"engine":${JSON.stringify(engine)},"files":${canonicalJson(files)},"inputs":${canonicalJson(inputs)},`
    + `"kind":${JSON.stringify(kind)},"kindVersion":${kindVersion},"params":${p.text},"salt":${JSON.stringify(salt)}}`;
  return { salt, kind, kindVersion, params: p.params, inputs, files, engine, text };
}

/** The canonical text of a step's parameters, and the parameters as hashed. */
function normalParams(value: unknown, memo: StepKeyMemo | undefined): { readonly text: string; readonly params: unknown } {
  const { text, asIs } = canonicalText(value, 'params');
  let params = memo?.params.get(text);
  // Without a memo, parameters already in canonical form are kept as given, not parsed back (a
  // collect step's 100,000 points): the caller hands them over and does not change them after.
  if (params === undefined && !memo && asIs) params = value;
  if (params === undefined) {
    params = JSON.parse(text) as unknown;
    // Shared between steps: frozen, so no step can change another's.
    if (memo) memo.params.set(text, deepFreeze(params));
  }
  return { text, params };
}

/** sha256 hex of a text (one call where Node has crypto.hash: a plan makes one per step). */
const sha256Hex: (text: string) => string = typeof (crypto as { hash?: unknown }).hash === 'function'
  ? (text) => (crypto as unknown as { hash(alg: string, data: string, enc: 'hex'): string }).hash('sha256', text, 'hex')
  : (text) => createHash('sha256').update(text, 'utf8').digest('hex');

/** sha256 hex of a file's contents, read as a stream (any size). Rejects with the fs error (ENOENT, ...). */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function paramLines(value: unknown, path: string, out: string[]): void {
  if (Array.isArray(value) && value.length > 0) {
    value.forEach((item, i) => paramLines(item, `${path}[${i}]`, out));
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const key of Object.keys(value).sort()) {
      paramLines((value as Record<string, unknown>)[key], memberPath(path, key), out);
    }
  } else {
    const name = path === '$' ? '(all)' : path.replace(/^\$\.?/, '');
    out.push(`param   ${name} = ${canonicalJson(value)}`);
  }
}

function partLines(parts: KeyParts): string[] {
  const lines = [
    `salt    ${parts.salt}`,
    `engine  ${parts.engine}`,
    `kind    ${parts.kind} v${parts.kindVersion}`,
  ];
  paramLines(parts.params, '$', lines);
  for (const role of Object.keys(parts.inputs).sort()) lines.push(`input   ${role} = ${parts.inputs[role]}`);
  for (const role of Object.keys(parts.files).sort()) lines.push(`file    ${role} = ${parts.files[role]}`);
  return lines;
}

/**
 * What a key is made of, one part per line, for `hrank plan --explain`. Parameters are listed
 * one leaf per line (`param   model.width = 8`), sorted, so two explanations diff line by line.
 *
 *   key     0c1d...
 *   salt    hrank-key-v1
 *   engine  0.1.0
 *   kind    ranks v1
 *   param   model.width = 8
 *   input   network = 3fa1...
 *   file    images = 9c0e...
 */
export function explainKey(parts: KeyParts): string {
  const { key, parts: normal } = stepKey(parts);
  return [`key     ${key}`, ...partLines(normal)].join('\n');
}

/**
 * Why two keys differ: the explanation lines only in `before` (prefixed `- `) and only in
 * `after` (prefixed `+ `). Empty when the keys are equal.
 */
export function diffKeyParts(before: KeyParts, after: KeyParts): string[] {
  const a = partLines(stepKey(before).parts);
  const b = partLines(stepKey(after).parts);
  const inA = new Set(a);
  const inB = new Set(b);
  return [...a.filter((l) => !inB.has(l)).map((l) => `- ${l}`), ...b.filter((l) => !inA.has(l)).map((l) => `+ ${l}`)];
}
