/** `hrank init <name>`: the template validates and runs as written; no overwrites; only valid names. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { studyNameOf } from '../../src/cli/commands/init.js';
import { InputError } from '../../src/cli/errors.js';
import { loadStudy, expandSweep } from '../../src/pipeline/index.js';
import { studyTemplate } from '../../src/templates/study.js';
import { hrankAt, hrankIn, tempDir } from '../lock/helpers.js';

describe('hrank init', () => {
  const { dir, cleanup } = tempDir('hrank-init-');
  after(cleanup);

  test('writes <name>.yaml in --dir; it validates, and runs as written (embedded MNIST, 3 points)', async () => {
    const r = await hrankIn(['init', 'my-study', '--dir', path.join(dir, 'pipelines')]);
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(dir, 'pipelines', 'my-study.yaml');
    assert.equal(r.stdout.split('\n')[0], `created ${file}`);
    const text = readFileSync(file, 'utf8');
    assert.equal(text, studyTemplate('my-study'));
    assert.match(text, /^name: my-study\s+# /m);
    // Every line that sets a value says what it does.
    const settings = text.split('\n').filter((l) => /^\s*(- )?[a-z_.]+: \S/.test(l));
    assert.equal(settings.length, 22);
    for (const line of settings) assert.match(line, /\s# \S/, line);
    const study = await loadStudy(file);
    assert.equal(study.name, 'my-study');
    assert.equal(study.base.dataset.source, 'mnist');
    assert.equal(expandSweep(study).length, 3);

    const v = await hrankIn(['validate', file]);
    assert.equal(v.code, 0, v.stderr);
    const run = await hrankIn(['run', file, '--cache', path.join(dir, 'cache'), '--results', path.join(dir, 'results'), '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(path.join(dir, 'pipelines', 'my-study.lock.json')), 'the run wrote the lock file');
    const rows = JSON.parse(readFileSync(path.join(dir, 'results', 'my-study', 'results.json'), 'utf8')) as Record<string, number>[];
    assert.deepEqual(rows.map((row) => row['model.width']), [2, 4, 8]);
    for (const row of rows) for (const k of ['loss', 'outer', 'functional']) assert.equal(row[`rank_${k}`], row[`pred_${k}`]);
    const s = await hrankIn(['status', file]);
    assert.equal(s.code, 0, s.stdout + s.stderr);
  });

  test("outside a project: makes one (hrank.yaml, .gitignore) and writes into its pipelines folder; a trailing .yaml is the same name", async () => {
    const r = await hrankAt(dir, ['init', 'second.yaml']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').slice(0, 3).map((l) => l.replace(/:.*/, '')), ['created hrank.yaml', 'created .gitignore', 'created pipelines/second.yaml']);
    assert.match(readFileSync(path.join(dir, 'pipelines', 'second.yaml'), 'utf8'), /^name: second /m);
    assert.match(readFileSync(path.join(dir, 'hrank.yaml'), 'utf8'), /^pipelines: pipelines /m);
    // A second init finds the project and writes nothing else.
    const again = await hrankAt(dir, ['init', 'third']);
    assert.equal(again.stdout.split('\n')[0], 'created pipelines/third.yaml');
  });

  test('never overwrites a file: exit 2, the file unchanged', async () => {
    const file = path.join(dir, 'taken.yaml');
    writeFileSync(file, 'mine\n');
    const r = await hrankIn(['init', 'taken', '--dir', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: .*taken\.yaml already exists; not overwriting it/m);
    assert.equal(readFileSync(file, 'utf8'), 'mine\n');
  });

  test('names that are not study names: exit 2, nothing written', async () => {
    for (const name of ['my study', '../escape', '.hidden', 'a/b', 'ünï', '_x']) {
      const r = await hrankIn(['init', name, '--dir', dir]);
      assert.equal(r.code, 2, name);
      assert.match(r.stderr, /is not a valid study name: use letters, digits/, name);
    }
    assert.ok(!existsSync(path.join(dir, 'my study.yaml')));
    assert.ok(!existsSync(path.join(dir, '..', 'escape.yaml')));
    assert.throws(() => studyNameOf(''), InputError);
    assert.equal(studyNameOf('v1.2_x-y'), 'v1.2_x-y');
  });
});
