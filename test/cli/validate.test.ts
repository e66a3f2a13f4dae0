import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli/cli.js';
import { ROOT, TINY, captureIO, hasStack, hrank, tempDir, writeText } from './helpers.js';

const BAD = `version: 1
name: bad
dataset:
  source: gaussian-mixture
  dim: 4
  samples: 12
  classes: 3
model:
  hidden: [3]
  activaton: relu
loss: cross_entropy
`;

test('validate: a good file prints "<file>: ok (<n> points)" and exits 0', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const file = await writeText(dir, 'tiny.yaml', TINY);
    const io = captureIO();
    assert.equal(await main(['validate', file], io), 0);
    assert.equal(io.stdout(), `${file}: ok (2 points)\n`);
    assert.equal(io.stderr(), '');
  } finally {
    await cleanup();
  }
});

test('validate: a bad file lists every problem with file:line:col and the key, exit 2', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const file = await writeText(dir, 'bad.yaml', BAD);
    const io = captureIO();
    assert.equal(await main(['validate', file], io), 2);
    const err = io.stderr();
    assert.match(err, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:10:3 unknown-key model\\.activaton: `, 'm'));
    assert.match(err, /hint: did you mean 'activation'\?/);
    assert.match(err, /:11:7 bad-value loss: /);
    assert.match(err, /bad\.yaml: 2 problems$/m);
    assert.equal(hasStack(err), false);
    assert.equal(io.stdout(), '');
  } finally {
    await cleanup();
  }
});

test('validate: several files; one bad one makes the exit 2, the good ones are still reported ok', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const good = await writeText(dir, 'tiny.yaml', TINY);
    const bad = await writeText(dir, 'bad.yaml', BAD);
    const missing = path.join(dir, 'nope.yaml');
    const io = captureIO();
    assert.equal(await main(['validate', good, bad, missing], io), 2);
    assert.equal(io.stdout(), `${good}: ok (2 points)\n`);
    assert.match(io.stderr(), /nope\.yaml unreadable-file cannot read the pipeline file: no such file/);
    assert.match(io.stderr(), /^3 problems in 2 files of 3$/m);
  } finally {
    await cleanup();
  }
});

test('validate: a dataset file that does not exist is a problem naming the path, at its line', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeText(dir, 'labels.idx', 'not really idx');
    const file = await writeText(dir, 'idx.yaml', [
      'version: 1',
      'name: idx',
      'dataset:',
      '  source: idx',
      '  images: data/missing-images.idx',
      '  labels: labels.idx',
      '  samples: 10',
      '  classes: 2',
      'model:',
      '  hidden: [3]',
      '',
    ].join('\n'));
    const io = captureIO();
    assert.equal(await main(['validate', file], io), 2);
    const err = io.stderr();
    assert.match(err, /idx\.yaml:5:11 unreadable-file dataset\.images: file not found: data\/missing-images\.idx \(/);
    assert.ok(err.includes(path.join(dir, 'data/missing-images.idx')), 'the resolved path');
    assert.doesNotMatch(err, /labels\.idx/, 'the file that exists is fine');
  } finally {
    await cleanup();
  }
});

test('validate: a swept dataset file that is missing is located at its sweep value', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await writeText(dir, 'a.bin', 'x');
    await writeText(dir, 'labels.idx', 'x');
    const file = await writeText(dir, 'swept.yaml', [
      'version: 1',
      'name: swept',
      'dataset:',
      '  source: idx',
      '  images: a.bin',
      '  labels: labels.idx',
      '  samples: 10',
      '  resize: 4',
      'model:',
      '  hidden: [3]',
      'sweep:',
      '  dataset.images: [a.bin, b.bin]',
      '',
    ].join('\n'));
    const io = captureIO();
    assert.equal(await main(['validate', file], io), 2);
    assert.match(io.stderr(), /swept\.yaml:12:27 unreadable-file dataset\.images: file not found: b\.bin/);
  } finally {
    await cleanup();
  }
});

test('validate as a child process: exit codes and no stack trace', async () => {
  const ok = await hrank(['validate', 'test/fixtures/pipelines/width.yaml']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /width\.yaml: ok \(\d+ points?\)/);
  const bad = await hrank(['validate', path.join(ROOT, 'test/fixtures/pipelines/many-problems.yaml')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /many-problems\.yaml:9:3 unknown-key model\.activaton/);
  assert.equal(hasStack(bad.stderr), false);
});

test('validate: IDX images and labels files swapped are both named, each at its own key', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    // 3 images of 2 x 2 pixels, and their 3 labels.
    const images = Buffer.alloc(16 + 12);
    images.writeUInt32BE(0x803, 0); images.writeUInt32BE(3, 4); images.writeUInt32BE(2, 8); images.writeUInt32BE(2, 12);
    const labels = Buffer.alloc(8 + 3);
    labels.writeUInt32BE(0x801, 0); labels.writeUInt32BE(3, 4); labels.set([0, 1, 0], 8);
    await writeFile(path.join(dir, 'img.idx'), images);
    await writeFile(path.join(dir, 'lab.idx'), labels);
    const yamlOf = (img: string, lab: string): string => ['version: 1', 'name: idx', 'dataset:', '  source: idx', `  images: ${img}`, `  labels: ${lab}`, '  samples: 3', '  classes: 2', 'model:', '  hidden: [3]', ''].join('\n');
    const good = await writeText(dir, 'good.yaml', yamlOf('img.idx', 'lab.idx'));
    assert.equal(await main(['validate', good], captureIO()), 0);
    const file = await writeText(dir, 'swapped.yaml', yamlOf('lab.idx', 'img.idx'));
    const io = captureIO();
    assert.equal(await main(['validate', file], io), 2);
    const err = io.stderr();
    assert.match(err, /swapped\.yaml:5:11 bad-file dataset\.images: this is an IDX labels file \(magic 0x00000801\)/);
    assert.match(err, /swapped\.yaml:6:11 bad-file dataset\.labels: this is an IDX images file \(magic 0x00000803\)/);
    assert.match(err, /look swapped: exchange the two paths/);
    assert.match(err, /swapped\.yaml: 2 problems/);
  } finally {
    await cleanup();
  }
});
