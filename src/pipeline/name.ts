/**
 * The `name:` of a pipeline file, read without validating the rest: enough to tell whether
 * another file still claims a results folder (a file that no longer parses claims nothing).
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { isRecord } from './paths.js';

export async function studyNameIn(file: string): Promise<string | undefined> {
  try {
    const data: unknown = parse(await readFile(file, 'utf8'));
    const name = isRecord(data) ? data['name'] : undefined;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}
