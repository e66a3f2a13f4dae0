/**
 * `hrank init <name>`: writes `<name>.yaml` (in the current folder, or `--dir`) from a commented
 * template that validates and runs as written. Never overwrites a file; the name must be a valid
 * study name (it becomes the results folder).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipelineSchema } from '../../pipeline/schema.js';
import { studyTemplate } from '../../templates/study.js';
import { EXIT_OK, InputError } from '../errors.js';
import type { CliIO } from '../io.js';
import type { InitOptions } from '../options.js';

/** The pattern study names follow (from the pipeline schema). */
export function studyNamePattern(): RegExp {
  const props = pipelineSchema.properties as Record<string, { pattern?: string; description?: string }> | undefined;
  return new RegExp(props?.name?.pattern ?? '^[A-Za-z0-9][A-Za-z0-9._-]*$');
}

/** The study name of an `init` argument (a trailing `.yaml` is dropped); throws `InputError` for an invalid one. */
export function studyNameOf(raw: string): string {
  const name = raw.replace(/\.ya?ml$/i, '');
  if (!studyNamePattern().test(name)) {
    throw new InputError(
      `'${raw}' is not a valid study name: use letters, digits, '.', '_' and '-', starting with a letter or digit (it becomes the results folder results/<name>/)`,
    );
  }
  return name;
}

/** Writes the new pipeline file; returns its path. Throws `InputError` when the file exists. */
export async function initStudy(rawName: string, dir: string): Promise<string> {
  const name = studyNameOf(rawName);
  const file = path.join(dir, `${name}.yaml`);
  await mkdir(dir, { recursive: true });
  try {
    // 'wx': fails if the file exists, so nothing is ever overwritten (not even by a race).
    await writeFile(file, studyTemplate(name), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new InputError(`${file} already exists; not overwriting it (choose another name, or remove the file)`);
    throw err;
  }
  return file;
}

export async function initCommand(opts: InitOptions, io: CliIO): Promise<number> {
  const file = await initStudy(opts.name, opts.dir);
  io.out(`created ${file}\nnext: hrank run ${file}   (then commit ${path.basename(file)} and its lock file)\n`);
  return EXIT_OK;
}
