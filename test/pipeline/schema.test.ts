/** The published schema itself: well-formed, strict, and in step with the sweep paths. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pipelineSchema, validateAgainstSchema } from '../../src/pipeline/schema.js';
import { SWEEPABLE_PATHS } from '../../src/pipeline/sweep.js';

describe('schemas/pipeline.schema.json', () => {
  it('is the schema the loader uses, JSON Schema 2020-12', async () => {
    const onDisk = JSON.parse(await readFile(fileURLToPath(new URL('../../schemas/pipeline.schema.json', import.meta.url)), 'utf8'));
    assert.deepEqual(onDisk, pipelineSchema);
    assert.equal(pipelineSchema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
  });

  it('closes every mapping (additionalProperties: false), except the sweep whose keys are paths', () => {
    const open: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`));
      if (typeof node !== 'object' || node === null) return;
      const s = node as Record<string, unknown>;
      if (s['type'] === 'object' && s['additionalProperties'] !== false) open.push(at);
      for (const [k, v] of Object.entries(s)) if (k !== 'default' && k !== 'const' && k !== 'enum') walk(v, `${at}/${k}`);
    };
    walk(pipelineSchema, '#');
    // dataset closes each of its variants instead.
    assert.deepEqual(open.sort(), ['#/$defs/dataset', '#/$defs/sweep']);
  });

  it('validates the issue example (in the width/depth form)', () => {
    const example = {
      version: 1,
      name: 'rank-vs-width',
      description: 'Hessian ranks against hidden width',
      seed: 1,
      dataset: { source: 'mnist', samples: 100, resize: 8, classes: 10 },
      model: { width: 10, depth: 2, activation: 'linear', bias: false, init: 'glorot' },
      loss: 'mse',
      hessians: ['loss', 'outer', 'functional'],
      batch_size: 10,
      sweep: { 'model.width': { from: 4, to: 56, step: 4 }, mode: 'grid' },
      report: { plots: [{ x: 'model.width', normalize: 'params' }], spectra: false },
    };
    assert.deepEqual(validateAgainstSchema(example), []);
  });

  it('knows the sweepable paths', () => {
    for (const p of ['seed', 'loss', 'hessians', 'batch_size', 'model.width', 'model.depth', 'model.hidden', 'model.activation', 'dataset.samples', 'dataset.resize', 'dataset.classes', 'dataset.dim', 'dataset.images', 'dataset.files']) {
      assert.ok(SWEEPABLE_PATHS.includes(p), p);
    }
    for (const p of ['name', 'version', 'description', 'sweep', 'report', 'model', 'dataset']) assert.ok(!SWEEPABLE_PATHS.includes(p), p);
  });
});
