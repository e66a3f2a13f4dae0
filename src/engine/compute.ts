/**
 * What each step kind computes, as plain functions of input values (no cache, no I/O beyond
 * reading dataset files), and the worker tasks the heavy parts are cut into (run by worker.ts).
 */
import {
  PrefixChain, computeSketchRows, denseEigenvaluesOf, getLoss, hessianRanks, initNetwork, inlineBackend,
  inputCovarianceRank, loadDataset, operatorFor, outerGramEigenvaluesOf, predictRanks, symmetricEigenvalues,
  type Dataset, type HessianKind, type Network, type PointRanks, type Prediction, type RankProblem, type RankResult,
  type SketchDirections, type SketchRows, type SketchWhich, type LossName, type ChainSketch, type RankHints, sliceSamples,
} from '../science/index.js';
import type { MessagePort } from 'node:worker_threads';
import type { Config } from '../pipeline/types.js';
import { DENSE_MAX_PARAMS, datasetSpec, layerSizes } from './steps.js';

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

/** The rank hint a prediction gives the sketch of each Hessian (none for nonlinear networks). */
export function hintsOf(pred: Prediction): Partial<Record<HessianKind, number>> | undefined {
  return pred.applicable ? { loss: pred.loss, outer: pred.outer, functional: pred.functional } : undefined;
}

/** Work a worker thread can do; every variant is plain data (structured-clone safe). */
export type WorkerTask =
  /** A whole point on the dense route. */
  | { readonly kind: 'point'; readonly problem: RankProblem; readonly which: readonly HessianKind[] }
  /** Several points of one prefix-sum chain: sums through the boundaries, ranks the wanted sizes. */
  | {
    readonly kind: 'chain'; readonly problem: RankProblem; readonly which: readonly HessianKind[];
    readonly boundaries: readonly number[]; readonly wanted: readonly number[];
  }
  /**
   * A prefix-sum chain summed once, its points' first sketches posted on `port` as they are made
   * (ChainSketchMessage), for other workers to eigensolve meanwhile.
   */
  | {
    readonly kind: 'chain-stream'; readonly problem: RankProblem; readonly which: readonly HessianKind[];
    readonly boundaries: readonly number[]; readonly wanted: readonly number[]; readonly port: MessagePort;
  }
  | { readonly kind: 'sketch-rows'; readonly problem: RankProblem; readonly which: SketchWhich; readonly dirs: SketchDirections; readonly c0: number; readonly kc: number; readonly k: number }
  /** Eigenvalues of a symmetric matrix given as its packed lower triangle (consumed). */
  | { readonly kind: 'eigen'; readonly a: Float64Array; readonly n: number }
  | { readonly kind: 'outer-gram'; readonly problem: RankProblem }
  | { readonly kind: 'dense-eigen'; readonly problem: RankProblem; readonly hessian: HessianKind };

export async function runTask(task: WorkerTask): Promise<PointRanks | PointRanks[] | SketchRows | Float64Array | number> {
  switch (task.kind) {
    case 'point':
      return hessianRanks(task.problem.net, task.problem.data, task.problem.loss, task.which, { batchSize: task.problem.batchSize, route: 'dense' }, inlineBackend());
    case 'chain':
      return chainRanks(task);
    case 'chain-stream':
      return streamChainSketches(task);
    case 'sketch-rows': return computeSketchRows(operatorFor(task.problem).op, task.which, task.dirs, task.c0, task.kc, task.k);
    case 'eigen': return symmetricEigenvalues(task.a, task.n, { overwrite: true, packed: true });
    case 'outer-gram': return outerGramEigenvaluesOf(task.problem);
    case 'dense-eigen': return denseEigenvaluesOf(task.problem, task.hessian);
  }
}

/**
 * Ranks of the wanted sample sizes of a chain, summing once through its boundaries (also one point
 * alone). Each size's sketch starts from the prediction for its prefix, computed here from the
 * data (input rank, then the formulas) rather than taken from the prediction steps: the chain then
 * starts as soon as its data and network are there. The same function of the same inputs as the
 * prediction step, and only a starting size: the stopping rule decides every rank.
 */
export function chainRanks(task: Omit<Extract<WorkerTask, { kind: 'chain' }>, 'kind'>): PointRanks[] {
  const index = new Map(task.wanted.map((n, i) => [n, i]));
  const out: PointRanks[] = new Array(task.wanted.length);
  sumChain(task, (chain, n, hints, products) => {
    const t1 = performance.now();
    const r = chain.ranks(hints);
    out[index.get(n)!] = { params: chain.params, ...r, seconds: { products, eigen: (performance.now() - t1) / 1000 } };
  });
  return out;
}

/**
 * Sums a chain through its boundaries up to its largest wanted size; at each wanted size calls
 * `at` with the chain, the size, its sketch hints (the prediction for that prefix) and the
 * seconds spent summing since the previous wanted size.
 */
function sumChain(
  task: { readonly problem: RankProblem; readonly which: readonly HessianKind[]; readonly boundaries: readonly number[]; readonly wanted: readonly number[] },
  at: (chain: PrefixChain, n: number, hints: RankHints | undefined, products: number) => void,
): void {
  const { net, data, loss, batchSize } = task.problem;
  const sizes = [...new Set(task.wanted)].sort((a, b) => a - b);
  const hints = new Map(sizes.map((n) => [n, prefixHints(net, sliceSamples(data, 0, n), loss)]));
  const chain = new PrefixChain(net, data, getLoss(loss), task.which, task.boundaries, hints, batchSize);
  for (const n of sizes) {
    const t0 = performance.now();
    chain.advanceTo(n);
    at(chain, n, hints.get(n), (performance.now() - t0) / 1000);
  }
}

/** One point of a streamed chain: its sketches (undefined: rank it alone with chainRanks), seconds spent summing. */
export interface ChainSketchMessage {
  readonly samples: number;
  readonly sketches?: readonly ChainSketch[];
  readonly products: number;
}

/**
 * chainRanks split in two: this sums through the boundaries and posts, per wanted size, the
 * first sketch chainRanks would eigensolve for each Hessian; the caller eigensolves them (on any
 * worker) and applies acceptSketch. An accepted sketch gives exactly chainRanks' rank; a
 * point whose sketch is not accepted, or that has no hints, is ranked alone with chainRanks.
 * Returns how many points were posted.
 */
export function streamChainSketches(task: Omit<Extract<WorkerTask, { kind: 'chain-stream' }>, 'kind'>): number {
  let posted = 0;
  sumChain(task, (chain, n, hints, products) => {
    const sketches = chain.sketches(hints);
    const message: ChainSketchMessage = { samples: n, products, ...(sketches ? { sketches } : {}) };
    task.port.postMessage(message, sketches ? sketches.map((s) => s.packed.buffer as ArrayBuffer) : []);
    posted++;
  });
  return posted;
}

/** The predicted ranks for a network on these samples, as sketch hints (none for nonlinear networks). */
function prefixHints(net: Network, data: Dataset, loss: LossName): RankHints | undefined {
  if (net.activation !== 'linear' || net.bias) return undefined;
  return hintsOf(predictRanks({
    inputRank: inputCovarianceRank(data).rank, outputs: net.sizes[net.sizes.length - 1]!, hidden: net.sizes.slice(1, -1),
    loss, activation: net.activation, bias: net.bias,
  }));
}

export { DENSE_MAX_PARAMS };
