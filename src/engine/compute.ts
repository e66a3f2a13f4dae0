/**
 * What each step kind computes, as plain functions of input values (no cache, no I/O beyond
 * reading dataset files). The heavy kind (ranks) also runs inside worker threads via worker.ts.
 */
import {
  HessianAccumulator, getLoss, hessianRanks, initNetwork, inputCovarianceRank, loadDataset, predictRanks,
  type Dataset, type HessianKind, type LossName, type Network, type PointRanks, type Prediction, type RankResult,
} from '../science/index.js';
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

/** A ranks job for a worker: one point, or several points of one prefix-sum chain. */
export interface RanksTask {
  readonly net: Network;
  /** For a chain: the dataset of the largest sample size in the job (the others are its prefixes). */
  readonly data: Dataset;
  readonly loss: LossName;
  readonly which: readonly HessianKind[];
  readonly batchSize: number | null;
  readonly hint: number | null;
  /** Chain jobs: the sample sizes summed, in order, and which of them to rank. */
  readonly chain?: { readonly boundaries: readonly number[]; readonly wanted: readonly number[] };
}

/** Ranks of one point, or of each wanted sample size of a chain (in `wanted` order). */
export function computeRanks(task: RanksTask): PointRanks[] {
  const { net, data, loss, which } = task;
  const batchSize = task.batchSize ?? undefined;
  if (!task.chain) {
    return [hessianRanks(net, data, loss, which, { batchSize, denseMaxParams: DENSE_MAX_PARAMS, sketchHint: task.hint ?? undefined })];
  }
  const wanted = new Set(task.chain.wanted);
  const acc = new HessianAccumulator(net, getLoss(loss), which);
  const out = new Map<number, PointRanks>();
  const last = Math.max(...task.chain.wanted);
  for (const n of task.chain.boundaries) {
    if (n > last) break;
    const t0 = performance.now();
    acc.addUpTo(data, n, batchSize);
    const t1 = performance.now();
    if (wanted.has(n)) {
      const r = acc.ranks();
      out.set(n, { params: acc.params, ...r, seconds: { products: (t1 - t0) / 1000, eigen: (performance.now() - t1) / 1000 } });
    }
  }
  return task.chain.wanted.map((n) => out.get(n)!);
}
