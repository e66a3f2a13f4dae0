/**
 * `hrank explain`: the derivation of each point's predictions (report/derivation.ts) with the
 * point's own numbers. r (and, with a first-layer bias, the augmented rank) is computed from the
 * dataset, which is cheap (a d x d eigenproblem); what was measured comes from the study's
 * results folder (results.json and details.json, matched by point id). A study not yet run gets
 * its derivation and no measurements.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Cell, PointDetail } from '../engine/kinds/collect.js';
import { datasetParams, layerSizes, networkSpecOf, outputCount, paramCountOf, predictionReadsData } from '../engine/kinds/settings.js';
import { computeDataset } from '../engine/kinds/values.js';
import { canonicalJson } from '../engine/store/canonical.js';
import { expandSweep, loadStudy } from '../pipeline/index.js';
import { derivePoint, type Derivation, type InputRankDerivation } from '../report/derivation.js';
import { resultsDir } from '../report/results.js';
import { augmentedInputCovarianceRank, inputCovarianceRank, type Dataset, type RankResult } from '../science/index.js';
import { convDataRanks } from '../science/conv-predictions.js';
import { StudyRefused } from './errors.js';

export interface StudyExplanation {
  readonly study: string;
  readonly file: string;
  /** The results folder the measurements were read from; null when there is none. */
  readonly results: string | null;
  /** The results folder holds results of another version of the pipeline file: not used. */
  readonly stale?: string;
  readonly points: readonly Derivation[];
}

function rankDerivation(r: RankResult, how: string): InputRankDerivation {
  return { rank: r.rank, how, tolerance: r.tolerance, s_max: r.smax, gap: r.gap, ambiguous: r.ambiguous };
}

async function readJson(file: string): Promise<unknown | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StudyRefused(`explain: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, 'rerun the study: `hrank run <file>`');
  }
}

export async function explainStudy(file: string, opts: { readonly results?: string; readonly points?: readonly string[] } = {}): Promise<StudyExplanation> {
  const study = await loadStudy(file);
  const all = expandSweep(study);
  const wanted = opts.points ?? [];
  for (const id of wanted) {
    if (!all.some((p) => p.id === id)) {
      const list = all.map((p) => p.id);
      throw new StudyRefused(`explain: ${study.name} has no point '${id}'; its points: ${list.slice(0, 12).join(', ')}${list.length > 12 ? `, ... (${list.length})` : ''}`);
    }
  }
  const points = wanted.length > 0 ? all.filter((p) => wanted.includes(p.id)) : all;

  const dir = resultsDir(opts.results ?? 'results', study);
  const rows = await readJson(path.join(dir, 'results.json')) as Record<string, Cell>[] | null;
  const details = await readJson(path.join(dir, 'details.json')) as PointDetail[] | null;
  const provenance = await readJson(path.join(dir, 'provenance.json')) as { pipeline?: { sha256?: string } } | null;
  const byId = new Map<string, { row: Record<string, Cell>; detail: PointDetail }>();
  // Measurements of another version of the file would sit beside this version's derivation: refused.
  const sha = createHash('sha256').update(study.text).digest('hex');
  const stale = rows && provenance?.pipeline?.sha256 !== undefined && provenance.pipeline.sha256 !== sha
    ? `${path.resolve(dir)} holds the results of another version of ${file}: rerun it (\`hrank run ${file}\`) to see measurements`
    : undefined;
  if (!stale && rows && details && rows.length === details.length) details.forEach((d, i) => byId.set(d.id, { row: rows[i]!, detail: d }));

  // One dataset load per distinct dataset (a width sweep has one).
  const ranks = new Map<string, { plain: RankResult; augmented: RankResult | null }>();
  const datasets = new Map<string, Dataset>();
  const dataOf = (key: string, cfg: Parameters<typeof computeDataset>[0]): Dataset => {
    let d = datasets.get(key);
    if (!d) { d = computeDataset(cfg); datasets.set(key, d); }
    return d;
  };
  const out: Derivation[] = [];
  for (const p of points) {
    const cfg = p.config;
    const key = canonicalJson(datasetParams(cfg) as unknown);
    let r = ranks.get(key);
    const augmentedWanted = cfg.model.bias !== false;
    if (!r || (augmentedWanted && r.augmented === null)) {
      const data = dataOf(key, cfg);
      r = { plain: r?.plain ?? inputCovarianceRank(data), augmented: augmentedWanted ? augmentedInputCovarianceRank(data) : r?.augmented ?? null };
      ranks.set(key, r);
    }
    const sizes = layerSizes(cfg);
    // A conv network the conv formulas cover: its layer's data ranks (cheap; per point, since they
    // depend on the channels and the loss).
    const convStack = cfg.model.conv !== undefined ? networkSpecOf(cfg).conv : undefined;
    const convRanks = convStack && predictionReadsData(cfg) ? convDataRanks(dataOf(key, cfg), convStack, cfg.loss) : undefined;
    out.push(derivePoint({
      id: p.id, config: cfg, inputDim: sizes[0]!, outputs: outputCount(cfg), params: paramCountOf(cfg),
      inputRank: rankDerivation(r.plain, `eigenvalues of the ${sizes[0]} x ${sizes[0]} uncentred covariance X^T X of the ${cfg.dataset.samples} samples, counted above s_max * d * eps (numpy.linalg.matrix_rank's rule)`),
      ...(augmentedWanted ? { augmentedInputRank: rankDerivation(r.augmented!, `eigenvalues of the ${sizes[0]! + 1} x ${sizes[0]! + 1} covariance of the augmented inputs [x; 1], same rule`) } : {}),
      ...(convStack ? { convStack } : {}), ...(convRanks ? { convRanks } : {}),
      result: byId.get(p.id) ?? null,
    }));
  }
  return { study: study.name, file, results: byId.size > 0 ? path.resolve(dir) : null, ...(stale ? { stale } : {}), points: out };
}
