/**
 * Types of the pipeline layer: the file as written, the normalised study, and sweep points.
 *
 * The normalised settings (`Config`) mirror the file's keys (snake_case included), so a sweep
 * axis such as `dataset.samples` names the same field in the file and in a `Config`.
 */
import type { Activation, Bias, ConvLayerSpec, HessianKind, Init, LossName, Padding } from '../science/types.js';
import type { Optimizer } from '../science/train.js';

export type { Activation, ConvLayerSpec, HessianKind, Init, LossName, Optimizer, Padding };

export type SourceName = 'mnist' | 'idx' | 'cifar10' | 'gaussian-mixture';
export type TwoClassTargets = 'pm1' | 'onehot';
export type SweepMode = 'grid' | 'zip';
export type Normalize = 'params' | 'none';
/** What a rank figure plots: the ranks (and predictions), or empirical minus predicted rank. */
export type PlotY = 'rank' | 'difference';
export type RankRoute = 'auto' | 'dense';

/** One segment of a path into the file: a key, or an index into a list. */
export type PathSegment = string | number;

/** A value a sweep axis can take (a scalar, or a list such as `model.hidden: [[8, 8], [16, 16]]`). */
export type SweepValue = string | number | boolean | readonly SweepValue[];

// ---------------------------------------------------------------------------------------------
// Defaults (the same values as the `default` keywords of schemas/pipeline.schema.json; a test
// keeps the two in step).

export const DEFAULTS = {
  seed: 0,
  loss: 'mse' as LossName,
  hessians: ['loss', 'outer', 'functional'] as readonly HessianKind[],
  /** null: the whole set in one batch. */
  batch_size: null,
  classes: 10,
  two_class_targets: 'pm1' as TwoClassTargets,
  channel: 0,
  spread: 1,
  separation: 1,
  activation: 'linear' as Activation,
  bias: false as Bias,
  init: 'glorot' as Init,
  mode: 'grid' as SweepMode,
  normalize: 'none' as Normalize,
  y: 'rank' as PlotY,
  spectra: false,
  route: 'auto' as RankRoute,
  rtol: null,
  atol: 0,
  optimizer: 'gd' as Optimizer,
  train_seed: 0,
  stride: 1,
  padding: 'valid' as Padding,
  channels: 1,
} as const;

/** The canonical order of the Hessians (a normalised `hessians` list follows it). */
export const HESSIAN_ORDER: readonly HessianKind[] = ['loss', 'outer', 'functional'];

/** Most points a single range or a whole sweep may produce. */
export const MAX_POINTS = 100_000;

// ---------------------------------------------------------------------------------------------
// The file as written (after schema validation; optional keys may be absent).

export interface PipelineDocument {
  readonly $schema?: string;
  readonly version: 1;
  readonly name: string;
  readonly description?: string;
  readonly seed?: number;
  readonly dataset: {
    readonly source: SourceName;
    readonly samples: number;
    readonly resize?: number;
    readonly classes?: number;
    readonly two_class_targets?: TwoClassTargets;
    readonly images?: string;
    readonly labels?: string;
    readonly files?: readonly string[];
    readonly channel?: number;
    readonly dim?: number;
    readonly spread?: number;
    readonly separation?: number;
    readonly channels?: number;
  };
  readonly model: {
    readonly layers?: readonly LayerDocument[];
    readonly hidden?: readonly number[];
    readonly width?: number;
    readonly depth?: number;
    readonly activation?: Activation;
    readonly bias?: Bias;
    readonly init?: Init;
  };
  readonly loss?: LossName;
  readonly hessians?: readonly HessianKind[];
  readonly batch_size?: number;
  readonly rank?: { readonly route?: RankRoute; readonly rtol?: number | null; readonly atol?: number };
  readonly train?: {
    readonly optimizer?: Optimizer;
    readonly lr: number;
    readonly steps: number;
    readonly batch_size?: number;
    readonly checkpoints: readonly number[] | { readonly from: number; readonly to: number; readonly step?: number };
    readonly seed?: number;
    readonly checkpoint?: number;
  };
  readonly sweep?: { readonly mode?: SweepMode } & { readonly [axis: string]: unknown };
  readonly report?: {
    readonly plots?: readonly { readonly x: string; readonly y?: PlotY; readonly normalize?: Normalize; readonly title?: string; readonly aggregate?: string }[];
    readonly spectra?: boolean;
  };
}

/** One entry of `model.layers` as written: a conv layer or a dense layer. */
export type LayerDocument =
  | { readonly conv: { readonly channels: number; readonly kernel: number; readonly stride?: number; readonly padding?: Padding }; readonly dense?: undefined }
  | { readonly dense: number; readonly conv?: undefined };

// ---------------------------------------------------------------------------------------------
// Normalised settings: every default filled in.

/** A file named in the pipeline: as written, and resolved against the pipeline file's folder. */
export interface FileRef {
  /** As written in the pipeline file. */
  readonly written: string;
  /** Absolute path (the written path when absolute, else resolved against the file's folder). */
  readonly path: string;
}

interface DatasetCommon {
  readonly samples: number;
  readonly classes: number;
  /** The 2-class target mode; null when classes is not 2 (where it does not apply). */
  readonly two_class_targets: TwoClassTargets | null;
}

export interface MnistDataset extends DatasetCommon {
  readonly source: 'mnist';
  /** Side of the resized images; null: native size (28). */
  readonly resize: number | null;
}

export interface IdxDataset extends DatasetCommon {
  readonly source: 'idx';
  readonly resize: number | null;
  readonly images: FileRef;
  readonly labels: FileRef;
}

export interface Cifar10Dataset extends DatasetCommon {
  readonly source: 'cifar10';
  readonly resize: number | null;
  readonly files: readonly FileRef[];
  /** Colour channel kept (0 red, 1 green, 2 blue) when one plane is read. */
  readonly channel: number;
  /** 3: all three colour planes, channel-major (absent: one plane, `channel`, as before). */
  readonly channels?: 3;
}

export interface GaussianMixtureDataset extends DatasetCommon {
  readonly source: 'gaussian-mixture';
  readonly dim: number;
  readonly spread: number;
  readonly separation: number;
}

export type DatasetConfig = MnistDataset | IdxDataset | Cifar10Dataset | GaussianMixtureDataset;

export interface ModelConfig {
  /**
   * Conv layers on the input image, input side first (from `model.layers`); absent when the
   * model has none, so the settings of a fully connected model are what they always were.
   */
  readonly conv?: readonly ConvLayerSpec[];
  /**
   * Hidden widths of the fully connected layers, input side first (resolved from width and depth,
   * or the dense entries of `layers` after the conv layers).
   */
  readonly hidden: readonly number[];
  readonly activation: Activation;
  readonly bias: Bias;
  readonly init: Init;
}

/** The settings of one computation: a pipeline file with every default filled in. */
export interface Config {
  readonly seed: number;
  readonly dataset: DatasetConfig;
  readonly model: ModelConfig;
  readonly loss: LossName;
  /** Without duplicates, in the order loss, outer, functional. */
  readonly hessians: readonly HessianKind[];
  /** Samples per accumulation batch; null: the whole set in one batch. */
  readonly batch_size: number | null;
  readonly rank: RankConfig;
  /** Training before the Hessians; null: the Hessians of the initial weights. */
  readonly train: TrainConfig | null;
}

/** The `train` section with defaults filled in and its checkpoints listed. */
export interface TrainConfig {
  readonly optimizer: Optimizer;
  readonly lr: number;
  readonly steps: number;
  /** Samples per minibatch (sgd, adam); null for gd. */
  readonly batch_size: number | null;
  /** Every checkpoint, as written (a range expanded); empty when the range is malformed (reported by the checks). */
  readonly checkpoints: readonly number[];
  readonly seed: number;
  /** The checkpoint whose weights this point's Hessians are computed at. */
  readonly checkpoint: number;
}

/** How ranks are read: the route of the eigenvalues, and NumPy's rtol (null: n * eps) and atol. */
export interface RankConfig {
  readonly route: RankRoute;
  readonly rtol: number | null;
  readonly atol: number;
}

// ---------------------------------------------------------------------------------------------
// The study.

export interface Axis {
  /** The dotted path as written in the sweep, e.g. `model.width`. */
  readonly path: string;
  /** The path split into keys and list indices. */
  readonly segments: readonly PathSegment[];
  /** Every value, in order (a range is expanded, `to` included). */
  readonly values: readonly SweepValue[];
  /** How the values were written. */
  readonly form: 'list' | 'range';
}

export interface SweepSpec {
  readonly mode: SweepMode;
  /** In file order; empty when the file has no sweep. */
  readonly axes: readonly Axis[];
}

export interface PlotSpec {
  /** A sweep axis (its dotted path). */
  readonly x: string;
  readonly y: PlotY;
  readonly normalize: Normalize;
  readonly title: string | null;
  /** A sweep axis averaged over: the mean rank as a line with its min-max band across it (null: every point drawn). */
  readonly aggregate?: string | null;
}

export interface ReportSpec {
  readonly plots: readonly PlotSpec[];
  readonly spectra: boolean;
}

export interface Study {
  /** The pipeline file as given to the loader. */
  readonly file: string;
  /** Absolute folder that relative dataset paths are resolved against. */
  readonly dir: string;
  /** The file's text, exactly as read. */
  readonly text: string;
  readonly version: 1;
  readonly name: string;
  readonly description: string | null;
  /**
   * The file's settings with every default filled in. A setting that the file leaves out but
   * sweeps (e.g. `model.depth` given only in `sweep`) takes its first swept value here.
   */
  readonly base: Config;
  readonly sweep: SweepSpec;
  readonly report: ReportSpec;
  /** The file as written (no defaults), which the sweep's values are substituted into. */
  readonly document: PipelineDocument;
}

export interface Point {
  /** Position in the expansion order (0-based). */
  readonly index: number;
  /** Readable, stable id: `model.width=8`, `loss=mse,model.width=8`, or `main` without axes. */
  readonly id: string;
  /** This point's value of each axis, in axis order. */
  readonly values: readonly SweepValue[];
  /** The same values keyed by axis path. */
  readonly coords: Readonly<Record<string, SweepValue>>;
  /** The full settings of this point. */
  readonly config: Config;
}

// ---------------------------------------------------------------------------------------------
// Problems.

export type ProblemCode =
  /** The pipeline file could not be read. */
  | 'unreadable-file'
  /** The text is not valid YAML (or holds several documents). */
  | 'yaml-syntax'
  /** A key appears twice in one mapping. */
  | 'duplicate-key'
  /** A key the format does not know (or that does not apply here, e.g. `dim` for mnist). */
  | 'unknown-key'
  /** A required key is absent. */
  | 'missing-key'
  /** A value of the wrong kind (a string where a number belongs, ...). */
  | 'bad-type'
  /** A value of the right kind but not allowed (out of range, not in the list, ...). */
  | 'bad-value'
  /** Keys that cannot be used together (`hidden` with `width`). */
  | 'conflict'
  /** A sweep that cannot be expanded: bad axis path, bad swept value, bad range, zip lengths. */
  | 'bad-sweep'
  /** A reference to something that does not exist (a plot's `x` that is no sweep axis). */
  | 'bad-reference'
  /** The file is not UTF-8 text, or holds control characters YAML does not allow. */
  | 'bad-encoding'
  /** The file is larger than a pipeline file can be (1 MiB). */
  | 'too-large'
  /** A dataset file that is empty or not of the declared format (from its header), or too small for the study. */
  | 'bad-file'
  /** Two pipeline files with the same `name:` (one results folder each). */
  | 'duplicate-name'
  /** A warning: a range {from, to, step} whose values stop before `to`. */
  | 'range-end';

export interface Problem {
  readonly code: ProblemCode;
  /** The pipeline file, as given to the loader. */
  readonly file: string;
  /** Dotted path of the offending key or value (`model.width`, `report.plots[0].x`); '' for the file. */
  readonly path: string;
  /** 1-based line; 0 when the problem has no position (an unreadable file). */
  readonly line: number;
  /** 1-based column; 0 when the problem has no position. */
  readonly column: number;
  /** What was found and what is allowed. */
  readonly message: string;
  /** A suggestion, e.g. "did you mean 'activation'?". */
  readonly hint?: string;
  /** The offending line's text and how many characters from `column` to underline. */
  readonly excerpt?: { readonly text: string; readonly width: number };
}
