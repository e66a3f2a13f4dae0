import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSeconds, plural, resultsTable, textTable } from '../../src/cli/format.js';
import type { Results } from '../../src/engine/kinds/collect.js';

test('formatSeconds', () => {
  assert.equal(formatSeconds(0.421), '0.42s');
  assert.equal(formatSeconds(3.2149), '3.21s');
  assert.equal(formatSeconds(12.34), '12.3s');
  assert.equal(formatSeconds(125), '2m05s');
  assert.equal(formatSeconds(NaN), '?');
});

test('plural', () => {
  assert.equal(plural(1, 'step'), '1 step');
  assert.equal(plural(0, 'step'), '0 steps');
  assert.equal(plural(2, 'entry', 'entries'), '2 entries');
});

test('textTable aligns numbers right and text left, without trailing spaces', () => {
  const t = textTable(['id', 'n'], [['a', 5], ['long', 120], ['b', null]], 2);
  assert.equal(t, ['  id    n', '  a       5', '  long  120', '  b'].join('\n'));
});

function results(rows: number): Results {
  const columns = ['model.width', 'samples', 'input_dim', 'classes', 'params', 'rank_input_cov', 'rank_loss', 'rank_outer', 'rank_functional', 'pred_loss', 'pred_outer', 'pred_functional', 'gap_loss', 'gap_outer', 'gap_functional'];
  return {
    columns,
    rows: Array.from({ length: rows }, (_, i) => [4 * (i + 1), 100, 64, 10, 100 * (i + 1), 64, 50 + i, 40, null, 50 + i, 40, null, 1.5, 2, null]),
    details: [],
  };
}

test('resultsTable: axes, params, ranks and predictions with values; none past 20 rows', () => {
  const t = resultsTable(results(3), ['model.width'])!;
  const [header, ...lines] = t.split('\n');
  assert.deepEqual(header!.trim().split(/\s+/), ['model.width', 'params', 'rank_loss', 'rank_outer', 'pred_loss', 'pred_outer']);
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[2]!.trim().split(/\s+/), ['12', '300', '52', '40', '52', '40']);
  assert.ok(resultsTable(results(20), ['model.width']));
  assert.equal(resultsTable(results(21), ['model.width']), undefined);
});

test('resultsTable on a 40-column terminal: blocks of columns that fit, the axis repeated in each, every cell shown once', () => {
  const wide = resultsTable(results(3), ['model.width'])!;
  assert.ok(wide.split('\n').some((l) => l.length > 40), 'the table is wider than 40 columns');
  const t = resultsTable(results(3), ['model.width'], 2, 40)!;
  const lines = t.split('\n');
  for (const l of lines) assert.ok(l.length <= 40, `${l.length}: ${l}`);
  const blocks = t.split('\n\n');
  assert.ok(blocks.length >= 2);
  const headers = blocks.map((b) => b.split('\n')[0]!.trim().split(/\s+/));
  for (const h of headers) assert.equal(h[0], 'model.width');
  assert.deepEqual(headers.flatMap((h) => h.slice(1)), ['params', 'rank_loss', 'rank_outer', 'pred_loss', 'pred_outer']);
  for (const b of blocks) assert.equal(b.split('\n').length, 4, 'a header and the 3 rows');
  // Wide enough: the one table, unchanged.
  assert.equal(resultsTable(results(3), ['model.width'], 2, 200), wide);
});
