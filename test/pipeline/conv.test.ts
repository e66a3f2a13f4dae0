/** Conv layers in the pipeline file: model.layers, dataset.channels, sweep paths into lists, shape checks. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parsePipeline } from '../../src/pipeline/load.js';
import type { Problem } from '../../src/pipeline/types.js';
import { assertAt, onlyProblem, problemsOf, studyOf, yaml } from './helpers.js';

/** Lines 1-5 of a conv study on 8 x 8 digits; the model starts at line 6. */
const TOP = ['version: 1', 'name: conv', 'dataset:', '  source: mnist', '  resize: 8'] as const;

describe('model.layers: the normalised model', () => {
  it('conv layers with defaults filled in, dense widths as hidden', () => {
    const { study, points } = studyOf(yaml(
      ...TOP, '  samples: 20', // 6
      'model:', // 7
      '  layers:', // 8
      '    - conv: {channels: 8, kernel: 3, stride: 1, padding: valid}', // 9
      '    - conv: {channels: 4, kernel: 3, padding: same}', // 10
      '    - dense: 32', // 11
      '  activation: relu', // 12
    ));
    assert.equal(points.length, 1);
    assert.deepEqual(study.base.model, {
      conv: [{ channels: 8, kernel: 3, stride: 1, padding: 'valid' }, { channels: 4, kernel: 3, stride: 1, padding: 'same' }],
      hidden: [32], activation: 'relu', bias: false, init: 'glorot',
    });
  });

  it('layers of dense entries only is the hidden form: the same settings, no conv key', () => {
    const a = studyOf(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{dense: 8}, {dense: 4}]')).study.base;
    const b = studyOf(yaml(...TOP, '  samples: 20', 'model:', '  hidden: [8, 4]')).study.base;
    assert.deepEqual(a, b);
    assert.equal('conv' in a.model, false);
  });

  it('a file without layers keeps its settings (no conv, no channels keys)', () => {
    const { study } = studyOf(yaml(...TOP, '  samples: 20', 'model:', '  width: 4', '  depth: 1'));
    assert.deepEqual(study.base.model, { hidden: [4], activation: 'linear', bias: false, init: 'glorot' });
    assert.equal('channels' in study.base.dataset, false);
  });

  it('dataset.channels: 1 is the default; cifar10 channels: 3 is kept', () => {
    const one = studyOf(yaml(...TOP, '  samples: 20', '  channels: 1', 'model:', '  hidden: [4]')).study.base;
    assert.equal('channels' in one.dataset, false);
    const three = studyOf(yaml('version: 1', 'name: c', 'dataset:', '  source: cifar10', '  samples: 4', '  files: [a.bin]', '  channels: 3', 'model:', '  layers: [{conv: {channels: 2, kernel: 5}}]')).study.base;
    assert.equal(three.dataset.source === 'cifar10' && three.dataset.channels, 3);
  });
});

describe('model.layers: schema errors at file:line:col', () => {
  it('an unknown key in a conv layer', () => {
    const ps = problemsOf(yaml(...TOP, '  samples: 20', 'model:', '  layers:', '    - conv: {channels: 8, kernal: 3}'));
    assert.deepEqual(ps.map((x) => x.path).sort(), ['model.layers[0].conv.kernal', 'model.layers[0].conv.kernel']);
    const p = ps.find((x) => x.code === 'unknown-key')!;
    assertAt(p, 9, 27, 'unknown-key', 'model.layers[0].conv.kernal');
    assert.match(p.message, /allowed keys: channels, kernel, stride, padding/);
    assert.match(p.hint ?? '', /kernel/);
  });

  it('a missing kernel', () => {
    const p = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers:', '    - conv: {channels: 8}'));
    assert.equal(p.code, 'missing-key');
    assert.equal(p.path, 'model.layers[0].conv.kernel');
    assert.equal(p.line, 9);
  });

  it('a bad padding and a zero stride', () => {
    const ps = problemsOf(yaml(...TOP, '  samples: 20', 'model:', '  layers:', '    - conv: {channels: 8, kernel: 3, padding: full}', '    - conv: {channels: 8, kernel: 3, stride: 0}'));
    const pad = ps.find((p) => p.path === 'model.layers[0].conv.padding')!;
    assertAt(pad, 9, 47, 'bad-value', 'model.layers[0].conv.padding');
    assert.match(pad.message, /allowed: 'valid', 'same'/);
    const stride = ps.find((p) => p.path === 'model.layers[1].conv.stride')!;
    assertAt(stride, 10, 46, 'bad-value', 'model.layers[1].conv.stride');
  });

  it('a layer that is neither conv nor dense, or both', () => {
    const ps = problemsOf(yaml(...TOP, '  samples: 20', 'model:', '  layers:', '    - pool: 2', '    - {dense: 4, conv: {channels: 1, kernel: 1}}'));
    const unknown = ps.find((p) => p.code === 'unknown-key')!;
    assertAt(unknown, 9, 7, 'unknown-key', 'model.layers[0].pool');
    assert.match(unknown.message, /allowed keys: conv, dense/);
    const both = ps.find((p) => p.path === 'model.layers[1]')!;
    assert.equal(both.line, 10);
    assert.match(both.message, /found 2 keys \(dense, conv\); expected a mapping with one key/);
  });

  it('layers with hidden, or with width and depth, is a conflict', () => {
    const ps = problemsOf(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{dense: 4}]', '  hidden: [4]'));
    assert.equal(ps.length, 1);
    assertAt(ps[0]!, 9, 3, 'conflict', 'model.hidden');
    assert.match(ps[0]!.message, /'hidden' cannot be combined with 'layers'/);
    const wd = problemsOf(yaml(...TOP, '  samples: 20', 'model:', '  width: 4', '  depth: 1', '  layers: [{dense: 4}]'));
    assert.deepEqual(wd.map((p) => p.path).sort(), ['model.depth', 'model.width']);
  });

  it('dataset.channels: 3 is for cifar10 only', () => {
    const p = onlyProblem(yaml(...TOP, '  samples: 20', '  channels: 3', 'model:', '  hidden: [4]'));
    assertAt(p, 7, 13, 'bad-value', 'dataset.channels');
    assert.match(p.message, /found 3; allowed: 1/);
  });
});

describe('model.layers: shapes checked before anything runs', () => {
  it('a kernel larger than its input, at the kernel, with the shape', () => {
    const p = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers:', '    - conv: {channels: 2, kernel: 5}', '    - conv: {channels: 2, kernel: 5}'));
    assertAt(p, 10, 35, 'bad-value', 'model.layers[1].conv.kernel');
    assert.match(p.message, /conv layer 2 \(input 2 x 4 x 4\): kernel 5 is larger than its 4-pixel input/);
  });

  it('a stride that does not fit, at the stride', () => {
    const p = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers:', '    - conv: {channels: 2, kernel: 3, stride: 2}'));
    assertAt(p, 9, 46, 'bad-value', 'model.layers[0].conv.stride');
    assert.match(p.message, /stride 2 does not fit a 8-pixel input with kernel 3/);
  });

  it('native size: a kernel of 29 on 28 x 28 digits', () => {
    const p = onlyProblem(yaml('version: 1', 'name: c', 'dataset:', '  source: mnist', '  samples: 5', 'model:', '  layers: [{conv: {channels: 1, kernel: 29}}]'));
    assert.equal(p.path, 'model.layers[0].conv.kernel');
    assert.match(p.message, /input 1 x 28 x 28/);
  });

  it('padding same never shrinks: a kernel larger than the image is fine', () => {
    const { points } = studyOf(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{conv: {channels: 1, kernel: 9, padding: same}}]'));
    assert.equal(points.length, 1);
  });

  it('a swept value that makes a point bad is blamed at the sweep entry', () => {
    const p = onlyProblem(yaml(
      ...TOP, '  samples: 20', // 6
      'model:', // 7
      '  layers:', // 8
      '    - conv: {channels: 2, kernel: 3}', // 9
      'sweep:', // 10
      '  model.layers[0].conv.kernel: [3, 5, 9]', // 11
    ));
    assertAt(p, 11, 39, 'bad-sweep', 'sweep.model.layers[0].conv.kernel[2]');
    assert.match(p.message, /at point model.layers\[0\].conv.kernel=9: conv layer 1 \(input 1 x 8 x 8\): kernel 9 is larger/);
  });

  it('a swept channel count is not to blame for a kernel too large: said once, at the kernel', () => {
    const p = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers:', '    - conv: {channels: 2, kernel: 9}', 'sweep:', '  model.layers[0].conv.channels: [1, 2, 4]'));
    assertAt(p, 9, 35, 'bad-value', 'model.layers[0].conv.kernel');
    assert.doesNotMatch(p.message, /at point/);
  });

  it('a swept resize that shrinks the image below the kernel', () => {
    const p = onlyProblem(yaml('version: 1', 'name: c', 'dataset:', '  source: mnist', '  samples: 5', 'model:', '  layers: [{conv: {channels: 1, kernel: 5}}]', 'sweep:', '  dataset.resize: [8, 4]'));
    assertAt(p, 9, 23, 'bad-sweep', 'sweep.dataset.resize[1]');
  });

  it('conv layers on gaussian-mixture data', () => {
    const p = onlyProblem(yaml('version: 1', 'name: c', 'dataset:', '  source: gaussian-mixture', '  samples: 5', '  dim: 16', 'model:', '  layers: [{conv: {channels: 1, kernel: 3}}]'));
    assert.equal(p.code, 'conflict');
    assert.equal(p.line, 4);
    assert.match(p.message, /conv layers need images, but source gaussian-mixture gives plain vectors/);
  });

  it('a conv layer after a dense layer', () => {
    const p = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers:', '    - dense: 8', '    - conv: {channels: 2, kernel: 3}'));
    assertAt(p, 10, 7, 'bad-value', 'model.layers[1].conv');
    assert.match(p.message, /every conv layer comes before the first dense layer/);
  });
});

describe('sweep paths into lists', () => {
  const CHANNELS = yaml(
    ...TOP, '  samples: 20', // 6
    'model:', // 7
    '  layers:', // 8
    '    - conv: {channels: 8, kernel: 3}', // 9
    '    - dense: 16', // 10
    'sweep:', // 11
    '  model.layers[0].conv.channels: [1, 2, 4]', // 12
    '  model.layers[1].dense: [4, 8]', // 13
    'report:', // 14
    '  plots:', // 15
    '    - x: model.layers[0].conv.channels', // 16 (block style: [ ] would open a list inside a {...} mapping)
    '      normalize: params', // 17
  );

  it('expand into points whose ids and settings show the path', () => {
    const { study, points } = studyOf(CHANNELS);
    assert.deepEqual(study.sweep.axes.map((a) => a.segments), [['model', 'layers', 0, 'conv', 'channels'], ['model', 'layers', 1, 'dense']]);
    assert.deepEqual(points.map((p) => p.id).slice(0, 3), [
      'model.layers[0].conv.channels=1,model.layers[1].dense=4',
      'model.layers[0].conv.channels=1,model.layers[1].dense=8',
      'model.layers[0].conv.channels=2,model.layers[1].dense=4',
    ]);
    assert.deepEqual(points.map((p) => [p.config.model.conv?.[0]?.channels, p.config.model.hidden[0]]), [[1, 4], [1, 8], [2, 4], [2, 8], [4, 4], [4, 8]]);
    assert.equal(study.report.plots[0]?.x, 'model.layers[0].conv.channels');
  });

  it('the dotted index form model.layers.0.conv.channels works too', () => {
    const { points } = studyOf(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{conv: {channels: 8, kernel: 3}}]', 'sweep:', '  model.layers.0.conv.channels: [1, 2]'));
    assert.deepEqual(points.map((p) => p.config.model.conv?.[0]?.channels), [1, 2]);
  });

  it('a bad swept value is reported at its item', () => {
    const p = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{conv: {channels: 8, kernel: 3}}]', 'sweep:', '  model.layers[0].conv.channels: [1, 0]'));
    assertAt(p, 10, 38, 'bad-sweep', 'sweep.model.layers[0].conv.channels[1]');
  });

  it('an index beyond the list, a key of the other kind of layer, a plot x that is no axis', () => {
    const beyond = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{conv: {channels: 8, kernel: 3}}]', 'sweep:', '  model.layers[3].conv.channels: [1, 2]'));
    assertAt(beyond, 10, 3, 'bad-sweep', 'sweep.model.layers[3].conv.channels');
    assert.match(beyond.message, /model.layers has 1 item; there is no item 3/);
    const kind = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{conv: {channels: 8, kernel: 3}}]', 'sweep:', '  model.layers[0].dense: [1, 2]'));
    assert.match(kind.message, /model.layers\[0\] is a conv layer; it has no 'dense'/);
    const plot = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{conv: {channels: 8, kernel: 3}}]', 'sweep:', '  model.layers[0].conv.channels: [1, 2]', 'report:', '  plots:', '    - x: model.layers[0].conv.kernel'));
    assert.equal(plot.code, 'bad-reference');
  });

  it('sweeping model.hidden in a layers file is refused', () => {
    const p = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{dense: 4}]', 'sweep:', '  model.hidden: [[4], [8]]'));
    assert.match(p.message, /this file gives model.layers/);
  });
});

describe('dataset.channels with cifar10', () => {
  it('channel with channels: 3 is a conflict at channel', () => {
    const p = onlyProblem(yaml('version: 1', 'name: c', 'dataset:', '  source: cifar10', '  samples: 4', '  files: [a.bin]', '  channel: 2', '  channels: 3', 'model:', '  hidden: [4]'));
    assertAt(p, 7, 3, 'conflict', 'dataset.channel');
  });
});

describe('conv layers on idx files', () => {
  const idxDir = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hrank-conv-idx-'));
    const rows = 5, cols = 7, n = 3;
    const img = Buffer.alloc(16 + n * rows * cols);
    img.writeUInt32BE(0x803, 0); img.writeUInt32BE(n, 4); img.writeUInt32BE(rows, 8); img.writeUInt32BE(cols, 12);
    const lab = Buffer.alloc(8 + n);
    lab.writeUInt32BE(0x801, 0); lab.writeUInt32BE(n, 4);
    writeFileSync(path.join(dir, 'img.idx'), img);
    writeFileSync(path.join(dir, 'lab.idx'), lab);
    return dir;
  };
  const text = (kernel: number, images = 'img.idx'): string => yaml('version: 1', 'name: c', 'dataset:', '  source: idx', '  samples: 3', `  images: ${images}`, '  labels: lab.idx', 'model:', `  layers: [{conv: {channels: 1, kernel: ${kernel}}}]`);

  it('native size from the headers: 5 x 7 images take a kernel of 5, not 6', () => {
    const dir = idxDir();
    const file = path.join(dir, 'study.yaml');
    assert.equal(parsePipeline(text(5), file).ok, true);
    const r = parsePipeline(text(6), file);
    assert.equal(r.ok, false);
    const p = (r as { problems: readonly Problem[] }).problems;
    assert.equal(p.length, 1);
    assert.equal(p[0]!.path, 'model.layers[0].conv.kernel');
    assert.match(p[0]!.message, /input 1 x 5 x 7\): kernel 6 is larger than its 5-pixel input/);
  });

  it('unreadable headers leave the shape check to the dataset file checks (no crash)', () => {
    const dir = idxDir();
    const r = parsePipeline(text(6, 'missing.idx'), path.join(dir, 'study.yaml'));
    assert.equal(r.ok, true);
  });
});

describe('sweeping model.layers as a whole', () => {
  it('points named by the layers they hold; a conv after a dense in a swept value is blamed at it', () => {
    const { points } = studyOf(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{conv: {channels: 1, kernel: 3}}]', 'sweep:', '  model.layers:', '    - [{conv: {channels: 1, kernel: 3}}]', '    - [{conv: {channels: 2, kernel: 3}}, {dense: 4}]'));
    assert.deepEqual(points.map((p) => p.id), ['model.layers=[{conv:{channels:1,kernel:3}}]', 'model.layers=[{conv:{channels:2,kernel:3}},{dense:4}]']);
    assert.deepEqual(points.map((p) => [p.config.model.conv?.[0]?.channels, p.config.model.hidden]), [[1, []], [2, [4]]]);
    const p = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{conv: {channels: 1, kernel: 3}}]', 'sweep:', '  model.layers:', '    - [{dense: 4}, {conv: {channels: 1, kernel: 3}}]'));
    assertAt(p, 11, 21, 'bad-sweep', 'sweep.model.layers[0][1].conv');
  });
});

describe('sweep paths into lists: misspellings', () => {
  it('a misspelt key inside a layer gets a did-you-mean from that layer\'s keys', () => {
    const p = onlyProblem(yaml(...TOP, '  samples: 20', 'model:', '  layers: [{conv: {channels: 8, kernel: 3}}]', 'sweep:', '  model.layers[0].conv.chanels: [1, 2]'));
    assertAt(p, 10, 3, 'bad-sweep', 'sweep.model.layers[0].conv.chanels');
    assert.match(p.message, /'chanels' does not exist in model.layers\[0\].conv/);
    assert.match(p.hint ?? '', /channels/);
  });
});

describe('conv problems are said once when nothing swept causes them', () => {
  it('gaussian-mixture with a seed sweep: one problem, no point named', () => {
    const p = onlyProblem(yaml('version: 1', 'name: c', 'dataset:', '  source: gaussian-mixture', '  samples: 5', '  dim: 16', 'model:', '  layers: [{conv: {channels: 1, kernel: 3}}]', 'sweep:', '  seed: [1, 2, 3]'));
    assert.doesNotMatch(p.message, /at point/);
    assert.equal(p.line, 4);
  });
});
