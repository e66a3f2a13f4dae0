import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from '../../src/cli/args.js';
import { main } from '../../src/cli/cli.js';
import type { RunSummary } from '../../src/cli/commands/run.js';
import { openWith, showCommand, systemOpener, type Opener } from '../../src/cli/commands/show.js';
import { TINY, captureIO, studyFolder, writeText } from './helpers.js';

describe('hrank report and hrank show', () => {
  let dir = '', file = '', cache = '', results = '', report = '';
  studyFolder('tiny.yaml', TINY, (s) => {
    ({ dir, file, cache, results } = s);
    report = path.join(results, 'tiny', 'report.html');
  });

  test('hrank report before any run: exit 1, names the missing steps, writes nothing', async () => {
    const io = captureIO();
    assert.equal(await main(['report', file, '--cache', cache, '--results', results], io), 1);
    assert.equal(io.stdout(), '');
    assert.match(io.stderr(), /^error: tiny: the report needs \d+ steps that the cache .* does not hold:$/m);
    for (const id of ['input-rank[seed=1]', 'prediction[seed=2]', 'spectrum[seed=1]', 'spectrum[seed=2]']) assert.match(io.stderr(), new RegExp(`^  ${id.replace(/[[\]]/g, '\\$&')}$`, 'm'));
    assert.match(io.stderr(), /hrank run .*tiny\.yaml` computes them/);
    assert.ok(!existsSync(path.join(results, 'tiny')), 'nothing written');
  });

  test('hrank show without a report: exit 1 and what to run', async () => {
    const io = captureIO();
    assert.equal(await main(['show', file, '--results', results], io), 1);
    assert.match(io.stderr(), /^error: no report at .*report\.html$/m);
  });

  test('hrank run writes the report next to the results', async () => {
    const io = captureIO();
    assert.equal(await main(['run', file, '--cache', cache, '--results', results, '--jobs', '2', '--json'], io), 0, io.stderr());
    const s = JSON.parse(io.stdout()) as RunSummary;
    for (const f of ['results.csv', 'table.md', 'report.html', path.join('plots', 'ranks-seed.png')]) {
      assert.ok(s.files.includes(path.join(results, 'tiny', f)), f);
      assert.ok(existsSync(path.join(results, 'tiny', f)), f);
    }
  });

  test('hrank report rebuilds it from the cache', async () => {
    await rm(report);
    await rm(path.join(results, 'tiny', 'plots'), { recursive: true });
    const io = captureIO();
    assert.equal(await main(['report', file, '--cache', cache, '--results', results], io), 0, io.stderr());
    assert.equal(io.stdout(), [
      'tiny: report rebuilt from the cache (nothing computed)',
      `report: ${report}`,
      `table: ${path.join(results, 'tiny', 'table.md')}`,
      `plots: ${path.join(results, 'tiny', 'plots')} (2 files)`,
      '',
    ].join('\n'));
    assert.ok(existsSync(report));
    assert.deepEqual(readdirSync(path.join(results, 'tiny', 'plots')).sort(), ['ranks-seed.png', 'ranks-seed.svg']);
  });

  test('hrank show prints the path alone on stdout; without a display it opens nothing', async () => {
    const io = captureIO({});
    assert.equal(await main(['show', file, '--results', results], io), 0);
    assert.equal(io.stdout(), `${report}\n`);
    if (process.platform === 'linux') assert.match(io.stderr(), /not opened: no display/);
  });

  test('with a display it calls the opener; a failing opener is a note, not a failure', async () => {
    const calls: Opener[] = [];
    const opts = { file, results, open: true };
    const io = captureIO({ DISPLAY: ':0' });
    assert.equal(await showCommand(opts, io, { platform: 'linux', open: async (o) => { calls.push(o); return { ok: true }; } }), 0);
    assert.deepEqual([...calls], [{ command: 'xdg-open', args: [report] }]); // (a copy: deepEqual narrows its argument's type)
    assert.equal(io.stderr(), '');

    const failing = captureIO({ WAYLAND_DISPLAY: 'wayland-0' });
    assert.equal(await showCommand(opts, failing, { platform: 'linux', open: async () => ({ ok: false, reason: 'xdg-open is not installed' }) }), 0);
    assert.equal(failing.stdout(), `${report}\n`);
    assert.match(failing.stderr(), /not opened: xdg-open is not installed/);

    const quiet = captureIO({ DISPLAY: ':0' });
    assert.equal(await showCommand({ ...opts, open: false }, quiet, { platform: 'linux', open: async (o) => { calls.push(o); return { ok: true }; } }), 0);
    assert.equal(calls.length, 1, '--no-open opens nothing');
  });

  test('an opener that does not exist resolves with the reason', async () => {
    const r = await openWith({ command: 'hrank-no-such-opener-x', args: [report] });
    assert.deepEqual(r, { ok: false, reason: 'hrank-no-such-opener-x is not installed' });
  });

  test('report of an invalid pipeline file: exit 2', async () => {
    const bad = await writeText(dir, 'bad.yaml', 'version: 1\nname: bad\n');
    const io = captureIO();
    assert.equal(await main(['report', bad, '--cache', cache], io), 2);
  });
});

test('systemOpener per platform', () => {
  assert.deepEqual(systemOpener('/r.html', 'darwin', {}), { command: 'open', args: ['/r.html'] });
  assert.deepEqual(systemOpener('/r.html', 'linux', { DISPLAY: ':1' }), { command: 'xdg-open', args: ['/r.html'] });
  assert.deepEqual(systemOpener('/r.html', 'freebsd', { WAYLAND_DISPLAY: 'w' }), { command: 'xdg-open', args: ['/r.html'] });
  assert.ok('none' in systemOpener('/r.html', 'linux', { DISPLAY: '' }));
  assert.equal((systemOpener('C:\\r.html', 'win32', {}) as Opener).command, 'cmd');
});

test('arguments of report and show', () => {
  const cmd = (argv: string[]) => {
    const r = parseArgs(argv);
    assert.equal(r.kind, 'command');
    return r.kind === 'command' ? r.command : undefined;
  };
  assert.deepEqual(cmd(['report', 'a.yaml']), { command: 'report', options: { file: 'a.yaml', results: 'results', cache: 'cache' } });
  assert.deepEqual(cmd(['report', 'a.yaml', '--cache', 'c', '--results', 'r']), { command: 'report', options: { file: 'a.yaml', results: 'r', cache: 'c' } });
  assert.deepEqual(cmd(['show', 'a.yaml']), { command: 'show', options: { file: 'a.yaml', results: 'results', open: true } });
  assert.deepEqual(cmd(['show', 'a.yaml', '--no-open', '--results', 'r']), { command: 'show', options: { file: 'a.yaml', results: 'r', open: false } });
  const r = parseArgs(['show']);
  assert.equal(r.kind === 'exit' && r.code, 2);
});
