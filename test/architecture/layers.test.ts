/**
 * The layers of src/, read from the imports: every import points downwards (cli -> study ->
 * report -> lock -> engine -> pipeline -> science; util, version and templates below all), the
 * engine's store below its step kinds below its execution, and no two files import each other,
 * directly or around a longer circle. docs/architecture.md says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** Higher layers may import lower ones (and their own). */
const LAYERS: readonly [string, number][] = [
  ['cli', 8], ['study', 7], ['report', 6], ['lock', 5],
  ['engine/distributed', 4.4], ['engine/exec', 4.3], ['engine/kinds', 4.2], ['engine/store', 4.1],
  ['pipeline', 3], ['science', 2], ['templates', 1], ['util', 1], ['version.ts', 1],
];

function layerOf(file: string): [string, number] {
  const rel = path.relative(src, file).split(path.sep).join('/');
  const hit = LAYERS.find(([prefix]) => rel === prefix || rel.startsWith(`${prefix}/`));
  if (!hit) throw new Error(`${rel}: in no layer (add it to LAYERS)`);
  return hit;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Relative imports of a file (static, dynamic and type-only), as absolute .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g)) out.push(path.resolve(path.dirname(file), `${m[1]}.ts`));
  return out;
}

const files = sources(src).filter((f) => !f.endsWith('schema.validate.ts') && !f.endsWith('.wasm.ts'));
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => files.includes(t))]));
const rel = (f: string): string => path.relative(src, f);

test('every import points downwards', () => {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    const [from, level] = layerOf(file);
    for (const t of targets) {
      const [to, tLevel] = layerOf(t);
      if (tLevel > level) wrong.push(`${rel(file)} (${from}) imports ${rel(t)} (${to})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('no import circles', () => {
  const state = new Map<string, 'open' | 'done'>();
  const circles: string[] = [];
  const visit = (f: string, trail: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') { circles.push([...trail.slice(trail.indexOf(f)), f].map(rel).join(' -> ')); return; }
    state.set(f, 'open');
    for (const t of graph.get(f) ?? []) visit(t, [...trail, f]);
    state.set(f, 'done');
  };
  for (const f of files) visit(f, []);
  assert.deepEqual(circles, []);
});
