/** From a valid pipeline document to its normalised settings: every default filled in. */
import { isAbsolute, normalize, resolve } from 'node:path';
import { DEFAULTS, HESSIAN_ORDER } from './types.js';
import type { Config, ConvLayerSpec, DatasetConfig, FileRef, ModelConfig, PipelineDocument, TrainConfig } from './types.js';

/** A dataset path as written, and resolved against `dir` unless absolute. */
export function fileRef(written: string, dir: string): FileRef {
  return { written, path: isAbsolute(written) ? normalize(written) : resolve(dir, written) };
}

/**
 * The normalised settings of a document that passed validation (with every swept value in
 * place). Relative dataset paths are resolved against `dir`, the pipeline file's folder.
 */
export function normalizeConfig(doc: PipelineDocument, dir: string): Config {
  const d = doc.dataset;
  const classes = d.classes ?? DEFAULTS.classes;
  const common = {
    samples: d.samples,
    classes,
    two_class_targets: classes === 2 ? (d.two_class_targets ?? DEFAULTS.two_class_targets) : null,
  };
  const resize = d.resize ?? null;
  let dataset: DatasetConfig;
  switch (d.source) {
    case 'mnist':
      dataset = { source: 'mnist', ...common, resize };
      break;
    case 'idx':
      dataset = {
        source: 'idx',
        ...common,
        resize,
        images: fileRef(required(d.images, 'dataset.images'), dir),
        labels: fileRef(required(d.labels, 'dataset.labels'), dir),
      };
      break;
    case 'cifar10':
      dataset = {
        source: 'cifar10',
        ...common,
        resize,
        files: required(d.files, 'dataset.files').map((f) => fileRef(f, dir)),
        channel: d.channel ?? DEFAULTS.channel,
        ...(d.channels === 3 ? { channels: 3 as const } : {}),
      };
      break;
    case 'gaussian-mixture':
      dataset = {
        source: 'gaussian-mixture',
        ...common,
        dim: required(d.dim, 'dataset.dim'),
        spread: d.spread ?? DEFAULTS.spread,
        separation: d.separation ?? DEFAULTS.separation,
      };
      break;
  }

  const m = doc.model;
  // `layers`: the conv entries (the checks make sure they all come first) and the dense widths.
  const conv: ConvLayerSpec[] = [];
  for (const l of m.layers ?? []) {
    if (l.conv !== undefined) conv.push({ channels: l.conv.channels, kernel: l.conv.kernel, stride: l.conv.stride ?? DEFAULTS.stride, padding: l.conv.padding ?? DEFAULTS.padding });
  }
  const hidden =
    m.layers !== undefined
      ? m.layers.filter((l) => l.dense !== undefined).map((l) => l.dense as number)
      : m.hidden !== undefined
        ? [...m.hidden]
        : Array.from({ length: required(m.depth, 'model.depth') }, () => required(m.width, 'model.width'));
  const model: ModelConfig = {
    ...(conv.length > 0 ? { conv } : {}),
    hidden,
    activation: m.activation ?? DEFAULTS.activation,
    bias: m.bias ?? DEFAULTS.bias,
    init: m.init ?? DEFAULTS.init,
  };

  const wanted = doc.hessians ?? DEFAULTS.hessians;
  return {
    seed: doc.seed ?? DEFAULTS.seed,
    dataset,
    model,
    loss: doc.loss ?? DEFAULTS.loss,
    hessians: HESSIAN_ORDER.filter((h) => wanted.includes(h)),
    batch_size: doc.batch_size ?? DEFAULTS.batch_size,
    rank: {
      route: doc.rank?.route ?? DEFAULTS.route,
      rtol: doc.rank?.rtol ?? DEFAULTS.rtol,
      atol: doc.rank?.atol ?? DEFAULTS.atol,
    },
    train: normalizeTrain(doc.train),
  };
}

/**
 * The steps a `checkpoints` entry lists: a list as written, a range {from, to, step} expanded
 * (`to` included when reached). A range with to < from gives none (the checks report it).
 */
export function checkpointSteps(raw: NonNullable<PipelineDocument['train']>['checkpoints']): number[] {
  if (Array.isArray(raw)) return [...raw];
  const { from, to } = raw as { from: number; to: number; step?: number };
  const step = (raw as { step?: number }).step ?? 1;
  const out: number[] = [];
  for (let c = from; c <= to && out.length <= 100_000; c += step) out.push(c);
  return out;
}

function normalizeTrain(t: PipelineDocument['train']): TrainConfig | null {
  if (t === undefined) return null;
  const optimizer = t.optimizer ?? DEFAULTS.optimizer;
  const checkpoints = checkpointSteps(t.checkpoints);
  return {
    optimizer,
    lr: t.lr,
    steps: t.steps,
    batch_size: t.batch_size ?? null,
    checkpoints,
    seed: t.seed ?? DEFAULTS.train_seed,
    checkpoint: t.checkpoint ?? checkpoints[checkpoints.length - 1] ?? 0,
  };
}

/** Validation guarantees these; a miss is a bug in the pipeline layer, not a user error. */
function required<T>(value: T | undefined, path: string): T {
  if (value === undefined) throw new Error(`pipeline: ${path} missing after validation (bug)`);
  return value;
}
