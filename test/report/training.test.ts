/** Ranks along training in the report (issue 16): the loss panel, the train columns and the `outside` check. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runFixture, markGroups, paths } from './helpers.js';

// N = 4 samples in d = 6: gd reaches an exact fit, so H_F vanishes and rank(H_L) falls to rank(H_O).
const TRAINING = `dataset: {source: gaussian-mixture, dim: 6, samples: 4, classes: 3}
model: {hidden: [5, 5]}
train: {lr: 0.1, steps: 6000, checkpoints: [0, 2000, 4000, 6000]}
sweep:
  train.checkpoint: all
report:
  plots:
    - x: train.checkpoint
`;

test('a training study: train columns, H_L collapsing onto H_O flagged outside, the loss on a second panel', async () => {
  const f = await runFixture(TRAINING, 'training');
  const dir = f.run.dir;
  const rows = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as Record<string, number>[];
  assert.deepEqual(rows.map((r) => r['train.checkpoint']), [0, 2000, 4000, 6000]);
  const first = rows[0]!, last = rows[3]!;
  assert.equal(first['rank_loss'], first['pred_loss']);
  assert.ok(last['train_loss']! < 1e-20, `exact fit (${last['train_loss']})`);
  assert.equal(last['rank_loss'], last['rank_outer'], 'rank(H_L) reaches rank(H_O)');
  assert.ok(last['rank_loss']! < last['pred_loss']!);
  const table = readFileSync(path.join(dir, 'table.md'), 'utf8');
  assert.match(table, /\| train_loss \|/);
  assert.match(table, /H_L \(`check_loss`\): .*outside the assumptions/);
  const details = JSON.parse(readFileSync(path.join(dir, 'details.json'), 'utf8')) as { prediction: { outside?: Record<string, string> } }[];
  assert.equal(details[0]!.prediction.outside, undefined, 'at initialisation the prediction is compared');
  assert.match(details[3]!.prediction.outside?.['loss'] ?? '', /below H_L's tolerance/);
  const svg = readFileSync(path.join(dir, 'plots', 'ranks-train.checkpoint.svg'), 'utf8');
  const loss = markGroups(svg, 'line', 'train_loss_marks');
  assert.equal(loss.length, 1, 'one loss line');
  assert.equal(paths(loss[0]!), 1);
  assert.equal(markGroups(svg, 'line', 'empirical_marks').length, 3, 'one rank line per Hessian above it');
  assert.match(svg, /training loss \(mean\)/);
});
