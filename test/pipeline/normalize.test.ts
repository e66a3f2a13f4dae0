/** Normalised settings: defaults, width/depth, dataset paths. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadStudy } from '../../src/pipeline/load.js';
import { DEFAULTS } from '../../src/pipeline/types.js';
import { FILE, studyOf, yaml } from './helpers.js';

const fixtures = fileURLToPath(new URL('../fixtures/pipelines/', import.meta.url));

describe('defaults', () => {
  it('fills every default', () => {
    const { study } = studyOf(yaml('version: 1', 'name: minimal', 'dataset: {source: mnist, samples: 20}', 'model: {hidden: [10, 10]}'));
    assert.equal(study.name, 'minimal');
    assert.equal(study.version, 1);
    assert.equal(study.description, null);
    assert.equal(study.file, FILE);
    assert.equal(study.dir, dirname(FILE));
    assert.deepEqual(study.base, {
      seed: 0,
      dataset: { source: 'mnist', samples: 20, classes: 10, two_class_targets: null, resize: null },
      model: { hidden: [10, 10], activation: 'linear', bias: false, init: 'glorot' },
      loss: 'mse',
      hessians: ['loss', 'outer', 'functional'],
      batch_size: null,
      rank: { route: 'auto', rtol: null, atol: 0 },
      train: null,
    });
    assert.deepEqual(study.report, { plots: [], spectra: false });
    assert.deepEqual(study.sweep, { mode: 'grid', axes: [] });
  });

  it('keeps what the file says', () => {
    const { study } = studyOf(
      yaml(
        'version: 1',
        'name: full',
        'description: all keys',
        'seed: 7',
        'dataset: {source: mnist, samples: 20, resize: 8, classes: 2, two_class_targets: onehot}',
        'model: {width: 6, depth: 3, activation: tanh, bias: true, init: orthogonal}',
        'loss: cosh',
        'hessians: [functional, loss]',
        'batch_size: 5',
        'rank: {route: dense, rtol: 1e-10, atol: 1e-30}',
        'sweep: {seed: [7, 8]}',
        'report: {plots: [{x: seed, normalize: params, title: Seeds}], spectra: true}',
      ),
    );
    assert.equal(study.description, 'all keys');
    assert.deepEqual(study.base, {
      seed: 7,
      dataset: { source: 'mnist', samples: 20, classes: 2, two_class_targets: 'onehot', resize: 8 },
      model: { hidden: [6, 6, 6], activation: 'tanh', bias: true, init: 'orthogonal' },
      loss: 'cosh',
      hessians: ['loss', 'functional'],
      batch_size: 5,
      rank: { route: 'dense', rtol: 1e-10, atol: 1e-30 },
      train: null,
    });
    assert.deepEqual(study.report, { plots: [{ x: 'seed', y: 'rank', normalize: 'params', title: 'Seeds', aggregate: null }], spectra: true });
  });

  it('two classes default to +-1 targets; other class counts have none', () => {
    const two = studyOf(yaml('version: 1', 'name: a', 'dataset: {source: mnist, samples: 20, classes: 2}', 'model: {hidden: [3]}'));
    assert.equal(two.study.base.dataset.two_class_targets, 'pm1');
    const five = studyOf(yaml('version: 1', 'name: a', 'dataset: {source: mnist, samples: 20, classes: 5, two_class_targets: onehot}', 'model: {hidden: [3]}'));
    assert.equal(five.study.base.dataset.two_class_targets, null);
  });

  it('gaussian-mixture and cifar10 defaults', () => {
    const g = studyOf(yaml('version: 1', 'name: g', 'dataset: {source: gaussian-mixture, samples: 20, dim: 16}', 'model: {hidden: [3]}'));
    assert.deepEqual(g.study.base.dataset, { source: 'gaussian-mixture', samples: 20, classes: 10, two_class_targets: null, dim: 16, spread: 1, separation: 1 });
    const c = studyOf(yaml('version: 1', 'name: c', 'dataset: {source: cifar10, samples: 20, files: [b1.bin]}', 'model: {hidden: [3]}'));
    assert.equal(c.study.base.dataset.source === 'cifar10' && c.study.base.dataset.channel, 0);
  });

  it('the schema states the same defaults', async () => {
    const { pipelineSchema } = await import('../../src/pipeline/schema.js');
    const defs = pipelineSchema['$defs'] as Record<string, Record<string, unknown>>;
    const props = pipelineSchema['properties'] as Record<string, Record<string, unknown>>;
    const model = (defs['model']?.['properties'] ?? {}) as Record<string, Record<string, unknown>>;
    const branches = defs['dataset']?.['oneOf'] as Array<{ properties: Record<string, Record<string, unknown>> }>;
    const mixture = branches.find((b) => b.properties['source']?.['const'] === 'gaussian-mixture')?.properties ?? {};
    const cifar = branches.find((b) => b.properties['source']?.['const'] === 'cifar10')?.properties ?? {};
    const report = (defs['report']?.['properties'] ?? {}) as Record<string, Record<string, unknown>>;
    const plot = (defs['plot']?.['properties'] ?? {}) as Record<string, Record<string, unknown>>;
    const sweep = (defs['sweep']?.['properties'] ?? {}) as Record<string, Record<string, unknown>>;
    assert.equal(props['seed']?.['default'], DEFAULTS.seed);
    assert.equal(props['loss']?.['default'], DEFAULTS.loss);
    assert.deepEqual(props['hessians']?.['default'], DEFAULTS.hessians);
    assert.equal(props['batch_size']?.['default'], undefined);
    assert.equal(defs['classes']?.['default'], DEFAULTS.classes);
    assert.equal(defs['twoClassTargets']?.['default'], DEFAULTS.two_class_targets);
    assert.equal(mixture['spread']?.['default'], DEFAULTS.spread);
    assert.equal(mixture['separation']?.['default'], DEFAULTS.separation);
    assert.equal(cifar['channel']?.['default'], DEFAULTS.channel);
    assert.equal(model['activation']?.['default'], DEFAULTS.activation);
    assert.equal(model['bias']?.['default'], DEFAULTS.bias);
    assert.equal(model['init']?.['default'], DEFAULTS.init);
    assert.equal(sweep['mode']?.['default'], DEFAULTS.mode);
    assert.equal(plot['normalize']?.['default'], DEFAULTS.normalize);
    assert.equal(plot['y']?.['default'], DEFAULTS.y);
    assert.equal(report['spectra']?.['default'], DEFAULTS.spectra);
    const rank = (defs['rank']?.['properties'] ?? {}) as Record<string, Record<string, unknown>>;
    assert.equal(rank['route']?.['default'], DEFAULTS.route);
    assert.equal(rank['rtol']?.['default'], DEFAULTS.rtol);
    assert.equal(rank['atol']?.['default'], DEFAULTS.atol);
  });
});

describe('width and depth', () => {
  it('become the hidden widths', () => {
    const { study } = studyOf(yaml('version: 1', 'name: a', 'dataset: {source: mnist, samples: 20}', 'model: {width: 25, depth: 4}'));
    assert.deepEqual(study.base.model.hidden, [25, 25, 25, 25]);
    assert.equal('width' in study.base.model, false);
  });
});

describe('dataset paths', () => {
  it('are resolved against the pipeline file, keeping what was written', async () => {
    const study = await loadStudy(join(fixtures, 'idx-relative.yaml'));
    const d = study.base.dataset;
    assert.equal(d.source, 'idx');
    if (d.source !== 'idx') return;
    assert.deepEqual(d.images, { written: 'data/bench-images-idx3-ubyte', path: join(fixtures, 'data/bench-images-idx3-ubyte') });
    assert.deepEqual(d.labels, { written: '/srv/data/bench-labels-idx1-ubyte', path: '/srv/data/bench-labels-idx1-ubyte' });
    assert.equal(d.two_class_targets, 'pm1');
  });

  it('from a nested folder, with ..', async () => {
    const study = await loadStudy(join(fixtures, 'nested', 'cifar.yaml'));
    const d = study.base.dataset;
    assert.equal(d.source, 'cifar10');
    if (d.source !== 'cifar10') return;
    assert.deepEqual(d.files, [
      { written: '../cifar/data_batch_1.bin', path: join(fixtures, 'cifar/data_batch_1.bin') },
      { written: 'batches/data_batch_2.bin', path: join(fixtures, 'nested/batches/data_batch_2.bin') },
    ]);
    assert.equal(d.channel, 2);
  });

  it('a relative file name is resolved against the current folder', () => {
    const { study } = studyOf(yaml('version: 1', 'name: a', 'dataset: {source: idx, samples: 5, images: i.idx, labels: l.idx}', 'model: {hidden: [3]}'), 'study.yaml');
    assert.equal(study.dir, process.cwd());
    assert.equal(study.base.dataset.source === 'idx' && study.base.dataset.images.path, join(process.cwd(), 'i.idx'));
  });

  it('swept paths are resolved too', () => {
    const { points } = studyOf(yaml('version: 1', 'name: a', 'dataset: {source: idx, samples: 5, images: i.idx, labels: l.idx}', 'model: {hidden: [3]}', 'sweep:', '  dataset.images: [a.idx, /data/b.idx]'));
    assert.deepEqual(
      points.map((p) => (p.config.dataset.source === 'idx' ? p.config.dataset.images : null)),
      [
        { written: 'a.idx', path: join(dirname(FILE), 'a.idx') },
        { written: '/data/b.idx', path: '/data/b.idx' },
      ],
    );
    assert.deepEqual(points.map((p) => p.id), ['dataset.images=a.idx', 'dataset.images=/data/b.idx']);
  });
});

describe('the study', () => {
  it('keeps the text and the document as written', () => {
    const text = yaml('version: 1', 'name: a', 'dataset: {source: mnist, samples: 20}', 'model: {width: 2, depth: 2}');
    const { study } = studyOf(text);
    assert.equal(study.text, text);
    assert.deepEqual(study.document, { version: 1, name: 'a', dataset: { source: 'mnist', samples: 20 }, model: { width: 2, depth: 2 } });
  });
});

describe('gaussian-mixture', () => {
  it('may have more than 10 classes, and a spread of 0', () => {
    const { study } = studyOf(yaml('version: 1', 'name: g', 'dataset: {source: gaussian-mixture, samples: 40, dim: 4, classes: 20, spread: 0}', 'model: {hidden: [3]}'));
    assert.equal(study.base.dataset.classes, 20);
    assert.equal(study.base.dataset.source === 'gaussian-mixture' && study.base.dataset.spread, 0);
  });
});
