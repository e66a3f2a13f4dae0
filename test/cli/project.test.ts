/**
 * The project file (issue 13, item 6): `hrank init` makes one at the git root with a .gitignore;
 * every command finds it from any subfolder, so cache, results and status agree wherever they run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { PipelineError } from '../../src/pipeline/errors.js';
import { findProjectFile, parseProject } from '../../src/pipeline/project.js';
import schema from '../../schemas/project.schema.json' with { type: 'json' };
import { hrank, tempDir } from './helpers.js';

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });

describe('a study repository with hrank.yaml', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => undefined;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    git(dir, 'init', '-q');
    mkdirSync(path.join(dir, 'notes', 'deep'), { recursive: true });
  });
  after(() => cleanup());

  test('init from a subfolder puts hrank.yaml and .gitignore at the git root, the study in pipelines/', async () => {
    const r = await hrank(['init', 'demo'], { cwd: path.join(dir, 'notes', 'deep') });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(path.join(dir, 'hrank.yaml')));
    assert.ok(existsSync(path.join(dir, 'pipelines', 'demo.yaml')));
    assert.deepEqual(readFileSync(path.join(dir, '.gitignore'), 'utf8').split('\n').filter((l) => l.startsWith('/')), ['/cache/', '/results/']);
    assert.match(r.stdout, /^next: hrank run .*pipelines\/demo\.yaml/m);
  });

  test('run in pipelines/, then plan, status and git from elsewhere agree: one cache, one results folder', async () => {
    // A one-point study keeps this quick.
    const file = path.join(dir, 'pipelines', 'demo.yaml');
    writeFileSync(file, 'version: 1\nname: demo\ndataset:\n  source: gaussian-mixture\n  dim: 4\n  samples: 12\n  classes: 3\nmodel:\n  hidden: [3]\n');
    const run = await hrank(['run', 'demo.yaml', '--json'], { cwd: path.join(dir, 'pipelines') });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(path.join(dir, 'results', 'demo', 'results.csv')), 'results at the root');
    assert.ok(existsSync(path.join(dir, 'cache')), 'cache at the root');
    assert.equal(existsSync(path.join(dir, 'pipelines', 'cache')), false);
    const plan = await hrank(['plan', 'pipelines/demo.yaml', '--json'], { cwd: dir });
    assert.equal(plan.code, 0, plan.stderr);
    const totals = (JSON.parse(plan.stdout) as { totals: { toRun: number } }).totals;
    assert.equal(totals.toRun, 0, 'plan from the root sees the cache the run in pipelines/ wrote');
    const status = await hrank(['status'], { cwd: path.join(dir, 'notes') });
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /demo\.yaml: up to date \(1 point\)/);
    // Neither the cache nor the results show up in git.
    const untracked = git(dir, 'status', '--porcelain', '--untracked-files=all').split('\n').filter(Boolean).map((l) => l.slice(3));
    assert.ok(untracked.every((f) => !f.startsWith('cache/') && !f.startsWith('results/')), untracked.join('\n'));
    assert.ok(untracked.includes('hrank.yaml'));
  });

  test('an option on the command line wins over the project', async () => {
    const r = await hrank(['plan', 'pipelines/demo.yaml', '--json', '--cache', 'elsewhere'], { cwd: dir });
    assert.equal((JSON.parse(r.stdout) as { totals: { toRun: number } }).totals.toRun > 0, true);
  });

  test('a .gitignore of the user is never edited: init says what it lacks', async () => {
    const { dir: other, cleanup: done } = await tempDir();
    try {
      git(other, 'init', '-q');
      writeFileSync(path.join(other, '.gitignore'), 'node_modules/\ncache/\n');
      const r = await hrank(['init', 'x'], { cwd: other });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readFileSync(path.join(other, '.gitignore'), 'utf8'), 'node_modules/\ncache/\n');
      assert.match(r.stdout, /note: \.gitignore does not ignore \/results\/; add that line/);
    } finally {
      await done();
    }
  });

  test('a broken project file: exit 2 at file:line:col, for every command that reads it', async () => {
    writeFileSync(path.join(dir, 'hrank.yaml'), 'version: 1\ncahce: /tmp/x\n');
    for (const args of [['status'], ['plan', 'pipelines/demo.yaml'], ['run', 'pipelines/demo.yaml']]) {
      const r = await hrank(args, { cwd: path.join(dir, 'pipelines') });
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /hrank\.yaml:2:1 unknown-key cahce: unknown key 'cahce' in the project file; allowed: version, pipelines, cache, results/);
      assert.match(r.stderr, /hint: did you mean 'cache'\?/);
    }
  });
});

test('findProjectFile looks upwards and stops at the git root', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    mkdirSync(path.join(dir, 'repo', 'a', 'b'), { recursive: true });
    mkdirSync(path.join(dir, 'repo', '.git'));
    writeFileSync(path.join(dir, 'hrank.yaml'), 'version: 1\n'); // above the git root: not this repository's
    assert.equal(findProjectFile(path.join(dir, 'repo', 'a', 'b')), undefined);
    writeFileSync(path.join(dir, 'repo', 'hrank.yaml'), 'version: 1\n');
    assert.equal(findProjectFile(path.join(dir, 'repo', 'a', 'b')), path.join(dir, 'repo', 'hrank.yaml'));
  } finally {
    await cleanup();
  }
});

test("the hand-written check of hrank.yaml agrees with schemas/project.schema.json", () => {
  const validate = new Ajv2020Module.default({ strict: true }).compile(schema);
  const cases: string[] = [
    'version: 1\n',
    'version: 1\npipelines: studies\ncache: /scratch/c\nresults: out\n',
    'version: 2\n',
    'pipelines: p\n',
    'version: 1\ncache: 3\n',
    'version: 1\ncache: ""\n',
    'version: 1\nextra: 1\n',
    'version: 1\n$schema: ./schemas/project.schema.json\n',
    '- version: 1\n',
    'version: "1"\n',
  ];
  for (const text of cases) {
    let hand = true;
    try {
      parseProject(text, 'hrank.yaml');
    } catch (e) {
      assert.ok(e instanceof PipelineError, String(e));
      assert.ok(e.problems.every((p) => p.line > 0 && p.column > 0), text);
      hand = false;
    }
    assert.equal(hand, validate(parseYaml(text)), text);
  }
  const p = parseProject('version: 1\nresults: ../out\n', '/work/repo/hrank.yaml');
  assert.deepEqual([p.root, p.pipelines, p.cache, p.results], ['/work/repo', '/work/repo/pipelines', '/work/repo/cache', '/work/out']);
});
