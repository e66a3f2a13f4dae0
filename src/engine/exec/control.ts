/**
 * How a run stops: Ctrl-C (the caller's signal) interrupts it; a failed step aborts it unless
 * `keepGoing`. Steps waiting on an aborted run throw `Interrupted` or `UpstreamFailed`, which are
 * not failures of their own.
 */
export class Interrupted extends Error {
  constructor() { super('interrupted'); }
}

/** A step that cannot run because an input failed (or the run stopped at another failure). */
export class UpstreamFailed extends Error {}

export class RunControl {
  readonly abort = new AbortController();
  private readonly onOuterAbort = (): void => this.abort.abort(new Interrupted());

  constructor(private readonly outer?: AbortSignal) {
    if (outer?.aborted) this.onOuterAbort();
    outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  get signal(): AbortSignal { return this.abort.signal; }

  /** True once the caller interrupted the run (Ctrl-C). */
  get interrupted(): boolean { return this.outer?.aborted === true; }

  /** Throws when the run is over (interrupted, or stopped at a failure). */
  check(): void {
    if (this.abort.signal.aborted) throw this.interrupted ? new Interrupted() : new UpstreamFailed('aborted');
  }

  stop(reason: Error): void {
    this.abort.abort(reason);
  }

  /** Stops listening to the caller's signal. */
  dispose(): void {
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }
}
