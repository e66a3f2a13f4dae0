/**
 * MNIST-format IDX files (MNIST, Fashion-MNIST, ...), plain or gzip-compressed.
 *
 * Images: big-endian header magic 0x00000803 (unsigned bytes, 3 dims), count, rows, cols, then
 * count * rows * cols pixel bytes. Labels: magic 0x00000801 (unsigned bytes, 1 dim), count, then
 * count label bytes. A file starting with the gzip magic bytes 1f 8b is decompressed first.
 * Every problem (missing file, too short, wrong magic, data length not matching the header,
 * image and label counts differing) is a DatasetError naming the file.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import type { Dataset } from '../types.js';
import { DatasetError, fileReadError } from './errors.js';
import { checkImageOptions, prepareImages, type DatasetOptions, type RawImages } from './prepare.js';

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;
const IMAGES_HEADER = 16;
const LABELS_HEADER = 8;
/** Bytes read by `inspectIdx` from the start of each file. */
const HEAD_BYTES = 64 * 1024;

/** Options of the IDX source: the common options plus the two files (resolved by the caller). */
export interface IdxOptions extends DatasetOptions {
  /** Images file (magic 0x00000803), plain or gzipped. */
  readonly images: string;
  /** Labels file (magic 0x00000801), plain or gzipped. */
  readonly labels: string;
  /** Name for descriptions and messages; default "idx <images path>". */
  readonly name?: string;
}

/** What the headers of an images/labels pair say. */
export interface IdxHeader {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
}

function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzip(file: string, bytes: Uint8Array, partial: boolean): Uint8Array {
  try {
    return partial ? gunzipSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH }) : gunzipSync(bytes);
  } catch (cause) {
    throw new DatasetError('malformed-file', `${file}: corrupt gzip data (${(cause as Error).message})`, { file, cause });
  }
}

/**
 * The whole file, decompressed when it is gzipped. The last few files read are kept (by path,
 * checked against size, mtime and inode): a sample-size sweep loads the same file once per sample
 * size, and reading (or gunzipping) it each time costs more than preparing the samples.
 * Callers only read the bytes.
 */
function readWhole(file: string): { bytes: Uint8Array; gzip: boolean } {
  let st: { size: number; mtimeMs: number; ino: number } | undefined;
  try {
    st = statSync(file);
  } catch {
    st = undefined; // the read below reports the problem
  }
  const stamp = st ? `${st.size}:${st.mtimeMs}:${st.ino}` : undefined;
  const hit = recent.get(file);
  if (hit && stamp !== undefined && hit.stamp === stamp) return hit.value;
  let raw: Uint8Array;
  try {
    raw = readFileSync(file);
  } catch (cause) {
    throw fileReadError(file, cause);
  }
  const value = isGzip(raw) ? { bytes: gunzip(file, raw, false), gzip: true } : { bytes: raw, gzip: false };
  if (stamp !== undefined) {
    recent.delete(file);
    recent.set(file, { stamp, value });
    while (recent.size > RECENT_FILES) recent.delete(recent.keys().next().value!);
  }
  return value;
}

const RECENT_FILES = 4;
const recent = new Map<string, { stamp: string; value: { bytes: Uint8Array; gzip: boolean } }>();

function u32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, false);
}

function gz(gzip: boolean): string {
  return gzip ? ' (after gunzip)' : '';
}

function checkMagic(file: string, head: Uint8Array, expected: number, kind: 'images' | 'labels', gzip: boolean): void {
  const magic = u32(head, 0);
  if (magic === expected) return;
  const other = kind === 'images' ? IDX_LABELS_MAGIC : IDX_IMAGES_MAGIC;
  const hint = magic === other ? `: this is an IDX ${kind === 'images' ? 'labels' : 'images'} file` : '';
  throw new DatasetError(
    'malformed-file',
    `${file}: wrong magic number ${hex32(magic)}${gz(gzip)}, expected ${hex32(expected)} for IDX ${kind}${hint}`,
    { file },
  );
}

/** Parses and checks an images header given the first bytes and the total (decompressed) length. */
function imagesHeader(file: string, head: Uint8Array, total: number, gzip: boolean): IdxHeader {
  if (total >= 4) checkMagic(file, head, IDX_IMAGES_MAGIC, 'images', gzip);
  if (total < IMAGES_HEADER) {
    throw new DatasetError(
      'malformed-file',
      `${file}: too short${gz(gzip)} (${total} bytes), an IDX images file starts with a ${IMAGES_HEADER}-byte header`,
      { file },
    );
  }
  const count = u32(head, 4);
  const rows = u32(head, 8);
  const cols = u32(head, 12);
  const expected = count * rows * cols;
  if (total - IMAGES_HEADER !== expected) {
    throw new DatasetError(
      'malformed-file',
      `${file}: header says ${count} images of ${rows}x${cols} (${expected} data bytes) ` +
        `but the file has ${total - IMAGES_HEADER} data bytes${gz(gzip)}`,
      { file },
    );
  }
  return { count, rows, cols };
}

/** Parses and checks a labels header; returns the count. */
function labelsHeader(file: string, head: Uint8Array, total: number, gzip: boolean): number {
  if (total >= 4) checkMagic(file, head, IDX_LABELS_MAGIC, 'labels', gzip);
  if (total < LABELS_HEADER) {
    throw new DatasetError(
      'malformed-file',
      `${file}: too short${gz(gzip)} (${total} bytes), an IDX labels file starts with an ${LABELS_HEADER}-byte header`,
      { file },
    );
  }
  const count = u32(head, 4);
  if (total - LABELS_HEADER !== count) {
    throw new DatasetError(
      'malformed-file',
      `${file}: header says ${count} labels but the file has ${total - LABELS_HEADER} data bytes${gz(gzip)}`,
      { file },
    );
  }
  return count;
}

function checkCounts(imagesPath: string, images: number, labelsPath: string, labels: number): void {
  if (images !== labels) {
    throw new DatasetError(
      'malformed-file',
      `${imagesPath} has ${images} images but ${labelsPath} has ${labels} labels`,
      { file: labelsPath },
    );
  }
}

/** Reads and checks an images/labels pair in full. */
export function readIdx(imagesPath: string, labelsPath: string): RawImages {
  const img = readWhole(imagesPath);
  const { count, rows, cols } = imagesHeader(imagesPath, img.bytes, img.bytes.length, img.gzip);
  const lab = readWhole(labelsPath);
  const labelCount = labelsHeader(labelsPath, lab.bytes, lab.bytes.length, lab.gzip);
  checkCounts(imagesPath, count, labelsPath, labelCount);
  // Plain Uint8Array views (not Buffers) over the data after the headers.
  const view = (b: Uint8Array, offset: number): Uint8Array => new Uint8Array(b.buffer, b.byteOffset + offset, b.length - offset);
  return { pixels: view(img.bytes, IMAGES_HEADER), count, height: rows, width: cols, labels: view(lab.bytes, LABELS_HEADER) };
}

/**
 * The first bytes of a file (decompressed if gzipped) and its total decompressed length, reading
 * little: the size of a plain file comes from fstat; of a gzip file from its trailer (ISIZE, the
 * length mod 2^32), confirmed by full decompression only when it disagrees with `expect`.
 */
function readHead(file: string, expect: (head: Uint8Array) => number | undefined): { head: Uint8Array; total: number; gzip: boolean } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (cause) {
    throw fileReadError(file, cause);
  }
  try {
    let size: number;
    let chunk: Uint8Array;
    const tail = new Uint8Array(4);
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      size = st.size;
      chunk = new Uint8Array(Math.min(size, HEAD_BYTES));
      const got = readSync(fd, chunk, 0, chunk.length, 0);
      chunk = chunk.subarray(0, got);
      if (size >= 4) readSync(fd, tail, 0, 4, size - 4);
    } catch (cause) {
      throw fileReadError(file, cause);
    }
    if (!isGzip(chunk)) return { head: chunk, total: size, gzip: false };
    if (chunk.length === size) {
      const all = gunzip(file, chunk, false);
      return { head: all, total: all.length, gzip: true };
    }
    const head = gunzip(file, chunk, true);
    const isize = new DataView(tail.buffer).getUint32(0, true);
    const wanted = expect(head);
    if (wanted !== undefined && wanted % 2 ** 32 === isize) return { head, total: wanted, gzip: true };
    // Disagreement (or a header we could not read): decompress everything to know for sure.
    const all = readWhole(file).bytes;
    return { head: all, total: all.length, gzip: true };
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks an images/labels pair from their headers only (plus file sizes; gzip trailers), without
 * reading the data: magic numbers, data lengths against the headers, equal counts.
 */
export function inspectIdx(imagesPath: string, labelsPath: string): IdxHeader {
  const img = readHead(imagesPath, (h) =>
    h.length >= IMAGES_HEADER ? IMAGES_HEADER + u32(h, 4) * u32(h, 8) * u32(h, 12) : undefined,
  );
  const header = imagesHeader(imagesPath, img.head, img.total, img.gzip);
  const lab = readHead(labelsPath, (h) => (h.length >= LABELS_HEADER ? LABELS_HEADER + u32(h, 4) : undefined));
  const labelCount = labelsHeader(labelsPath, lab.head, lab.total, lab.gzip);
  checkCounts(imagesPath, header.count, labelsPath, labelCount);
  return header;
}

/** The magic number of an IDX file (plain or gzipped), or undefined when it has fewer than 4 bytes. */
export function idxMagic(file: string): number | undefined {
  const { head } = readHead(file, () => 4);
  return head.length >= 4 ? u32(head, 0) : undefined;
}

/** The first `samples` images of classes < `classes` from an IDX pair, prepared (see prepare.ts). */
export function loadIdx(options: IdxOptions): Dataset {
  const name = options.name ?? `idx ${options.images}`;
  checkImageOptions(options, name);
  return prepareImages(readIdx(options.images, options.labels), options, { name, file: options.images });
}
