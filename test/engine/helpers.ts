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
