/**
 * One step's value from its inputs: the single definition every executor uses (the local run,
 * and any remote worker). Pure apart from reading dataset files. Ranks go through a RanksBackend,
 * so the caller decides where the heavy pieces run.
 */
import { collectResults, type CollectParams } from './collect.js';
import { computeDataset, computeInputRank, computeNetwork, computePrediction, computeTrain, type Checkpoint } from './values.js';
import type { PlanStep } from './plan.js';
import { outputCount } from './settings.js';
import {
  chainSpectra, hessianSpectra, rankSpectra, type Dataset, type Network, type PointRanks, type PointSpectra,
  type Prediction, type RankResult, type RanksBackend,
} from '../../science/index.js';

export interface StepContext {
  /** Where the heavy pieces of a rank computation run. */
  readonly backend: RanksBackend;
  /** How many backend calls may run at once. */
  readonly parallel: number;
  /** Stops a long step between its chunks (training): the run was interrupted or stopped. */
  readonly signal?: AbortSignal;
}

export async function computeStep(step: PlanStep, inputs: ReadonlyMap<string, unknown>, ctx: StepContext): Promise<unknown> {
  const cfg = step.config;
  switch (step.kind) {
    case 'dataset': return computeDataset(cfg);
    case 'network': return computeNetwork(cfg);
    case 'train': {
      const to = (step.parts.params as { to: number }).to;
      return computeTrain(cfg, to, inputs.get('dataset') as Dataset, (inputs.get('previous') ?? inputs.get('network')) as Network, ctx.signal);
    }
    case 'input-rank': return computeInputRank(inputs.get('dataset') as Dataset);
    case 'prediction': return computePrediction(cfg, inputs.get('inputRank') as RankResult, outputCount(cfg), inputs.get('dataset') as Dataset | undefined);
    case 'collect': {
      const params = step.parts.params as CollectParams;
      return collectResults(params, params.points.map((_, i) => ({
        inputRank: inputs.get(`${i}/input-rank`) as RankResult,
        prediction: inputs.get(`${i}/prediction`) as Prediction,
        ranks: inputs.get(`${i}/ranks`) as PointRanks,
        train: inputs.get(`${i}/train`) as Checkpoint | undefined,
      })));
    }
    case 'spectrum': {
      const net = inputs.get('network') as Network, data = inputs.get('dataset') as Dataset;
      const batchSize = cfg.batch_size ?? undefined;
      if (step.chain) {
        // Alone, a chain member sums through its own boundaries: the same sums, so the same value.
        return chainSpectra({
          problem: { net, data, loss: cfg.loss, batchSize }, which: cfg.hessians,
          boundaries: step.chain.boundaries, wanted: [cfg.dataset.samples], route: cfg.rank.route,
        })[0];
      }
      return hessianSpectra(net, data, cfg.loss, cfg.hessians, { batchSize, route: cfg.rank.route, parallel: ctx.parallel }, ctx.backend);
    }
    case 'ranks':
      return rankSpectra(inputs.get('spectrum') as PointSpectra, { rtol: cfg.rank.rtol, atol: cfg.rank.atol });
  }
}
