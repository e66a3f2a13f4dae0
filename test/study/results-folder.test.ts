/**
 * A results folder belongs to one pipeline file, and `clean --all` removes what hrank wrote and
 * nothing else (issue 13, items 1 and 2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { main } from '../../src/cli/cli.js';
import { TINY, captureIO, hrank, tempDir, writeText } from '../cli/helpers.js';

const ONE = TINY.replace('  seed: [1, 2]', '  seed: [1]');

describe('clean --all', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => undefined;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  test('removes only the files hrank wrote, keeps the user\'s files and says so', async () => {
    const file = await writeText(dir, 'tiny.yaml', `${ONE}report:\n  plots:\n    - x: seed\n`);
    const results = path.join(dir, 'out');
    const cache = path.join(dir, 'cache');
    assert.equal(await main(['run', file, '--cache', cache, '--results', results, '--json'], captureIO()), 0);
    assert.ok(existsSync(path.join(results, 'tiny', 'plots', 'ranks-seed.svg')));
    // The user's files: beside the study folders, inside one, and a folder of their own.
    await writeFile(path.join(results, 'notes.txt'), 'mine\n');
    await writeFile(path.join(results, 'tiny', 'analysis.py'), 'print(1)\n');
    await writeFile(path.join(results, 'tiny', 'plots', 'my-figure.pdf'), 'pdf');
    await mkdir(path.join(results, 'paper'));
    await writeFile(path.join(results, 'paper', 'results.csv'), 'not hrank\'s\n');

    const io = captureIO();
    assert.equal(await main(['clean', '--cache', cache, '--all', '--results', results], io), 0, io.stderr());
    assert.match(io.stdout(), /^results: removed 1 study folder \(tiny\): \d+ files from /m);
    assert.match(io.stdout(), /^results: left 4 entries hrank did not write: notes\.txt, paper\/, tiny\/analysis\.py, tiny\/plots\/my-figure\.pdf$/m);
    assert.equal(await readFile(path.join(results, 'notes.txt'), 'utf8'), 'mine\n');
    assert.equal(await readFile(path.join(results, 'tiny', 'analysis.py'), 'utf8'), 'print(1)\n');
    assert.equal(await readFile(path.join(results, 'tiny', 'plots', 'my-figure.pdf'), 'utf8'), 'pdf');
    assert.equal(await readFile(path.join(results, 'paper', 'results.csv'), 'utf8'), 'not hrank\'s\n');
    for (const gone of ['results.csv', 'results.json', 'provenance.json', 'report.html', 'table.md', '.hrank-stamp.json', 'plots/ranks-seed.svg']) {
      assert.equal(existsSync(path.join(results, 'tiny', gone)), false, gone);
    }
  });

  test('--results . (a typo) removes nothing of the working folder', async () => {
    const work = path.join(dir, 'work');
    await mkdir(path.join(work, 'src'), { recursive: true });
    await writeFile(path.join(work, 'src', 'main.py'), 'x = 1\n');
    await writeFile(path.join(work, 'README.md'), '# mine\n');
    const r = await hrank(['clean', '--all', '--results', '.', '--cache', 'cache'], { cwd: work });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /results: removed no study folders of hrank from /);
    assert.match(r.stdout, /left 2 entries hrank did not write: README\.md, src\//);
    assert.equal(await readFile(path.join(work, 'src', 'main.py'), 'utf8'), 'x = 1\n');
    assert.equal(await readFile(path.join(work, 'README.md'), 'utf8'), '# mine\n');
  });
});

describe('one results folder per pipeline file', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => undefined;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());
  const run = (file: string) => {
    const io = captureIO();
    return main(['run', file, '--cache', path.join(dir, 'cache'), '--results', path.join(dir, 'results'), '--json'], io).then((code) => ({ code, io }));
  };

  test('a copy with the same name is refused before any work, naming both files and the way out', async () => {
    const a = await writeText(dir, 'a.yaml', ONE);
    const b = await writeText(dir, 'b.yaml', ONE.replace('samples: 12', 'samples: 10'));
    assert.equal((await run(a)).code, 0);
    const before = await readFile(path.join(dir, 'results', 'tiny', 'results.csv'), 'utf8');
    const { code, io } = await run(b);
    assert.equal(code, 2);
    assert.match(io.stderr(), /error: .*results[/\\]tiny holds the results of .*a\.yaml, and .*b\.yaml has the same name \(name: tiny\)/);
    assert.match(io.stderr(), /hint: give .*b\.yaml a name of its own .*--results/);
    assert.equal(io.stdout(), '');
    // Nothing was written or computed.
    assert.equal(await readFile(path.join(dir, 'results', 'tiny', 'results.csv'), 'utf8'), before);
    const prov = JSON.parse(await readFile(path.join(dir, 'results', 'tiny', 'provenance.json'), 'utf8')) as { pipeline: { file: string } };
    assert.equal(path.basename(prov.pipeline.file), 'a.yaml');
    // validate of both files flags the shared name at b's name: key.
    const v = captureIO();
    assert.equal(await main(['validate', a, b], v), 2);
    assert.match(v.stderr(), /b\.yaml:2:1 duplicate-name name: 'tiny' is also the name of .*a\.yaml/);
    // Its own name: it runs.
    await writeFile(b, ONE.replace('name: tiny', 'name: tiny-b'));
    assert.equal((await run(b)).code, 0);
  });

  test('a renamed pipeline file takes its folder over, with a warning', async () => {
    const a = path.join(dir, 'a.yaml');
    const moved = path.join(dir, 'renamed.yaml');
    await rename(a, moved);
    const { code, io } = await run(moved);
    assert.equal(code, 0, io.stderr());
    assert.match(io.stderr(), /warning: .*tiny held the results of .*a\.yaml, which no longer exists; it now holds those of .*renamed\.yaml/);
    // And the folder is now the renamed file's: a new copy named tiny is refused.
    const c = await writeText(dir, 'c.yaml', ONE);
    assert.equal((await run(c)).code, 2);
  });

  test('a folder of files hrank did not write is refused', async () => {
    const d = await writeText(dir, 'd.yaml', ONE.replace('name: tiny', 'name: theirs'));
    await mkdir(path.join(dir, 'results', 'theirs'), { recursive: true });
    await writeFile(path.join(dir, 'results', 'theirs', 'results.csv'), 'a,b\n1,2\n');
    const { code, io } = await run(d);
    assert.equal(code, 2);
    assert.match(io.stderr(), /theirs holds files hrank did not write \(results\.csv\)/);
    assert.equal(await readFile(path.join(dir, 'results', 'theirs', 'results.csv'), 'utf8'), 'a,b\n1,2\n');
  });
});
