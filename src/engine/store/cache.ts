/**
 * The content-addressed step cache: one file per key, `<root>/<key[0..2]>/<key>.bin`.
 *
 * Entry layout (integers little-endian; the payload starts at byte 64, so it is 8-aligned):
 *
 *   offset  0   8 bytes   magic "HRKCACHE"
 *           8   uint32    entry format version (1)
 *          12   uint32    meta length M
 *          16   uint64    payload length P
 *          24   32 bytes  sha256 of payload followed by meta
 *          56   8 bytes   reserved, zero
 *          64   P bytes   payload: the step output, encoded by `codec.ts`
 *        64+P   M bytes   meta: UTF-8 JSON { key, kind?, id?, created }
 *
 * Writes go to a temp file in the entry's directory (`.<key>.<pid>.<random>.tmp`), are fsynced,
 * then renamed over the entry, so a reader sees the old entry, the new one, or none; never half
 * of one. Concurrent writers of one key each rename a complete file: the last rename wins.
 *
 * Every read is checked (magic, version, sizes against the file size, checksum, the key recorded
 * in meta, the codec structure). An entry that fails is reported through `onWarning`, counted as
 * corrupt, moved aside to `<root>/corrupt/`, and is a miss: its contents are never returned.
 *
 * `clear()` removes only what this layout creates (entry files, temp files older than
 * `tempMaxAgeMs`, moved-aside entries, step locks of processes that are gone (`locks/`, see
 * locks.ts), then empty directories): pointing `root` at the wrong directory cannot delete
 * unrelated files.
 *
 * Failure injection: HRANK_FAULT (see `faultFs`) makes entry writes fail like a full disk or a
 * read-only folder, for tests of what a failed run leaves behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { allocateBlob, assemble, CodecError, encodeChunks, fromLittleEndian, headerBytes, parseLayout, type Layout, type TypedArray } from './codec.js';
import { isSha256Hex } from './keys.js';
import { FILE_SLOTS, TooManyOpenFilesError } from './file-slots.js';
import { StepLocks } from './step-locks.js';

export const ENTRY_FORMAT_VERSION = 1;
const MAGIC = Buffer.from('HRKCACHE', 'latin1');
const HEADER = 64;
const CODEC_PREFIX = 12;
const MAX_META = 1 << 20;
const ENTRY_FILE = /^[0-9a-f]{64}\.bin$/;
const TEMP_FILE = /^\.[0-9a-f]{64}\.\d+\.[0-9a-f]+\.tmp$/;
const CORRUPT_FILE = /^[0-9a-f]{64}\.\d+\.[0-9a-f]+\.bin$/;
const SHARD_DIR = /^[0-9a-f]{2}$/;
const CORRUPT_DIR = 'corrupt';
const LOCKS_DIR = 'locks';

/** The file-system functions the cache uses; tests replace some to simulate failures. */
export type CacheFs = Pick<typeof fsp, 'open' | 'rename' | 'unlink' | 'mkdir' | 'readdir' | 'stat' | 'rmdir'>;

export interface CacheStoreOptions {
  /** Called with a one-line message for each corrupt or unreadable entry. Default: `process.emitWarning`. */
  readonly onWarning?: (message: string) => void;
  /** Temp files older than this (by mtime) are left-overs of crashed writers, removed by `clear()`. Default 1 hour. */
  readonly tempMaxAgeMs?: number;
  /** Replacements for some `node:fs/promises` functions (tests). Default: the real ones. */
  readonly fs?: Partial<CacheFs>;
}

/** What `put` records beside a value (all optional). */
export interface PutMeta {
  /** Step kind, e.g. `ranks`. */
  readonly kind?: string;
  /** Step id, e.g. `ranks[model.width=8]`. */
  readonly id?: string;
}

/** The meta stored in an entry. */
export interface EntryMeta extends PutMeta {
  readonly key: string;
  /** ISO 8601 time of the write. */
  readonly created: string;
}

export interface CacheStats {
  /** `get` calls that returned a value. */
  readonly hits: number;
  /** `get` calls that returned nothing (absent, unreadable or corrupt). */
  readonly misses: number;
  /** Successful `put` calls. */
  readonly writes: number;
  /** Entries found corrupt (each is also a miss). */
  readonly corrupt: number;
}

export interface ClearResult {
  readonly entries: number;
  readonly temp: number;
  readonly corrupt: number;
}

/** A cache write or delete that failed; names the file and carries the fs error as `cause`. */
export class CacheError extends Error {
  override readonly name = 'CacheError';
  /** The fs error code (`EACCES`, `ENOSPC`, ...), when there is one. */
  readonly code: string | undefined;
  constructor(
    message: string,
    /** The file or directory the operation was on. */
    readonly path: string,
    cause: unknown,
  ) {
    const code = errorCode(cause);
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`cache: ${message} ${path}: ${why}`, { cause });
    this.code = code;
  }
}

/**
 * Fault injection for tests of failure behaviour, read from the environment variable HRANK_FAULT
 * by this module only (a CacheStore given `options.fs` ignores it):
 * - `enospc-after:N`: entry writes after the first N fail half-way with ENOSPC (the temp file is
 *   created, writing it fails), as on a disk that fills up during a run;
 * - `eacces-after:N`: entry writes after the first N fail with EACCES when creating the temp file.
 * Returns the replacement fs functions, or undefined when HRANK_FAULT is unset or empty.
 */
export function faultFs(spec: string | undefined): Partial<CacheFs> | undefined {
  if (spec === undefined || spec.trim() === '') return undefined;
  const m = /^\s*(enospc|eacces)-after:(\d+)\s*$/.exec(spec);
  if (!m) throw new Error(`HRANK_FAULT=${JSON.stringify(spec)} is not understood; use enospc-after:N or eacces-after:N`);
  const kind = m[1] as 'enospc' | 'eacces';
  const after = Number(m[2]);
  let writes = 0;
  const fault = (code: string, text: string, syscall: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`${code}: ${text}, ${syscall} (simulated by HRANK_FAULT=${spec.trim()})`), { code, syscall });
  const open: typeof fsp.open = async (path, flags, mode) => {
    if (flags !== 'wx' || ++writes <= after) return fsp.open(path, flags, mode);
    if (kind === 'eacces') throw fault('EACCES', 'permission denied', 'open');
    const fh = await fsp.open(path, flags, mode);
    let calls = 0;
    // The first write lands (a partial temp file exists), the next one finds the disk full.
    return new Proxy(fh, {
      get(target, prop, receiver) {
        if (prop === 'write') {
          return async (...args: unknown[]) => {
            if (++calls > 1) throw fault('ENOSPC', 'no space left on device', 'write');
            return (target.write as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
  return { open };
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function checkKey(key: unknown): asserts key is string {
  if (!isSha256Hex(key)) {
    const shown = typeof key === 'string' ? JSON.stringify(key.length > 80 ? key.slice(0, 80) + '...' : key) : typeName(key);
    throw new TypeError(`cache: a key must be 64 lowercase hex digits (from stepKey), got ${shown}`);
  }
}

/** A checked entry: its value and meta, or why it is unusable. */
type Checked = { ok: true; value: unknown; meta: EntryMeta } | { ok: false; reason: string };

export class CacheStore {
  /** Absolute path of the cache directory. */
  readonly root: string;
  readonly tempMaxAgeMs: number;
  readonly #fs: CacheFs;
  readonly #warn: (message: string) => void;
  #hits = 0;
  #misses = 0;
  #writes = 0;
  #corrupt = 0;

  constructor(root: string, options: CacheStoreOptions = {}) {
    if (typeof root !== 'string' || root === '') {
      throw new TypeError(`CacheStore: root must be a non-empty directory path, got ${typeName(root)} ${JSON.stringify(root)}`);
    }
    const { onWarning, tempMaxAgeMs = 60 * 60 * 1000, fs = {} } = options;
    if (onWarning !== undefined && typeof onWarning !== 'function') {
      throw new TypeError(`CacheStore: options.onWarning must be a function, got ${typeName(onWarning)}`);
    }
    if (typeof tempMaxAgeMs !== 'number' || !(tempMaxAgeMs >= 0)) {
      throw new TypeError(`CacheStore: options.tempMaxAgeMs must be a number >= 0, got ${typeName(tempMaxAgeMs)} ${String(tempMaxAgeMs)}`);
    }
    if (fs === null || typeof fs !== 'object') throw new TypeError(`CacheStore: options.fs must be an object, got ${typeName(fs)}`);
    this.root = resolve(root);
    this.tempMaxAgeMs = tempMaxAgeMs;
    // HRANK_FAULT (tests of failure behaviour) applies only to a store on the real fs.
    const injected = Object.keys(fs).length === 0 ? faultFs(process.env.HRANK_FAULT) : undefined;
    this.#fs = {
      open: fs.open ?? injected?.open ?? fsp.open,
      rename: fs.rename ?? fsp.rename,
      unlink: fs.unlink ?? fsp.unlink,
      mkdir: fs.mkdir ?? fsp.mkdir,
      readdir: fs.readdir ?? fsp.readdir,
      stat: fs.stat ?? fsp.stat,
      rmdir: fs.rmdir ?? fsp.rmdir,
    };
    this.#warn = onWarning ?? ((message) => process.emitWarning(message, { code: 'HRANK_CACHE' }));
  }

  /** A snapshot of the counters. */
  get stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, writes: this.#writes, corrupt: this.#corrupt };
  }

  resetStats(): void {
    this.#hits = this.#misses = this.#writes = this.#corrupt = 0;
  }

  /** Where the entry of `key` lives (whether or not it exists). */
  entryPath(key: string): string {
    checkKey(key);
    return join(this.root, key.slice(0, 2), `${key}.bin`);
  }

  /**
   * Whether an entry for `key` exists and its header and size are consistent. Cheap (reads 64
   * bytes; does not verify the checksum, so a later `get` may still find it corrupt). Counts nothing.
   */
  async has(key: string): Promise<boolean> {
    const path = this.entryPath(key);
    try {
      return await FILE_SLOTS.run(async () => {
        let fh: fsp.FileHandle | undefined;
        try {
          fh = await this.#fs.open(path, 'r');
          const { size } = await fh.stat();
          if (size < HEADER) return false;
          const head = Buffer.alloc(HEADER);
          await readFully(fh, head, 0);
          const sizes = parseHeader(head);
          return typeof sizes !== 'string' && HEADER + sizes.payload + sizes.meta === size;
        } catch (err) {
          // Out of files is not "absent": FILE_SLOTS retries it, and reports it when it lasts.
          if ((err as { code?: unknown }).code === 'EMFILE' || (err as { code?: unknown }).code === 'ENFILE') throw err;
          return false;
        } finally {
          await fh?.close().catch(() => undefined);
        }
      });
    } catch (err) {
      if (err instanceof TooManyOpenFilesError) throw err;
      return false;
    }
  }

  /** The value stored under `key`, or `undefined` when there is none or it is corrupt. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    return (await this.getEntry<T>(key))?.value;
  }

  /** Like `get`, with the entry's meta. */
  async getEntry<T = unknown>(key: string): Promise<{ value: T; meta: EntryMeta } | undefined> {
    const path = this.entryPath(key);
    let checked: Checked;
    try {
      checked = await FILE_SLOTS.run(() => this.#read(path, key));
    } catch (err) {
      // The open-file limit exhausted (by something else: FILE_SLOTS bounds hrank's own files) is
      // no miss: computing the step again would meet it too.
      if (err instanceof TooManyOpenFilesError) throw err;
      const code = errorCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        this.#warn(`cache: cannot read entry ${path} (${err instanceof Error ? err.message : String(err)}); treating it as a miss`);
      }
      this.#misses++;
      return undefined;
    }
    if (!checked.ok) {
      this.#corrupt++;
      this.#misses++;
      const where = await this.#moveAside(path, key);
      this.#warn(`cache: entry ${path} is corrupt (${checked.reason}); ${where}; treating it as a miss`);
      return undefined;
    }
    this.#hits++;
    return { value: checked.value as T, meta: checked.meta };
  }

  async #read(path: string, key: string): Promise<Checked> {
    const fh = await this.#fs.open(path, 'r');
    try {
      const { size } = await fh.stat();
      if (size < HEADER) return { ok: false, reason: `truncated: ${size} bytes, shorter than the ${HEADER}-byte header` };
      const head = Buffer.alloc(HEADER);
      await readFully(fh, head, 0);
      const sizes = parseHeader(head);
      if (typeof sizes === 'string') return { ok: false, reason: sizes };
      const expected = HEADER + sizes.payload + sizes.meta;
      if (expected !== size) {
        return { ok: false, reason: `${size < expected ? 'truncated' : 'too long'}: header announces ${expected} bytes, file has ${size}` };
      }
      // Read the codec header, then each typed array straight into its own memory, hashing
      // every byte of payload and meta in file order: one pass, no second copy of the data.
      const hash = createHash('sha256');
      const payloadEnd = HEADER + sizes.payload;
      let layout: Layout;
      let codecHead: Buffer;
      try {
        if (sizes.payload < CODEC_PREFIX) return { ok: false, reason: `payload of ${sizes.payload} bytes is too short` };
        const prefix = Buffer.alloc(CODEC_PREFIX);
        await readFully(fh, prefix, HEADER);
        const needed = headerBytes(prefix);
        if (needed > sizes.payload) return { ok: false, reason: `codec header of ${needed} bytes does not fit in a ${sizes.payload}-byte payload` };
        codecHead = Buffer.alloc(needed);
        await readFully(fh, codecHead, HEADER);
        layout = parseLayout(codecHead, sizes.payload);
      } catch (err) {
        if (err instanceof CodecError) return { ok: false, reason: err.message };
        throw err;
      }
      hash.update(codecHead);
      let position = HEADER + codecHead.length;
      const skipTo = async (target: number) => {
        // Padding between arrays (or garbage in a damaged entry): hashed, not kept.
        if (target <= position) return;
        const scratch = Buffer.alloc(Math.min(target - position, 1 << 20));
        while (position < target) {
          const n = Math.min(scratch.length, target - position);
          await readFully(fh, scratch.subarray(0, n), position);
          hash.update(scratch.subarray(0, n));
          position += n;
        }
      };
      const arrays: TypedArray[] = [];
      for (const spec of layout.blobs) {
        await skipTo(HEADER + spec.start);
        const array = allocateBlob(spec);
        const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
        await readFully(fh, bytes, position);
        hash.update(bytes);
        position += bytes.byteLength;
        arrays.push(array);
      }
      await skipTo(payloadEnd);
      const metaBytes = Buffer.alloc(sizes.meta);
      await readFully(fh, metaBytes, payloadEnd);
      hash.update(metaBytes);
      if (!hash.digest().equals(head.subarray(24, 56))) return { ok: false, reason: 'checksum mismatch' };
      let meta: EntryMeta;
      try {
        meta = JSON.parse(metaBytes.toString('utf8')) as EntryMeta;
      } catch {
        return { ok: false, reason: 'meta is not valid JSON' };
      }
      if (meta === null || typeof meta !== 'object' || meta.key !== key) {
        return { ok: false, reason: `entry records key ${JSON.stringify((meta as { key?: unknown } | null)?.key)}, not its file name` };
      }
      let value: unknown;
      try {
        layout.blobs.forEach((spec, i) => fromLittleEndian(spec, arrays[i]!));
        value = assemble(layout, arrays);
      } catch (err) {
        return { ok: false, reason: err instanceof Error ? err.message : String(err) };
      }
      return { ok: true, value, meta };
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** Move a corrupt entry to `<root>/corrupt/` (or delete it); says what happened. */
  async #moveAside(path: string, key: string): Promise<string> {
    const dir = join(this.root, CORRUPT_DIR);
    const dest = join(dir, `${key}.${Date.now()}.${randomBytes(4).toString('hex')}.bin`);
    try {
      await this.#fs.mkdir(dir, { recursive: true });
      await this.#fs.rename(path, dest);
      return `moved to ${dest}`;
    } catch {
      try {
        await this.#fs.unlink(path);
        return 'deleted';
      } catch (err) {
        return errorCode(err) === 'ENOENT' ? 'already gone' : `could not remove it (${err instanceof Error ? err.message : String(err)})`;
      }
    }
  }

  /**
   * Store `value` under `key` (replacing any entry), atomically. Throws a `CodecError` when the
   * value cannot be encoded, and a `CacheError` naming the path when the write fails; then no
   * temp file is left and other entries (and any old entry for this key) are untouched.
   */
  async put(key: string, value: unknown, meta: PutMeta = {}): Promise<void> {
    const path = this.entryPath(key);
    if (value === undefined) throw new TypeError('cache: cannot store undefined (get returns undefined for a miss)');
    const { chunks, byteLength } = encodeChunks(value);
    const metaBytes = Buffer.from(
      JSON.stringify({ key, ...(meta.kind !== undefined && { kind: meta.kind }), ...(meta.id !== undefined && { id: meta.id }), created: new Date().toISOString() }),
      'utf8',
    );
    if (metaBytes.length > MAX_META) throw new TypeError(`cache: meta of ${metaBytes.length} bytes is too large (at most ${MAX_META})`);
    const hash = createHash('sha256');
    for (const chunk of chunks) hash.update(chunk);
    hash.update(metaBytes);
    const head = Buffer.alloc(HEADER);
    MAGIC.copy(head, 0);
    head.writeUInt32LE(ENTRY_FORMAT_VERSION, 8);
    head.writeUInt32LE(metaBytes.length, 12);
    head.writeBigUInt64LE(BigInt(byteLength), 16);
    hash.digest().copy(head, 24);

    const dir = join(this.root, key.slice(0, 2));
    try {
      await this.#fs.mkdir(dir, { recursive: true });
    } catch (err) {
      throw new CacheError('cannot create directory', dir, err);
    }
    const temp = join(dir, `.${key}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await FILE_SLOTS.run(() => writeFileAtomic(path, [head, ...chunks, metaBytes], { fs: this.#fs, temp }));
    } catch (err) {
      throw new CacheError('cannot write entry', path, err);
    }
    this.#writes++;
  }

  /** Remove the entry of `key`; true if there was one. Throws a `CacheError` when it cannot be removed. */
  async delete(key: string): Promise<boolean> {
    const path = this.entryPath(key);
    try {
      await this.#fs.unlink(path);
      return true;
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw new CacheError('cannot delete entry', path, err);
    }
  }

  /**
   * Remove every entry, every moved-aside corrupt entry and every temp file older than
   * `tempMaxAgeMs` (younger ones may belong to a writer still running), then the directories
   * left empty (not `root` itself). Files this layout does not create are left alone.
   */
  async clear(): Promise<ClearResult> {
    return this.#sweep(true);
  }

  /** Remove only the temp files older than `tempMaxAgeMs`; returns how many. */
  async removeStaleTemp(): Promise<number> {
    return (await this.#sweep(false)).temp;
  }

  async #sweep(everything: boolean): Promise<ClearResult> {
    let entries = 0;
    let temp = 0;
    let corrupt = 0;
    const names = await this.#list(this.root);
    const now = Date.now();
    for (const name of names) {
      const dir = join(this.root, name);
      if (SHARD_DIR.test(name)) {
        for (const file of await this.#list(dir)) {
          const path = join(dir, file);
          if (everything && ENTRY_FILE.test(file)) {
            if (await this.#remove(path)) entries++;
          } else if (TEMP_FILE.test(file)) {
            const age = await this.#fs.stat(path).then((s) => now - s.mtimeMs, () => -1);
            if (age >= this.tempMaxAgeMs && (await this.#remove(path))) temp++;
          }
        }
      } else if (everything && name === CORRUPT_DIR) {
        for (const file of await this.#list(dir)) {
          if (CORRUPT_FILE.test(file) && (await this.#remove(join(dir, file)))) corrupt++;
        }
      } else if (everything && name === LOCKS_DIR) {
        // Step locks of processes that are gone; a live run's locks stay (it still computes).
        await new StepLocks(this.root).removeStale();
      } else {
        continue;
      }
      if (everything) await this.#fs.rmdir(dir).catch(() => undefined);
    }
    return { entries, temp, corrupt };
  }

  async #list(dir: string): Promise<string[]> {
    try {
      return await this.#fs.readdir(dir);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw new CacheError('cannot list directory', dir, err);
    }
  }

  async #remove(path: string): Promise<boolean> {
    try {
      await this.#fs.unlink(path);
      return true;
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return false;
      throw new CacheError('cannot remove', path, err);
    }
  }
}

/** Payload and meta lengths from a 64-byte header, or why the header is bad. */
function parseHeader(head: Buffer): { payload: number; meta: number } | string {
  if (!head.subarray(0, 8).equals(MAGIC)) return 'bad magic: not an hrank cache entry';
  const version = head.readUInt32LE(8);
  if (version !== ENTRY_FORMAT_VERSION) return `unsupported entry format version ${version} (this hrank reads ${ENTRY_FORMAT_VERSION})`;
  const meta = head.readUInt32LE(12);
  if (meta > MAX_META) return `meta length ${meta} is over the ${MAX_META}-byte limit`;
  const payload = head.readBigUInt64LE(16);
  if (payload > BigInt(Number.MAX_SAFE_INTEGER)) return `payload length ${payload} is impossible`;
  if (!head.subarray(56, 64).equals(Buffer.alloc(8))) return 'reserved header bytes are not zero';
  return { payload: Number(payload), meta };
}

async function readFully(fh: fsp.FileHandle, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await fh.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) throw Object.assign(new Error(`unexpected end of file at byte ${position + done}`), { code: 'EOF' });
    done += bytesRead;
  }
}

