/**
 * `hrank worker --redis URL [--jobs N] [--cache DIR] [--stall-timeout S]`: computes steps of
 * `hrank run --redis` studies until stopped. One line per event on stderr.
 *
 * Ctrl-C or SIGTERM: stop taking steps, finish the running ones, then exit 130 after Ctrl-C (as
 * every hrank command a Ctrl-C stopped, and as a shell or npx reports it) or 0 after SIGTERM (a
 * supervisor's clean stop). A second one: exit at once (130); the running steps go to other
 * workers after the stall timeout. Redis unreachable
 * at start, or gone for HRANK_REDIS_TIMEOUT seconds (default 20): a message and exit 1.
 */
import { startWorker } from '../../engine/distributed/worker.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK } from '../errors.js';
import type { CliIO } from '../io.js';
import type { WorkerOptions } from '../options.js';

export async function workerCommand(opts: WorkerOptions, io: CliIO): Promise<number> {
  const log = (line: string): void => io.err(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  // The handlers go in before the worker starts: it says `ready` as it starts, and a Ctrl-C right
  // after that must already stop it cleanly (130), not end the process by signal.
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  let stops = 0;
  let interrupted = false;
  const stop = (signal: 'SIGINT' | 'SIGTERM'): void => {
    stops++;
    if (signal === 'SIGINT') interrupted = true;
    if (stops === 1) {
      if (!worker) return; // still starting: stopped as soon as it has started (below)
      const n = worker.running();
      log(n > 0 ? `stopping: finishing ${n} running ${n === 1 ? 'step' : 'steps'} (again to stop at once; they would go to other workers)` : 'stopping');
      void worker.close(false);
      return;
    }
    log('stopped at once');
    io.exit(EXIT_INTERRUPTED);
  };
  const onInterrupt = (): void => stop('SIGINT');
  const onTerm = (): void => stop('SIGTERM');
  const stopListening = io.onInterrupt(onInterrupt);
  process.on('SIGTERM', onTerm);
  const unlisten = (): void => { stopListening(); process.off('SIGTERM', onTerm); };
  try {
    worker = await startWorker({
      redis: opts.redis, jobs: opts.jobs, cache: opts.cache, stallTimeoutMs: opts.stallTimeout * 1000, log,
    });
  } catch (e) {
    unlisten(); // a worker that could not start (Redis unreachable): the CLI's error, as before
    throw e;
  }
  try {
    if (stops > 0) {
      log('stopping');
      void worker.close(false);
    }
    await worker.done;
    log('stopped');
    return interrupted ? EXIT_INTERRUPTED : EXIT_OK;
  } catch (e) {
    // Redis went away: already logged by the worker.
    io.err(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_FAILED;
  } finally {
    unlisten();
  }
}
