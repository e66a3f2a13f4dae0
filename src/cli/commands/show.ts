/**
 * `hrank show <file>`: prints the path of a study's report.html and opens it with the system's
 * opener (`open` on macOS, `xdg-open` on Linux and the BSDs, `start` on Windows) when there is a
 * display: on Linux and the BSDs only with DISPLAY or WAYLAND_DISPLAY set. The path goes to
 * stdout alone; a missing or failing opener is a note on stderr, never a failure.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadPipeline } from '../../pipeline/load.js';
import { resultsDir } from '../../report/results.js';
import { EXIT_FAILED, EXIT_OK } from '../errors.js';
import type { CliIO } from '../io.js';
import type { ShowOptions } from '../options.js';

/** A command that opens a file in the user's viewer. */
export interface Opener {
  readonly command: string;
  readonly args: readonly string[];
}

export type OpenResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The opener for a platform, or why there is none (no display). */
export function systemOpener(file: string, platform: NodeJS.Platform, env: CliIO['env']): Opener | { readonly none: string } {
  if (platform === 'darwin') return { command: 'open', args: [file] };
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', file] };
  const display = (env.DISPLAY ?? '') !== '' || (env.WAYLAND_DISPLAY ?? '') !== '';
  if (!display) return { none: 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)' };
  return { command: 'xdg-open', args: [file] };
}

/**
 * Starts the opener, detached, without waiting for it (xdg-open may run the browser in the
 * foreground). Resolves once it started, or with why it could not start (e.g. not installed).
 */
export function openWith(opener: Opener): Promise<OpenResult> {
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(opener.command, [...opener.args], { detached: true, stdio: 'ignore' });
    } catch (err) {
      resolve({ ok: false, reason: err instanceof Error ? err.message : String(err) });
      return;
    }
    child.once('error', (err: NodeJS.ErrnoException) => {
      resolve({ ok: false, reason: err.code === 'ENOENT' ? `${opener.command} is not installed` : err.message });
    });
    child.once('spawn', () => {
      child.unref();
      resolve({ ok: true });
    });
  });
}

export interface ShowDeps {
  readonly platform?: NodeJS.Platform;
  readonly open?: (opener: Opener) => Promise<OpenResult>;
}

export async function showCommand(opts: ShowOptions, io: CliIO, deps: ShowDeps = {}): Promise<number> {
  const loaded = await loadPipeline(opts.file);
  if (!loaded.ok) throw loaded.error;
  const file = path.resolve(resultsDir(opts.results, loaded.study), 'report.html');
  if (!existsSync(file)) {
    io.err(`error: no report at ${file}\n\`hrank run ${opts.file}\` writes it (or \`hrank report ${opts.file}\` when the cache holds the study)\n`);
    return EXIT_FAILED;
  }
  io.out(`${file}\n`);
  if (!opts.open) return EXIT_OK;
  const opener = systemOpener(file, deps.platform ?? process.platform, io.env);
  if ('none' in opener) {
    io.err(`not opened: ${opener.none}; open the file in a browser\n`);
    return EXIT_OK;
  }
  const result = await (deps.open ?? openWith)(opener);
  if (!result.ok) io.err(`not opened: ${result.reason}; open the file in a browser\n`);
  return EXIT_OK;
}
