/**
 * One benchmark point in its own process, so peak RSS is the point's own.
 * Usage: tsx bench/point.ts '<json: {hidden, samples, resize, classes, loss, seed, source?, images?, labels?}>'
 * Prints one JSON line: ranks, predictions, seconds, peak RSS.
 */
import { loadDataset } from '../src/science/datasets/index.js';
import { initNetwork, networkSpec } from '../src/science/network.js';
import { predictRanks } from '../src/science/predictions.js';
import { hessianRanks, inputCovarianceRank } from '../src/science/ranks.js';
import type { LossName } from '../src/science/types.js';

interface PointArgs {
  hidden: number[]; samples: number; resize: number; classes: number; loss: LossName; seed: number;
  images?: string; labels?: string;
}
const args = JSON.parse(process.argv[2]) as PointArgs;
const t0 = performance.now();
const data = args.images
  ? loadDataset({ source: 'idx', images: args.images, labels: args.labels!, samples: args.samples, resize: args.resize, classes: args.classes })
  : loadDataset({ source: 'mnist', samples: args.samples, resize: args.resize, classes: args.classes });
const net = initNetwork(networkSpec(data.d, args.hidden, data.k, 'linear', false), 'glorot', args.seed);
const r = inputCovarianceRank(data).rank;
const pred = predictRanks({ inputRank: r, outputs: data.k, hidden: args.hidden, loss: args.loss, activation: 'linear', bias: false });
const ranks = await hessianRanks(net, data, args.loss, ['loss', 'outer', 'functional']);
const seconds = (performance.now() - t0) / 1000;
const pick = (k: 'loss' | 'outer' | 'functional') => ({ rank: ranks[k]!.rank, gap: ranks[k]!.gap, ambiguous: ranks[k]!.ambiguous, method: ranks[k]!.method });
console.log(JSON.stringify({
  params: ranks.params, inputRank: r, seconds, peakRssMB: process.resourceUsage().maxRSS / 1024,
  phases: ranks.seconds, loss: pick('loss'), outer: pick('outer'), functional: pick('functional'),
  pred: pred.applicable ? { loss: pred.loss, outer: pred.outer, functional: pred.functional } : null,
}));
