/**
 * `hrank export`: a study's points as NumPy files, so anyone can check the numbers hrank prints
 * with `numpy.load` and `numpy.linalg`: per point its weights, its data, its dense Hessians (the
 * P x P matrices of the dense route, where they fit the memory limit) and the eigenvalues its
 * ranks were read from, with a manifest.json naming every file, its shape and what it holds.
 * Values come from the cache; what it lacks is computed (and cached) first.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { paramLayout } from '../science/network.js';
import { getLoss, type Dataset, type HessianKind, type Network, type PointRanks, type PointSpectra } from '../science/index.js';
import { denseHessians, symmetrize } from '../science/hessian/dense.js';
import { productOperator } from '../science/hessian/tied.js';
import { computeStep } from '../engine/kinds/compute-step.js';
import { inlineBackend } from '../science/index.js';
import type { Plan, PlanPoint, PlanStep } from '../engine/kinds/plan.js';
import { formatBytes, memoryLimit } from '../engine/kinds/memory.js';
import { loadPlan, openCache } from './study.js';
import type { EngineEvent } from '../engine/exec/events.js';
import { settingsOf } from '../lock/lockfile.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { HRANK_VERSION } from '../version.js';
import { npyBytes, type NpyArray } from './npy.js';
import { StudyRefused } from './errors.js';

export const EXPORT_PARTS = ['weights', 'data', 'hessians', 'spectra'] as const;
export type ExportPart = (typeof EXPORT_PARTS)[number];

export interface ExportOptions {
  /** Point ids (as in results.csv's rows and `hrank plan`); empty: every point. */
  readonly points?: readonly string[];
  /** What to write; default every part (Hessians only where they fit, unless asked for). */
  readonly what?: readonly ExportPart[];
  /** Folder that receives `<point id>/` folders (default `export/<study name>`). */
  readonly out?: string;
  readonly cache?: string;
  readonly noCache?: boolean;
  /** Memory a dense Hessian may take (default: the run's limit). */
  readonly maxMemory?: number;
  readonly onEvent?: (e: EngineEvent) => void;
}

export interface ExportedFile {
  readonly file: string;
  readonly what: ExportPart;
  readonly hessian?: HessianKind;
  readonly shape: readonly number[];
  readonly dtype: 'float64' | 'int32';
  readonly description: string;
}

export interface ExportedPoint {
  readonly id: string;
  readonly dir: string;
  readonly files: readonly ExportedFile[];
  /** Parts left out, and why (Hessians too large when not asked for explicitly). */
  readonly skipped: readonly string[];
}

export interface ExportResult {
  readonly study: string;
  readonly dir: string;
  readonly points: readonly ExportedPoint[];
}

/** Bad input to export (an unknown point, Hessians that cannot fit, a folder that is not ours): exit 2. */
export class ExportRefused extends StudyRefused {
  override readonly name = 'ExportRefused';
}

const MANIFEST = 'manifest.json';
const FORMAT = 'hrank-export';
const KINDS: readonly HessianKind[] = ['loss', 'outer', 'functional'];

export async function exportStudy(file: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const plan = await loadPlan(file);
  const byId = new Map(plan.points.map((p) => [p.point.id, p]));
  const wanted = opts.points && opts.points.length > 0 ? opts.points : plan.points.map((p) => p.point.id);
  for (const id of wanted) {
    if (!byId.has(id)) {
      const list = plan.points.map((p) => p.point.id);
      throw new ExportRefused(`export: ${plan.study.name} has no point '${id}'; its points: ${list.slice(0, 12).join(', ')}${list.length > 12 ? `, ... (${list.length})` : ''}`);
    }
  }
  const explicit = opts.what !== undefined;
  const what = new Set<ExportPart>(opts.what ?? EXPORT_PARTS);
  const out = path.resolve(opts.out ?? path.join('export', plan.study.name));
  const limit = memoryLimit(opts.maxMemory);

  // Refuse before writing anything: Hessians asked for that cannot fit, folders that are not ours.
  for (const id of wanted) {
    const pp = byId.get(id)!;
    const bytes = hessianBytes(pp.params);
    if (what.has('hessians') && explicit && bytes > limit.bytes) {
      throw new ExportRefused(
        `export: the dense Hessians of ${id} (P ${pp.params}) need ${formatBytes(bytes)} each, over the memory limit of ${formatBytes(limit.bytes)} (${limit.source}); `
        + `leave them out (--what weights,data,spectra), pick smaller points (--point), or raise the limit (--max-memory)`,
      );
    }
    assertOurs(pointDir(out, id));
  }

  const cache = opts.noCache ? null : openCache(opts.cache ?? 'cache', opts.onEvent);
  const values = new Map<string, unknown>();
  const valueOf = async (step: PlanStep): Promise<unknown> => {
    if (values.has(step.id)) return values.get(step.id);
    let v = step.kind === 'ranks' ? undefined : await cache?.get(step.key);
    if (v === undefined) {
      const inputs = new Map<string, unknown>();
      for (const [role, id] of Object.entries(step.inputs)) inputs.set(role, await valueOf(plan.byId.get(id)!));
      v = await computeStep(step, inputs, { backend: inlineBackend(), parallel: 1 });
      if (cache && step.kind !== 'ranks') await cache.put(step.key, v, { kind: step.kind, id: step.id });
    }
    values.set(step.id, v);
    return v;
  };

  const points: ExportedPoint[] = [];
  for (const id of wanted) {
    const pp = byId.get(id)!;
    points.push(await exportPoint(plan, pp, pointDir(out, id), what, explicit, limit.bytes, valueOf));
  }
  return { study: plan.study.name, dir: out, points };
}

async function exportPoint(
  plan: Plan, pp: PlanPoint, dir: string, what: ReadonlySet<ExportPart>, explicit: boolean, limitBytes: number,
  valueOf: (step: PlanStep) => Promise<unknown>,
): Promise<ExportedPoint> {
  const step = (kind: keyof PlanPoint['steps']): PlanStep => plan.byId.get(pp.steps[kind]!)!;
  const cfg = step('spectrum').config;
  const data = await valueOf(step('dataset')) as Dataset;
  // A trained point's weights are its checkpoint's (whose Hessians were computed).
  const net = await valueOf(step(pp.steps.train !== undefined ? 'train' : 'network')) as Network;
  const spectra = await valueOf(step('spectrum')) as PointSpectra;
  const ranks = await valueOf(step('ranks')) as PointRanks;
  const files: ExportedFile[] = [];
  const skipped: string[] = [];
  const write = async (name: string, arr: NpyArray, shape: number[], entry: Omit<ExportedFile, 'file' | 'shape' | 'dtype'>): Promise<void> => {
    await writeFileAtomic(path.join(dir, name), npyBytes(arr, shape));
    files.push({ file: name, shape, dtype: arr instanceof Float64Array ? 'float64' : 'int32', ...entry });
  };

  if (what.has('weights')) {
    const conv = net.conv?.layers ?? [];
    await write('theta.npy', net.theta, [net.theta.length], {
      what: 'weights',
      description: conv.length > 0
        ? 'all parameters, in hrank\'s order: per layer its kernel (conv: C_out x C_in x k x k) or W_l, row-major, then its bias'
        : 'all parameters, in hrank\'s order: per layer W_l row-major, then b_l',
    });
    for (const [i, l] of paramLayout(net).entries()) {
      if (l.kind === 'conv') {
        const c = conv[i]!;
        await write(`K${i + 1}.npy`, net.theta.slice(l.w, l.w + l.count), [...l.shape], {
          what: 'weights',
          description: `layer ${i + 1} conv kernel (C_out x C_in x k x k, PyTorch's Conv2d layout; stride ${c.stride}, padding ${c.padding} on a ${c.input.channels} x ${c.input.height} x ${c.input.width} input, NCHW flattened)`,
        });
        if (l.b >= 0) await write(`b${i + 1}.npy`, net.theta.slice(l.b, l.b + l.biasCount), [l.biasCount], { what: 'weights', description: `layer ${i + 1} conv bias (one per output channel)` });
        continue;
      }
      const [rows, cols] = l.shape as [number, number];
      await write(`W${i + 1}.npy`, net.theta.slice(l.w, l.w + rows * cols), [rows, cols], { what: 'weights', description: `layer ${i + 1} weights (outputs x inputs): f uses W${i + 1} @ a` });
      if (l.b >= 0) await write(`b${i + 1}.npy`, net.theta.slice(l.b, l.b + rows), [rows], { what: 'weights', description: `layer ${i + 1} bias` });
    }
  }
  if (what.has('data')) {
    await write('x.npy', data.x, [data.n, data.d], { what: 'data', description: 'inputs, one sample per row (prepared: bytes / 255, resized, flattened)' });
    await write('y.npy', data.y, [data.n, data.k], { what: 'data', description: 'targets, one sample per row' });
    await write('labels.npy', Int32Array.from(data.labels), [data.n], { what: 'data', description: 'class labels' });
  }
  if (what.has('hessians')) {
    if (hessianBytes(pp.params) > limitBytes && !explicit) {
      skipped.push(`hessians: P ${pp.params} needs ${formatBytes(hessianBytes(pp.params))} per matrix, over the memory limit`);
    } else {
      const op = productOperator(net, data, getLoss(cfg.loss), { batchSize: cfg.batch_size ?? undefined });
      for (const kind of cfg.hessians) {
        // The dense route's matrix: P products with unit vectors, symmetrised.
        const m = denseHessians(op, [kind])[kind]!;
        symmetrize(m, op.params);
        await write(`H_${kind}.npy`, m, [op.params, op.params], { what: 'hessians', hessian: kind, description: `${kind} Hessian, P x P, as the dense route forms it (symmetrised)` });
      }
    }
  }
  if (what.has('spectra')) {
    for (const kind of KINDS) {
      const s = spectra[kind];
      if (!s) continue;
      await write(`eigenvalues_${kind}.npy`, s.eigenvalues, [s.eigenvalues.length], {
        what: 'spectra', hessian: kind,
        description: `the eigenvalues the ${kind} rank was read from (${s.method}), ascending; ${s.eigenvalues.length < s.size ? `the other ${s.size - s.eigenvalues.length} are exactly zero by construction` : 'all of them'}`,
      });
    }
  }
  const manifest = {
    format: FORMAT,
    version: 1,
    hrank: HRANK_VERSION,
    study: plan.study.name,
    pipeline: path.basename(plan.study.file),
    point: pp.point.id,
    settings: settingsOf(pp.point.config),
    params: pp.params,
    ranks: Object.fromEntries(KINDS.filter((k) => ranks[k]).map((k) => {
      const r = ranks[k]!;
      return [k, { rank: r.rank, positive: r.positive, negative: r.negative, tolerance: r.tolerance, s_max: r.smax, rtol: r.rtol, atol: r.atol, method: r.method, gap: r.gap, ambiguous: r.ambiguous }];
    })),
    check: 'numpy.linalg.matrix_rank(numpy.load("H_loss.npy"), tol=ranks.loss.tolerance, hermitian=True) == ranks.loss.rank; with the default rtol, matrix_rank(H, hermitian=True) uses the same tolerance',
    files,
    ...(skipped.length > 0 ? { skipped } : {}),
  };
  await writeFileAtomic(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return { id: pp.point.id, dir, files, skipped };
}

/** Bytes of one dense P x P Hessian while it is formed and written (the matrix and its file image). */
function hessianBytes(P: number): number {
  return 2 * 8 * P * P;
}

/** A point's folder: its id, with path separators replaced. */
function pointDir(out: string, id: string): string {
  return path.join(out, id.replace(/[/\\]/g, '_'));
}

/** hrank never overwrites files it did not write: a folder with files but no export manifest of ours is refused. */
function assertOurs(dir: string): void {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir);
  if (entries.length === 0) return;
  const manifest = path.join(dir, MANIFEST);
  let ours = false;
  try {
    ours = (JSON.parse(readFileSync(manifest, 'utf8')) as { format?: unknown }).format === FORMAT;
  } catch {
    ours = false;
  }
  if (!ours) throw new ExportRefused(`export: ${dir} holds files hrank did not write (no ${MANIFEST} of an hrank export); choose another folder with --out`);
}

