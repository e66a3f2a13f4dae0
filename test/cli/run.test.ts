import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli/cli.js';
import type { RunSummary } from '../../src/cli/commands/run.js';
import type { PlanReport } from '../../src/cli/commands/plan.js';
import { SLOW, TINY, captureIO, hasStack, hrank, studyFolder, tempDir, writeText } from './helpers.js';

/** Cache entry files under a cache folder. */
async function entries(cache: string): Promise<string[]> {
  if (!existsSync(cache)) return [];
  return (await readdir(cache, { recursive: true })).filter((f) => f.endsWith('.bin'));
}

describe('run, plan and clean on a tiny study', () => {
  let dir = '', file = '', cache = '', results = '';
  studyFolder('tiny.yaml', TINY, (s) => ({ dir, file, cache, results } = s));

  test('a cold run computes every step and writes results.csv and results.json', async () => {
    const r = await hrank(['run', file, '--cache', cache, '--results', results, '--jobs', '2']);
    assert.equal(r.code, 0, r.stderr);
    // Not a terminal: plain progress lines on stderr.
    assert.match(r.stderr, /^plan tiny: 2 points, 13 steps$/m);
    assert.match(r.stderr, /^done ranks\[seed=1\] \d+\.\d\ds$/m);
    assert.match(r.stderr, /^done collect \d+\.\d\ds$/m);
    // The summary and a small table on stdout.
    assert.match(r.stdout, /^tiny: computed 11, cached 0, /m);
    assert.ok(r.stdout.includes(`results: ${path.join(results, 'tiny')} (results.csv, results.json`));
    assert.match(r.stdout, /^\s+seed\s+params\s+rank_loss/m);
    const csv = await readFile(path.join(results, 'tiny', 'results.csv'), 'utf8');
    assert.match(csv, /^seed,samples,input_dim,classes,params,rank_input_cov,rank_loss,/);
    assert.equal(csv.trim().split('\n').length, 3);
    const json = JSON.parse(await readFile(path.join(results, 'tiny', 'results.json'), 'utf8')) as unknown[];
    assert.equal(json.length, 2);
    assert.equal((await entries(cache)).length, 11, "every step but the derived ranks");
  });

  test('a second run computes nothing (--json: only JSON on stdout)', async () => {
    const r = await hrank(['run', file, '--cache', cache, '--results', results, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as RunSummary;
    assert.equal(s.study, 'tiny');
    assert.equal(s.ok, true);
    assert.equal(s.computed, 0);
    assert.ok(s.cached >= 1);
    assert.equal(s.failed, 0);
    assert.deepEqual(s.failures, []);
    // The rows of results.json, and every path absolute.
    assert.deepEqual(s.rows, JSON.parse(await readFile(path.join(results, 'tiny', 'results.json'), 'utf8')));
    for (const p of [s.file, s.results, ...s.files]) assert.ok(path.isAbsolute(p), p);
    assert.equal(s.steps, 13);
    assert.equal(s.points, 2);
    assert.equal(s.results, path.join(results, 'tiny'));
    assert.ok(s.files.includes(path.join(results, 'tiny', 'results.csv')));
    assert.equal(typeof s.seconds, 'number');
    assert.match(r.stderr, /^cached collect$/m);
  });

  test('a warm rerun leaves an up-to-date results folder untouched; a missing file or another pipeline text rewrites it', async () => {
    const folder = path.join(results, 'tiny');
    const args = ['run', file, '--cache', cache, '--results', results, '--json'];
    const snapshot = async (): Promise<Map<string, number>> => {
      const names = (await readdir(folder, { recursive: true })).filter((n) => !n.endsWith('.tmp'));
      return new Map(await Promise.all(names.map(async (n) => [n, (await stat(path.join(folder, n))).mtimeMs] as [string, number])));
    };
    const warm = captureIO();
    assert.equal(await main(args, warm), 0);
    assert.equal((JSON.parse(warm.stdout()) as RunSummary).upToDate, true);
    const before = await snapshot();
    assert.ok(before.has('report.html') && before.has('plots/ranks-seed.png'), [...before.keys()].join(' '));
    const again = captureIO();
    assert.equal(await main(args, again), 0);
    const s = JSON.parse(again.stdout()) as RunSummary;
    assert.equal(s.upToDate, true);
    assert.ok(s.files.includes(path.join(folder, 'plots', 'ranks-seed.svg')), s.files.join(' '));
    assert.deepEqual(await snapshot(), before, 'no file of the results folder was rewritten');

    // A file of the report gone: everything is written again, and the file is back.
    await rm(path.join(folder, 'plots', 'ranks-seed.png'));
    const mended = captureIO();
    assert.equal(await main(args, mended), 0);
    assert.equal((JSON.parse(mended.stdout()) as RunSummary).upToDate, false);
    assert.ok(existsSync(path.join(folder, 'plots', 'ranks-seed.png')));

    // Only a comment added: same cache keys, nothing computed, but provenance names the new text.
    const original = await readFile(file, 'utf8');
    await writeFile(file, `# a comment\n${original}`);
    try {
      const edited = captureIO();
      assert.equal(await main(args, edited), 0);
      const e = JSON.parse(edited.stdout()) as RunSummary;
      assert.equal(e.computed, 0);
      assert.equal(e.upToDate, false);
      const prov = JSON.parse(await readFile(path.join(folder, 'provenance.json'), 'utf8')) as { pipeline: { sha256: string } };
      assert.equal(prov.pipeline.sha256, createHash('sha256').update(`# a comment\n${original}`).digest('hex'));
    } finally {
      await writeFile(file, original);
    }
  });

  test('plan shows every step cached after the run', async () => {
    const io = captureIO();
    assert.equal(await main(['plan', file, '--cache', cache, '--json'], io), 0);
    const p = JSON.parse(io.stdout()) as PlanReport;
    assert.equal(p.study, 'tiny');
    assert.equal(p.steps.length, 13);
    assert.deepEqual(p.totals, { steps: 13, cached: 13, toRun: 0, notNeeded: 0 });
    assert.ok(p.steps.every((s) => s.status === 'cached' && s.cached && /^[0-9a-f]{64}$/.test(s.key)));
    assert.deepEqual(p.steps.map((s) => s.id).slice(-3), ['ranks[seed=1]', 'ranks[seed=2]', 'collect']);

    const text = captureIO();
    assert.equal(await main(['plan', file, '--cache', cache], text), 0);
    assert.match(text.stdout(), /^  cached  [0-9a-f]{12}  ranks\s+ranks\[seed=1\]$/m);
    assert.match(text.stdout(), /^13 steps: 13 cached, 0 to run$/m);
  });

  test('plan --explain prints the key parts of each step', async () => {
    const io = captureIO();
    assert.equal(await main(['plan', file, '--cache', cache, '--explain'], io), 0);
    const out = io.stdout();
    assert.equal(out.match(/^ +salt +hrank-key-v1$/gm)?.length, 13);
    assert.match(out, /^ +param +seed = 2$/m);
    assert.match(out, /^ +input +network = [0-9a-f]{64}$/m);
    const json = captureIO();
    await main(['plan', file, '--cache', cache, '--explain', '--json'], json);
    const p = JSON.parse(json.stdout()) as PlanReport;
    assert.equal(p.steps[0]!.parts?.salt, 'hrank-key-v1');
  });

  test('clean empties the cache; plan then shows every step to run', async () => {
    const r = await hrank(['clean', '--cache', cache]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `cache: removed 11 entries from ${cache}\n`);
    assert.deepEqual(await entries(cache), []);
    assert.ok(existsSync(path.join(results, 'tiny', 'results.csv')), 'results are kept without --all');

    const io = captureIO();
    await main(['plan', file, '--cache', cache, '--json'], io);
    assert.deepEqual((JSON.parse(io.stdout()) as PlanReport).totals, { steps: 13, cached: 0, toRun: 13, notNeeded: 0 });
  });

  test('clean --all removes the results hrank wrote, and the folder it leaves empty', async () => {
    const io = captureIO();
    assert.equal(await main(['clean', '--cache', cache, '--all', '--results', results], io), 0);
    assert.match(io.stdout(), /^results: removed 1 study folder \(tiny\): \d+ files from .*, and the folder itself$/m);
    assert.equal(existsSync(results), false);
    // Nothing left to remove is not an error.
    const again = captureIO();
    assert.equal(await main(['clean', '--cache', cache, '--all', '--results', results], again), 0);
    assert.match(again.stdout(), /does not exist; nothing to remove/);
  });

  test('--no-cache computes every step and leaves the cache alone', async () => {
    const io = captureIO();
    const nocache = path.join(dir, 'unused-cache');
    assert.equal(await main(['run', file, '--cache', nocache, '--results', results, '--no-cache', '--json'], io), 0);
    const s = JSON.parse(io.stdout()) as RunSummary;
    assert.deepEqual([s.computed, s.cached], [11, 0]);
    assert.equal(existsSync(nocache), false);
  });
});

describe('errors of run', () => {
  test('a missing pipeline file: exit 2, a clear message, no stack trace', async () => {
    const r = await hrank(['run', 'no/such/study.yaml', '--cache', '/nonexistent-cache-dir']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'no/such/study.yaml unreadable-file cannot read the pipeline file: no such file\n');
    assert.equal(hasStack(r.stderr), false);
  });

  test('an invalid pipeline: exit 2 with file:line:col, nothing run', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = await writeText(dir, 'bad.yaml', TINY.replace('  hidden: [3]', '  hiden: [3]'));
      const io = captureIO();
      assert.equal(await main(['run', file, '--cache', path.join(dir, 'c'), '--json'], io), 2);
      assert.match(io.stderr(), /bad\.yaml:9:3 unknown-key model\.hiden: .*\n[^]*did you mean 'hidden'/);
      assert.equal(io.stdout(), '');
      assert.equal(existsSync(path.join(dir, 'c')), false);
    } finally {
      await cleanup();
    }
  });

  test('usage errors and --version as a child process', async () => {
    const bad = await hrank(['run', 'x.yaml', '--jobs', 'zero']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--jobs must be a positive integer/);
    assert.equal(hasStack(bad.stderr), false);
    const unknown = await hrank(['explode']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'explode'/);
    const version = await hrank(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  test('a failed step: exit 1, every failed step named; --keep-going and --json report it too', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      // Well-formed IDX files (the header checks before the run pass), whose labels are all 9:
      // with classes: 2 no sample is left, so the dataset step itself fails.
      const u32 = (...v: number[]) => Buffer.from(v.flatMap((x) => [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255]));
      await writeFile(path.join(dir, 'images.idx'), Buffer.concat([u32(0x803, 20, 4, 4), Buffer.alloc(20 * 16, 7)]));
      await writeFile(path.join(dir, 'labels.idx'), Buffer.concat([u32(0x801, 20), Buffer.alloc(20, 9)]));
      const file = await writeText(dir, 'broken.yaml', [
        'version: 1', 'name: broken', 'dataset:', '  source: idx', '  images: images.idx', '  labels: labels.idx',
        '  samples: 10', '  resize: 4', '  classes: 2', 'model:', '  hidden: [3]', 'sweep:', '  seed: [1, 2]', '',
      ].join('\n'));
      const args = ['run', file, '--cache', path.join(dir, 'c'), '--results', path.join(dir, 'r')];
      const io = captureIO();
      assert.equal(await main(args, io), 1);
      assert.match(io.stderr(), /^FAILED dataset .*images\.idx/m);
      assert.match(io.stderr(), /^failed: 1 step \(stopped at the first failure; --keep-going finishes what it can\)$/m);
      assert.match(io.stderr(), /^  dataset: .*images\.idx/m);
      assert.equal(io.stdout(), '');
      assert.equal(existsSync(path.join(dir, 'r', 'broken', 'results.csv')), false);

      const json = captureIO();
      assert.equal(await main([...args, '--keep-going', '--json'], json), 1);
      const s = JSON.parse(json.stdout()) as RunSummary;
      assert.equal(s.ok, false);
      assert.equal(s.failed, 1);
      assert.equal(s.failures[0]!.step, 'dataset');
      assert.match(s.failures[0]!.message, /images\.idx/);
      assert.deepEqual(s.files, []);
    } finally {
      await cleanup();
    }
  });
});

describe('Ctrl-C', () => {
  test('stops the run, exits 130 and keeps finished steps (plan then shows only the rest to run)', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = await writeText(dir, 'slow.yaml', SLOW);
      const cache = path.join(dir, 'cache');
      let sent = false;
      const r = await hrank(['run', file, '--cache', cache, '--results', path.join(dir, 'r'), '--jobs', '2'], {
        onStderr: (text, child) => {
          // The light steps are done and the heavy ones are running: interrupt.
          if (!sent && (text.match(/^done prediction/gm)?.length ?? 0) === 4) {
            sent = true;
            child.kill('SIGINT');
          }
        },
      });
      assert.ok(sent, `no SIGINT sent; stderr:\n${r.stderr}`);
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /^interrupting: waiting for running steps to stop/m);
      assert.match(r.stderr, /^interrupted: finished steps are cached; rerun to resume$/m);
      assert.equal(hasStack(r.stderr), false);
      assert.equal(existsSync(path.join(dir, 'r', 'slow', 'results.csv')), false);

      const io = captureIO();
      await main(['plan', file, '--cache', cache, '--json'], io);
      const p = JSON.parse(io.stdout()) as PlanReport;
      const status = (kind: string) => p.steps.filter((s) => s.kind === kind).map((s) => s.status);
      assert.deepEqual(status('prediction'), ['cached', 'cached', 'cached', 'cached']);
      assert.ok(status('spectrum').includes('to run'));
      assert.deepEqual(status('collect'), ['to run']);
    } finally {
      await cleanup();
    }
  });

  test('a second Ctrl-C exits at once with 130, while the first is still winding down', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = await writeText(dir, 'slow.yaml', SLOW);
      // In process, so the two Ctrl-Cs land at a known moment: both while steps are running.
      let interrupt: (() => void) | undefined;
      let exited: number | undefined;
      let finished = false;
      const io = captureIO();
      const fired: string[] = [];
      const watched: typeof io = {
        ...io,
        onInterrupt: (handler) => {
          interrupt = handler;
          return () => (interrupt = undefined);
        },
        exit: (code) => void (exited ??= code),
        err: (text) => {
          io.err(text);
          if (fired.length === 0 && /^done prediction/m.test(text)) {
            fired.push(`first while running: ${!finished}`);
            interrupt!();
            fired.push(`second while running: ${!finished}`);
            interrupt!();
          }
        },
      };
      const code = await main(['run', file, '--cache', path.join(dir, 'cache'), '--results', path.join(dir, 'r'), '--jobs', '2'], watched);
      finished = true;
      assert.deepEqual(fired, ['first while running: true', 'second while running: true']);
      assert.equal(exited, 130, io.stderr());
      assert.match(io.stderr(), /^interrupting: waiting for running steps to stop/m);
      assert.match(io.stderr(), /^interrupted at once: steps finished so far are cached$/m);
      assert.equal(code, 130);
      assert.equal(interrupt, undefined, 'the Ctrl-C listener is removed when the run ends');
    } finally {
      await cleanup();
    }
  });

  test('two real SIGINTs end the process promptly; a shell sees 130 either way', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = await writeText(dir, 'slow.yaml', SLOW);
      let sent = false;
      const r = await hrank(['run', file, '--cache', path.join(dir, 'cache'), '--results', path.join(dir, 'r'), '--jobs', '2'], {
        timeoutMs: 20_000,
        onStderr: (text, child) => {
          if (!sent && /^done prediction/m.test(text)) {
            sent = true;
            child.kill('SIGINT');
            setTimeout(() => child.kill('SIGINT'), 20);
          }
        },
      });
      // The first Ctrl-C often ends the run within 20 ms; the second then lands in Node's own
      // teardown, where no handler runs and the default action ends the process by SIGINT, which a
      // shell reports as 130 as well (128 + 2).
      assert.ok(r.code === 130 || (r.code === null && r.signal === 'SIGINT'), `code ${r.code}, signal ${r.signal}\n${r.stderr}`);
      assert.match(r.stderr, /^interrupt/m);
      assert.equal(hasStack(r.stderr), false);
      assert.equal(existsSync(path.join(dir, 'r', 'slow', 'results.csv')), false);
    } finally {
      await cleanup();
    }
  });

});
