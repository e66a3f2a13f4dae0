/**
 * The live progress view on a terminal (see display.ts): a listr2 view with one line per step
 * kind under a header with the overall count, the elapsed time and the ETA. Loaded only when
 * there is a terminal to draw on.
 *
 * The view ends in `finish`, never before: listr2 prints its last frame when its tasks are over
 * and keeps drawing on every title change after that, from a fresh line, so a view that ended
 * when the last step did (while the results were still being written) and was then retitled
 * printed its final frame twice. An untitled task that `finish` settles holds the view open, and
 * the renderer draws nothing once it ended. That task fails when the run did not finish
 * (interrupted, failed, stopped), so the header never shows a check for such a run.
 */
import { DefaultRenderer, Listr, ListrLogger, ProcessOutput, type ListrDefaultRendererLogLevels, type ListrTaskWrapper } from 'listr2';
import type { EngineEvent } from '../engine/exec/events.js';
import type { Plan, PlanStep } from '../engine/kinds/plan.js';
import type { RunResult } from '../engine/exec/run.js';
import { Eta, firstLine, formatEstimate, planLine, type Display, type EtaOptions } from './progress.js';
import { formatSeconds } from './format.js';

/** listr2's default renderer, also when stdout is not a terminal (we draw on stderr); silent once ended. */
class TerminalRenderer extends DefaultRenderer {
  static override nonTTY = true;
  private ended = false;

  override update(): void {
    // A refresh after the end would draw the last frame again below the one `end` printed.
    if (!this.ended) super.update();
  }

  override end(): void {
    this.ended = true;
    super.end();
  }
}

/** An ETA under this is not worth a word (the run is writing its results). */
const ETA_SHOWN_FROM = 0.5;

type Wrapper = ListrTaskWrapper<unknown, typeof TerminalRenderer, typeof TerminalRenderer>;

/** Most running step ids shown on a kind's line. */
const RUNNING_SHOWN = 2;

/** The steps of one kind, shown as one listr2 task. */
class KindGroup {
  readonly ids = new Set<string>();
  readonly running = new Set<string>();
  computed = 0;
  cached = 0;
  readonly failed: string[] = [];
  seconds = 0;
  settled = false;
  skipMessage: string | undefined;
  task: Wrapper | undefined;
  readonly promise: Promise<void>;
  private resolve!: () => void;
  private reject!: (e: Error) => void;

  constructor(readonly kind: string, readonly width: number) {
    this.promise = new Promise<void>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // A kind can fail before listr2 has started its task: never an unhandled rejection.
    this.promise.catch(() => undefined);
  }

  get total(): number {
    return this.ids.size;
  }

  get finished(): number {
    return this.computed + this.cached + this.failed.length;
  }

  title(): string {
    let t = `${this.kind.padEnd(this.width)}  ${String(this.finished).padStart(String(this.total).length)}/${this.total}`;
    if (this.cached > 0) t += `  ${this.cached} cached`;
    if (this.failed.length > 0) t += `  ${this.failed.length} FAILED`;
    if (this.seconds > 0 && this.running.size === 0) t += `  ${formatSeconds(this.seconds)} in steps`;
    if (this.running.size > 0) {
      const ids = [...this.running];
      t += `  running ${ids.slice(0, RUNNING_SHOWN).join(', ')}${ids.length > RUNNING_SHOWN ? ` +${ids.length - RUNNING_SHOWN}` : ''}`;
    }
    return t;
  }

  refresh(): void {
    if (this.task) this.task.title = this.title();
  }

  /** Settles when every step of the kind has finished; true when it did now. */
  settleIfComplete(): boolean {
    if (this.settled || this.finished < this.total) return false;
    this.settle();
    return true;
  }

  settle(skipMessage?: string): void {
    if (this.settled) return;
    this.settled = true;
    this.running.clear();
    this.refresh();
    if (this.failed.length > 0) {
      this.reject(new Error(`${this.title()}: ${this.failed.join(', ')}`));
      return;
    }
    this.skipMessage = skipMessage;
    this.applySkip();
    this.resolve();
  }

  /** Marks the listr2 task skipped (now, or once it starts when the run ended before it did). */
  applySkip(): void {
    if (this.skipMessage !== undefined && this.task) this.task.skip(`${this.title()}  ${this.skipMessage}`);
  }
}

export class TerminalDisplay implements Display {
  private plan: Plan | undefined;
  private readonly groups = new Map<string, KindGroup>();
  private readonly output: ProcessOutput;
  private header: Wrapper | undefined;
  private running: Promise<unknown> | undefined;
  private stopping = false;
  private readonly warnings: string[] = [];
  private readonly t0 = performance.now();
  private ticker: NodeJS.Timeout | undefined;
  /** How the run ended, for the header (set by `finish`). */
  private outcome: string | undefined;
  private eta: Eta | undefined;
  /** Set by `finish`: no more ETA. */
  private over = false;
  /** Settles the task that holds the view open: resolved when the run finished, rejected when it did not. */
  private settleRun: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(
    private readonly terminal: NodeJS.WriteStream, other: NodeJS.WriteStream, private readonly write: (text: string) => void,
    private readonly estimate: EtaOptions = {},
  ) {
    this.output = new ProcessOutput(terminal, other, { leaveEmptyLine: false });
  }

  private headerTitle(): string {
    const plan = this.plan!;
    let done = 0;
    let cached = 0;
    let failed = 0;
    for (const g of this.groups.values()) {
      done += g.computed;
      cached += g.cached;
      failed += g.failed.length;
    }
    const parts = [`${planLine(plan)}`, `${done} computed`];
    if (cached > 0) parts.push(`${cached} cached`);
    if (failed > 0) parts.push(`${failed} FAILED`);
    parts.push(formatSeconds((performance.now() - this.t0) / 1000));
    const left = this.over || this.stopping ? undefined : this.eta?.secondsLeft();
    if (left !== undefined && left >= ETA_SHOWN_FROM) parts.push(`${formatEstimate(left)} left`);
    if (this.stopping) parts.push('stopping... (Ctrl-C again: quit now)');
    if (this.outcome) parts.push(this.outcome);
    return parts.join(' · ');
  }

  private start(plan: Plan): void {
    this.plan = plan;
    this.eta = new Eta(plan, this.estimate);
    // Made here, not in the task: `finish` may come before listr2 has started the task.
    const run = new Promise<void>((resolve, reject) => (this.settleRun = { resolve, reject }));
    run.catch(() => undefined);
    const kinds = [...new Set(plan.steps.map((s) => s.kind))];
    const width = Math.max(...kinds.map((k) => k.length));
    for (const kind of kinds) this.groups.set(kind, new KindGroup(kind, width));
    for (const s of plan.steps) this.groups.get(s.kind)!.ids.add(s.id);
    const groups = [...this.groups.values()];
    const listr = new Listr<unknown, typeof TerminalRenderer, typeof TerminalRenderer>(
      [{
        title: this.headerTitle(),
        task: (_ctx, task) => {
          this.header = task;
          this.refreshHeader();
          return task.newListr(
            [
              ...groups.map((g) => ({
                title: g.title(),
                task: (_c: unknown, t: Wrapper) => {
                  g.task = t;
                  g.refresh();
                  g.applySkip();
                  return g.promise;
                },
              })),
              // Untitled (draws nothing): keeps the view open until `finish`, and fails the header when the run did not finish.
              { task: () => run },
            ],
            { concurrent: true, exitOnError: false },
          );
        },
      }],
      {
        renderer: TerminalRenderer,
        fallbackRenderer: TerminalRenderer,
        rendererOptions: {
          logger: new ListrLogger<ListrDefaultRendererLogLevels>({ useIcons: true, toStderr: [], processOutput: this.output }),
          collapseSubtasks: false,
          collapseSkips: true,
          suffixSkips: false,
          showSkipMessage: true,
          collapseErrors: true,
          showErrorMessage: true,
          formatOutput: 'truncate',
        },
        fallbackRendererCondition: false,
        silentRendererCondition: false,
        registerSignalListeners: false,
        exitOnError: false,
      },
    );
    this.running = listr.run().catch(() => undefined);
    // The elapsed time in the header moves on even while no step finishes.
    this.ticker = setInterval(() => this.refreshHeader(), 1000);
    this.ticker.unref();
  }

  private refreshHeader(): void {
    if (this.header && this.plan) this.header.title = this.headerTitle();
  }

  private group(step: PlanStep): KindGroup | undefined {
    return this.groups.get(step.kind);
  }

  readonly onEvent = (e: EngineEvent): void => {
    switch (e.type) {
      case 'plan':
        if (!this.plan) this.start(e.plan);
        return;
      case 'warning':
        this.warnings.push(e.message);
        return;
      case 'start': {
        const g = this.group(e.step);
        g?.running.add(e.step.id);
        g?.refresh();
        return;
      }
      case 'cached':
      case 'done':
      case 'failed': {
        this.eta?.onEvent(e);
        const g = this.group(e.step);
        if (!g) return;
        g.running.delete(e.step.id);
        if (e.type === 'cached') g.cached++;
        else if (e.type === 'done') {
          g.computed++;
          g.seconds += e.seconds;
        } else g.failed.push(`${e.step.id}: ${firstLine(e.error.message)}`);
        if (!g.settleIfComplete()) g.refresh();
        this.refreshHeader();
        return;
      }
    }
  };

  interrupting(): void {
    this.stopping = true;
    this.refreshHeader();
  }

  async finish(result?: RunResult): Promise<void> {
    clearInterval(this.ticker);
    this.over = true;
    if (this.running) {
      const why = result === undefined ? 'stopped'
        : result.interrupted ? 'interrupted'
        : result.ok ? 'not needed: later steps came from the cache'
        : 'not run: a step failed';
      for (const g of this.groups.values()) g.settle(g.finished < g.total ? why : undefined);
      this.stopping = false;
      this.outcome = result === undefined ? 'stopped' : result.interrupted ? 'interrupted' : undefined;
      this.refreshHeader();
      const finished = result !== undefined && result.ok && !result.interrupted;
      if (finished) this.settleRun?.resolve();
      else this.settleRun?.reject(new Error(this.outcome ?? 'the run did not finish'));
      await this.running;
      this.running = undefined;
    }
    for (const w of this.warnings) this.write(`warning: ${w}\n`);
    this.warnings.length = 0;
  }

  dispose(): void {
    clearInterval(this.ticker);
    if (this.running) {
      this.running = undefined;
      try {
        this.output.release();
      } catch {
        // the terminal is being given back on the way out; nothing more to do
      }
      this.terminal.write('\n');
    }
  }
}
