/**
 * What the light step kinds compute, as plain functions of input values (no cache, no I/O beyond
 * reading dataset files). The heavy spectrum step: compute-step.ts and exec/tasks.ts.
 */
import {
  augmentedInputCovarianceRank, checkpointMetrics, initNetwork, initialState, inputCovarianceRank, loadDataset, predictRanks, train,
  type CheckpointMetrics, type Dataset, type Network, type Prediction, type RankResult, type TrainState,
} from '../../science/index.js';
import type { Config } from '../../pipeline/types.js';
import { datasetSpec, networkSpecOf, trainSettings } from './settings.js';
import { convDataRanks } from '../../science/conv-predictions.js';
import { needsConvRanks } from '../../science/predictions.js';
import { trainingFlops } from '../../science/train.js';

/** Work per training chunk between yields to the event loop (~10 ms here). */
const TRAIN_CHUNK_FLOPS = 2e7;

export function computeDataset(cfg: Config): Dataset {
  return loadDataset(datasetSpec(cfg));
}

export function computeNetwork(cfg: Config): Network {
  return initNetwork(networkSpecOf(cfg), cfg.model.init, cfg.seed);
}

export function computeInputRank(data: Dataset): RankResult {
  return inputCovarianceRank(data);
}

/**
 * The prediction; `data` (needed with biases, and by conv networks the formulas cover) gives the
 * augmented input rank and the conv layer's data ranks.
 */
export function computePrediction(cfg: Config, inputRank: RankResult, outputs: number, data?: Dataset): Prediction {
  const augmentedInputRank = cfg.model.bias !== false && data ? augmentedInputCovarianceRank(data).rank : undefined;
  const conv = cfg.model.conv !== undefined ? networkSpecOf(cfg).conv : undefined;
  const base = {
    inputRank: inputRank.rank, ...(augmentedInputRank !== undefined ? { augmentedInputRank } : {}),
    outputs, hidden: cfg.model.hidden, loss: cfg.loss, activation: cfg.model.activation, bias: cfg.model.bias,
    ...(conv ? { conv } : {}),
  };
  const convRanks = conv && data && needsConvRanks(base) ? convDataRanks(data, conv, cfg.loss) : undefined;
  return predictRanks({ ...base, ...(convRanks ? { convRanks } : {}) });
}


/**
 * A checkpoint: the state after `to` updates (a Network with the optimiser's state, so the
 * spectrum step reads it as its network) and its metrics over every sample.
 */
export interface Checkpoint extends TrainState {
  readonly metrics: CheckpointMetrics;
}

/**
 * The train step: from the previous checkpoint's state (or the initial network) to checkpoint
 * `to`. Training that diverges throws TrainingDiverged naming the step; earlier checkpoints are
 * already cached.
 */
export async function computeTrain(cfg: Config, to: number, data: Dataset, from: TrainState | Network, signal?: AbortSignal): Promise<Checkpoint> {
  const s = trainSettings(cfg);
  const start = 'step' in from ? from : initialState(from, s.optimizer);
  const { metrics: _drop, ...state } = start as Checkpoint;
  // In chunks of about TRAIN_CHUNK_FLOPS, yielding between them: the main thread keeps handing
  // work to the worker threads (and drawing progress), and an interrupt stops training between
  // chunks. Chunks change nothing: training resumes bit for bit from any state.
  const batch = s.optimizer === 'gd' ? data.n : s.batchSize!;
  const chunk = Math.max(1, Math.floor(TRAIN_CHUNK_FLOPS / trainingFlops(1, batch, 0, state.theta.length)));
  let reached: TrainState = state;
  while (reached.step < to) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('interrupted');
    reached = train(reached, data, cfg.loss, s, Math.min(to, reached.step + chunk));
    if (reached.step < to) await new Promise((r) => setImmediate(r));
  }
  const metrics = checkpointMetrics(reached, data, cfg.loss);
  if (!Number.isFinite(metrics.loss)) throw Object.assign(new Error(`training diverged: the loss is ${metrics.loss} at step ${to}`), { code: 'diverged' });
  return { ...reached, metrics };
}
