/**
 * `npm run bench`: wall time and peak memory per point, each point in its own process so that
 * peak RSS is its own. Width points: hidden [m, m], N 100, 8x8 MNIST (d 64), K 10, mse. Then the
 * whole sample-size sweep (hidden [10, 10], N 10..400). Targets from issue 2 are checked and
 * printed; figures vary by ~40% between identical runs on 2-vCPU machines.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.join(here, '..', 'node_modules', '.bin', 'tsx');

interface PointOut {
  params: number; inputRank: number; seconds: number; peakRssMB: number;
  loss: { rank: number; method: string; ambiguous: boolean }; outer: { rank: number; method: string; ambiguous: boolean };
  functional: { rank: number; method: string; ambiguous: boolean };
  pred: { loss: number; outer: number; functional: number } | null;
}

function runPoint(args: object): PointOut {
  const out = execFileSync(tsx, [path.join(here, 'point.ts'), JSON.stringify(args)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as PointOut;
}

const agree = (p: PointOut): string => {
  if (!p.pred) return 'n/a';
  const kinds = ['loss', 'outer', 'functional'] as const;
  const bad = kinds.filter((k) => p[k].rank !== p.pred![k]);
  return bad.length === 0 ? 'yes' : bad.map((k) => `${k} ${p[k].rank}/${p.pred![k]}${p[k].ambiguous ? ' (ambiguous)' : ''}`).join(', ');
};

const rows: string[][] = [['point', 'P', 'seconds', 'peak RSS MB', 'H_L / H_O / H_F', 'routes', 'equals prediction']];
const row = (label: string, p: PointOut): string[] => [
  label, String(p.params), p.seconds.toFixed(1), p.peakRssMB.toFixed(0),
  `${p.loss.rank} / ${p.outer.rank} / ${p.functional.rank}`, `${p.loss.method}, ${p.outer.method}`, agree(p),
];

let width56: PointOut | undefined;
for (const m of [16, 32, 56]) {
  const p = runPoint({ hidden: [m, m], samples: 100, resize: 8, classes: 10, loss: 'mse', seed: 1 });
  rows.push(row(`width ${m}`, p));
  if (m === 56) width56 = p;
  console.error(`width ${m}: ${p.seconds.toFixed(1)} s`);
}
let sweepSeconds = 0, sweepPeak = 0, sweepAgree = 0;
for (let n = 10; n <= 400; n += 10) {
  const p = runPoint({ hidden: [10, 10], samples: n, resize: 8, classes: 10, loss: 'mse', seed: 1 });
  sweepSeconds += p.seconds;
  sweepPeak = Math.max(sweepPeak, p.peakRssMB);
  if (agree(p) === 'yes') sweepAgree++;
  rows.push(row(`samples ${n}`, p));
}
console.error(`sample-size sweep: ${sweepSeconds.toFixed(1)} s`);

const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const r of rows) console.log(r.map((v, c) => v.padEnd(widths[c])).join('  '));
console.log(`\nsample-size sweep, 40 points: ${sweepSeconds.toFixed(1)} s of compute (excluding process start-up), peak ${sweepPeak.toFixed(0)} MB, ${sweepAgree}/40 equal the prediction`);
if (width56) {
  const ok = width56.seconds <= 60 && width56.peakRssMB <= 3072;
  console.log(`width-56 target (<= 60 s, <= 3 GB): ${width56.seconds.toFixed(1)} s, ${width56.peakRssMB.toFixed(0)} MB -> ${ok ? 'met' : 'MISSED'}`);
}
