/**
 * The collect step keeps of each input only what its rows read (issue 18: a sweep of 100,000
 * points holds 300,000 inputs until the last arrives). Rows and details from the kept inputs
 * must be those from the whole ones, trained points (which read H_F's kept values) included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectResults, collectedInput, type CollectParams, type PointValues } from '../../src/engine/kinds/collect.js';
import { numericalRank } from '../../src/science/rank.js';

const rank = (values: number[]) => numericalRank(values, values.length, 'dense');

function point(i: number, trained: boolean): PointValues {
  const loss = rank([4000, 2, 1e-3 * (i + 1), 1e-18]);
  // H_F's smallest kept values sit below H_L's tolerance for odd points: training's count reads them.
  const functional = rank([3, i % 2 === 1 ? loss.tolerance / 30 : 1, 1e-17, 0]);
  return {
    inputRank: rank([2, 1, 0]),
    prediction: { applicable: true, kind: 'exact', basis: 'test', inputRank: 2, augmented: false, loss: 3, outer: 2, functional: 2 } as unknown as PointValues['prediction'],
    ranks: { params: 4, loss, outer: rank([5, 1, 1e-19, 0]), functional, seconds: {} },
    ...(trained ? { train: { metrics: { loss: 0.5, gradNorm: 0.1, residualNorm: 1, residualRank: rank([1, 0.5]), genericResidualRank: 2 } } as unknown as PointValues['train'] } : {}),
  };
}

test('collectedInput keeps what the rows read: results from kept inputs equal results from whole ones, trained or not', () => {
  for (const trained of [false, true]) {
    const params: CollectParams = {
      axes: ['seed'],
      points: [0, 1, 2].map((i) => ({ id: `seed=${i}`, values: [i], samples: 8, params: 4, inputDim: 3, outputs: 2, classes: 2, hessians: ['loss', 'outer', 'functional'], ...(trained ? { checkpoint: 10 } : {}) })),
    };
    const whole = [0, 1, 2].map((i) => point(i, trained));
    const kept = whole.map((v, i) => ({
      inputRank: collectedInput(`${i}/input-rank`, v.inputRank),
      prediction: collectedInput(`${i}/prediction`, v.prediction),
      ranks: collectedInput(`${i}/ranks`, v.ranks),
      ...(v.train ? { train: collectedInput(`${i}/train`, v.train) } : {}),
    }) as PointValues);
    assert.deepEqual(collectResults(params, kept), collectResults(params, whole));
    // The spectra are gone (but H_F's kept values), and the whole values are left as they were.
    assert.equal(kept[0]!.ranks.loss!.values.length, 0);
    assert.equal(kept[1]!.ranks.functional!.values.length, kept[1]!.ranks.functional!.rank);
    assert.equal(whole[0]!.ranks.loss!.values.length, 4);
    // Trained: the odd point's H_F directions below H_L's tolerance are counted from the kept values.
    const outside = (collectResults(params, kept).details[1]!.prediction as { outside?: { loss?: string } }).outside;
    if (trained) assert.match(outside?.loss ?? '', /training shrank H_F: 1 of its 2 directions/);
    else assert.equal(outside, undefined);
  }
});
