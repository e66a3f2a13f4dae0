/**
 * The hostile-input corpus (test/fixtures/bad/): copied to a temp folder, where the binary
 * members (non-UTF-8 pipeline files, dataset files of every broken kind) are generated, so the
 * repository holds text only. `{{DATA}}` in a pipeline file becomes the absolute path of the
 * copy's data folder (absolute dataset paths).
 */
import { gzipSync } from 'node:zlib';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../cli/helpers.js';

export const CORPUS = path.join(ROOT, 'test/fixtures/bad');

/** What a corpus file must produce (test/fixtures/bad/expected.json). */
export interface Expected {
  /** A regular expression the message must match. */
  readonly message: string;
  /** The problem's code (yaml-syntax, bad-value, ...). */
  readonly code?: string;
  /** `line:col` of the problem. */
  readonly at?: string;
  /** Exit code of `hrank validate` (default 2). */
  readonly exit?: number;
}

export function expectations(): Record<string, Expected> {
  const raw = JSON.parse(readFileSync(path.join(CORPUS, 'expected.json'), 'utf8')) as Record<string, Expected | string>;
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('$')).map(([k, v]) => [k, v as Expected]));
}

const u32be = (...values: number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v, 4 * i));
  return b;
};

/** IDX images: count images of rows x cols. */
export function idxImages(count: number, rows = 4, cols = 4): Buffer {
  return Buffer.concat([u32be(0x803, count, rows, cols), Buffer.alloc(count * rows * cols, 7)]);
}

/** IDX labels 0, 1, 2, ... */
export function idxLabels(count: number): Buffer {
  return Buffer.concat([u32be(0x801, count), Buffer.from(Array.from({ length: count }, (_, i) => i % 10))]);
}

/** Pipeline files generated at test time (their bytes are the point). */
const GENERATED_PIPELINES: Record<string, () => Buffer> = {
  'non-utf8.yaml': () =>
    Buffer.concat([Buffer.from('version: 1\nname: bad\ndescription: caf'), Buffer.from([0xe9, 0x20, 0xff]), Buffer.from('\ndataset:\n  source: mnist\n  samples: 10\nmodel:\n  hidden: [3]\n')]),
  'utf16.yaml': () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('version: 1\nname: bad\n', 'utf16le')]),
  'nul-bytes.yaml': () => Buffer.from('version: 1\nname: bad\x00\x00\ndataset:\n  source: mnist\n  samples: 10\nmodel:\n  hidden: [3]\n', 'latin1'),
  'binary-garbage.yaml': () => {
    // A deterministic pseudo-random byte soup (what `hrank validate picture.png` would meet).
    const b = Buffer.alloc(4096);
    let s = 12345;
    for (let i = 0; i < b.length; i++) b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    b.write('\x89PNG', 0, 'latin1');
    return b;
  },
  'huge-file.yaml': () => Buffer.from(`version: 1\nname: bad\ndescription: "${'x'.repeat(3 * 1024 * 1024)}"\n`),
};

/** Dataset files the corpus names, under data/. */
const DATA_FILES: Record<string, () => Buffer> = {
  'images.idx': () => idxImages(5),
  'labels.idx': () => idxLabels(5),
  'labels-3.idx': () => idxLabels(3),
  'empty.idx': () => Buffer.alloc(0),
  'empty.bin': () => Buffer.alloc(0),
  'text.idx': () => Buffer.from('these are not the images you are looking for\n'),
  'truncated-images.idx': () => idxImages(5).subarray(0, 16 + 40),
  'corrupt.idx.gz': () => {
    const gz = gzipSync(idxImages(5));
    gz.fill(0x55, 12, 30);
    return gz;
  },
  'cifar-ok.bin': () => Buffer.alloc(3073 * 2, 1),
  'cifar-short.bin': () => Buffer.alloc(3073 + 100, 1),
  'cifar-bad-label.bin': () => {
    const b = Buffer.alloc(3073 * 2, 1);
    b[3073] = 200;
    return b;
  },
};

/** A temp copy of the corpus with its generated members; returns the folder. */
export function materializeCorpus(dir: string): string {
  cpSync(CORPUS, dir, { recursive: true });
  const data = path.join(dir, 'data');
  mkdirSync(data, { recursive: true });
  for (const [name, make] of Object.entries(DATA_FILES)) writeFileSync(path.join(data, name), make());
  for (const [name, make] of Object.entries(GENERATED_PIPELINES)) writeFileSync(path.join(dir, name), make());
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.yaml') || name in GENERATED_PIPELINES) continue;
    const file = path.join(dir, name);
    const text = readFileSync(file, 'utf8');
    if (text.includes('{{DATA}}')) writeFileSync(file, text.replaceAll('{{DATA}}', data));
  }
  return dir;
}

/** Every pipeline file of the corpus (committed and generated), sorted. */
export function corpusFiles(): string[] {
  const committed = readdirSync(CORPUS).filter((f) => f.endsWith('.yaml'));
  return [...new Set([...committed, ...Object.keys(GENERATED_PIPELINES)])].sort();
}
