import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { parseArgs, type ParseResult } from '../../src/cli/args.js';
import { COMMANDS, OPTIONS, type ParsedCommand } from '../../src/cli/options.js';
import { HRANK_VERSION } from '../../src/version.js';

function command(argv: string[]): ParsedCommand {
  const r = parseArgs(argv);
  if (r.kind !== 'command') assert.fail(`expected a command for ${argv.join(' ')}, got exit ${r.code}: ${r.stderr}`);
  return r.command;
}

function usageError(argv: string[]): Extract<ParseResult, { kind: 'exit' }> {
  const r = parseArgs(argv);
  assert.equal(r.kind, 'exit', `expected a usage error for ${argv.join(' ')}`);
  if (r.kind !== 'exit') throw new Error('unreachable');
  assert.equal(r.code, 2, `exit code for ${argv.join(' ')}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: /);
  return r;
}

test('run: defaults', () => {
  assert.deepEqual(command(['run', 'study.yaml']), {
    command: 'run',
    options: { file: 'study.yaml', results: 'results', cache: 'cache', noCache: false, jobs: os.availableParallelism(), keepGoing: false, json: false },
  });
});

test('run: every option', () => {
  assert.deepEqual(command(['run', 's.yaml', '--results', 'out', '--cache', '/tmp/c', '--jobs', '3', '--keep-going', '--json']), {
    command: 'run',
    options: { file: 's.yaml', results: 'out', cache: '/tmp/c', noCache: false, jobs: 3, keepGoing: true, json: true },
  });
  assert.equal((command(['run', 's.yaml', '-j', '7']).options as { jobs: number }).jobs, 7);
});

test('run: --no-cache', () => {
  const c = command(['run', 's.yaml', '--no-cache']);
  assert.equal(c.command, 'run');
  assert.equal((c.options as { noCache: boolean }).noCache, true);
  // The last of --cache DIR / --no-cache wins.
  const d = command(['run', 's.yaml', '--no-cache', '--cache', 'c2']).options as { noCache: boolean; cache: string };
  assert.deepEqual([d.noCache, d.cache], [false, 'c2']);
});

test('run: --jobs must be a positive integer', () => {
  for (const bad of ['0', '-1', '2.5', 'four', '', '1e3']) {
    const r = usageError(['run', 's.yaml', '--jobs', bad]);
    assert.match(r.stderr, /--jobs must be a positive integer/);
  }
});

test('validate: one or more files', () => {
  assert.deepEqual(command(['validate', 'a.yaml']), { command: 'validate', options: { files: ['a.yaml'] } });
  assert.deepEqual(command(['validate', 'a.yaml', 'b.yaml', 'c.yaml']), { command: 'validate', options: { files: ['a.yaml', 'b.yaml', 'c.yaml'] } });
  usageError(['validate']);
});

test('plan: options', () => {
  assert.deepEqual(command(['plan', 'p.yaml']), { command: 'plan', options: { file: 'p.yaml', cache: 'cache', explain: false, json: false } });
  assert.deepEqual(command(['plan', 'p.yaml', '--cache', 'c', '--explain', '--json', '--jobs', '2']), {
    command: 'plan',
    options: { file: 'p.yaml', cache: 'c', explain: true, json: true, jobs: 2 },
  });
});

test('clean: options, and --results only with --all', () => {
  assert.deepEqual(command(['clean']), { command: 'clean', options: { cache: 'cache', results: 'results', all: false } });
  assert.deepEqual(command(['clean', '--cache', 'c', '--all', '--results', 'r']), { command: 'clean', options: { cache: 'c', results: 'r', all: true } });
  const r = usageError(['clean', '--results', 'r']);
  assert.match(r.stderr, /--results only applies with --all/);
});

test('usage errors exit 2 with a message and no stack', () => {
  const cases: [string[], RegExp][] = [
    [[], /Usage: hrank/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['rn', 'x.yaml'], /Did you mean run\?/],
    [['run'], /missing required argument 'file'/],
    [['run', 'a.yaml', 'b.yaml'], /too many arguments/],
    [['run', 'a.yaml', '--frob'], /unknown option '--frob'/],
    [['plan', 'a.yaml', '--jobs', '0'], /--jobs must be a positive integer/],
    [['plan', 'a.yaml', '--redis', 'redis://x'], /unknown option '--redis'/],
    [['run', 'a.yaml', '--cache'], /argument missing/],
    [['run', 'a.yaml', '--results', ''], /--results must name a folder/],
    [['--bogus'], /unknown option '--bogus'/],
  ];
  for (const [argv, message] of cases) {
    const r = parseArgs(argv);
    assert.equal(r.kind, 'exit', argv.join(' '));
    if (r.kind !== 'exit') continue;
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, message, argv.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('--help and --version exit 0 with their text on stdout', () => {
  const v = parseArgs(['--version']);
  assert.deepEqual(v, { kind: 'exit', code: 0, stdout: `${HRANK_VERSION}\n`, stderr: '' });
  const h = parseArgs(['--help']);
  assert.equal(h.kind, 'exit');
  if (h.kind !== 'exit') return;
  assert.equal(h.code, 0);
  for (const name of ['run', 'validate', 'plan', 'clean']) assert.match(h.stdout, new RegExp(`\\b${name}\\b`));
  assert.match(h.stdout, /Exit codes: 0 ok, 1 a run failed, 2 invalid input or usage/);
});

test('the help of each command lists exactly the options of the table', () => {
  for (const spec of COMMANDS) {
    const r = parseArgs([spec.name, '--help']);
    assert.equal(r.kind, 'exit');
    if (r.kind !== 'exit') continue;
    assert.equal(r.code, 0);
    for (const name of spec.options) {
      const long = OPTIONS[name].flags.match(/--[a-z-]+/)![0];
      assert.ok(r.stdout.includes(long), `${spec.name} --help shows ${long}`);
      assert.ok(r.stdout.includes(OPTIONS[name].description.slice(0, 20)), `${spec.name} --help describes ${long}`);
    }
    const shown = [...r.stdout.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]);
    const expected = [...spec.options.map((n) => OPTIONS[n].flags.match(/--[a-z-]+/)![0]), '--help'];
    assert.deepEqual(shown.sort(), expected.sort(), `${spec.name} options`);
  }
});

test('parseArgs is pure: the same argv twice gives the same result, nothing printed', () => {
  const write = process.stdout.write;
  let printed = false;
  process.stdout.write = (() => ((printed = true), true)) as typeof process.stdout.write;
  try {
    assert.deepEqual(parseArgs(['run', 'x.yaml', '--json']), parseArgs(['run', 'x.yaml', '--json']));
    parseArgs(['--help']);
    parseArgs(['nope']);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(printed, false);
});
