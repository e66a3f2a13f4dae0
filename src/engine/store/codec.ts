/**
 * Step outputs to bytes and back, exactly.
 *
 * A step output is plain data (null, booleans, numbers, strings, undefined, arrays, plain
 * objects) with typed arrays anywhere inside. Plain numbers round-trip bit for bit, including
 * -0, NaN and the infinities; typed arrays round-trip bit for bit (NaN payloads included, since
 * their bytes are copied), whatever their size, without per-element work.
 *
 * Layout (all integers little-endian):
 *
 *   offset 0   4 bytes   magic "HRCD"
 *          4   uint32    codec version (1)
 *          8   uint32    header length H, in bytes
 *         12   H bytes   header: UTF-8 JSON { "root": <tree>, "blobs": [[type, offset, length], ...] }
 *              zero padding up to a multiple of 8  -> data start D
 *          D   the raw little-endian bytes of each typed array, each one starting at
 *              D + offset, offsets multiples of 8, zero padding between them
 *
 * The tree is the value with every array and special value replaced by a tagged array, so tags
 * never collide with user data (plain objects are kept as objects, their members encoded):
 *
 *   ["a", item, ...]     an array            ["t", i]     typed array number i of "blobs"
 *   ["n", "NaN"]         NaN, "Infinity", "-Infinity" or "-0"
 *   ["u"]                undefined (in arrays, or as an object member's value)
 *
 * Blob types: f64 f32 i32 u32 i16 u16 i8 u8 u8c (Float64Array ... Uint8ClampedArray). A typed
 * array that appears twice in the value is stored once and decodes as one array twice. Sparse
 * array holes decode as undefined. Objects with a null prototype decode as ordinary objects.
 */
import { endianness } from 'node:os';
import { isPlainObject, memberPath } from './canonical.js';
import { compactJsonChunks } from '../../util/json-chunks.js';

export const CODEC_VERSION = 1;
const MAGIC = Buffer.from('HRCD', 'latin1');
const PREFIX = 12;
const ALIGN = 8;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export class CodecError extends Error {
  override readonly name = 'CodecError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`codec: ${message}`, options);
  }
}

export type TypedArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray;

interface TypedArrayClass {
  readonly BYTES_PER_ELEMENT: number;
  readonly prototype: TypedArray;
  readonly name: string;
  new (length: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
}

const TYPES: Readonly<Record<string, TypedArrayClass>> = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  i16: Int16Array,
  u16: Uint16Array,
  i8: Int8Array,
  u8: Uint8Array,
  u8c: Uint8ClampedArray,
};
const TYPE_OF_PROTO = new Map<object, string>(Object.entries(TYPES).map(([name, ctor]) => [ctor.prototype, name]));

/** Little-endian bytes of a typed array element of each type, via DataView (big-endian hosts only). */
const SETTERS: Readonly<Record<string, (v: DataView, o: number, x: number) => void>> = {
  f64: (v, o, x) => v.setFloat64(o, x, true),
  f32: (v, o, x) => v.setFloat32(o, x, true),
  i32: (v, o, x) => v.setInt32(o, x, true),
  u32: (v, o, x) => v.setUint32(o, x, true),
  i16: (v, o, x) => v.setInt16(o, x, true),
  u16: (v, o, x) => v.setUint16(o, x, true),
};
const GETTERS: Readonly<Record<string, (v: DataView, o: number) => number>> = {
  f64: (v, o) => v.getFloat64(o, true),
  f32: (v, o) => v.getFloat32(o, true),
  i32: (v, o) => v.getInt32(o, true),
  u32: (v, o) => v.getUint32(o, true),
  i16: (v, o) => v.getInt16(o, true),
  u16: (v, o) => v.getUint16(o, true),
};

type Blob = [type: string, offset: number, length: number];
type Tree = null | boolean | number | string | Tree[] | { [key: string]: Tree };

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return typeof value;
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  return proto?.constructor?.name ?? 'object';
}

/** The encoded form as a list of byte chunks (typed-array bytes are not copied on little-endian hosts). */
export interface EncodedChunks {
  readonly chunks: readonly Uint8Array[];
  readonly byteLength: number;
}

/**
 * Encode to chunks whose concatenation is the encoded form. The chunks may be views of the
 * value's own typed arrays: write or hash them before mutating the value.
 * Throws a `CodecError` naming the path of anything that is not plain data or a typed array.
 */
export function encodeChunks(value: unknown): EncodedChunks {
  const arrays: TypedArray[] = [];
  const blobs: Blob[] = [];
  const index = new Map<TypedArray, number>();
  let dataLength = 0;
  const ancestors = new Set<object>();

  const tree = (v: unknown, path: string): Tree => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        if (Number.isNaN(v)) return ['n', 'NaN'];
        if (v === Infinity) return ['n', 'Infinity'];
        if (v === -Infinity) return ['n', '-Infinity'];
        if (Object.is(v, -0)) return ['n', '-0'];
        return v;
      case 'undefined':
        return ['u'];
      case 'object':
        break;
      default:
        throw new CodecError(`cannot encode a ${typeof v} at ${path}`);
    }
    if (v === null) return null;
    const proto = Object.getPrototypeOf(v) as object | null;
    const type = proto === null ? undefined : TYPE_OF_PROTO.get(proto);
    if (type !== undefined) {
      const ta = v as TypedArray;
      let i = index.get(ta);
      if (i === undefined) {
        i = arrays.length;
        index.set(ta, i);
        arrays.push(ta);
        blobs.push([type, dataLength, ta.length]);
        dataLength += align(ta.byteLength);
      }
      return ['t', i];
    }
    if (ancestors.has(v)) throw new CodecError(`cannot encode a cycle at ${path}`);
    if (Array.isArray(v)) {
      ancestors.add(v);
      const out: Tree[] = ['a'];
      for (let i = 0; i < v.length; i++) out.push(tree(v[i], `${path}[${i}]`));
      ancestors.delete(v);
      return out;
    }
    if (!isPlainObject(v)) {
      throw new CodecError(
        `cannot encode a ${describe(v)} at ${path} (step outputs are plain objects, arrays, numbers, strings and ${Object.values(TYPES)
          .map((t) => t.name)
          .join('/')})`,
      );
    }
    if (Object.getOwnPropertySymbols(v).length > 0) throw new CodecError(`cannot encode symbol-keyed members at ${path}`);
    ancestors.add(v);
    const out: { [key: string]: Tree } = {};
    for (const key of Object.keys(v)) {
      const member = tree(v[key], memberPath(path, key));
      // defineProperty for a member named "__proto__", so it stays a member; plain assignment
      // otherwise (a collect step's structure has millions of members).
      if (key === '__proto__') Object.defineProperty(out, key, { value: member, enumerable: true, writable: true, configurable: true });
      else out[key] = member;
    }
    ancestors.delete(v);
    return out;
  };

  const root = tree(value, '$');
  // The header's JSON in pieces (a collect step's is ~200 MB at 100,000 points: never one string
  // and a copy of it), the same bytes as JSON.stringify({ root, blobs }).
  const header = [...compactJsonChunks({ root, blobs })].map((piece) => Buffer.from(piece, 'utf8'));
  const headerLength = header.reduce((n, b) => n + b.length, 0);
  if (headerLength > 0xffffffff) throw new CodecError('the structure is too large to encode (header over 4 GiB)');
  const dataStart = align(PREFIX + headerLength);
  // The prefix and the header's first piece in one chunk, then its other pieces (a big header's),
  // then the padding to the data: a small structure's head is one chunk, as it always was.
  const rest = header.slice(1);
  const padding = dataStart - PREFIX - headerLength;
  const head = Buffer.alloc(PREFIX + (header[0]?.length ?? 0) + (rest.length === 0 ? padding : 0));
  MAGIC.copy(head, 0);
  head.writeUInt32LE(CODEC_VERSION, 4);
  head.writeUInt32LE(headerLength, 8);
  header[0]?.copy(head, PREFIX);
  const chunks: Uint8Array[] = [head, ...rest];
  if (rest.length > 0 && padding > 0) chunks.push(new Uint8Array(padding));
  const zeros = new Uint8Array(ALIGN);
  for (let i = 0; i < arrays.length; i++) {
    const ta = arrays[i]!;
    const type = blobs[i]![0];
    let bytes = new Uint8Array(ta.buffer, ta.byteOffset, ta.byteLength);
    if (!LITTLE_ENDIAN_HOST && ta.BYTES_PER_ELEMENT > 1) {
      const le = new Uint8Array(ta.byteLength);
      const view = new DataView(le.buffer);
      const set = SETTERS[type]!;
      for (let j = 0; j < ta.length; j++) set(view, j * ta.BYTES_PER_ELEMENT, ta[j]!);
      bytes = le;
    }
    if (bytes.byteLength > 0) chunks.push(bytes);
    const pad = align(ta.byteLength) - ta.byteLength;
    if (pad > 0) chunks.push(zeros.subarray(0, pad));
  }
  return { chunks, byteLength: dataStart + dataLength };
}

/** Encode to one buffer (see `encodeChunks` to avoid the copy when writing to a file). */
export function encode(value: unknown): Buffer {
  const { chunks, byteLength } = encodeChunks(value);
  return Buffer.concat(chunks as Uint8Array[], byteLength);
}

export interface DecodeOptions {
  /**
   * true (default): every typed array gets its own memory, independent of `bytes`.
   * false: typed arrays are views into `bytes` where alignment allows (no copy; they share
   * memory with `bytes` and with each other, so do not transfer them to a worker).
   */
  readonly copy?: boolean;
}

/** Where one typed array's bytes are. */
export interface BlobSpec {
  /** f64, f32, i32, ... */
  readonly type: string;
  /** Byte offset from the start of the encoded data (a multiple of 8). */
  readonly start: number;
  /** Number of elements. */
  readonly length: number;
  readonly byteLength: number;
}

/** The decoded header: the structure, and where each typed array's bytes are. */
export interface Layout {
  /** Bytes of prefix and header (`headerBytes` of the prefix). */
  readonly headerBytes: number;
  /** Typed arrays in ascending, non-overlapping byte order. */
  readonly blobs: readonly BlobSpec[];
  /** The encoded tree (see the module comment); `assemble` turns it into the value. */
  readonly root: unknown;
}

/**
 * How many bytes the prefix and JSON header take, from the first 12 bytes (or more) of encoded
 * data. Throws a `CodecError` on a bad magic or version. Lets a reader fetch the header before
 * the arrays (see `CacheStore`).
 */
export function headerBytes(prefix: Uint8Array): number {
  if (prefix.byteLength < PREFIX) throw new CodecError(`truncated: ${prefix.byteLength} bytes, less than the ${PREFIX}-byte prefix`);
  const buf = Buffer.from(prefix.buffer, prefix.byteOffset, PREFIX);
  if (!buf.subarray(0, 4).equals(MAGIC)) throw new CodecError('bad magic: not hrank codec data');
  const version = buf.readUInt32LE(4);
  if (version !== CODEC_VERSION) throw new CodecError(`unsupported codec version ${version} (this hrank reads version ${CODEC_VERSION})`);
  return PREFIX + buf.readUInt32LE(8);
}

/**
 * Parse the prefix and header (`head` holds at least `headerBytes(head)` bytes) of encoded data
 * that is `totalBytes` long. Checks that every typed array is of a known type, 8-aligned, inside
 * the data, and after the previous one.
 */
export function parseLayout(head: Uint8Array, totalBytes: number): Layout {
  const size = headerBytes(head);
  if (size > head.byteLength || size > totalBytes) {
    throw new CodecError(`truncated: header of ${size - PREFIX} bytes does not fit in ${Math.min(head.byteLength, totalBytes)} bytes`);
  }
  let header: { root?: unknown; blobs?: unknown };
  try {
    header = JSON.parse(Buffer.from(head.buffer, head.byteOffset, size).toString('utf8', PREFIX)) as typeof header;
  } catch (err) {
    throw new CodecError('header is not valid JSON', { cause: err });
  }
  if (header === null || typeof header !== 'object' || !Array.isArray(header.blobs) || !('root' in header)) {
    throw new CodecError('header must be an object with "root" and "blobs"');
  }
  const dataStart = align(size);
  let end = dataStart;
  const blobs = header.blobs.map((blob: unknown, i: number): BlobSpec => {
    if (!Array.isArray(blob) || blob.length !== 3) throw new CodecError(`blob ${i}: expected [type, offset, length]`);
    const [type, offset, length] = blob as [unknown, unknown, unknown];
    const ctor = typeof type === 'string' && Object.hasOwn(TYPES, type) ? TYPES[type]! : undefined;
    if (ctor === undefined) throw new CodecError(`blob ${i}: unknown type ${JSON.stringify(type)}`);
    if (!Number.isSafeInteger(offset) || (offset as number) % ALIGN !== 0 || dataStart + (offset as number) < end) {
      throw new CodecError(`blob ${i}: bad offset ${JSON.stringify(offset)}`);
    }
    if (!Number.isSafeInteger(length) || (length as number) < 0) throw new CodecError(`blob ${i}: bad length ${JSON.stringify(length)}`);
    const start = dataStart + (offset as number);
    const byteLength = (length as number) * ctor.BYTES_PER_ELEMENT;
    end = start + byteLength;
    if (end > totalBytes) throw new CodecError(`truncated: blob ${i} (${type} x ${length}) ends at byte ${end}, data has ${totalBytes}`);
    return { type: type as string, start, length: length as number, byteLength };
  });
  return { headerBytes: size, blobs, root: header.root };
}

/** A zeroed typed array for a blob; read its bytes into `new Uint8Array(a.buffer)`, then call `fromLittleEndian`. */
export function allocateBlob(spec: BlobSpec): TypedArray {
  return new TYPES[spec.type]!(spec.length);
}

/** Reorder bytes read from encoded data into host order, in place (nothing to do on little-endian hosts). */
export function fromLittleEndian(spec: BlobSpec, array: TypedArray): void {
  if (LITTLE_ENDIAN_HOST || array.BYTES_PER_ELEMENT === 1) return;
  const view = new DataView(array.buffer, array.byteOffset, array.byteLength);
  const get = GETTERS[spec.type]!;
  for (let j = 0; j < array.length; j++) array[j] = get(view, j * array.BYTES_PER_ELEMENT);
}

/** Build the value from a layout and its typed arrays (in `layout.blobs` order). */
export function assemble(layout: Layout, arrays: readonly TypedArray[]): unknown {
  const value = (t: unknown, path: string): unknown => {
    if (t === null || typeof t === 'string' || typeof t === 'boolean' || typeof t === 'number') return t;
    if (Array.isArray(t)) {
      switch (t[0]) {
        case 'a':
          return t.slice(1).map((item, i) => value(item, `${path}[${i}]`));
        case 't': {
          const ta = Number.isSafeInteger(t[1]) ? arrays[t[1] as number] : undefined;
          if (ta === undefined || t.length !== 2) throw new CodecError(`bad typed-array reference at ${path}`);
          return ta;
        }
        case 'n':
          if (t.length === 2) {
            if (t[1] === 'NaN') return NaN;
            if (t[1] === 'Infinity') return Infinity;
            if (t[1] === '-Infinity') return -Infinity;
            if (t[1] === '-0') return -0;
          }
          throw new CodecError(`bad number tag at ${path}`);
        case 'u':
          if (t.length === 1) return undefined;
      }
      throw new CodecError(`bad tag ${JSON.stringify(t[0])} at ${path}`);
    }
    if (typeof t === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, member] of Object.entries(t)) {
        Object.defineProperty(out, key, { value: value(member, memberPath(path, key)), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    throw new CodecError(`bad node at ${path}`);
  };
  return value(layout.root, '$');
}

/** Decode what `encode` produced. Throws a `CodecError` on anything malformed. */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): unknown {
  const copy = options.copy ?? true;
  const layout = parseLayout(bytes, bytes.byteLength);
  const arrays = layout.blobs.map((spec) => {
    const absolute = bytes.byteOffset + spec.start;
    const ctor = TYPES[spec.type]!;
    if (!copy && (LITTLE_ENDIAN_HOST || ctor.BYTES_PER_ELEMENT === 1) && absolute % ctor.BYTES_PER_ELEMENT === 0) {
      return new ctor(bytes.buffer, absolute, spec.length);
    }
    const out = allocateBlob(spec);
    new Uint8Array(out.buffer, out.byteOffset, spec.byteLength).set(bytes.subarray(spec.start, spec.start + spec.byteLength));
    fromLittleEndian(spec, out);
    return out;
  });
  return assemble(layout, arrays);
}
