/**
 * `npm run bench:distributed` (and the last line of `npm run bench`): the width study
 * (pipelines/width.yaml: widths 4..56, mse and cross-entropy, 28 points) through `hrank run --redis` with 1 and
 * then 2 local `hrank worker --jobs 1` processes (one core each: two machines of one core), each
 * run cold (empty Redis database, empty caches); prints wall seconds and the speed-up, and checks
 * that both give the same results.csv.
 *
 * Redis: database 15 (emptied!) of HRANK_BENCH_REDIS or HRANK_TEST_REDIS, else a redis-server of
 * its own on a free port, else the bench says it skipped. `-- --to 32` sweeps widths 4..32 only (quicker).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(os.tmpdir(), 'hrank-bench-dist-'));
const toArg = process.argv.indexOf('--to');
const widthTo = toArg > 0 ? Number(process.argv[toArg + 1]) : 56;

// The built CLI (as bench/run.ts uses it): no TypeScript compiling in the measured processes.
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
try {
  execFileSync('npx', ['tsc', '-p', path.join(repo, 'bench', 'tsconfig.json')], { cwd: repo, stdio: 'inherit' });
} catch (e) {
  // Type errors still emit JavaScript: measure it, but say so.
  if (!existsSync(cli)) throw e;
  console.error('warning: tsc reported errors; benchmarking the JavaScript it emitted');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().on('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const redisCli = (url: string, ...args: string[]): string => execFileSync('redis-cli', ['-u', url, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

/** Database 15 of the Redis named, emptied before each run; else a redis-server of our own. */
async function redis(): Promise<{ url: string; stop: () => void } | undefined> {
  const given = process.env.HRANK_BENCH_REDIS ?? process.env.HRANK_TEST_REDIS;
  if (given) {
    const u = new URL(given);
    u.pathname = '/15';
    return { url: u.href, stop: () => undefined };
  }
  if (spawnSync('sh', ['-c', 'command -v redis-server && command -v redis-cli'], { encoding: 'utf8' }).status !== 0) return undefined;
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', work], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try { if (redisCli(url, 'ping') === 'PONG') return { url, stop: () => void child.kill() }; } catch { /* not yet */ }
    await sleep(100);
  }
  child.kill();
  return undefined;
}

interface BenchWorker { readonly child: ChildProcess; readonly log: () => string }

function startWorker(url: string): Promise<BenchWorker> {
  const child = spawn(process.execPath, [cli, 'worker', '--redis', url, '--jobs', '1'], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      if (err.includes(' ready: ')) resolve({ child, log: () => err });
    });
    child.on('exit', () => reject(new Error(`worker exited:\n${err}`)));
  });
}

/** Seconds a worker spent computing (its `done <step> <s> s` lines). */
const busy = (log: string): number => [...log.matchAll(/ done \S+ ([\d.]+) s$/gm)].reduce((a, m) => a + Number(m[1]), 0);

async function timedRun(url: string, workers: number, tag: string, file: string): Promise<{ seconds: number; csv: string; busy: number[] }> {
  redisCli(url, 'flushdb');
  const ws = await Promise.all(Array.from({ length: workers }, () => startWorker(url)));
  const t0 = performance.now();
  // Not spawnSync: the workers' logs must keep flowing while the submitter runs.
  const sub = spawn(process.execPath, [cli, 'run', file, '--redis', url, '--cache', path.join(work, `cache-${tag}`), '--results', path.join(work, `results-${tag}`), '--json'], {
    cwd: repo, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = { stdout: '', stderr: '', status: null as number | null };
  sub.stdout.setEncoding('utf8').on('data', (d: string) => (r.stdout += d));
  sub.stderr.setEncoding('utf8').on('data', (d: string) => (r.stderr += d));
  r.status = await new Promise<number | null>((resolve) => sub.on('close', resolve));
  const seconds = (performance.now() - t0) / 1000;
  for (const w of ws) { w.child.removeAllListeners('exit'); w.child.kill('SIGTERM'); }
  if (r.status !== 0) throw new Error(`hrank run --redis failed (${tag}):\n${r.stderr}`);
  const summary = JSON.parse(r.stdout) as { results: string };
  return { seconds, csv: readFileSync(path.join(summary.results, 'results.csv'), 'utf8'), busy: ws.map((w) => busy(w.log())) };
}

const server = await redis();
if (!server) {
  console.log('distributed: SKIPPED (no Redis: set HRANK_BENCH_REDIS=redis://host:port or install redis-server)');
} else {
  try {
    const file = path.join(work, 'width.yaml');
    const yaml = readFileSync(path.join(repo, 'pipelines', 'width.yaml'), 'utf8').replace('{from: 4, to: 56, step: 4}', `{from: 4, to: ${widthTo}, step: 4}`);
    writeFileSync(file, yaml);
    const points = 2 * Math.floor(widthTo / 4);
    const one = await timedRun(server.url, 1, 'one', file);
    const busyText = (b: number[]): string => b.map((s) => `${s.toFixed(0)} s`).join(' + ');
    console.error(`distributed, 1 worker: ${one.seconds.toFixed(1)} s (computing ${busyText(one.busy)})`);
    const two = await timedRun(server.url, 2, 'two', file);
    console.error(`distributed, 2 workers: ${two.seconds.toFixed(1)} s (computing ${busyText(two.busy)})`);
    const same = one.csv === two.csv ? 'identical results' : 'RESULTS DIFFER';
    console.log(`distributed width study (${points} points, widths 4..${widthTo}, cold): 1 worker ${one.seconds.toFixed(1)} s, 2 workers ${two.seconds.toFixed(1)} s (each hrank worker --jobs 1) -> speed-up ${(one.seconds / two.seconds).toFixed(2)}x, ${same}`);
  } finally {
    server.stop();
  }
}
rmSync(work, { recursive: true, force: true });
