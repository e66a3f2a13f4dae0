/**
 * `npm run bench:training` (and a section of `npm run bench`): ranks along training (issue 16).
 * The 21-checkpoint study of a linear [20, 20] network (P 1,880, N 100 embedded digits at 8 x 8,
 * mse, gd, a checkpoint every 100 of 2,000 steps) cold (median of 3, each from an empty cache)
 * and warm (median of 3), and the shipped pipelines/training.yaml cold and warm. Targets: cold
 * <= 30 s, warm <= 1.5 s. With `--json` the last stdout line is the rows for bench/results.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { coldWarm, median } from './cold-warm.js';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(os.tmpdir(), 'hrank-bench-train-'));
const jobs = os.availableParallelism();
const asJson = process.argv.includes('--json');

execFileSync('npx', ['tsc', '-p', path.join(repo, 'bench', 'tsconfig.json')], { cwd: repo, stdio: asJson ? 'ignore' : 'inherit' });
const measure = path.join(repo, 'dist', 'bench', 'measure.js');

/** Cold runs (each from an empty cache), then warm runs on the last cache. */
function measureStudy(file: string, repeats: number): { cold: number[]; warm: number[]; rss: number } {
  return coldWarm(measure, work, file, jobs, repeats, repeats);
}

const study = path.join(work, 'bench-training.yaml');
writeFileSync(study, `version: 1
name: bench-training
seed: 1
dataset: {source: mnist, samples: 100, resize: 8, classes: 10}
model: {hidden: [20, 20]}
loss: mse
train: {optimizer: gd, lr: 0.05, steps: 2000, checkpoints: {from: 0, to: 2000, step: 100}}
sweep:
  train.checkpoint: all
`);
// A copy: a run writes its lock file beside the pipeline file.
const shipped = path.join(work, 'training.yaml');
writeFileSync(shipped, readFileSync(path.join(repo, 'pipelines', 'training.yaml'), 'utf8'));

const rows: Record<string, unknown>[] = [];
for (const [name, file, target] of [
  ['training, [20, 20] P 1,880 N 100, 21 checkpoints of 2,000 gd steps', study, '<= 30 s cold, <= 1.5 s warm'],
  ['pipelines/training.yaml, [20, 20] N 20, 21 checkpoints of 12,000 gd steps', shipped, ''],
] as const) {
  const m = measureStudy(file, 3);
  rows.push({ study: `${name}, cold`, points: 21, hrank_seconds: median(m.cold), hrank_seconds_all: m.cold, baseline_seconds: null, baseline_note: '', ratio: null, peak_rss_mb: m.rss, ranks: '', target: target ? '<= 30 s' : '' });
  rows.push({ study: `${name}, warm`, points: 21, hrank_seconds: median(m.warm), hrank_seconds_all: m.warm, baseline_seconds: null, baseline_note: '', ratio: null, peak_rss_mb: m.rss, ranks: '', target: target ? '<= 1.5 s' : '' });
  if (!asJson) console.log(`${name}: cold ${m.cold.map((s) => s.toFixed(1)).join(', ')} s (median ${median(m.cold).toFixed(1)}), warm ${m.warm.map((s) => s.toFixed(2)).join(', ')} s (median ${median(m.warm).toFixed(2)}), peak RSS ${m.rss.toFixed(0)} MB${target ? `; target ${target}` : ''}`);
}
rmSync(work, { recursive: true, force: true });
if (asJson) console.log(JSON.stringify(rows));
