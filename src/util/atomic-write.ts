/**
 * The one atomic file write every writer of hrank uses (cache entries, results, reports, lock
 * files, exports): the bytes go to a temp file in the same folder, are fsynced, and the temp file is
 * renamed over the target, so a reader sees the old file, the new one, or none; never half of
 * one, even after a crash or a power cut. The folder is fsynced too (best effort), so the rename
 * itself survives.
 */
import { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** The file-system calls a write makes (the cache passes fault-injecting ones in tests). */
export type AtomicFs = Pick<typeof fsp, 'open' | 'rename' | 'unlink' | 'mkdir'>;

export interface AtomicWriteOptions {
  readonly fs?: AtomicFs;
  /** The temp file's path (default `<file>.<pid>.<random>.tmp`, unique per process and call). */
  readonly temp?: string;
}

/**
 * What a write takes: a text, bytes, or their chunks in order (an array, or any iterable such as a
 * generator, so a big file is written as it is made, never held whole).
 */
export type AtomicData = string | Uint8Array | Iterable<string | Uint8Array>;

/** Texts are gathered into writes of about this many characters. */
const WRITE_CHARS = 1 << 20;

/** The chunks of `data` as bytes, small texts gathered into one write. */
function* byteChunks(data: AtomicData): Generator<Uint8Array> {
  if (typeof data === 'string') {
    yield Buffer.from(data, 'utf8');
    return;
  }
  if (data instanceof Uint8Array) {
    yield data;
    return;
  }
  let pending: string[] = [];
  let chars = 0;
  for (const chunk of data) {
    if (typeof chunk !== 'string') {
      if (chars > 0) { yield Buffer.from(pending.join(''), 'utf8'); pending = []; chars = 0; }
      yield chunk;
      continue;
    }
    pending.push(chunk);
    chars += chunk.length;
    if (chars >= WRITE_CHARS) { yield Buffer.from(pending.join(''), 'utf8'); pending = []; chars = 0; }
  }
  if (chars > 0) yield Buffer.from(pending.join(''), 'utf8');
}

/**
 * Writes `data` (or its chunks, in order) to `file` atomically; throws the file system's error
 * (also one thrown while the chunks are made: the temp file is removed, the target left as it was).
 */
export async function writeFileAtomic(file: string, data: AtomicData, opts: AtomicWriteOptions = {}): Promise<void> {
  const fs = opts.fs ?? fsp;
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  // pid + random: two writes of one file in the same process and millisecond must not collide.
  const temp = opts.temp ?? `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fs.open(temp, 'wx');
    let position = 0;
    for (const chunk of byteChunks(data)) {
      await writeFully(fh, chunk, position);
      position += chunk.byteLength;
    }
    await fh.sync();
    const closing = fh;
    fh = undefined;
    await closing.close();
    await fs.rename(temp, file);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  }
  // Make the rename itself durable; best effort (not every platform can fsync a folder).
  try {
    const d = await fs.open(dir, 'r');
    await d.sync().finally(() => d.close());
  } catch {
    // ignored
  }
}

/** Writes all of `chunk` at `position` (a single write may be short). */
async function writeFully(fh: fsp.FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let off = 0;
  while (off < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off, position + off);
    if (bytesWritten === 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
    off += bytesWritten;
  }
}
