/**
 * Cold and warm runs of one study through the built CLI (bench/measure.ts: wall seconds and peak
 * RSS, worker threads included), shared by the bench sections that time a study this way.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';

export interface Measured { readonly code: number; readonly seconds: number; readonly maxRssMB: number }

/** One `hrank run` of `file` on `cache`, results under `work`/results. */
export function runOnce(measure: string, work: string, file: string, cache: string, jobs: number): Measured {
  const r = spawnSync(process.execPath, [measure, 'run', file, '--cache', cache, '--results', path.join(work, 'results'), '--jobs', String(jobs)], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  const stats = JSON.parse((r.stderr ?? '').trim().split('\n').at(-1)!) as Measured;
  if (stats.code !== 0) throw new Error(`hrank ${file} failed: ${r.stderr}`);
  return stats;
}

/** `coldRuns` runs each from an empty cache, then `warmRuns` on the last one: seconds of each, and the peak RSS of the cold ones. */
export function coldWarm(measure: string, work: string, file: string, jobs: number, coldRuns: number, warmRuns: number): { cold: number[]; warm: number[]; rss: number } {
  const cache = path.join(work, 'cache');
  const cold: number[] = [], warm: number[] = [];
  let rss = 0;
  for (let i = 0; i < coldRuns; i++) {
    rmSync(cache, { recursive: true, force: true });
    const r = runOnce(measure, work, file, cache, jobs);
    cold.push(r.seconds);
    rss = Math.max(rss, r.maxRssMB);
  }
  for (let i = 0; i < warmRuns; i++) warm.push(runOnce(measure, work, file, cache, jobs).seconds);
  return { cold, warm, rss };
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
