/**
 * Properties of keys, from YAML text to plan keys (fast-check): the same study written another
 * way (key order, number formatting such as 1 vs 1.0 vs 1e0, quoting, flow or block style,
 * comments, a range or the list it expands to) plans exactly the same step keys; a change of any
 * value the results depend on always changes a key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planStudy } from '../../src/engine/kinds/plan.js';
import { parsePipeline } from '../../src/pipeline/load.js';

const FILE = '/work/studies/prop.yaml';

type Scalar = string | number | boolean;
type Value = Scalar | readonly Value[] | { readonly [k: string]: Value };

interface Doc {
  seed: number;
  dataset: { source: 'gaussian-mixture'; dim: number; samples: number; classes: number; spread?: number; separation?: number };
  model: { hidden: number[]; activation: string; bias: boolean | 'first'; init: string };
  loss: string;
  hessians: string[];
  sweep?: Record<string, Value>;
}

const docArb: fc.Arbitrary<Doc> = fc.record({
  seed: fc.integer({ min: 0, max: 1000 }),
  dataset: fc.record(
    {
      source: fc.constant('gaussian-mixture' as const),
      dim: fc.integer({ min: 1, max: 6 }),
      samples: fc.integer({ min: 2, max: 30 }),
      classes: fc.integer({ min: 2, max: 4 }),
      spread: fc.constantFrom(0.5, 1, 1.5, 2.25),
      separation: fc.constantFrom(0.25, 1, 3),
    },
    { requiredKeys: ['source', 'dim', 'samples', 'classes'] },
  ),
  model: fc.record({
    hidden: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
    activation: fc.constantFrom('linear', 'relu', 'tanh'),
    bias: fc.constantFrom(false, true, 'first' as const),
    init: fc.constantFrom('glorot', 'orthogonal', 'he'),
  }),
  loss: fc.constantFrom('mse', 'cross-entropy', 'cosh'),
  hessians: fc.subarray(['loss', 'outer', 'functional'], { minLength: 1 }),
  sweep: fc.option(
    fc.oneof(
      fc.record({ seed: fc.uniqueArray(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 3 }) }),
      fc.record({ loss: fc.subarray(['mse', 'cross-entropy', 'cosh'], { minLength: 1 }) }),
      fc.record({ 'dataset.samples': fc.uniqueArray(fc.integer({ min: 2, max: 30 }), { minLength: 1, maxLength: 3 }) }),
    ),
    { nil: undefined },
  ),
}) as fc.Arbitrary<Doc>;

/** Random choices for one way of writing a document. */
type Pick = (n: number) => number;

/** A number written one of the ways YAML reads as the same number. */
function writeNumber(x: number, pick: Pick): string {
  if (Number.isInteger(x)) {
    const ways = [`${x}`, `${x}.0`, `${x}e0`, `+${x}`, `${x}.000`];
    if (x >= 0 && x < 10) ways.push(`0${x}.0`);
    return ways[pick(ways.length)]!;
  }
  const ways = [String(x), `${x}0`, `${x * 10}e-1`];
  if (x > 0 && x < 1) ways.push(String(x).replace(/^0/, ''));
  return ways[pick(ways.length)]!;
}

function writeScalar(v: Scalar, pick: Pick): string {
  if (typeof v === 'number') return writeNumber(v, pick);
  if (typeof v === 'boolean') return [String(v), v ? 'True' : 'False', v ? 'TRUE' : 'FALSE'][pick(3)]!;
  return [v, `'${v}'`, `"${v}"`][pick(3)]!;
}

function shuffled<T>(xs: readonly T[], pick: Pick): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function writeFlow(v: Value, pick: Pick): string {
  if (Array.isArray(v)) return `[${v.map((x) => writeFlow(x, pick)).join(', ')}]`;
  if (typeof v === 'object') return `{${shuffled(Object.entries(v), pick).map(([k, x]) => `${k}: ${writeFlow(x, pick)}`).join(', ')}}`;
  return writeScalar(v as Scalar, pick);
}

/** Block-style mapping lines at `indent`, keys shuffled, nested values block or flow, comments sprinkled. */
function writeBlock(obj: { readonly [k: string]: Value }, indent: string, pick: Pick): string[] {
  const lines: string[] = [];
  for (const [k, v] of shuffled(Object.entries(obj), pick)) {
    if (pick(4) === 0) lines.push(`${indent}# a comment about ${k}: 1.0, [x], {y: 2}`);
    const note = pick(3) === 0 ? '   # note: 42' : '';
    if (v !== null && typeof v === 'object' && pick(2) === 0) {
      if (Array.isArray(v)) {
        lines.push(`${indent}${k}:${note}`);
        for (const item of v) lines.push(`${indent}  - ${writeFlow(item, pick)}`);
      } else {
        lines.push(`${indent}${k}:${note}`);
        lines.push(...writeBlock(v as { readonly [k: string]: Value }, `${indent}  `, pick));
      }
    } else {
      lines.push(`${indent}${k}: ${writeFlow(v, pick)}${note}`);
    }
  }
  return lines;
}

function write(doc: Doc, seed: number): string {
  let s = seed >>> 0;
  const pick: Pick = (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
  const top: Record<string, Value> = { version: 1, name: 'prop', ...(doc as unknown as Record<string, Value>) };
  if (top.sweep === undefined) delete top.sweep;
  // Cross-entropy over two classes needs two outputs (one output is refused: a constant softmax).
  const crossEntropy = doc.loss === 'cross-entropy' || (doc.sweep?.['loss'] as readonly Value[] | undefined)?.includes('cross-entropy');
  if (crossEntropy && doc.dataset.classes === 2) top.dataset = { ...doc.dataset, two_class_targets: 'onehot' } as unknown as Value;
  for (const sub of ['dataset'] as const) {
    const d = top[sub] as Record<string, Value>;
    for (const k of Object.keys(d)) if (d[k] === undefined) delete d[k];
  }
  return `${pick(2) ? '# a pipeline file\n' : ''}${writeBlock(top, '', pick).join('\n')}\n`;
}

async function keysOf(text: string): Promise<string[]> {
  const r = parsePipeline(text, FILE);
  if (!r.ok) assert.fail(`not a valid study:\n${r.error.message}\n---\n${text}`);
  const plan = await planStudy(r.study, r.points);
  return plan.steps.map((s) => `${s.id} ${s.key}`);
}

test('property: the same study written differently plans the same keys', async () => {
  await fc.assert(
    fc.asyncProperty(docArb, fc.integer(), fc.integer(), async (doc, a, b) => {
      const one = write(doc, a);
      const other = write(doc, b);
      assert.deepEqual(await keysOf(other), await keysOf(one), `---\n${one}---\n${other}`);
    }),
    { numRuns: 60 },
  );
});

/** A change of one value the results depend on (never to an equal value). */
type Mutation = (d: Doc) => Doc | undefined;
const bump = (x: number, lo: number, hi: number): number => (x + 1 > hi ? lo : x + 1);
const MUTATIONS: Record<string, Mutation> = {
  // (A value the sweep replaces at every point is not one the results depend on.)
  seed: (d) => (d.sweep && 'seed' in d.sweep ? undefined : { ...d, seed: d.seed + 1 }),
  'dataset.dim': (d) => ({ ...d, dataset: { ...d.dataset, dim: bump(d.dataset.dim, 1, 6) } }),
  'dataset.samples': (d) => (d.sweep && 'dataset.samples' in d.sweep ? undefined : { ...d, dataset: { ...d.dataset, samples: bump(d.dataset.samples, 2, 30) } }),
  'dataset.classes': (d) => ({ ...d, dataset: { ...d.dataset, classes: bump(d.dataset.classes, 2, 4) } }),
  'dataset.spread': (d) => ({ ...d, dataset: { ...d.dataset, spread: (d.dataset.spread ?? 1) + 0.125 } }),
  'dataset.separation': (d) => ({ ...d, dataset: { ...d.dataset, separation: (d.dataset.separation ?? 1) * 2 } }),
  'model.hidden': (d) => ({ ...d, model: { ...d.model, hidden: [...d.model.hidden.slice(0, -1), bump(d.model.hidden.at(-1)!, 1, 6)] } }),
  'model.hidden (one more layer)': (d) => ({ ...d, model: { ...d.model, hidden: [...d.model.hidden, 2] } }),
  'model.activation': (d) => ({ ...d, model: { ...d.model, activation: d.model.activation === 'relu' ? 'tanh' : 'relu' } }),
  'model.bias': (d) => ({ ...d, model: { ...d.model, bias: d.model.bias === false ? 'first' : d.model.bias === 'first' ? true : false } }),
  'model.init': (d) => ({ ...d, model: { ...d.model, init: d.model.init === 'he' ? 'glorot' : 'he' } }),
  loss: (d) => (d.sweep && 'loss' in d.sweep ? undefined : { ...d, loss: d.loss === 'mse' ? 'cosh' : 'mse' }),
  hessians: (d) => ({ ...d, hessians: d.hessians.length === 3 ? ['loss'] : ['loss', 'outer', 'functional'] }),
  'a sweep value': (d) => {
    if (!d.sweep) return undefined;
    const [axis, values] = Object.entries(d.sweep)[0]! as [string, Value[]];
    if (axis === 'loss') return undefined;
    const next = Math.max(...(values as number[])) + 1;
    if (axis === 'dataset.samples' && next > 30) return undefined;
    return { ...d, sweep: { [axis]: [...values.slice(0, -1), next] } };
  },
};

test('property: changing any value the results depend on changes a key', async () => {
  await fc.assert(
    fc.asyncProperty(docArb, fc.constantFrom(...Object.keys(MUTATIONS)), fc.integer(), fc.integer(), async (doc, which, a, b) => {
      const changed = MUTATIONS[which]!(doc);
      fc.pre(changed !== undefined);
      const before = await keysOf(write(doc, a));
      const after = await keysOf(write(changed!, b));
      const collect = (keys: string[]): string => keys.find((k) => k.startsWith('collect '))!;
      assert.notEqual(collect(after), collect(before), `${which}: the study's key did not change`);
      assert.ok(after.some((k) => !before.includes(k)), `${which}: no step key changed`);
    }),
    { numRuns: 80 },
  );
});

test('property: a range and the list it expands to plan the same keys; comments and order inside the range do not count', async () => {
  await fc.assert(
    fc.asyncProperty(docArb, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer(), async (doc, from, step, count, seed) => {
      const values = Array.from({ length: count }, (_, i) => from + i * step);
      const base = { ...doc, sweep: undefined };
      const asList = write({ ...base, sweep: { seed: values } } as Doc, seed);
      const to = values.at(-1)!;
      const written = [`{from: ${from}, to: ${to}, step: ${step}}`, `{step: ${step}.0, to: ${to}, from: ${from}}  # a range`, `\n    from: ${from}   # first\n    step: ${step}\n    to: ${to}.0`];
      const asRange = write(base as Doc, seed).replace(/\n$/, `\nsweep:\n  seed: ${written[Math.abs(seed) % written.length]}\n`);
      assert.deepEqual(await keysOf(asRange), await keysOf(asList), `---\n${asList}---\n${asRange}`);
    }),
    { numRuns: 40 },
  );
});

test('keys ignore what results do not depend on: description, name, batch_size, report', async () => {
  const base = 'version: 1\nname: a\ndataset: {source: gaussian-mixture, dim: 3, samples: 10, classes: 3}\nmodel: {hidden: [2]}\nsweep: {seed: [1, 2]}\n';
  const other = 'version: 1\nname: b\ndescription: another text\nbatch_size: 3\ndataset: {source: gaussian-mixture, dim: 3, samples: 10, classes: 3}\nmodel: {hidden: [2]}\nsweep: {seed: [1, 2]}\nreport: {plots: [{x: seed}]}\n';
  assert.deepEqual(await keysOf(other), await keysOf(base));
});
