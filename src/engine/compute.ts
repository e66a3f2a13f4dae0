/**
 * What each step kind computes, as plain functions of input values (no cache, no I/O beyond
 * reading dataset files), and the worker tasks the heavy parts are cut into (run by worker.ts).
 */
import {
  PrefixChain, getLoss, hessianSpectra, initNetwork, inlineBackend, inputCovarianceRank, loadDataset, predictRanks,
  runBackendTask, type BackendResult, type BackendTask, type ChainProjection, type Dataset, type HessianKind,
  type Network, type PointSpectra, type Prediction, type RankProblem, type RankResult, type Route,
} from '../science/index.js';
import type { MessagePort } from 'node:worker_threads';
import type { Config } from '../pipeline/types.js';
import { datasetSpec, layerSizes } from './steps.js';

export function computeDataset(cfg: Config): Dataset {
  return loadDataset(datasetSpec(cfg));
}

export function computeNetwork(cfg: Config): Network {
  const sizes = layerSizes(cfg);
  return initNetwork({ sizes, activation: cfg.model.activation, bias: cfg.model.bias }, cfg.model.init, cfg.seed);
}

export function computeInputRank(data: Dataset): RankResult {
  return inputCovarianceRank(data);
}

export function computePrediction(cfg: Config, inputRank: RankResult, outputs: number): Prediction {
  return predictRanks({ inputRank: inputRank.rank, outputs, hidden: cfg.model.hidden, loss: cfg.loss, activation: cfg.model.activation, bias: cfg.model.bias });
}

/** A chain of sample prefixes: the problem holds the largest wanted size's samples. */
export interface ChainTask {
  readonly problem: RankProblem;
  readonly which: readonly HessianKind[];
  readonly boundaries: readonly number[];
  readonly wanted: readonly number[];
  readonly route: Route;
}

/** Work a worker thread can do; every variant is plain data (structured-clone safe). */
export type WorkerTask =
  | BackendTask
  /** A whole point on the dense route. */
  | { readonly kind: 'point'; readonly problem: RankProblem; readonly which: readonly HessianKind[] }
  /** Several points of one prefix-sum chain: sums through the boundaries, spectra of the wanted sizes. */
  | ({ readonly kind: 'chain' } & ChainTask)
  /**
   * A prefix-sum chain summed once, its points' projections posted on `port` as they are made
   * (ChainMessage), for other workers to eigensolve meanwhile.
   */
  | ({ readonly kind: 'chain-stream'; readonly port: MessagePort } & ChainTask);

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

/** Spectra of the wanted sample sizes of a chain, summing once through its boundaries (also one point alone). */
export function chainSpectra(task: ChainTask): PointSpectra[] {
  const index = new Map(task.wanted.map((n, i) => [n, i]));
  const out: PointSpectra[] = new Array(task.wanted.length);
  sumChain(task, (chain, n, products) => {
    const t1 = performance.now();
    const s = chain.spectra();
    out[index.get(n)!] = { params: chain.params, ...s, seconds: { products, eigen: (performance.now() - t1) / 1000 } };
  });
  return out;
}

/**
 * Sums a chain through its boundaries up to its largest wanted size; at each wanted size calls
 * `at` with the chain, the size and the seconds spent summing since the previous wanted size.
 */
function sumChain(task: ChainTask, at: (chain: PrefixChain, n: number, products: number) => void): void {
  const { net, data, loss, batchSize } = task.problem;
  const sizes = [...new Set(task.wanted)].sort((a, b) => a - b);
  const chain = new PrefixChain(net, data, getLoss(loss), task.which, task.boundaries, { batchSize, dense: task.route === 'dense' });
  for (const n of sizes) {
    const t0 = performance.now();
    chain.advanceTo(n);
    at(chain, n, (performance.now() - t0) / 1000);
  }
}

/** One point of a streamed chain: its projections (undefined: rank it alone with chainSpectra), seconds spent summing. */
export interface ChainMessage {
  readonly samples: number;
  readonly projections?: readonly ChainProjection[];
  readonly products: number;
}

/**
 * chainSpectra split in two: this sums through the boundaries and posts, per wanted size, the
 * projections chainSpectra would eigensolve; the caller eigensolves them (on any worker) and
 * applies acceptProjection, which gives exactly chainSpectra's spectrum. A point whose check
 * fails is ranked alone with chainSpectra (its dense fallback). Returns how many were posted.
 */
export function streamChainProjections(task: ChainTask & { readonly port: MessagePort }): number {
  let posted = 0;
  sumChain(task, (chain, n, products) => {
    const projections = chain.projections();
    const message: ChainMessage = { samples: n, products, ...(projections ? { projections } : {}) };
    task.port.postMessage(message, projections ? projections.map((s) => s.packed.buffer as ArrayBuffer) : []);
    posted++;
  });
  return posted;
}
