/** Temp pipeline files for engine tests (small gaussian-mixture studies that run in about a second). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix = 'hrank-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writePipeline(dir: string, name: string, body: string): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `version: 1\nname: ${name}\n${body}`);
  return file;
}

export const SMALL_DATA = `dataset:
  source: gaussian-mixture
  dim: 5
  samples: 12
  classes: 3
`;

/**
 * Knife-edge points (test/engine/routes.test.ts, test/distributed/cluster.test.ts): P = 1,260 (the
 * subspace route); tiny spreads put a few Hessian eigenvalues within a decade of the tolerance;
 * a sample-size chain.
 */
export const KNIFE = `dataset: {source: gaussian-mixture, dim: 8, samples: 40, classes: 4, spread: 3e-6}
model: {hidden: [30, 30]}
sweep:
  dataset.samples: [20, 40]
`;
