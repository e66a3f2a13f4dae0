/**
 * The "conv" section of `npm run bench` (alone: `npm run bench -- conv`): convolutional networks
 * (issue 19). The channel study of 5 points: one 3 x 3 conv layer (valid) with 1, 2, 4, 8, 16
 * channels on 100 embedded digits at 8 x 8, linear, no bias, mse, straight into the 10 outputs
 * (P 369 .. 5,904), cold (median of 3, each from an empty cache) and warm; then the shipped
 * pipelines/conv-channels.yaml cold. Target: the 5-point study cold <= 60 s. Prints a table;
 * writes bench/conv.json.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { coldWarm, median } from './cold-warm.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const measure = path.join(repo, 'dist', 'bench', 'measure.js');
const work = mkdtempSync(path.join(os.tmpdir(), 'hrank-bench-conv-'));
const jobs = os.availableParallelism();

const study = path.join(work, 'bench-conv.yaml');
writeFileSync(study, `version: 1
name: bench-conv
seed: 1
dataset: {source: mnist, samples: 100, resize: 8, classes: 10, channels: 1}
model:
  layers:
    - conv: {channels: 1, kernel: 3}
  activation: linear
loss: mse
sweep:
  model.layers[0].conv.channels: [1, 2, 4, 8, 16]
`);
const shipped = path.join(work, 'conv-channels.yaml');
writeFileSync(shipped, readFileSync(path.join(repo, 'pipelines', 'conv-channels.yaml'), 'utf8'));

interface Row { study: string; points: number; cold_s: number[]; warm_s: number[]; peak_rss_mb: number; target: string; date: string }
const rows: Row[] = [];
for (const [name, file, points, repeats, target] of [
  ['channels 1..16, one 3x3 conv layer, mse, P 369..5,904 (5 points)', study, 5, 3, '<= 60 s cold'],
  ['pipelines/conv-channels.yaml', shipped, 0, 1, ''],
] as const) {
  const { cold, warm, rss } = coldWarm(measure, work, file, jobs, repeats, 1);
  const count = points || JSON.parse(readFileSync(path.join(work, 'results', path.basename(file, '.yaml') === 'conv-channels' ? 'conv-channels' : 'bench-conv', 'results.json'), 'utf8')).length;
  rows.push({ study: name, points: count, cold_s: cold, warm_s: warm, peak_rss_mb: rss, target, date: new Date().toISOString() });
  console.error(`conv ${name}: cold ${cold.map((s) => s.toFixed(1)).join(', ')} s, warm ${warm[0]!.toFixed(2)} s, peak ${rss.toFixed(0)} MB`);
}
rmSync(work, { recursive: true, force: true });

const table = [
  ['study', 'points', 'cold s (median)', 'warm s', 'peak RSS MB', 'target'],
  ...rows.map((r) => [r.study, String(r.points), `${median(r.cold_s).toFixed(1)}${r.cold_s.length > 1 ? ` (${r.cold_s.map((s) => s.toFixed(1)).join(', ')})` : ''}`, r.warm_s[0]!.toFixed(2), r.peak_rss_mb.toFixed(0), r.target]),
];
const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
console.log(`\nconv: convolutional networks (${jobs} cores)`);
console.log(table.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ')).join('\n'));
writeFileSync(path.join(repo, 'bench', 'conv.json'), JSON.stringify({ machine: { cpus: os.cpus().length, node: process.version, load: os.loadavg() }, rows }, null, 2) + '\n');
