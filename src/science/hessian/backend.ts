/**
 * The heavy pieces of a spectrum computation, behind one interface so a caller can run them
 * elsewhere (the engine runs them in worker threads, several at once); `inlineBackend` runs them
 * here. Every piece is a pure function of plain data, so any backend gives the same numbers.
 */
import { symmetricEigenvalues } from '../linalg/eigen.js';
import { getLoss, type Loss } from '../losses.js';
import type { Dataset, HessianKind, LossName, Network } from '../types.js';
import { denseHessians, symmetrize } from './dense.js';
import { outerGram } from './gram.js';
import { HessianOperator } from './operator.js';
import { productOperator, type ProductOperator } from './tied.js';
import { SubspaceOperator } from './rotated.js';
import { subspaceRows, type SubspaceRows, type SubspaceWhich } from './structured.js';
import { linearHessianSubspace, subspaceIndex, type HessianSubspace, type SubspaceIndex } from './subspace.js';
import { probeOutside } from './probe.js';
import { ClosedFormSubspace, closedRows } from './closed.js';
import { lastLayerRows, type LastLayerRows } from './lastlayer.js';

/** Everything a backend needs to rebuild the operators: plain data, cheap to send to a worker. */
export interface RankProblem {
  readonly net: Network;
  readonly data: Dataset;
  readonly loss: LossName;
  readonly batchSize?: number;
}

export interface RanksBackend {
  /**
   * Rows [c0, c0 + kc) of the subspace route's packed triangles: in closed form, checked against
   * the products of sampled basis vectors (closed.ts), or, with `products`, from the products of
   * every basis vector (structured.ts).
   */
  subspaceRows(p: RankProblem, which: SubspaceWhich, c0: number, kc: number, route?: SubspaceRowsRoute): Promise<SubspaceRows>;
  /** Largest |H v| / |v| per kind over random v outside the subspace (zero in exact arithmetic). */
  subspaceProbe(p: RankProblem, which: SubspaceWhich): Promise<Partial<Record<HessianKind, number>>>;
  /** Eigenvalues (ascending) of a symmetric n x n matrix given as its packed lower triangle (row i at i(i+1)/2); it may be consumed. */
  eigenvalues(a: Float64Array, n: number): Promise<Float64Array>;
  /** Nonzero spectrum of H_O from its N*K x N*K Gram matrix. */
  outerGramEigenvalues(p: RankProblem): Promise<Float64Array>;
  /** Eigenvalues of one dense P x P Hessian (formed from P products, then symmetrised). */
  denseEigenvalues(p: RankProblem, kind: HessianKind): Promise<Float64Array>;
  /** T = Q^T H Q of the last-layer subspace route (lastlayer.ts), with its check. */
  lastLayerRows(p: RankProblem, which: SubspaceWhich): Promise<LastLayerRows>;
}

/** How a slice of T is formed: closed form (checked by sampled products) or every basis vector's product. */
export type SubspaceRowsRoute = 'closed' | 'products';

export function operatorFor(p: RankProblem): { op: ProductOperator; loss: Loss } {
  const loss = getLoss(p.loss);
  return { op: productOperator(p.net, p.data, loss, { batchSize: p.batchSize }), loss };
}

/** The subspace of a linear network's Hessians, its index and its operator (undefined for other networks). */
export interface SubspaceContext {
  readonly subspace: HessianSubspace;
  readonly index: SubspaceIndex;
  readonly op: SubspaceOperator;
  /** The closed form's small matrices, built on first use. */
  closed(): ClosedFormSubspace;
}

export function subspaceFor(p: RankProblem): SubspaceContext | undefined {
  const loss = getLoss(p.loss);
  const subspace = linearHessianSubspace(p.net, p.data, loss);
  if (!subspace) return undefined;
  const index = subspaceIndex(subspace);
  let closed: ClosedFormSubspace | undefined;
  return {
    subspace, index, op: new SubspaceOperator(p.net, p.data, loss, subspace, { batchSize: p.batchSize }),
    closed: () => (closed ??= new ClosedFormSubspace(p.net, p.data, loss, subspace, index)),
  };
}

export function subspaceRowsOf(ctx: SubspaceContext, which: SubspaceWhich, c0: number, kc: number, route: SubspaceRowsRoute = 'closed'): SubspaceRows {
  if (route === 'closed') return closedRows(ctx.closed(), ctx.op, which, c0, kc);
  return subspaceRows(ctx.op, ctx.subspace, ctx.index, which, c0, kc);
}

export function denseEigenvaluesOf(p: RankProblem, kind: HessianKind): Float64Array {
  const { op } = operatorFor(p);
  const m = denseHessians(op, [kind])[kind]!;
  symmetrize(m, op.params);
  return symmetricEigenvalues(m, op.params, { overwrite: true });
}

export function outerGramEigenvaluesOf(p: RankProblem): Float64Array {
  const { gram, size } = outerGram(p.net, p.data, getLoss(p.loss));
  return symmetricEigenvalues(gram, size, { overwrite: true });
}

/** The backend's pieces as plain-data tasks (structured-clone safe), for running them elsewhere. */
export type BackendTask =
  | { readonly kind: 'subspace-rows'; readonly problem: RankProblem; readonly which: SubspaceWhich; readonly c0: number; readonly kc: number; readonly route?: SubspaceRowsRoute }
  | { readonly kind: 'subspace-probe'; readonly problem: RankProblem; readonly which: SubspaceWhich }
  /** Eigenvalues of a symmetric matrix given as its packed lower triangle (consumed). */
  | { readonly kind: 'eigen'; readonly a: Float64Array; readonly n: number }
  | { readonly kind: 'outer-gram'; readonly problem: RankProblem }
  | { readonly kind: 'dense-eigen'; readonly problem: RankProblem; readonly hessian: HessianKind }
  | { readonly kind: 'last-layer-rows'; readonly problem: RankProblem; readonly which: SubspaceWhich };

export type BackendResult = SubspaceRows | Partial<Record<HessianKind, number>> | Float64Array | LastLayerRows;

/** Runs one task here. A subspace context is reused while the same problem object comes back. */
export function runBackendTask(task: BackendTask): BackendResult {
  switch (task.kind) {
    case 'subspace-rows': return subspaceRowsOf(contextOf(task.problem), task.which, task.c0, task.kc, task.route);
    case 'subspace-probe': return probeOutside(new HessianOperator(task.problem.net, task.problem.data, getLoss(task.problem.loss), { batchSize: task.problem.batchSize }), contextOf(task.problem).subspace, contextOf(task.problem).index, task.which);
    case 'eigen': return symmetricEigenvalues(task.a, task.n, { overwrite: true, packed: true });
    case 'outer-gram': return outerGramEigenvaluesOf(task.problem);
    case 'dense-eigen': return denseEigenvaluesOf(task.problem, task.hessian);
    case 'last-layer-rows': return lastLayerRows(task.problem.net, task.problem.data, getLoss(task.problem.loss), task.which, { batchSize: task.problem.batchSize });
  }
}

let lastContext: { p: RankProblem; ctx: SubspaceContext } | undefined;
function contextOf(p: RankProblem): SubspaceContext {
  if (!lastContext || lastContext.p !== p) {
    const ctx = subspaceFor(p);
    if (!ctx) throw new RangeError('subspace route: linear networks only');
    lastContext = { p, ctx };
  }
  return lastContext.ctx;
}

/**
 * A backend whose pieces are tasks handed to `run` (a worker pool, a thread): the one table of
 * pieces that the inline backend, the engine's pool and the cluster worker all use. `run` gets
 * the matrix an eigen task may consume, to move it rather than copy it.
 */
export function taskBackend(run: (task: BackendTask, consumed?: Float64Array) => Promise<BackendResult>): RanksBackend {
  return {
    subspaceRows: (problem, which, c0, kc, route) => run({ kind: 'subspace-rows', problem, which, c0, kc, ...(route ? { route } : {}) }) as Promise<SubspaceRows>,
    subspaceProbe: (problem, which) => run({ kind: 'subspace-probe', problem, which }) as Promise<Partial<Record<HessianKind, number>>>,
    eigenvalues: (a, n) => run({ kind: 'eigen', a, n }, a) as Promise<Float64Array>,
    outerGramEigenvalues: (problem) => run({ kind: 'outer-gram', problem }) as Promise<Float64Array>,
    denseEigenvalues: (problem, hessian) => run({ kind: 'dense-eigen', problem, hessian }) as Promise<Float64Array>,
    lastLayerRows: (problem, which) => run({ kind: 'last-layer-rows', problem, which }) as Promise<LastLayerRows>,
  };
}

/** Runs every piece here, on this thread. */
export function inlineBackend(): RanksBackend {
  return taskBackend(async (task) => runBackendTask(task));
}
