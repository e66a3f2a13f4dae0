/**
 * What the light step kinds compute, as plain functions of input values (no cache, no I/O beyond
 * reading dataset files). The heavy spectrum step: compute-step.ts and exec/tasks.ts.
 */
import {
  augmentedInputCovarianceRank, initNetwork, inputCovarianceRank, loadDataset, predictRanks, type Dataset, type Network, type Prediction, type RankResult,
} from '../../science/index.js';
import type { Config } from '../../pipeline/types.js';
import { datasetSpec, layerSizes } from './settings.js';

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

/** The prediction; `data` (needed with biases) gives the augmented input rank. */
export function computePrediction(cfg: Config, inputRank: RankResult, outputs: number, data?: Dataset): Prediction {
  const augmentedInputRank = cfg.model.bias !== false && data ? augmentedInputCovarianceRank(data).rank : undefined;
  return predictRanks({
    inputRank: inputRank.rank, ...(augmentedInputRank !== undefined ? { augmentedInputRank } : {}),
    outputs, hidden: cfg.model.hidden, loss: cfg.loss, activation: cfg.model.activation, bias: cfg.model.bias,
  });
}
