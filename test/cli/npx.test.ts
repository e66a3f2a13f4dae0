/**
 * The README's command, `npx hrank`, runs the built CLI directly from the first call (issue 13,
 * item 5): npx must not install the project into its cache (which reran `prepare`, ~15 s).
 * `--no` makes npx fail rather than install, and a fresh npm cache shows it installed nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HRANK_VERSION } from '../../src/version.js';
import { ROOT, tempDir } from './helpers.js';

test('package.json declares no bin named hrank (npx would install the project to link it)', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin?: unknown; scripts: Record<string, string> };
  assert.equal(pkg.bin, undefined);
  assert.match(pkg.scripts['prepare']!, /scripts\/bin-link\.mjs/);
});

test('npx hrank from a subfolder runs node_modules/.bin/hrank without installing anything', async (t) => {
  if (!existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    t.skip('no build (dist/): npm ci builds it');
    return;
  }
  const { dir, cleanup } = await tempDir();
  try {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('npx', ['--no', '--', 'hrank', '--version'], {
        cwd: path.join(ROOT, 'pipelines'), encoding: 'utf8', timeout: 60_000,
        env: { ...process.env, npm_config_cache: dir, npm_config_update_notifier: 'false' },
      }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), HRANK_VERSION);
    assert.equal(existsSync(path.join(dir, '_npx')), false, 'npx installed something');
  } finally {
    await cleanup();
  }
});
