/**
 * Planning: a study's points become a DAG of steps with readable ids and content-addressed keys.
 * Pure apart from hashing dataset files; computes nothing. Steps that several points share
 * (same key) appear once. Points that differ only in `dataset.samples` form a chain (see
 * `chainable`): each point's spectra come from prefix sums over the chain's sample sizes, so a
 * sample-size sweep reuses the sums of earlier batches. The heavy `spectrum` step computes the
 * eigenvalues; the light `ranks` step reads ranks from them with the study's tolerance, so a
 * tolerance sweep reuses the eigenvalues.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../store/canonical.js';
import { EMPTY_ROLES, ENGINE_VERSION, KEY_SALT, KindKeys, StepKeyMemo, hashFile, type KeyParts } from '../store/keys.js';
import { HEAVY_KINDS, KIND_VERSIONS, type StepKind } from './kinds.js';
import { chainable, checkpointChain, datasetFiles, datasetParams, inputImage, layerSizes, outputCount, paramCountOf, predictionReadsData, trainParams } from './settings.js';
import { formatValue } from '../../pipeline/expand.js';
import type { Config, Point, Study } from '../../pipeline/types.js';
import { DENSE_MAX_PARAMS } from '../../science/ranks.js';

export interface ChainInfo {
  /** Identifies the chain (points equal but for dataset.samples). */
  readonly group: string;
  /** Sample sizes summed, in order, up to and including this point's. */
  readonly boundaries: readonly number[];
}

export interface PlanStep {
  /** Readable, stable id, e.g. `ranks[model.width=8]`, or `dataset` when all points share it. */
  readonly id: string;
  readonly kind: StepKind;
  readonly key: string;
  readonly parts: KeyParts;
  /** Upstream step ids by role. */
  readonly inputs: Readonly<Record<string, string>>;
  /** Runs in a worker thread. */
  readonly heavy: boolean;
  /** Ids of the points this step serves. */
  readonly points: readonly string[];
  /** The index in `Plan.points` of the first point served (the collect step: 0). */
  readonly first: number;
  /** Settings of the first point served (what the step computes from). */
  readonly config: Config;
  /** Spectrum steps that belong to a prefix-sum chain. */
  readonly chain?: ChainInfo;
}

export interface PlanPoint {
  readonly point: Point;
  readonly params: number;
  readonly inputDim: number;
  readonly outputs: number;
  /** Step ids of this point, by kind. */
  readonly steps: Readonly<Record<'dataset' | 'network' | 'input-rank' | 'prediction' | 'spectrum' | 'ranks', string>> & {
    /** The train step of the point's checkpoint (trained points only). */
    readonly train?: string;
  };
}

export interface Plan {
  readonly study: Study;
  readonly points: readonly PlanPoint[];
  /** Topologically ordered. */
  readonly steps: readonly PlanStep[];
  readonly byId: ReadonlyMap<string, PlanStep>;
  /** The final step: every point's results. */
  readonly collect: string;
}

/**
 * A planned step: one object per distinct key, served to every point with that key. It holds its
 * normal parameters and its input steps, and makes its key parts only when asked (--explain, the
 * cluster, a training step's range): a plan of 100,000 points has about 400,000 steps, and two
 * more objects each would be traced by the collector on every pass while planning.
 */
class PlannedStep implements PlanStep {
  /** The readable id (assignIds). */
  id = '';
  readonly heavy: boolean;
  readonly points: string[];
  constructor(
    readonly kind: StepKind,
    readonly key: string,
    /** The parameters as hashed (canonical, shared between steps: frozen). */
    readonly params: unknown,
    readonly files: Readonly<Record<string, string>>,
    /** Upstream steps by role. */
    readonly from: Readonly<Record<string, PlannedStep>>,
    readonly config: Config,
    readonly chain: ChainInfo | undefined,
    /** The index of the first point served. */
    readonly first: number,
    point: string,
  ) {
    this.heavy = HEAVY_KINDS.has(kind);
    this.points = [point];
  }

  /** Upstream step ids by role (made when asked: one object fewer per step to hold). */
  get inputs(): Readonly<Record<string, string>> {
    if (this.from === NO_INPUTS) return NO_IDS;
    const ids: Record<string, string> = {};
    for (const role in this.from) ids[role] = this.from[role]!.id;
    return ids;
  }

  get parts(): KeyParts {
    const inputs: Record<string, string> = {};
    for (const role in this.from) inputs[role] = this.from[role]!.key;
    return Object.freeze({
      salt: KEY_SALT, kind: this.kind, kindVersion: KIND_VERSIONS[this.kind], params: this.params,
      inputs: Object.freeze(inputs), files: this.files, engine: ENGINE_VERSION,
    });
  }
}

/**
 * The collect step: every point's rows. Its 300,000 roles (at 100,000 points) are kept as flat
 * lists; the role maps (`inputs` by id, in point order: the order a run asks for them; its key
 * parts' `inputs` by key) are made the first time they are read: `hrank plan` and `hrank status`
 * never read them.
 */
class CollectStep implements PlanStep {
  readonly id = 'collect';
  readonly kind = 'collect';
  readonly heavy = false;
  readonly first = 0;
  readonly chain = undefined;
  #inputs: Readonly<Record<string, string>> | undefined;
  #parts: KeyParts | undefined;

  constructor(
    readonly key: string,
    readonly params: unknown,
    readonly points: readonly string[],
    readonly config: Config,
    /** Roles in point order, and the step each names. */
    private readonly roles: readonly string[],
    private readonly sources: readonly PlannedStep[],
    /** The roles in sorted order. */
    private readonly sortedRoles: readonly string[],
  ) {}

  get inputs(): Readonly<Record<string, string>> {
    if (!this.#inputs) {
      const ids: Record<string, string> = {};
      this.roles.forEach((role, j) => { ids[role] = this.sources[j]!.id; });
      this.#inputs = ids;
    }
    return this.#inputs;
  }

  get parts(): KeyParts {
    if (!this.#parts) {
      const byRole = new Map(this.roles.map((role, j) => [role, this.sources[j]!.key]));
      const inputs: Record<string, string> = {};
      for (const role of this.sortedRoles) inputs[role] = byRole.get(role)!;
      this.#parts = Object.freeze({
        salt: KEY_SALT, kind: this.kind, kindVersion: KIND_VERSIONS.collect, params: this.params,
        inputs: Object.freeze(inputs), files: NO_FILES, engine: ENGINE_VERSION,
      });
    }
    return this.#parts;
  }
}

type PointDrafts = Record<'dataset' | 'network' | 'input-rank' | 'prediction' | 'spectrum' | 'ranks', PlannedStep> & { train?: PlannedStep };

const NO_IDS: Readonly<Record<string, string>> = Object.freeze({});
const NO_FILES: Readonly<Record<string, string>> = EMPTY_ROLES;
const NO_INPUTS: Readonly<Record<string, PlannedStep>> = Object.freeze({});
/** The kinds whose values the collect step reads, per point (in sorted order). */
const COLLECTED = ['input-rank', 'prediction', 'ranks', 'train'] as const;
const KIND_ORDER: readonly StepKind[] = ['dataset', 'network', 'train', 'input-rank', 'prediction', 'spectrum', 'ranks'];

export async function planStudy(study: Study, points: readonly Point[]): Promise<Plan> {
  const fileHashes = new Map<string, Promise<string>>();
  const hashOf = (path: string): Promise<string> => {
    let h = fileHashes.get(path);
    if (!h) { h = hashFile(path); fileHashes.set(path, h); }
    return h;
  };
  const chains = findChains(points);

  // Steps by key; per kind in first-seen order (the plan's order); per point its steps. One small
  // object per distinct step (100,000 points make about 400,000), linked to its inputs directly:
  // no map from keys to ids, nothing per point and kind that outlives the point.
  const drafts = new Map<string, PlannedStep>();
  const byKind = new Map<StepKind, PlannedStep[]>(KIND_ORDER.map((k) => [k, []]));
  const pointDrafts: PointDrafts[] = [];
  const keyMemo = new StepKeyMemo();
  const kindKeys = new Map(KIND_ORDER.map((kind) => [kind, new KindKeys({ salt: KEY_SALT, kind, kindVersion: KIND_VERSIONS[kind], engine: ENGINE_VERSION }, keyMemo)]));
  const add = (kind: StepKind, params: unknown, inputs: Readonly<Record<string, PlannedStep>>, files: Readonly<Record<string, string>>, config: Config, point: Point, index: number, chain?: ChainInfo): PlannedStep => {
    let inputKeys: Record<string, string> = EMPTY_ROLES;
    for (const role in inputs) {
      if (inputKeys === EMPTY_ROLES) inputKeys = {};
      inputKeys[role] = inputs[role]!.key;
    }
    const k = kindKeys.get(kind)!.key(params, inputKeys, files);
    const existing = drafts.get(k.key);
    if (existing) {
      existing.points.push(point.id);
      return existing;
    }
    const d = new PlannedStep(kind, k.key, k.params, files === NO_FILES ? NO_FILES : Object.freeze(files), inputs, config, chain, index, point.id);
    drafts.set(k.key, d);
    byKind.get(kind)!.push(d);
    return d;
  };

  const meta: { params: number; inputDim: number; outputs: number }[] = [];
  const inputRankOf = new Map<PlannedStep, PlannedStep>();
  for (let index = 0; index < points.length; index++) {
    const point = points[index]!;
    const cfg = point.config;
    let files: Record<string, string> = NO_FILES;
    for (const [role, path] of Object.entries(datasetFiles(cfg.dataset))) {
      if (files === NO_FILES) files = {};
      files[role] = await hashOf(path);
    }
    const sizes = layerSizes(cfg);
    const dataset = add('dataset', datasetParams(cfg), NO_INPUTS, files, cfg, point, index);
    // The parameters below are written with their members in sorted order (the conv extras
    // apart): canonicalText then writes them with JSON.stringify. Any order gives the same key.
    const network = add('network', {
      activation: cfg.model.activation, bias: cfg.model.bias, init: cfg.model.init, seed: cfg.seed, sizes,
      // Only with conv layers (a fully connected network's key is what it was): the layers and the image they see.
      ...(cfg.model.conv !== undefined ? { conv: cfg.model.conv, image: inputImage(cfg) } : {}),
    }, NO_INPUTS, NO_FILES, cfg, point, index);
    // Training: one step per checkpoint up to the point's, each resuming from the one before
    // (points share the prefix of checkpoints they have in common: the same keys).
    let weights = network;
    let from = 0;
    for (const c of checkpointChain(cfg)) {
      weights = add('train', trainParams(cfg, from, c),
        from === 0 && weights === network ? { dataset, network: weights } : { dataset, previous: weights }, NO_FILES, cfg, point, index);
      from = c;
    }
    const train = cfg.train !== null ? weights : undefined;
    // One input-rank step per dataset step: its key is a function of the dataset's alone.
    let inputRank = inputRankOf.get(dataset);
    if (inputRank) inputRank.points.push(point.id);
    else inputRankOf.set(dataset, (inputRank = add('input-rank', {}, { dataset }, NO_FILES, cfg, point, index)));
    const prediction = add('prediction', {
      activation: cfg.model.activation, bias: cfg.model.bias, hidden: cfg.model.hidden, loss: cfg.loss, outputs: outputCount(cfg),
      ...(cfg.model.conv !== undefined ? { conv: cfg.model.conv, image: inputImage(cfg) } : {}),
    },
      // With biases the prediction reads the augmented input rank from the dataset; conv networks
      // the formulas cover, the conv layer's data ranks.
      predictionReadsData(cfg) ? { inputRank, dataset } : { inputRank }, NO_FILES, cfg, point, index);
    const chain = chains.get(point.index);
    const spectrum = add('spectrum',
      // batch_size is left out on purpose: it bounds memory and never changes a result.
      { denseMaxParams: DENSE_MAX_PARAMS, hessians: cfg.hessians, loss: cfg.loss, prefix: chain ? chain.boundaries : null, route: cfg.rank.route },
      // A trained point's network is its checkpoint (a Network with the optimiser's state).
      { dataset, network: train ?? network }, NO_FILES, cfg, point, index, chain);
    const ranks = add('ranks', { atol: cfg.rank.atol, rtol: cfg.rank.rtol }, { spectrum }, NO_FILES, cfg, point, index);
    pointDrafts.push({ dataset, network, 'input-rank': inputRank, prediction, spectrum, ranks, ...(train ? { train } : {}) });
    meta.push({ params: paramCountOf(cfg), inputDim: sizes[0], outputs: sizes[sizes.length - 1] });
  }
  drafts.clear();

  // Readable ids, then inputs by id.
  assignIds(points, study.sweep.axes.map((a) => a.path), byKind);
  const steps: PlanStep[] = [];
  for (const kind of KIND_ORDER) {
    for (const d of byKind.get(kind)!) steps.push(d);
  }

  // Collect: every point's rows, keyed by what the rows are made of. Its roles in point order
  // (`<point index>/<kind>`), flat, with where each point's begin.
  const roles: string[] = [];
  const sources: PlannedStep[] = [];
  const offsets = new Int32Array(points.length + 1);
  pointDrafts.forEach((drafts, i) => {
    for (const kind of COLLECTED) {
      const d = drafts[kind];
      if (d === undefined) continue;
      roles.push(`${i}/${kind}`);
      sources.push(d);
    }
    offsets[i + 1] = roles.length;
  });
  // The key takes them in the order canonical JSON sorts them: the point indices as text, then
  // the kinds ('/' sorts before every digit; COLLECTED is in sorted order).
  const sortedRoles: string[] = [];
  const sortedKeys: string[] = [];
  for (const text of points.map((_, i) => String(i)).sort()) {
    const i = Number(text);
    for (let j = offsets[i]!; j < offsets[i + 1]!; j++) {
      sortedRoles.push(roles[j]!);
      sortedKeys.push(sources[j]!.key);
    }
  }
  // Members written in sorted order, so the parameters are already canonical: kept as they are
  // (no memo), written by JSON.stringify.
  const collectParams = {
    axes: study.sweep.axes.map((a) => a.path),
    points: points.map((p, i) => {
      const m = meta[i]!;
      return {
        // Only trained points carry it: an untrained study's collect key stays what it was.
        ...(p.config.train !== null ? { checkpoint: p.config.train.checkpoint } : {}),
        classes: p.config.dataset.classes, hessians: p.config.hessians, id: p.id, inputDim: m.inputDim, outputs: m.outputs,
        params: m.params, samples: p.config.dataset.samples, values: p.values,
      };
    }),
  };
  const collect = new KindKeys({ salt: KEY_SALT, kind: 'collect', kindVersion: KIND_VERSIONS.collect, engine: ENGINE_VERSION })
    .keyOfSorted(collectParams, sortedRoles, sortedKeys, NO_FILES);
  steps.push(new CollectStep(collect.key, collect.params, points.map((p) => p.id), points[0].config, roles, sources, sortedRoles));

  const planPoints: PlanPoint[] = points.map((point, i) => {
    const d = pointDrafts[i]!;
    return {
      point, ...meta[i],
      steps: {
        dataset: d.dataset.id, network: d.network.id, 'input-rank': d['input-rank'].id, prediction: d.prediction.id,
        spectrum: d.spectrum.id, ranks: d.ranks.id, ...(d.train !== undefined ? { train: d.train.id } : {}),
      },
    };
  });
  return { study, points: planPoints, steps, byId: new Map(steps.map((s) => [s.id, s])), collect: 'collect' };
}

const CHAIN_LARGEST = new WeakMap<Plan, Map<string, number>>();

/**
 * A step as plain data, every field an own property (a planned step makes `parts` and `inputs`
 * when read, which JSON and structured clones would drop): what crosses to another process.
 */
export function plainStep(step: PlanStep): PlanStep {
  return {
    id: step.id, kind: step.kind, key: step.key, parts: step.parts, inputs: step.inputs, heavy: step.heavy,
    points: step.points, first: step.first, config: step.config, ...(step.chain !== undefined ? { chain: step.chain } : {}),
  };
}

/** The point a step is made from (the first it serves; the plan's first point for `collect`). */
export function firstPointOf(plan: Plan, step: PlanStep): PlanPoint {
  return plan.points[step.first] ?? plan.points[0]!;
}

/** The largest sample size of a prefix-sum chain (by its group), in constant time. */
export function chainLargest(plan: Plan, group: string): number | undefined {
  let largest = CHAIN_LARGEST.get(plan);
  if (!largest) {
    largest = new Map();
    for (const s of plan.steps) if (s.chain) largest.set(s.chain.group, Math.max(largest.get(s.chain.group) ?? 0, s.config.dataset.samples));
    CHAIN_LARGEST.set(plan, largest);
  }
  return largest.get(group);
}

/**
 * Chains of points that differ only in dataset.samples (and the rank tolerance, which the
 * spectra do not depend on). Returns, per point index, the chain group and the sample sizes
 * summed up to that point.
 */
function findChains(points: readonly Point[]): Map<number, ChainInfo> {
  // A chain needs two sample sizes: one size in the whole study (most sweeps) makes none.
  const first = points[0]?.config.dataset.samples;
  if (points.every((p) => p.config.dataset.samples === first)) return new Map();
  const groups = new Map<string, Point[]>();
  for (const p of points) {
    if (!chainable(p.config)) continue;
    const rest = canonicalJson({ ...p.config, batch_size: null, rank: { ...p.config.rank, rtol: null, atol: 0 }, dataset: { ...p.config.dataset, samples: 0 } } as unknown);
    const g = createHash('sha256').update(rest).digest('hex').slice(0, 16);
    const list = groups.get(g) ?? [];
    list.push(p);
    groups.set(g, list);
  }
  const out = new Map<number, ChainInfo>();
  for (const [group, list] of groups) {
    const sizes = [...new Set(list.map((p) => p.config.dataset.samples))].sort((a, b) => a - b);
    if (sizes.length < 2) continue;
    for (const p of list) out.set(p.index, { group, boundaries: sizes.filter((s) => s <= p.config.dataset.samples) });
  }
  return out;
}

/**
 * `kind[axis=value,...]` naming the axes that tell this kind's steps apart: an axis is named when
 * it has several values and each step serves points of one value of it. No such axis: `kind`.
 */
function assignIds(points: readonly Point[], axisPaths: readonly string[], byKind: ReadonlyMap<StepKind, readonly PlannedStep[]>): void {
  const byPointId = new Map(points.map((p, i) => [p.id, i]));
  const axisCount = axisPaths.length;
  // Each point's values as written, once (linear in the points, whatever the kinds and axes).
  const shown = Array.from({ length: axisCount }, (_, a) => points.map((p) => formatValue(p.values[a])));
  for (const [kind, drafts] of byKind) {
    if (drafts.length === 0) continue;
    const named: number[] = [];
    for (let a = 0; a < axisCount; a++) {
      // A train step is named by the step it trains to (below), not by the checkpoint axis.
      if (kind === 'train' && axisPaths[a] === 'train.checkpoint') continue;
      const values = shown[a]!;
      if (new Set(values).size < 2) continue;
      const constantInEach = drafts.every((d) => {
        const served = d.points;
        const v = values[d.first];
        for (let j = 1; j < served.length; j++) if (values[byPointId.get(served[j]!)!] !== v) return false;
        return true;
      });
      if (constantInEach) named.push(a);
    }
    const used = new Map<string, number>();
    // Every axis named: the step's axes are its first point's id (`axis=value,...` over every axis).
    const whole = kind !== 'train' && axisCount > 0 && named.length === axisCount;
    for (const d of drafts) {
      let id: string = kind;
      if (whole) {
        id = [kind, '[', points[d.first]!.id, ']'].join('');
      } else if (named.length > 0 || kind === 'train') {
        const axes = named.map((a) => `${axisPaths[a]}=${shown[a]![d.first]}`);
        if (kind === 'train') axes.push(`step=${(d.params as { to: number }).to}`);
        // Joined, not concatenated: a flat string, not a rope of three (400,000 ids are held).
        id = [kind, '[', axes.join(','), ']'].join('');
      }
      const n = (used.get(id) ?? 0) + 1;
      used.set(id, n);
      d.id = n > 1 ? [id, '#', n].join('') : id;
    }
  }
}
