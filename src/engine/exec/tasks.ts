/**
 * The work a worker thread does (pool-thread.ts locally, worker-thread.ts on a cluster worker):
 * the science library's backend pieces, a whole dense point, a prefix-sum chain, or a chain
 * summed once whose sizes' projections are posted for other threads to eigensolve.
 */
import type { MessagePort } from 'node:worker_threads';
import {
  chainSpectra, hessianSpectra, inlineBackend, runBackendTask, sumChain,
  type BackendResult, type BackendTask, type ChainJob, type ChainProjection, type HessianKind, type PointSpectra, type RankProblem,
} from '../../science/index.js';

/** Every variant is plain data (structured-clone safe). */
export type WorkerTask =
  | BackendTask
  /** A whole point on the dense route. */
  | { readonly kind: 'point'; readonly problem: RankProblem; readonly which: readonly HessianKind[] }
  /** Several sizes of one prefix-sum chain: sums through the boundaries, spectra of the wanted sizes. */
  | ({ readonly kind: 'chain' } & ChainJob)
  /** A chain summed once, its sizes' projections posted on `port` as they are made (ChainMessage). */
  | ({ readonly kind: 'chain-stream'; readonly port: MessagePort } & ChainJob);

export async function runTask(task: WorkerTask): Promise<PointSpectra | PointSpectra[] | BackendResult | number> {
  switch (task.kind) {
    case 'point':
      return hessianSpectra(task.problem.net, task.problem.data, task.problem.loss, task.which, { batchSize: task.problem.batchSize, route: 'dense' }, inlineBackend());
    case 'chain':
      return chainSpectra(task);
    case 'chain-stream':
      return streamChainProjections(task);
    default:
      return runBackendTask(task);
  }
}

/** One size of a streamed chain: its projections (undefined: compute it alone with chainSpectra), seconds spent summing. */
export interface ChainMessage {
  readonly samples: number;
  readonly projections?: readonly ChainProjection[];
  readonly products: number;
}

/**
 * chainSpectra split in two: this sums through the boundaries and posts, per wanted size, the
 * projections chainSpectra would eigensolve; the caller eigensolves them (on any thread) and
 * applies acceptProjection, which gives exactly chainSpectra's spectrum. A size whose check fails
 * is computed alone with chainSpectra (its dense fallback). Returns how many were posted.
 */
export function streamChainProjections(task: ChainJob & { readonly port: MessagePort }): number {
  let posted = 0;
  sumChain(task, (chain, n, products) => {
    const projections = chain.projections();
    const message: ChainMessage = { samples: n, products, ...(projections ? { projections } : {}) };
    task.port.postMessage(message, projections ? projections.map((s) => s.packed.buffer as ArrayBuffer) : []);
    posted++;
  });
  return posted;
}
