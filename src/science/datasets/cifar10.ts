/**
 * CIFAR-10 binary batches (`data_batch_1.bin` ... `test_batch.bin`).
 *
 * Each file is a sequence of 3073-byte records: 1 label byte (0..9), then 3072 pixel bytes, the
 * 1024 red, then 1024 green, then 1024 blue values of a 32 x 32 image, each plane row-major.
 * Several files are concatenated in the order given. Like the paper's code, one colour channel
 * is kept (default 0, red), giving 32 x 32 grey images that go through the common preparation;
 * or (channels: 3) all three planes, channel-major, for conv layers with three input channels.
 */
import { readFileSync } from 'node:fs';
import type { Dataset } from '../types.js';
import { DatasetError, fileReadError } from './errors.js';
import { checkImageOptions, prepareImages, type DatasetOptions, type RawImages } from './prepare.js';

export const CIFAR10_SIDE = 32;
const PLANE = CIFAR10_SIDE * CIFAR10_SIDE;
/** Bytes per record: label + 3 planes. */
export const CIFAR10_RECORD = 1 + 3 * PLANE;

/** Colour channel kept: 0 red, 1 green, 2 blue. */
export type Cifar10Channel = 0 | 1 | 2;

/** Options of the CIFAR-10 source: the common options plus the files and the channel. */
export interface Cifar10Options extends DatasetOptions {
  /** Binary batch files (resolved by the caller), concatenated in this order. At least one. */
  readonly files: readonly string[];
  /** Channel kept: 0 red (default), 1 green, 2 blue. */
  readonly channel?: Cifar10Channel;
  /** 3: keep all three planes, channel-major (red, green, blue; `channel` is then unused). Default 1. */
  readonly channels?: 1 | 3;
  /** Name for descriptions and messages; default "cifar10 <first file> (+n more)". */
  readonly name?: string;
}

/** Reads and checks CIFAR-10 batch files, keeping one channel, records in file order. */
export function readCifar10(files: readonly string[], channel: Cifar10Channel = 0, channels: 1 | 3 = 1): RawImages {
  if (channels !== 1 && channels !== 3) throw new DatasetError('bad-option', `cifar10: channels must be 1 or 3, got ${String(channels)}`);
  if (!Array.isArray(files) || files.length === 0) {
    throw new DatasetError('bad-option', 'cifar10: files must list at least one binary batch file');
  }
  if (channel !== 0 && channel !== 1 && channel !== 2) {
    throw new DatasetError('bad-option', `cifar10: channel must be 0 (red), 1 (green) or 2 (blue), got ${String(channel)}`);
  }
  const buffers: Uint8Array[] = [];
  let count = 0;
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (cause) {
      throw fileReadError(file, cause);
    }
    if (bytes.length === 0 || bytes.length % CIFAR10_RECORD !== 0) {
      throw new DatasetError(
        'malformed-file',
        `${file}: size ${bytes.length} bytes is not a positive multiple of ${CIFAR10_RECORD} (one CIFAR-10 record: 1 label byte + 3072 pixel bytes)`,
        { file },
      );
    }
    const records = bytes.length / CIFAR10_RECORD;
    for (let r = 0; r < records; r++) {
      const label = bytes[r * CIFAR10_RECORD]!;
      if (label > 9) {
        throw new DatasetError(
          'malformed-file',
          `${file}: record ${r} (byte offset ${r * CIFAR10_RECORD}) has label ${label}, CIFAR-10 labels are 0..9`,
          { file },
        );
      }
    }
    buffers.push(bytes);
    count += records;
  }
  const pixels = new Uint8Array(count * channels * PLANE);
  const labels = new Uint8Array(count);
  let j = 0;
  for (const bytes of buffers) {
    const records = bytes.length / CIFAR10_RECORD;
    for (let r = 0; r < records; r++, j++) {
      const base = r * CIFAR10_RECORD;
      labels[j] = bytes[base]!;
      // Three planes: the record's 3072 pixel bytes as they are (already red, green, blue).
      const start = base + 1 + (channels === 3 ? 0 : channel * PLANE);
      pixels.set(bytes.subarray(start, start + channels * PLANE), j * channels * PLANE);
    }
  }
  return { pixels, count, height: CIFAR10_SIDE, width: CIFAR10_SIDE, labels, ...(channels === 3 ? { channels } : {}) };
}

/** The first `samples` CIFAR-10 images of classes < `classes`, one channel, prepared (see prepare.ts). */
export function loadCifar10(options: Cifar10Options): Dataset {
  const files = options.files;
  const channel = options.channel ?? 0;
  const defaultName =
    Array.isArray(files) && files.length > 0
      ? `cifar10 ${files[0]}${files.length > 1 ? ` (+${files.length - 1} more)` : ''}`
      : 'cifar10';
  const name = options.name ?? defaultName;
  checkImageOptions(options, name);
  const channels = options.channels ?? 1;
  const raw = readCifar10(files, channel, channels);
  const channelName = ['red', 'green', 'blue'][channel];
  return prepareImages(raw, options, {
    name: channels === 3 ? `${name}, red, green and blue channels` : `${name}, ${channelName} channel`,
    ...(files.length === 1 ? { file: files[0]! } : {}),
  });
}
