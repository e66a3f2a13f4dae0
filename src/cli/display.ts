/**
 * Progress of a run, as a subscriber of engine events. In a terminal: a listr2 view
 * (terminalDisplay.ts) with one line per step kind (dataset, network, ..., collect), each with
 * its done/total count, cached and failed counts and the steps running now, under a header with
 * the overall count and the ETA; it stays a handful of lines for any number of points. Elsewhere
 * (a pipe, a file, CI): one plain line per finished step on stderr, e.g. `done ranks[model.width=8] 3.21s`,
 * `cached collect`, `FAILED ranks[model.width=8] <message>`; a heavy step's line adds the ETA
 * (`done spectrum[model.width=8] 3.21s, about 40s left`).
 */
import type { EngineEvent } from '../engine/exec/events.js';
import type { RunResult } from '../engine/exec/run.js';
import { readRate } from '../engine/kinds/estimate.js';
import { formatSeconds } from './format.js';
import { Eta, firstLine, formatEstimate, planLine, type Display, type EtaOptions } from './progress.js';

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
  /** The run's cache folder: its calibration gives the ETA's rate until the run has measured its own. */
  readonly cache?: string;
  /** The run's worker count (default: the cores, as `hrank run`), for the ETA. */
  readonly jobs?: number;
}

export async function createDisplay(opts: DisplayOptions): Promise<Display> {
  const estimate: EtaOptions = {
    ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
    ...(opts.cache !== undefined ? { rate: await readRate(opts.cache) } : {}),
  };
  if (!opts.terminal) return new PlainDisplay(opts.write, estimate);
  // listr2 takes ~50 ms to load: only a terminal pays for it.
  const { TerminalDisplay } = await import('./terminalDisplay.js');
  return new TerminalDisplay(opts.terminal, opts.other ?? process.stdout, opts.write, estimate);
}

// ---------------------------------------------------------------------------------------------

export class PlainDisplay implements Display {
  private eta: Eta | undefined;

  constructor(private readonly write: (text: string) => void, private readonly estimate: EtaOptions = {}) {}

  readonly onEvent = (e: EngineEvent): void => {
    if (e.type === 'plan') this.eta ??= new Eta(e.plan, this.estimate);
    else this.eta?.onEvent(e);
    switch (e.type) {
      case 'plan': this.write(`plan ${planLine(e.plan)}\n`); break;
      case 'cached': this.write(`cached ${e.step.id}\n`); break;
      case 'start': break;
      case 'done': this.write(`done ${e.step.id} ${formatSeconds(e.seconds)}${e.step.heavy ? this.left() : ''}\n`); break;
      case 'failed': this.write(`FAILED ${e.step.id} ${firstLine(e.error.message)}\n`); break;
      case 'warning': this.write(`warning: ${e.message}\n`); break;
    }
  };

  /** `, about 40s left` while there is something left (a log line per heavy step, not per tick). */
  private left(): string {
    const s = this.eta?.secondsLeft();
    return s !== undefined && s >= 0.5 ? `, ${formatEstimate(s)} left` : '';
  }

  interrupting(): void {
    this.write('interrupting: waiting for running steps to stop (Ctrl-C again to quit at once)\n');
  }

  async finish(_result?: RunResult): Promise<void> {}

  dispose(): void {}
}
