/**
 * The CLI transpiled to JavaScript once per test process, shared by every helper that starts
 * `hrank` as a child: a child of the sources through tsx pays the loader on every start (~0.7 s),
 * of the transpiled tree ~0.3 s, and the suite starts a few hundred.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let built: Promise<string | undefined> | undefined;

/**
 * The CLI transpiled to JavaScript once per test process (esbuild, transpile-only: what tsx does
 * on every start, done ahead), in a temp folder beside a link to node_modules: `dist/` as `npm
 * run build` makes it, without tsc's type check. A child then starts in about half the time,
 * which matters for tests that start twenty of them. Undefined when esbuild (a dependency of
 * tsx) cannot be loaded: callers then run the sources through tsx.
 */
export function builtCli(): Promise<string | undefined> {
  built ??= (async () => {
    let esbuild: typeof import('esbuild');
    try {
      esbuild = await import('esbuild');
    } catch {
      return undefined;
    }
    const out = mkdtempSync(path.join(tmpdir(), 'hrank-built-'));
    process.on('exit', () => rmSync(out, { recursive: true, force: true }));
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(path.join(ROOT, 'src'));
    await esbuild.build({
      entryPoints: files, outdir: path.join(out, 'src'), outbase: path.join(ROOT, 'src'), format: 'esm', platform: 'node', target: 'node20',
      supported: { 'import-attributes': true }, logLevel: 'silent',
    });
    cpSync(path.join(ROOT, 'schemas'), path.join(out, 'schemas'), { recursive: true });
    cpSync(path.join(ROOT, 'package.json'), path.join(out, 'package.json'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'), 'dir');
    return path.join(out, 'src', 'cli', 'main.js');
  })();
  return built;
}

