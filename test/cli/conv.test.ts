/** End to end: a tiny conv study on 6 x 6 digits through validate, run, explain and report. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { hasStack, hrank, studyFolder, writeText } from './helpers.js';

const CONV = `version: 1
name: conv-tiny
dataset:
  source: mnist
  samples: 20
  resize: 6
model:
  layers:
    - conv: {channels: 1, kernel: 3}
sweep:
  model.layers[0].conv.channels: [1, 2]
report:
  plots:
    - x: model.layers[0].conv.channels
      normalize: params
`;

describe('a conv study from the command line', () => {
  let dir = '', file = '', cache = '', results = '';
  studyFolder('conv.yaml', CONV, (s) => ({ dir, file, cache, results } = s));

  test('run: rows with params = kernel + dense weights, every rank, the conv formulas where verified', async () => {
    const r = await hrank(['run', file, '--cache', cache, '--results', results, '--jobs', '2'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(await readFile(path.join(results, 'conv-tiny', 'results.json'), 'utf8')) as Record<string, unknown>[];
    assert.equal(rows.length, 2);
    for (const [i, c] of [1, 2].entries()) {
      const row = rows[i]!;
      assert.equal(row['model.layers[0].conv.channels'], c);
      // 6x6 -> valid k3: c x 4 x 4, then 10 outputs: c*9 kernel weights + 16c*10 dense weights.
      assert.equal(row['params'], c * 9 + 16 * c * 10);
      assert.equal(row['input_dim'], 36);
      for (const k of ['loss', 'outer', 'functional']) {
        const rank = row[`rank_${k}`];
        assert.equal(typeof rank, 'number', `rank_${k} of point ${c}`);
        assert.ok((rank as number) >= 1 && (rank as number) <= (row['params'] as number));
      }
      // One linear conv layer into the outputs: rank(H_F) = 2 C beta predicted (and met here),
      // H_O where rho_H = r_c, never H_L.
      assert.equal(row['pred_functional'], row['rank_functional']);
      assert.ok(row['pred_outer'] === null || row['pred_outer'] === row['rank_outer'], `H_O ${String(row['pred_outer'])} against ${String(row['rank_outer'])}`);
      assert.equal(row['pred_loss'] ?? null, null, 'no formula for H_L');
      // H_O = sum_i J_i^T J_i (mse): rank at most N K = 200.
      assert.ok((row['rank_outer'] as number) <= 200);
    }
    const details = JSON.parse(await readFile(path.join(results, 'conv-tiny', 'details.json'), 'utf8')) as { prediction: { missing?: string } }[];
    for (const d of details) assert.match(d.prediction.missing ?? '', /no formula for H_L is verified for a convolutional network/);
    // The rank / #params figure against channels.
    const plots = await readdir(path.join(results, 'conv-tiny', 'plots'));
    const svg = plots.find((p) => p.endsWith('.svg') && p.includes('conv.channels') && p.includes('per-params'));
    assert.ok(svg, plots.join(', '));
    const text = await readFile(path.join(results, 'conv-tiny', 'plots', svg), 'utf8');
    assert.match(text, /model\.layers\[0\]\.conv\.channels/);
    const html = await readFile(path.join(results, 'conv-tiny', 'report.html'), 'utf8');
    assert.match(html, /no formula for H_L is verified for a convolutional network/);
  });

  test('explain: the conv layers, the conv formulas with their data ranks, and why H_L has none', async () => {
    const r = await hrank(['explain', file, '--results', results]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /network: d 36 -> conv 2ch k3 -> \[\] -> K 10/);
    assert.match(r.stdout, /rank\(H_F\) = 2 C beta\n\s+= 2 \* 2 \* \d+ = \d+/);
    assert.match(r.stdout, /rank\(H_L\): no verified formula for this conv network/);
    assert.doesNotMatch(r.stdout, /rank\(H_O\) = q \(r \+ K' - q\)/);
  });

  test('validate: a kernel larger than the image is exit 2 at file:line:col, nothing run', async () => {
    const bad = await writeText(dir, 'bad.yaml', CONV.replace('kernel: 3', 'kernel: 7'));
    const r = await hrank(['validate', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.yaml:9:35 bad-value model\.layers\[0\]\.conv\.kernel: conv layer 1 \(input 1 x 6 x 6\): kernel 7 is larger than its 6-pixel input/);
    assert.equal(hasStack(r.stderr), false);
    assert.equal(existsSync(path.join(results, 'bad')), false);
  });
});
