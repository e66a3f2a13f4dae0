/**
 * Progress of a run, as a subscriber of engine events. In a terminal: a listr2 view
 * (terminalDisplay.ts) with one line per step kind (dataset, network, ..., collect), each with
 * its done/total count, cached and failed counts and the steps running now, under a header with
 * the overall count; it stays a handful of lines for any number of points. Elsewhere (a pipe,
 * a file, CI): one plain line per finished step on stderr, e.g. `done ranks[model.width=8] 3.21s`,
 * `cached collect`, `FAILED ranks[model.width=8] <message>`.
 */
import type { EngineEvent } from '../engine/exec/events.js';
import type { RunResult } from '../engine/exec/run.js';
import { formatSeconds } from './format.js';
import { firstLine, planLine, type Display } from './progress.js';

export type { Display };

export interface DisplayOptions {
  /** Plain lines go here. */
  readonly write: (text: string) => void;
  /** A terminal: draw the live view on it instead of writing plain lines. */
  readonly terminal?: NodeJS.WriteStream;
  /**
   * The other standard stream, held back while the live view draws (listr2 buffers writes to
   * both streams and prints them after the view). Default `process.stdout`.
   */
  readonly other?: NodeJS.WriteStream;
}

export async function createDisplay(opts: DisplayOptions): Promise<Display> {
  if (!opts.terminal) return new PlainDisplay(opts.write);
  // listr2 takes ~50 ms to load: only a terminal pays for it.
  const { TerminalDisplay } = await import('./terminalDisplay.js');
  return new TerminalDisplay(opts.terminal, opts.other ?? process.stdout, opts.write);
}

// ---------------------------------------------------------------------------------------------

export class PlainDisplay implements Display {
  constructor(private readonly write: (text: string) => void) {}

  readonly onEvent = (e: EngineEvent): void => {
    switch (e.type) {
      case 'plan': this.write(`plan ${planLine(e.plan)}\n`); break;
      case 'cached': this.write(`cached ${e.step.id}\n`); break;
      case 'start': break;
      case 'done': this.write(`done ${e.step.id} ${formatSeconds(e.seconds)}\n`); break;
      case 'failed': this.write(`FAILED ${e.step.id} ${firstLine(e.error.message)}\n`); break;
      case 'warning': this.write(`warning: ${e.message}\n`); break;
    }
  };

  interrupting(): void {
    this.write('interrupting: waiting for running steps to stop (Ctrl-C again to quit at once)\n');
  }

  async finish(_result?: RunResult): Promise<void> {}

  dispose(): void {}
}
