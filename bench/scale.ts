/**
 * `npm run bench:scale` (also the "scale" section of `npm run bench`): exact ranks at large P on
 * this machine. One point per width m (hidden [m, m], N 100, 8 x 8 embedded digits, K 10, mse, all
 * three Hessians), each cold in its own process with the run's workers, then the shipped
 * `pipelines/width-large.yaml` cold. Prints seconds, peak RSS (worker threads included), the ranks
 * against the predictions, and the growth exponent of time in P fitted by least squares on
 * log-log; writes bench/scale.json.
 * Usage: tsx bench/scale.ts [m ...]   (default 56 112 160 200 280; `--no-study` skips the study)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(os.tmpdir(), 'hrank-scale-'));
const jobs = os.availableParallelism();
const args = process.argv.slice(2);
const widths = args.filter((a) => /^\d+$/.test(a)).map(Number);
const sizes = widths.length > 0 ? widths : [56, 112, 160, 200, 280];
const withStudy = !args.includes('--no-study');

execFileSync('npx', ['tsc', '-p', path.join(repo, 'bench', 'tsconfig.json')], { cwd: repo, stdio: 'inherit' });
const measure = path.join(repo, 'dist', 'bench', 'measure.js');

interface Run { seconds: number; maxRssMB: number; rows: Record<string, number | string | null>[]; details: { ranks: Record<string, { ambiguous: boolean; method: string }> }[] }

function run(file: string, name: string): Run {
  const cache = path.join(work, `cache-${name}`);
  rmSync(cache, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [measure, 'run', file, '--cache', cache, '--results', path.join(work, 'results'), '--jobs', String(jobs), '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const stats = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { code: number; seconds: number; maxRssMB: number };
  if (stats.code !== 0) throw new Error(`hrank ${name} failed: ${r.stderr}`);
  const dir = path.join(work, 'results', name);
  return {
    ...stats,
    rows: JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')),
    details: JSON.parse(readFileSync(path.join(dir, 'details.json'), 'utf8')),
  };
}

const KINDS = ['loss', 'outer', 'functional'] as const;
/** Ranks against predictions: `=` everywhere, or what differs and whether it is flagged. */
function verdict(row: Record<string, number | string | null>, detail: Run['details'][number]): string {
  const off = KINDS.filter((k) => row[`rank_${k}`] !== row[`pred_${k}`])
    .map((k) => `${k} ${row[`rank_${k}`]} vs ${row[`pred_${k}`]}${detail.ranks[k]?.ambiguous ? ' (flagged)' : ''}`);
  return off.length === 0 ? '= prediction' : off.join('; ');
}

interface Point { m: number; params: number; rank_loss: number; rank_functional: number; seconds: number; peak_rss_mb: number; ranks: string; routes: string }
const points: Point[] = [];
for (const m of sizes) {
  const name = `scale-${m}`;
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(file, `version: 1\nname: ${name}\nseed: 1\ndataset: {source: mnist, samples: 100, resize: 8, classes: 10}\nmodel: {width: ${m}, depth: 2, activation: linear, init: glorot}\nloss: mse\nhessians: [loss, outer, functional]\n`);
  const r = run(file, name);
  const row = r.rows[0]!, d = r.details[0]!;
  const p: Point = {
    m, params: Number(row.params), rank_loss: Number(row.rank_loss), rank_functional: Number(row.rank_functional),
    seconds: r.seconds, peak_rss_mb: r.maxRssMB, ranks: verdict(row, d), routes: KINDS.map((k) => d.ranks[k]?.method).join(', '),
  };
  points.push(p);
  console.error(`m ${m}: P ${p.params}, ${p.seconds.toFixed(1)} s, ${p.peak_rss_mb.toFixed(0)} MB, ${p.ranks}`);
}

/** Least-squares slope of log(seconds) on log(P). */
function exponent(ps: readonly Point[]): number | null {
  if (ps.length < 2) return null;
  const xs = ps.map((p) => Math.log(p.params)), ys = ps.map((p) => Math.log(p.seconds));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < xs.length; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; }
  return sxy / sxx;
}

let study: { points: number; seconds: number; peak_rss_mb: number; ranks: string } | undefined;
if (withStudy) {
  const r = run(path.join(repo, 'pipelines', 'width-large.yaml'), 'rank-vs-width-large');
  const verdicts = r.rows.map((row, i) => verdict(row, r.details[i]!));
  const equal = verdicts.filter((v) => v === '= prediction').length;
  study = { points: r.rows.length, seconds: r.seconds, peak_rss_mb: r.maxRssMB, ranks: `${equal} of ${r.rows.length} points equal the prediction${equal < r.rows.length ? `; ${verdicts.filter((v) => v !== '= prediction').join(' | ')}` : ''}` };
}

const fit = exponent(points.filter((p) => p.params >= 20000));
const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`${pad('m', 5)}${pad('P', 8)}${pad('rank H_L', 10)}${pad('seconds', 9)}${pad('peak RSS MB', 13)}ranks`);
for (const p of points) console.log(`${pad(String(p.m), 5)}${pad(String(p.params), 8)}${pad(String(p.rank_loss), 10)}${pad(p.seconds.toFixed(1), 9)}${pad(p.peak_rss_mb.toFixed(0), 13)}${p.ranks}`);
if (fit !== null) console.log(`time grows like P^${fit.toFixed(2)} (least squares over the points with P >= 20,000)`);
if (study) console.log(`width-large.yaml (m 56..280 step 56, cold): ${study.seconds.toFixed(1)} s, ${study.peak_rss_mb.toFixed(0)} MB; ${study.ranks}`);
writeFileSync(path.join(repo, 'bench', 'scale.json'), `${JSON.stringify({ date: new Date().toISOString(), cpus: jobs, points, exponent: fit, study }, null, 2)}\n`);
rmSync(work, { recursive: true, force: true });
