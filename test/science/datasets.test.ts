import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CIFAR10_RECORD,
  DatasetError,
  embeddedMnist,
  inspectIdx,
  loadDataset,
  nearestIndices,
  prepareImages,
  readCifar10,
  readIdx,
  type RawImages,
} from '../../src/science/datasets/index.js';

const dir = mkdtempSync(join(tmpdir(), 'hrank-datasets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pseudo-random bytes (no Math.random in tests). */
function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

function idxImages(count: number, rows: number, cols: number, pixels: Uint8Array, headerCount = count): Uint8Array {
  const out = new Uint8Array(16 + pixels.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x803);
  v.setUint32(4, headerCount);
  v.setUint32(8, rows);
  v.setUint32(12, cols);
  out.set(pixels, 16);
  return out;
}

function idxLabels(labels: Uint8Array, headerCount = labels.length): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x801);
  v.setUint32(4, headerCount);
  out.set(labels, 8);
  return out;
}

function write(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** Asserts fn throws a DatasetError whose message names `file` (and matches `pattern`). */
function throwsNaming(fn: () => unknown, file: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DatasetError, `expected a DatasetError, got ${String(e)}`);
    assert.ok(e.message.includes(file), `message should name ${file}: ${e.message}`);
    assert.equal(e.file, file);
    assert.match(e.message, pattern);
    return true;
  });
}

function raw(labels: number[], height: number, width: number, pixel: (i: number, r: number, c: number) => number): RawImages {
  const count = labels.length;
  const pixels = new Uint8Array(count * height * width);
  for (let i = 0; i < count; i++)
    for (let r = 0; r < height; r++)
      for (let c = 0; c < width; c++) pixels[(i * height + r) * width + c] = pixel(i, r, c);
  return { pixels, count, height, width, labels: Uint8Array.from(labels) };
}

// ---------------------------------------------------------------- common preparation

test('nearest-neighbour downsampling uses floor(i * in / s) for rows and columns', () => {
  assert.deepEqual(Array.from(nearestIndices(28, 8)), [0, 3, 7, 10, 14, 17, 21, 24]);
  assert.deepEqual(Array.from(nearestIndices(28, 4)), [0, 7, 14, 21]);
  assert.deepEqual(Array.from(nearestIndices(5, 5)), [0, 1, 2, 3, 4]);
  // Image 0 encodes the row (pixel = 9 r), image 1 the column (pixel = 9 c).
  const images = raw([0, 1], 28, 28, (i, r, c) => 9 * (i === 0 ? r : c));
  const ds = prepareImages(images, { samples: 2, classes: 10, resize: 8 }, { name: 'synthetic' });
  assert.equal(ds.d, 64);
  const picked = [0, 3, 7, 10, 14, 17, 21, 24];
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 8; c++) {
      assert.equal(ds.x[r * 8 + c], (9 * picked[r]!) / 255, `row of (${r},${c})`);
      assert.equal(ds.x[64 + r * 8 + c], (9 * picked[c]!) / 255, `column of (${r},${c})`);
    }
  }
  // Non-square: 6 rows x 10 columns to 4 x 4 picks rows 0,1,3,4 and columns 0,2,5,7.
  const rect = prepareImages(raw([0], 6, 10, (_i, r, c) => r * 10 + c), { samples: 1, classes: 2, resize: 4 }, { name: 'rect' });
  const want = [0, 1, 3, 4].flatMap((r) => [0, 2, 5, 7].map((c) => (r * 10 + c) / 255));
  assert.deepEqual(Array.from(rect.x), want);
});

test('without resize the native size is kept and pixels are bytes / 255, row-major', () => {
  const ds = prepareImages(raw([1], 2, 3, (_i, r, c) => [0, 51, 255, 1, 2, 128][r * 3 + c]!), { samples: 1, classes: 10 }, { name: 'tiny' });
  assert.equal(ds.d, 6);
  assert.deepEqual(Array.from(ds.x), [0, 0.2, 1, 1 / 255, 2 / 255, 128 / 255]);
});

test('the FIRST N samples are taken in file order, without shuffling', () => {
  const labels = [3, 0, 1, 2, 0, 7, 5, 9];
  const ds = prepareImages(raw(labels, 1, 1, (i) => 10 * i), { samples: 5, classes: 10 }, { name: 'order' });
  assert.deepEqual(Array.from(ds.labels), [3, 0, 1, 2, 0]);
  assert.deepEqual(Array.from(ds.x), [0, 10, 20, 30, 40].map((v) => v / 255));
  assert.equal(ds.n, 5);
});

test('classes < 10 keeps only labels below classes (2 classes: digits 0 and 1)', () => {
  const labels = [5, 2, 9, 0, 1, 3, 1, 0];
  const three = prepareImages(raw(labels, 1, 1, (i) => i), { samples: 5, classes: 3 }, { name: 'f' });
  assert.deepEqual(Array.from(three.labels), [2, 0, 1, 1, 0]);
  assert.deepEqual(Array.from(three.x), [1, 3, 4, 6, 7].map((v) => v / 255));
  const two = prepareImages(raw(labels, 1, 1, (i) => i), { samples: 4, classes: 2 }, { name: 'f' });
  assert.deepEqual(Array.from(two.labels), [0, 1, 1, 0]);
  assert.deepEqual(Array.from(two.x), [3, 4, 6, 7].map((v) => v / 255));
});

test('targets: one-hot N x K; 2 classes give one +-1 column by default, or two one-hot columns', () => {
  const labels = [2, 0, 1, 1];
  const oneHot = prepareImages(raw(labels, 1, 1, () => 0), { samples: 4, classes: 3 }, { name: 't' });
  assert.equal(oneHot.k, 3);
  assert.equal(oneHot.classes, 3);
  assert.deepEqual(Array.from(oneHot.y), [0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0]);

  const pm1 = prepareImages(raw(labels, 1, 1, () => 0), { samples: 3, classes: 2 }, { name: 't' });
  assert.equal(pm1.k, 1);
  assert.equal(pm1.classes, 2);
  assert.deepEqual(Array.from(pm1.y), [-1, 1, 1]);
  assert.deepEqual(Array.from(pm1.labels), [0, 1, 1]);

  const two = prepareImages(raw(labels, 1, 1, () => 0), { samples: 3, classes: 2, twoClassTargets: 'onehot' }, { name: 't' });
  assert.equal(two.k, 2);
  assert.deepEqual(Array.from(two.y), [1, 0, 0, 1, 0, 1]);
  assert.match(pm1.description, /3 samples/);
});

test('too many samples, resize, samples and classes out of range throw DatasetError', () => {
  const images = raw([0, 1, 2, 1, 5], 4, 4, () => 0);
  const src = { name: 'synthetic', file: '/data/x.idx' };
  const bad = (o: Parameters<typeof prepareImages>[1], re: RegExp): void =>
    assert.throws(() => prepareImages(images, o, src), (e: unknown) => e instanceof DatasetError && re.test(e.message));
  assert.throws(
    () => prepareImages(images, { samples: 4, classes: 2 }, src),
    (e: unknown) =>
      e instanceof DatasetError &&
      e.message === 'synthetic has 3 samples of classes < 2, asked for 4' &&
      e.file === '/data/x.idx' &&
      e.code === 'too-few-samples',
  );
  assert.equal(prepareImages(images, { samples: 3, classes: 2 }, src).n, 3);
  bad({ samples: 1, classes: 10, resize: 5 }, /resize 5 is larger than the 4x4 images/);
  bad({ samples: 1, classes: 10, resize: 0 }, /resize must be a positive integer/);
  bad({ samples: 1, classes: 10, resize: 2.5 }, /resize must be a positive integer/);
  bad({ samples: 0, classes: 10 }, /samples must be an integer >= 1/);
  bad({ samples: 1.5, classes: 10 }, /samples must be an integer >= 1/);
  bad({ samples: 1, classes: 1 }, /classes must be an integer in 2\.\.10/);
  bad({ samples: 1, classes: 11 }, /classes must be an integer in 2\.\.10/);
  bad({ samples: 1, classes: 2, twoClassTargets: 'x' as 'pm1' }, /twoClassTargets/);
  assert.equal(prepareImages(images, { samples: 1, classes: 10, resize: 4 }, src).d, 16);
});

// ---------------------------------------------------------------- IDX

const idxCount = 7, idxRows = 5, idxCols = 4;
const idxPixels = bytesOf(idxCount * idxRows * idxCols, 11);
const idxLabelBytes = Uint8Array.from([3, 1, 0, 9, 1, 0, 2]);

test('IDX round trip, plain and gzipped', () => {
  for (const gz of [false, true]) {
    const enc = (b: Uint8Array): Uint8Array => (gz ? gzipSync(b) : b);
    const ext = gz ? '.gz' : '';
    const images = write(`rt-images${ext}`, enc(idxImages(idxCount, idxRows, idxCols, idxPixels)));
    const labels = write(`rt-labels${ext}`, enc(idxLabels(idxLabelBytes)));
    if (gz) assert.deepEqual(Array.from(readFileSync(images).subarray(0, 2)), [0x1f, 0x8b]);

    const r = readIdx(images, labels);
    assert.equal(r.count, idxCount);
    assert.equal(r.height, idxRows);
    assert.equal(r.width, idxCols);
    assert.deepEqual(Array.from(r.pixels), Array.from(idxPixels));
    assert.deepEqual(Array.from(r.labels), Array.from(idxLabelBytes));
    assert.deepEqual(inspectIdx(images, labels), { count: idxCount, rows: idxRows, cols: idxCols });

    const ds = loadDataset({ source: 'idx', images, labels, samples: 3, classes: 2 });
    assert.deepEqual(Array.from(ds.labels), [1, 0, 1]);
    assert.deepEqual(Array.from(ds.y), [1, -1, 1]);
    assert.equal(ds.d, idxRows * idxCols);
    const hw = idxRows * idxCols;
    for (const [j, i] of [1, 2, 4].entries()) {
      assert.deepEqual(Array.from(ds.x.subarray(j * hw, (j + 1) * hw)), Array.from(idxPixels.subarray(i * hw, (i + 1) * hw)).map((v) => v / 255));
    }
    assert.ok(ds.description.includes(images), ds.description);
  }
});

test('malformed IDX files give DatasetErrors naming the file (read and inspect)', () => {
  const goodImages = write('ok-images', idxImages(idxCount, idxRows, idxCols, idxPixels));
  const goodLabels = write('ok-labels', idxLabels(idxLabelBytes));
  const both = (images: string, labels: string, file: string, re: RegExp): void => {
    throwsNaming(() => readIdx(images, labels), file, re);
    throwsNaming(() => inspectIdx(images, labels), file, re);
    throwsNaming(() => loadDataset({ source: 'idx', images, labels, samples: 1, classes: 10 }), file, re);
  };

  const missing = join(dir, 'does-not-exist');
  both(missing, goodLabels, missing, /file not found/);
  both(goodImages, missing, missing, /file not found/);
  both(dir, goodLabels, dir, /directory/);

  const shortImages = write('short-images', idxImages(idxCount, idxRows, idxCols, idxPixels).subarray(0, 10));
  both(shortImages, goodLabels, shortImages, /too short \(10 bytes\)/);
  const shortLabels = write('short-labels', Uint8Array.from([0, 0]));
  both(goodImages, shortLabels, shortLabels, /too short \(2 bytes\)/);

  both(goodLabels, goodImages, goodLabels, /wrong magic number 0x00000801, expected 0x00000803.*labels file/);
  const badMagic = idxImages(idxCount, idxRows, idxCols, idxPixels);
  badMagic[3] = 0x04;
  const badMagicFile = write('bad-magic', badMagic);
  both(badMagicFile, goodLabels, badMagicFile, /wrong magic number 0x00000804/);

  const truncated = write('truncated-images', idxImages(idxCount, idxRows, idxCols, idxPixels).subarray(0, 16 + 139));
  both(truncated, goodLabels, truncated, /header says 7 images of 5x4 \(140 data bytes\) but the file has 139 data bytes/);
  const longer = write('long-labels', idxLabels(Uint8Array.from([...idxLabelBytes, 1]), idxCount));
  both(goodImages, longer, longer, /header says 7 labels but the file has 8 data bytes/);

  const fewerLabels = write('fewer-labels', idxLabels(idxLabelBytes.subarray(0, 6)));
  both(goodImages, fewerLabels, fewerLabels, /has 7 images but .* has 6 labels/);

  const corruptGz = write('corrupt.gz', Uint8Array.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6]));
  both(corruptGz, goodLabels, corruptGz, /corrupt gzip data/);
  const gzTruncated = write('truncated-images.gz', gzipSync(idxImages(idxCount, idxRows, idxCols, idxPixels).subarray(0, 100)));
  both(gzTruncated, goodLabels, gzTruncated, /but the file has 84 data bytes \(after gunzip\)/);

  // Too few samples after filtering names the images file.
  throwsNaming(
    () => loadDataset({ source: 'idx', images: goodImages, labels: goodLabels, samples: 5, classes: 2 }),
    goodImages,
    /has 4 samples of classes < 2, asked for 5/,
  );
});

test('inspectIdx reads only the head of a large gzip file and still checks its length', () => {
  // Random bytes barely compress, so the .gz is larger than the 64 KiB head that inspectIdx reads.
  const count = 100;
  const pixels = bytesOf(count * 28 * 28, 5);
  const labels = write('big-labels', idxLabels(bytesOf(count, 9).map((b) => b % 10)));
  const good = write('big-images.gz', gzipSync(idxImages(count, 28, 28, pixels)));
  assert.ok(readFileSync(good).length > 64 * 1024);
  assert.deepEqual(inspectIdx(good, labels), { count, rows: 28, cols: 28 });
  const lying = write('big-lying.gz', gzipSync(idxImages(count, 28, 28, pixels, count + 1)));
  throwsNaming(() => inspectIdx(lying, labels), lying, /header says 101 images of 28x28 .* but the file has 78400 data bytes \(after gunzip\)/);
});

// ---------------------------------------------------------------- CIFAR-10

function cifarFile(labels: number[], seed: number): Uint8Array {
  const out = new Uint8Array(labels.length * CIFAR10_RECORD);
  const px = bytesOf(labels.length * 3072, seed);
  labels.forEach((l, r) => {
    out[r * CIFAR10_RECORD] = l;
    out.set(px.subarray(r * 3072, (r + 1) * 3072), r * CIFAR10_RECORD + 1);
  });
  return out;
}

test('CIFAR-10 round trip: files concatenated in order, one channel kept', () => {
  const a = cifarFile([6, 9, 1], 21);
  const b = cifarFile([0, 3], 22);
  const fa = write('batch_a.bin', a);
  const fb = write('batch_b.bin', b);
  const records = [...[0, 1, 2].map((r) => a.subarray(r * CIFAR10_RECORD, (r + 1) * CIFAR10_RECORD)), ...[0, 1].map((r) => b.subarray(r * CIFAR10_RECORD, (r + 1) * CIFAR10_RECORD))];
  for (const channel of [0, 1, 2] as const) {
    const r = readCifar10([fa, fb], channel);
    assert.equal(r.count, 5);
    assert.equal(r.height, 32);
    assert.equal(r.width, 32);
    assert.deepEqual(Array.from(r.labels), [6, 9, 1, 0, 3]);
    records.forEach((rec, j) => {
      assert.deepEqual(Array.from(r.pixels.subarray(j * 1024, (j + 1) * 1024)), Array.from(rec.subarray(1 + channel * 1024, 1 + (channel + 1) * 1024)), `record ${j} channel ${channel}`);
    });
  }
  // Default channel is red; reversed file order reverses the records.
  const ds = loadDataset({ source: 'cifar10', files: [fb, fa], samples: 5, classes: 10, resize: 8 });
  assert.deepEqual(Array.from(ds.labels), [0, 3, 6, 9, 1]);
  const rows = nearestIndices(32, 8);
  assert.equal(ds.x[8 * 2 + 5], b[1 + rows[2]! * 32 + rows[5]!]! / 255);
  const green = loadDataset({ source: 'cifar10', files: [fa], samples: 1, classes: 10, channel: 1 });
  assert.deepEqual(Array.from(green.x), Array.from(a.subarray(1 + 1024, 1 + 2048)).map((v) => v / 255));
  assert.match(green.description, /green/);
});

test('malformed CIFAR-10 files give DatasetErrors naming the file', () => {
  const good = write('cifar-good.bin', cifarFile([1, 2], 1));
  const odd = write('cifar-odd.bin', cifarFile([1, 2], 1).subarray(0, CIFAR10_RECORD + 5));
  throwsNaming(() => readCifar10([good, odd]), odd, /not a positive multiple of 3073/);
  const badLabel = write('cifar-label.bin', cifarFile([1, 10], 1));
  throwsNaming(() => loadDataset({ source: 'cifar10', files: [badLabel], samples: 1, classes: 10 }), badLabel, /record 1 .* has label 10/);
  const missing = join(dir, 'no-batch.bin');
  throwsNaming(() => readCifar10([good, missing]), missing, /file not found/);
  assert.throws(() => readCifar10([]), DatasetError);
  assert.throws(() => readCifar10([good], 3 as 0), /channel must be 0/);
});

// ---------------------------------------------------------------- Gaussian mixture

test('gaussian mixture is deterministic per seed, prefix-stable, and labels are i mod K', () => {
  const spec = { source: 'gaussian-mixture', samples: 30, dim: 5, classes: 3, seed: 42 } as const;
  const a = loadDataset(spec);
  const b = loadDataset(spec);
  assert.deepEqual(a.x, b.x);
  assert.deepEqual(a.y, b.y);
  const other = loadDataset({ ...spec, seed: 43 });
  assert.notDeepEqual(Array.from(other.x), Array.from(a.x));
  const prefix = loadDataset({ ...spec, samples: 7 });
  assert.deepEqual(Array.from(prefix.x), Array.from(a.x.subarray(0, 7 * 5)));
  assert.deepEqual(Array.from(a.labels.subarray(0, 7)), [0, 1, 2, 0, 1, 2, 0]);
  assert.equal(a.k, 3);
  assert.equal(a.d, 5);
  assert.deepEqual(Array.from(a.y.subarray(0, 6)), [1, 0, 0, 0, 1, 0]);
  assert.ok(a.x.every(Number.isFinite));
  assert.ok(a.x.some((v) => v !== 0));
});

test('gaussian mixture: spread 0 puts samples on their centres; 2 classes give +-1 targets', () => {
  const g = loadDataset({ source: 'gaussian-mixture', samples: 6, dim: 4, classes: 2, seed: 1, spread: 0, separation: 3 });
  assert.equal(g.k, 1);
  assert.deepEqual(Array.from(g.y), [-1, 1, -1, 1, -1, 1]);
  const row = (i: number): number[] => Array.from(g.x.subarray(i * 4, i * 4 + 4));
  assert.deepEqual(row(0), row(2));
  assert.deepEqual(row(1), row(5));
  assert.notDeepEqual(row(0), row(1));
  // Centres scale with separation; the same streams are used.
  const unit = loadDataset({ source: 'gaussian-mixture', samples: 2, dim: 4, classes: 2, seed: 1, spread: 0 });
  unit.x.forEach((v, i) => assert.ok(Math.abs(3 * v - g.x[i]!) < 1e-12));
  assert.throws(() => loadDataset({ source: 'gaussian-mixture', samples: 2, dim: 0, classes: 2, seed: 1 }), DatasetError);
  assert.throws(() => loadDataset({ source: 'gaussian-mixture', samples: 2, dim: 2, classes: 1, seed: 1 }), DatasetError);
  assert.throws(() => loadDataset({ source: 'gaussian-mixture', samples: 2, dim: 2, classes: 2, seed: 1.5 }), DatasetError);
  assert.throws(() => loadDataset({ source: 'gaussian-mixture', samples: 2, dim: 2, classes: 2, seed: 1, spread: -1 }), DatasetError);
});

// ---------------------------------------------------------------- embedded MNIST

test('embedded mnist: 10,000 digits in round-robin order, values multiples of 1/255', () => {
  const r = embeddedMnist(10);
  assert.equal(r.count, 10000);
  assert.deepEqual(Array.from(r.labels.subarray(0, 10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const perClass = new Array<number>(10).fill(0);
  for (const l of r.labels) perClass[l]!++;
  assert.deepEqual(perClass, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  // Class 5 runs out after 863 rounds; the round-robin then skips it.
  assert.deepEqual(Array.from(r.labels.subarray(8630, 8639)), [0, 1, 2, 3, 4, 6, 7, 8, 9]);

  const ds = loadDataset({ source: 'mnist', samples: 10000, classes: 10 });
  assert.equal(ds.n, 10000);
  assert.equal(ds.d, 784);
  assert.equal(ds.k, 10);
  let nonzero = 0;
  for (const v of ds.x) {
    if (!(v >= 0 && v <= 1)) assert.fail(`value ${v} outside [0, 1]`);
    const b = v * 255;
    if (Math.abs(b - Math.round(b)) > 1e-9) assert.fail(`value ${v} is not a multiple of 1/255`);
    if (v > 0) nonzero++;
  }
  assert.ok(nonzero > 100000, `${nonzero} nonzero pixels`);

  const two = loadDataset({ source: 'mnist', samples: 6, classes: 2, resize: 8 });
  assert.deepEqual(Array.from(two.labels), [0, 1, 0, 1, 0, 1]);
  assert.deepEqual(Array.from(two.y), [-1, 1, -1, 1, -1, 1]);
  assert.equal(two.x[0], ds.x[0]); // pixel (0, 0) of the first digit
  assert.equal(two.x[64 + 8 + 1], ds.x[784 + 3 * 28 + 3]); // (1, 1) -> source (3, 3) of the second
  assert.throws(
    () => loadDataset({ source: 'mnist', samples: 5000, classes: 2 }),
    (e: unknown) => e instanceof DatasetError && e.message === 'mnist (embedded) has 2128 samples of classes < 2, asked for 5000',
  );
});

const benchImages = '/work/shared/baseline/data/bench-images-idx3-ubyte';
const benchLabels = '/work/shared/baseline/data/bench-labels-idx1-ubyte';
test(
  'embedded mnist digit 500 of each class equals the baseline bench file image c',
  { skip: existsSync(benchImages) && existsSync(benchLabels) ? false : 'baseline bench files absent' },
  () => {
    const bench = readIdx(benchImages, benchLabels);
    assert.equal(bench.height, 28);
    const r = embeddedMnist(10);
    for (let c = 0; c < 10; c++) {
      assert.equal(bench.labels[c], c);
      const j = 10 * 500 + c;
      assert.equal(r.labels[j], c);
      assert.deepEqual(r.pixels.subarray(j * 784, (j + 1) * 784), bench.pixels.subarray(c * 784, (c + 1) * 784), `class ${c}`);
    }
  },
);

test('loadDataset rejects unknown sources', () => {
  assert.throws(() => loadDataset({ source: 'svhn' } as never), (e: unknown) => e instanceof DatasetError && /unknown source "svhn"/.test(e.message));
});
