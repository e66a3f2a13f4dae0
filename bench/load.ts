/**
 * The "load" section of `npm run bench` (alone: `npm run bench -- load`): sweeps at the documented
 * limit, of tiny points (gaussian mixture, 8 samples, dim 3, hidden [2] or [3], three losses;
 * `seed: {from: 1, to: N / 6}`), at 6,000, 24,000 and 100,000 points (HRANK_BENCH_LOAD=6000,24000
 * for others). Per size, each command in its own process of the built CLI (bench/measure.ts):
 * `hrank plan` (empty cache), a cold `hrank run` under `ulimit -n 1024`, the warm rerun, and
 * `hrank status` on the lock file it wrote: wall seconds and peak RSS. Targets (issue 18): plan
 * of 100,000 points <= 10 s; the cold run completes under ulimit -n 1024 in <= 2 GB; warm rerun
 * <= 30 s; status <= 10 s. Prints a table; writes bench/load.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const measure = path.join(repo, 'dist', 'bench', 'measure.js');
const sizes = (process.env.HRANK_BENCH_LOAD ?? '6000,24000,100000').split(',').map((s) => Number(s.trim())).filter((n) => n > 0);
const work = mkdtempSync(path.join(os.tmpdir(), 'hrank-load-'));

interface Measured { readonly code: number; readonly seconds: number; readonly maxRssMB: number }

/** One hrank command under `ulimit -n limit` (stdout dropped: a plan of 100,000 points prints 400,000 lines). */
function hrank(args: readonly string[], limit = 1024): Measured {
  const quoted = [process.execPath, measure, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('/bin/sh', ['-c', `ulimit -S -n ${limit} && exec ${quoted}`], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 28 });
  const last = (r.stderr ?? '').trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as Measured;
  } catch {
    throw new Error(`hrank ${args.join(' ')}: ${(r.stderr ?? '').slice(-2000)}`);
  }
}

interface Row { points: number; date?: string; steps_note: string; plan_s: number; plan_mb: number; cold_s: number; cold_mb: number; cold_ok: boolean; warm_s: number; warm_mb: number; status_s: number; status_mb: number }
const rows: Row[] = [];
for (const points of sizes) {
  const seeds = Math.max(1, Math.floor(points / 6));
  const name = `load-${seeds * 6}`;
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(file, `version: 1
name: ${name}
dataset: {source: gaussian-mixture, samples: 8, dim: 3, classes: 2, two_class_targets: onehot}
model: {hidden: [2]}
sweep:
  seed: {from: 1, to: ${seeds}}
  model.hidden: [[2], [3]]
  loss: [mse, cross-entropy, cosh]
`);
  const cache = path.join(work, `cache-${name}`);
  const results = path.join(work, 'results');
  const plan = hrank(['plan', file, '--cache', cache]);
  const cold = hrank(['run', file, '--cache', cache, '--results', results]);
  const warm = hrank(['run', file, '--cache', cache, '--results', results]);
  const status = hrank(['status', file]);
  const row: Row = {
    points: seeds * 6, steps_note: '', plan_s: plan.seconds, plan_mb: plan.maxRssMB, cold_s: cold.seconds, cold_mb: cold.maxRssMB, cold_ok: cold.code === 0,
    warm_s: warm.seconds, warm_mb: warm.maxRssMB, status_s: status.seconds, status_mb: status.maxRssMB,
  };
  rows.push(row);
  console.error(`load ${row.points}: plan ${row.plan_s.toFixed(1)} s, cold ${row.cold_s.toFixed(1)} s ${row.cold_mb.toFixed(0)} MB${row.cold_ok ? '' : ' FAILED'}, warm ${row.warm_s.toFixed(1)} s, status ${row.status_s.toFixed(1)} s`);
  rmSync(cache, { recursive: true, force: true });
  rmSync(path.join(results, name), { recursive: true, force: true });
}

const table = [
  ['points', 'plan s', 'plan MB', 'cold run s (ulimit -n 1024)', 'cold MB', 'warm rerun s', 'warm MB', 'status s', 'status MB'],
  ...rows.map((r) => [
    r.points.toLocaleString('en-US'), r.plan_s.toFixed(1), r.plan_mb.toFixed(0), `${r.cold_s.toFixed(1)}${r.cold_ok ? '' : ' FAILED'}`, r.cold_mb.toFixed(0),
    r.warm_s.toFixed(1), r.warm_mb.toFixed(0), r.status_s.toFixed(1), r.status_mb.toFixed(0),
  ]),
];
const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
console.log('\nload: sweeps of tiny points (targets at 100,000: plan <= 10 s, cold run under ulimit -n 1024 <= 2 GB, warm <= 30 s, status <= 10 s)');
console.log(table.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ')).join('\n'));
// Sizes measured now replace those of earlier runs in load.json; the others are kept.
const out = path.join(repo, 'bench', 'load.json');
const earlier = ((): Row[] => { try { return (JSON.parse(readFileSync(out, 'utf8')) as { rows: Row[] }).rows; } catch { return []; } })();
const merged = [...earlier.filter((r) => !rows.some((n) => n.points === r.points)), ...rows.map((r) => ({ ...r, date: new Date().toISOString() }))].sort((a, b) => a.points - b.points);
writeFileSync(out, JSON.stringify({ machine: { cpus: os.cpus().length, node: process.version }, rows: merged }, null, 2) + '\n');
rmSync(work, { recursive: true, force: true });
