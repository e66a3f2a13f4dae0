/**
 * `hrank status` and `hrank diff` as commands: arguments, the default file set (pipelines/ under
 * the current folder), several files at once, exit codes, and what cannot be checked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from '../../src/cli/args.js';
import type { StatusReport } from '../../src/cli/commands/status.js';
import { SMALL, commit, gitInit, hrankAt, hrankIn, runIn, tempDir, write } from '../lock/helpers.js';
import { hasStack } from './helpers.js';

test('status, diff and init parse into typed options', () => {
  const command = (argv: string[]) => {
    const r = parseArgs(argv);
    assert.equal(r.kind, 'command', JSON.stringify(r));
    return r.kind === 'command' ? r.command : undefined;
  };
  assert.deepEqual(command(['status']), { command: 'status', options: { files: [], pipelines: 'pipelines', json: false } });
  assert.deepEqual(command(['status', 'a.yaml', 'b.yaml', '--json']), { command: 'status', options: { files: ['a.yaml', 'b.yaml'], pipelines: 'pipelines', json: true } });
  assert.deepEqual(command(['diff', 'HEAD']), { command: 'diff', options: { targets: ['HEAD'], json: false, exitCode: false } });
  assert.deepEqual(command(['diff', 'main', 'HEAD', 's.yaml', '--json', '--exit-code']), {
    command: 'diff', options: { targets: ['main', 'HEAD', 's.yaml'], json: true, exitCode: true },
  });
  assert.deepEqual(command(['init', 'my-study']), { command: 'init', options: { name: 'my-study' } });
  assert.deepEqual(command(['init', 'x', '--dir', 'pipelines']), { command: 'init', options: { name: 'x', dir: 'pipelines' } });
  for (const argv of [['diff'], ['diff', 'a', 'b', 'c', 'd'], ['init'], ['init', 'a', 'b'], ['status', '--frob']]) {
    const r = parseArgs(argv);
    assert.equal(r.kind === 'exit' && r.code, 2, argv.join(' '));
  }
});

describe('status over several files, from the current folder', () => {
  const { dir, cleanup } = tempDir();
  let done = '';
  let fresh = '';
  before(async () => {
    gitInit(dir);
    done = write(dir, 'pipelines/done.yaml', SMALL.replace('name: small', 'name: done'));
    fresh = write(dir, 'pipelines/nested/fresh.yml', SMALL.replace('name: small', 'name: fresh'));
    await runIn(dir, done);
  });
  after(cleanup);

  test('default files: every *.yaml under pipelines/; exit 1 while one was never run, with a summary line', async () => {
    const r = await hrankAt(dir, ['status']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, [
      'pipelines/done.yaml: up to date (2 points)',
      'pipelines/nested/fresh.yml: never run (no lock file pipelines/nested/fresh.lock.json; hrank run pipelines/nested/fresh.yml writes it)',
      '1 of 2 studies not up to date',
      '',
    ].join('\n'));
  });

  test('all up to date: exit 0', async () => {
    await runIn(dir, fresh);
    const r = await hrankIn(['status', done, fresh, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as StatusReport;
    assert.equal(report.ok, true);
    assert.deepEqual(report.studies.map((s) => [s.study, s.state, s.points]), [['done', 'up to date', 2], ['fresh', 'up to date', 2]]);
    assert.deepEqual(report.errors, []);
  });

  test('diff without a file compares every lock file that differs under the current folder', async () => {
    commit(dir, 'both', 'pipelines');
    writeFileSync(done, SMALL.replace('name: small', 'name: done').replace('[2, 3]', '[2, 3, 4]'));
    await runIn(dir, done);
    const r = await hrankAt(dir, ['diff', 'HEAD']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pipelines\/done\.lock\.json \(HEAD -> working tree\): 1 added, 2 the same$/m);
    assert.match(r.stdout, /^\s+added\s+model\.width=4\s+32\s/m);
    assert.doesNotMatch(r.stdout, /fresh/);
    const none = await hrankAt(path.join(dir, 'pipelines', 'nested'), ['diff', 'HEAD']);
    assert.equal(none.stdout, 'no lock file differs between HEAD and the working tree\n');
  });

  test('what cannot be checked exits 2, after reporting the others: an invalid pipeline, a malformed lock file', async () => {
    const bad = write(dir, 'bad.yaml', 'version: 1\nname: bad\ndataset: {source: mnist}\nmodel: {width: 2}\n');
    const broken = write(dir, 'broken.yaml', SMALL.replace('name: small', 'name: broken'));
    write(dir, 'broken.lock.json', '{"lockfile": 1, "study": ');
    const r = await hrankIn(['status', fresh, bad, broken]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /fresh\.yml: up to date/);
    assert.match(r.stderr, /bad\.yaml: cannot check it:\n.*bad\.yaml:3:\d+.*samples/);
    assert.match(r.stderr, /broken\.yaml: cannot check it: .*broken\.lock\.json: not valid JSON/);
    assert.ok(!hasStack(r.stderr));
    const missing = await hrankAt(path.join(dir, 'pipelines'), ['status']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: no pipeline files given, and there is no pipelines\/ folder .*hrank init writes one/m);
  });

  test('diff outside a git repository, or of a folder that holds no results, is an input error', async () => {
    const outside = tempDir('hrank-nogit-');
    try {
      const file = write(outside.dir, 's.yaml', SMALL);
      write(outside.dir, 's.lock.json', '{}');
      const r = await hrankIn(['diff', 'HEAD', file]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: .* is not in a git repository/m);
      write(outside.dir, 'a/x.txt', '');
      write(outside.dir, 'b/x.txt', '');
      const folders = await hrankIn(['diff', path.join(outside.dir, 'a'), path.join(outside.dir, 'b')]);
      assert.equal(folders.code, 2);
      assert.match(folders.stderr, /no results\.json here/);
    } finally {
      outside.cleanup();
    }
  });
});
