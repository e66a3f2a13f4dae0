/** Sweep expansion: sizes, order, ids and settings of the points, for grid and zip. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { combinations, countPoints, expandSweep, formatValue, pointId } from '../../src/pipeline/expand.js';
import { loadStudy } from '../../src/pipeline/load.js';
import { expandRange } from '../../src/pipeline/sweep.js';
import type { SweepValue } from '../../src/pipeline/types.js';
import { HEAD, problemsOf, studyOf, yaml } from './helpers.js';

const fixtures = fileURLToPath(new URL('../fixtures/pipelines/', import.meta.url));

describe('grid', () => {
  it("the paper's width study: 2 losses x 14 widths, the first axis varying slowest", async () => {
    const study = await loadStudy(`${fixtures}width.yaml`);
    const points = expandSweep(study);
    assert.equal(points.length, 28);
    assert.deepEqual(study.sweep.axes.map((a) => [a.path, a.form, a.values.length]), [
      ['loss', 'list', 2],
      ['model.width', 'range', 14],
    ]);
    assert.deepEqual(points.slice(0, 3).map((p) => p.id), ['loss=mse,model.width=4', 'loss=mse,model.width=8', 'loss=mse,model.width=12']);
    assert.equal(points[13]?.id, 'loss=mse,model.width=56');
    assert.equal(points[14]?.id, 'loss=cross-entropy,model.width=4');
    assert.equal(points[27]?.id, 'loss=cross-entropy,model.width=56');
    assert.deepEqual(points[14]?.values, ['cross-entropy', 4]);
    assert.deepEqual(points[14]?.coords, { loss: 'cross-entropy', 'model.width': 4 });
    assert.equal(points[14]?.config.loss, 'cross-entropy');
    assert.deepEqual(points[14]?.config.model.hidden, [4, 4]);
    assert.deepEqual(points[27]?.config.model.hidden, [56, 56]);
    assert.deepEqual(points.map((p) => p.index), [...Array(28).keys()]);
    assert.equal(new Set(points.map((p) => p.id)).size, 28);
  });

  it('ids are stable: the same file gives the same ids and settings', async () => {
    const a = expandSweep(await loadStudy(`${fixtures}width.yaml`));
    const b = expandSweep(await loadStudy(`${fixtures}width.yaml`));
    assert.deepEqual(a, b);
  });

  it('three axes', () => {
    const { points } = studyOf(
      yaml(...HEAD, 'sweep:', '  seed: [0, 1]', '  model.depth: {from: 1, to: 3}', '  model.activation: [linear, tanh]'),
    );
    assert.equal(points.length, 12);
    assert.equal(points[0]?.id, 'seed=0,model.depth=1,model.activation=linear');
    assert.equal(points[1]?.id, 'seed=0,model.depth=1,model.activation=tanh');
    assert.equal(points[2]?.id, 'seed=0,model.depth=2,model.activation=linear');
    assert.equal(points[11]?.id, 'seed=1,model.depth=3,model.activation=tanh');
    assert.deepEqual(points[11]?.config.model, { hidden: [4, 4, 4], activation: 'tanh', bias: false, init: 'glorot' });
    assert.equal(points[11]?.config.seed, 1);
  });

  it('no sweep: one point called main with the base settings', () => {
    const { study, points } = studyOf(yaml(...HEAD));
    assert.equal(points.length, 1);
    assert.equal(points[0]?.id, 'main');
    assert.deepEqual(points[0]?.values, []);
    assert.deepEqual(points[0]?.coords, {});
    assert.deepEqual(points[0]?.config, study.base);
    assert.deepEqual(study.sweep, { mode: 'grid', axes: [] });
  });

  it('an empty sweep is no sweep', () => {
    assert.equal(studyOf(yaml(...HEAD, 'sweep: {mode: zip}')).points[0]?.id, 'main');
  });

  it('a list of lists sweeps model.hidden', () => {
    const { points } = studyOf(yaml(...HEAD.slice(0, 6), '  hidden: [4]', 'sweep:', '  model.hidden: [[8], [8, 8], [16, 8]]'));
    assert.deepEqual(points.map((p) => p.id), ['model.hidden=[8]', 'model.hidden=[8,8]', 'model.hidden=[16,8]']);
    assert.deepEqual(points[2]?.config.model.hidden, [16, 8]);
  });

  it('one item of a list can be an axis', () => {
    const { points } = studyOf(yaml(...HEAD.slice(0, 6), '  hidden: [10, 10]', 'sweep:', '  model.hidden.1: [4, 8]'));
    assert.deepEqual(points.map((p) => p.id), ['model.hidden.1=4', 'model.hidden.1=8']);
    assert.deepEqual(points.map((p) => p.config.model.hidden), [[10, 4], [10, 8]]);
  });

  it('a swept key the file leaves out takes its first value in the base settings', () => {
    const { study, points } = studyOf(
      yaml('version: 1', 'name: depth', 'dataset: {source: mnist, samples: 50, resize: 4}', 'model: {width: 25}', 'sweep:', '  model.depth: {from: 1, to: 3}'),
    );
    assert.deepEqual(study.base.model.hidden, [25]);
    assert.deepEqual(points.map((p) => p.config.model.hidden), [[25], [25, 25], [25, 25, 25]]);
    assert.equal(study.document.model.depth, undefined);
  });

  it('model.hidden given only by the sweep', () => {
    const { study, points } = studyOf(yaml(...HEAD.slice(0, 5), 'model: {activation: relu}', 'sweep:', '  model.hidden: [[4], [8, 8]]'));
    assert.deepEqual(study.base.model.hidden, [4]);
    assert.deepEqual(points.map((p) => p.config.model.hidden), [[4], [8, 8]]);
  });

  it('a swept width without a depth still misses the depth', () => {
    const problems = problemsOf(yaml(...HEAD.slice(0, 5), 'model: {activation: relu}', 'sweep:', '  model.width: [4, 8]'));
    assert.deepEqual(problems.map((p) => [p.line, p.code, p.path]), [[6, 'missing-key', 'model.depth']]);
  });

  it('swept dataset settings', () => {
    const { points } = studyOf(
      yaml(
        'version: 1',
        'name: mixture',
        'dataset: {source: gaussian-mixture, samples: 30, dim: 16}',
        'model: {hidden: [8]}',
        'sweep:',
        '  dataset.spread: {from: 0.1, to: 0.5, step: 0.1}',
      ),
    );
    assert.deepEqual(points.map((p) => p.id), ['dataset.spread=0.1', 'dataset.spread=0.2', 'dataset.spread=0.3', 'dataset.spread=0.4', 'dataset.spread=0.5']);
    const spreads = points.map((p) => (p.config.dataset.source === 'gaussian-mixture' ? p.config.dataset.spread : NaN));
    assert.deepEqual(spreads, [0.1, 0.2, 0.3, 0.4, 0.5]);
  });

  it('the sample-size study: 40 points, N = 10 ... 400', () => {
    const { points } = studyOf(
      yaml(...HEAD.slice(0, 5), 'model: {hidden: [10, 10]}', 'batch_size: 10', 'sweep:', '  dataset.samples: {from: 10, to: 400, step: 10}', '  loss: [mse, cross-entropy]'),
    );
    assert.equal(points.length, 80);
    assert.equal(points[1]?.id, 'dataset.samples=10,loss=cross-entropy');
    assert.equal(points[79]?.config.dataset.samples, 400);
    assert.equal(points[79]?.config.batch_size, 10);
  });
});

describe('zip', () => {
  it('pairs the axes element-wise', () => {
    const { study, points } = studyOf(yaml(...HEAD, 'sweep:', '  model.width: [4, 8, 16]', '  dataset.samples: {from: 10, to: 30, step: 10}', '  mode: zip'));
    assert.equal(study.sweep.mode, 'zip');
    assert.deepEqual(points.map((p) => p.id), ['model.width=4,dataset.samples=10', 'model.width=8,dataset.samples=20', 'model.width=16,dataset.samples=30']);
    assert.deepEqual(points.map((p) => [p.config.model.hidden, p.config.dataset.samples]), [
      [[4, 4], 10],
      [[8, 8], 20],
      [[16, 16], 30],
    ]);
  });

  it('allows repeated values on one axis when the points differ', () => {
    const { points } = studyOf(yaml(...HEAD, 'sweep:', '  model.width: [4, 4, 8]', '  model.depth: [1, 2, 2]', '  mode: zip'));
    assert.deepEqual(points.map((p) => p.id), ['model.width=4,model.depth=1', 'model.width=4,model.depth=2', 'model.width=8,model.depth=2']);
  });
});

describe('ids and values', () => {
  it('formats numbers: integers without decimals, 1.0 is 1, -0 is 0', () => {
    assert.equal(formatValue(8), '8');
    assert.equal(formatValue(1.0), '1');
    assert.equal(formatValue(-0), '0');
    assert.equal(formatValue(0.1), '0.1');
    assert.equal(formatValue(-2.5), '-2.5');
    assert.equal(formatValue(true), 'true');
    assert.equal(formatValue('cross-entropy'), 'cross-entropy');
    assert.equal(formatValue('data/a.idx'), 'data/a.idx');
    assert.equal(formatValue('a b,c'), '"a b,c"');
    assert.equal(formatValue([8, [1, 2]]), '[8,[1,2]]');
  });

  it('1.0 written in YAML gives the id of 1', () => {
    const { points } = studyOf(yaml(...HEAD, 'sweep:', '  model.width: [1.0, 2.0, 3]'));
    assert.deepEqual(points.map((p) => p.id), ['model.width=1', 'model.width=2', 'model.width=3']);
  });

  it('null in a sweep is the key\'s default: rank.rtol: [null, 1e-10] gives two points, the first with NumPy\'s rule', () => {
    const { points } = studyOf(yaml(...HEAD, 'sweep:', '  rank.rtol: [null, 1e-10]'));
    assert.deepEqual(points.map((p) => p.id), ['rank.rtol=null', 'rank.rtol=1e-10']);
    assert.equal(points[0]?.config.rank.rtol, null);
    assert.equal(points[1]?.config.rank.rtol, 1e-10);
  });

  it('pointId', () => {
    assert.equal(pointId([], []), 'main');
    assert.equal(pointId([{ path: 'loss' }, { path: 'model.width' }], ['mse', 8]), 'loss=mse,model.width=8');
  });
});

describe('ranges', () => {
  it('include to, step 1 by default', () => {
    assert.deepEqual(expandRange(1, 9, 1), { values: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    assert.deepEqual(expandRange(4, 56, 4), { values: [4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56] });
    assert.deepEqual(expandRange(3, 3, 1), { values: [3] });
  });

  it('stop at the last value not past to', () => {
    assert.deepEqual(expandRange(1, 10, 4), { values: [1, 5, 9] });
  });

  it('give clean decimals', () => {
    const r = expandRange(0, 1, 0.1);
    assert.ok('values' in r);
    assert.equal(r.values.length, 11);
    assert.equal(r.values[3], 0.3);
    assert.equal(r.values[10], 1);
    assert.deepEqual(expandRange(0.05, 0.2, 0.05), { values: [0.05, 0.1, 0.15, 0.2] });
    assert.deepEqual(expandRange(1e-7, 3e-7, 1e-7), { values: [1e-7, 2e-7, 3e-7] });
  });

  it('refuse bad bounds', () => {
    assert.ok('issue' in expandRange(5, 1, 1));
    assert.ok('issue' in expandRange(1, 5, 0));
    assert.ok('issue' in expandRange(1, 5, -1));
    assert.ok('issue' in expandRange(0, 100_000, 1));
    assert.ok('values' in expandRange(1, 100_000, 1));
  });
});

describe('combinations (properties)', () => {
  const axesArb = fc.array(fc.uniqueArray(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 5 }), { minLength: 0, maxLength: 4 });

  it('grid: size is the product, the first axis varies slowest, tuples are distinct', () => {
    fc.assert(
      fc.property(axesArb, (lists) => {
        const axes = lists.map((values) => ({ values: values as SweepValue[] }));
        const combos = combinations(axes, 'grid');
        const n = lists.reduce((a, l) => a * l.length, 1);
        assert.equal(combos.length, n);
        assert.equal(countPoints(axes, 'grid'), n);
        combos.forEach((tuple, index) => {
          // Mixed-radix digits of the index, the last axis being the least significant.
          let rest = index;
          for (let k = lists.length - 1; k >= 0; k--) {
            const list = lists[k] as number[];
            assert.equal(tuple[k], list[rest % list.length]);
            rest = Math.floor(rest / list.length);
          }
        });
        assert.equal(new Set(combos.map((t) => JSON.stringify(t))).size, n);
      }),
    );
  });

  it('zip: one tuple per index', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), (length, width) => {
        const axes = Array.from({ length: width }, (_, k) => ({ values: Array.from({ length }, (_, i) => i * 10 + k) }));
        const combos = combinations(axes, 'zip');
        assert.equal(combos.length, length);
        assert.equal(countPoints(axes, 'zip'), length);
        combos.forEach((tuple, i) => assert.deepEqual(tuple, axes.map((a) => a.values[i])));
      }),
    );
  });
});
