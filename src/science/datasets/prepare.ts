/**
 * The preparation shared by every image source, as the paper's code does it:
 *
 * 1. keep only the samples whose label is < `classes` (with 2 classes: digits 0 and 1);
 * 2. take the FIRST `samples` of them in file order (no shuffle);
 * 3. pixel bytes / 255;
 * 4. downsample each image to s x s by nearest neighbour with PyTorch's
 *    `interpolate(mode='nearest')` rule: output index i reads source index floor(i * in / s),
 *    rows and columns independently (no resize: the native size is kept);
 * 5. flatten row-major (d = s * s);
 * 6. targets: one-hot N x K, or in the 2-class +-1 mode a single column with -1 for digit 0
 *    and +1 for digit 1.
 */
import type { Dataset } from '../types.js';
import { DatasetError } from './errors.js';

/** How targets are coded when classes == 2: one output with -1/+1 (default), or two one-hot outputs. */
export type TwoClassTargets = 'pm1' | 'onehot';

/** Options common to every source. */
export interface DatasetOptions {
  /** Number of samples N: the first N (in file order) whose label is < `classes`. Integer >= 1. */
  readonly samples: number;
  /** Number of classes kept, labels 0..classes-1. Integer in 2..10 for image sources. */
  readonly classes: number;
  /** Side s of the downsampled s x s image (nearest neighbour). Omitted: keep the native size. */
  readonly resize?: number;
  /** Target coding when classes == 2. Default 'pm1' (one output, -1 for class 0, +1 for class 1). */
  readonly twoClassTargets?: TwoClassTargets;
}

/** Raw 8-bit images, as read from a file, before any preparation. */
export interface RawImages {
  /**
   * count * channels * height * width bytes; image i is pixels[i*c*h*w .. (i+1)*c*h*w), its
   * planes one after another (channel-major), each row-major.
   */
  readonly pixels: Uint8Array;
  /** Planes per image (default 1). */
  readonly channels?: number;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** One label per image. */
  readonly labels: Uint8Array;
}

/** Where the images came from, for messages and the dataset description. */
export interface SourceInfo {
  /** Short human name, e.g. "mnist (embedded)" or "idx data/train-images-idx3-ubyte". */
  readonly name: string;
  /** The file to attach to errors about the data, if any. */
  readonly file?: string;
}

/** Largest number of classes an image source can have (labels are digits 0..9). */
export const MAX_IMAGE_CLASSES = 10;

function describeValue(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : `${String(v)} (${typeof v})`;
}

/** Checks samples >= 1 (integer). */
export function checkSamples(samples: unknown, source: string): asserts samples is number {
  if (typeof samples !== 'number' || !Number.isSafeInteger(samples) || samples < 1) {
    throw new DatasetError('bad-option', `${source}: samples must be an integer >= 1, got ${describeValue(samples)}`);
  }
}

/** Checks classes is an integer in [2, max]. */
export function checkClasses(classes: unknown, source: string, max: number = MAX_IMAGE_CLASSES): asserts classes is number {
  if (typeof classes !== 'number' || !Number.isSafeInteger(classes) || classes < 2 || classes > max) {
    const range = Number.isFinite(max) ? `in 2..${max}` : '>= 2';
    throw new DatasetError('bad-option', `${source}: classes must be an integer ${range}, got ${describeValue(classes)}`);
  }
}

/** Checks twoClassTargets is 'pm1', 'onehot' or undefined. */
export function checkTwoClassTargets(v: unknown, source: string): asserts v is TwoClassTargets | undefined {
  if (v !== undefined && v !== 'pm1' && v !== 'onehot') {
    throw new DatasetError('bad-option', `${source}: twoClassTargets must be "pm1" or "onehot", got ${describeValue(v)}`);
  }
}

/**
 * Checks the options that do not depend on the data (call before reading files, so cheap
 * mistakes are reported first). `resize` is checked against the image size in `prepareImages`.
 */
export function checkImageOptions(options: DatasetOptions, source: string): void {
  checkSamples(options.samples, source);
  checkClasses(options.classes, source);
  checkTwoClassTargets(options.twoClassTargets, source);
  const s = options.resize;
  if (s !== undefined && (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 1)) {
    throw new DatasetError('bad-option', `${source}: resize must be a positive integer, got ${describeValue(s)}`);
  }
}

/**
 * Source indices of nearest-neighbour downsampling from `size` to `out` (PyTorch 'nearest'):
 * index i reads floor(i * size / out), computed exactly in integers.
 * E.g. 28 -> 8 gives 0, 3, 7, 10, 14, 17, 21, 24.
 */
export function nearestIndices(size: number, out: number): Int32Array {
  const idx = new Int32Array(out);
  for (let i = 0; i < out; i++) idx[i] = Math.floor((i * size) / out);
  return idx;
}

/**
 * Targets for the given labels (each < classes): one-hot N x classes, or, when classes == 2 and
 * twoClassTargets is 'pm1' (the default), N x 1 with -1 for label 0 and +1 for label 1.
 */
export function buildTargets(
  labels: Int32Array,
  classes: number,
  twoClassTargets: TwoClassTargets = 'pm1',
): { y: Float64Array; k: number } {
  const n = labels.length;
  if (classes === 2 && twoClassTargets === 'pm1') {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) y[i] = labels[i] === 0 ? -1 : 1;
    return { y, k: 1 };
  }
  const y = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) y[i * classes + labels[i]!] = 1;
  return { y, k: classes };
}

/** "one-hot targets" or "targets -1/+1" for descriptions. */
export function describeTargets(classes: number, twoClassTargets: TwoClassTargets = 'pm1'): string {
  return classes === 2 && twoClassTargets === 'pm1' ? 'targets -1 (class 0) / +1 (class 1)' : 'one-hot targets';
}

/** Runs the common preparation (see the module comment) on raw images. */
export function prepareImages(raw: RawImages, options: DatasetOptions, source: SourceInfo): Dataset {
  const name = source.name;
  checkImageOptions(options, name);
  const { samples, classes, twoClassTargets = 'pm1' } = options;
  const { pixels, count, height, width, labels: rawLabels } = raw;
  const planes = raw.channels ?? 1;
  if (pixels.length !== count * planes * height * width || rawLabels.length < count) {
    throw new RangeError(
      `prepareImages: ${count} images of ${planes === 1 ? '' : `${planes} x `}${height}x${width} need ${count * planes * height * width} pixels and ${count} labels, ` +
        `got ${pixels.length} and ${rawLabels.length}`,
    );
  }
  const fileOpt = source.file === undefined ? {} : { file: source.file };

  const sh = options.resize ?? height;
  const sw = options.resize ?? width;
  if (sh > height || sw > width) {
    throw new DatasetError(
      'bad-option',
      `${name}: resize ${options.resize} is larger than the ${height}x${width} images (downsampling only)`,
      fileOpt,
    );
  }

  // Steps 1-2: the first `samples` indices with label < classes, in file order.
  const chosen = new Int32Array(Math.min(samples, count)); // no huge allocation before the check
  let n = 0;
  for (let i = 0; i < count && n < samples; i++) {
    if (rawLabels[i]! < classes) chosen[n++] = i;
  }
  if (n < samples) {
    // The loop above scanned every image, so n is the number available.
    throw new DatasetError(
      'too-few-samples',
      `${name} has ${n} samples of classes < ${classes}, asked for ${samples}`,
      fileOpt,
    );
  }

  // Steps 3-5: scale, downsample, flatten (several planes: each in turn, channel-major, as
  // PyTorch flattens NCHW; one plane is the same loop run once).
  const rows = nearestIndices(height, sh);
  const cols = nearestIndices(width, sw);
  const plane = sh * sw;
  const d = planes * plane;
  const hw = height * width;
  const x = new Float64Array(samples * d);
  const labels = new Int32Array(samples);
  for (let j = 0; j < samples; j++) {
    labels[j] = rawLabels[chosen[j]!]!;
    for (let p = 0; p < planes; p++) {
      const src = (chosen[j]! * planes + p) * hw;
      const dst = j * d + p * plane;
      for (let r = 0; r < sh; r++) {
        const rowBase = src + rows[r]! * width;
        const outBase = dst + r * sw;
        for (let c = 0; c < sw; c++) x[outBase + c] = pixels[rowBase + cols[c]!]! / 255;
      }
    }
  }

  // Step 6: targets.
  const { y, k } = buildTargets(labels, classes, twoClassTargets);
  const size = `${sh === height && sw === width ? `${sw}x${sh} (native)` : `${sw}x${sh} (from ${width}x${height})`}${planes === 1 ? '' : ` x ${planes} channels`}`;
  const description = `${name}, ${samples} samples of classes 0-${classes - 1}, ${size}, ${describeTargets(classes, twoClassTargets)}`;
  return { x, y, labels, n: samples, d, k, classes, description };
}
