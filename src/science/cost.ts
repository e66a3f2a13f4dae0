/**
 * The work one spectrum computation does, from its shapes alone, in work units: about one
 * floating-point operation of the symmetric eigensolver (so an eigensolve of n costs 4/3 n^3
 * units, about 0.065 ns each on one core of the machine hrank is developed on). The other pieces
 * are weighted by what they cost there relative to it: the R-operator's products are GEMMs on
 * small matrices, tens of units per parameter, sample and direction. The rule follows the routes of ranks.ts and hessian/chain.ts, so it
 * lives beside them (as memory.ts does for bytes); the engine turns units into seconds with a
 * rate measured on the machine.
 *
 * - dense route (P <= 1,200, `rank.route: dense`, nonlinear activations): per Hessian, P
 *   products (each ~ N P) forming the P x P matrix, then one eigensolve of P;
 * - Gram route for H_O (N K x N K, when that is smaller): its build (per layer an N K x N K GEMM
 *   and a pass over the matrix) and one eigensolve of N K;
 * - subspace route (linear networks): T in closed form (hessian/closed.ts; an entry is a few
 *   reads), checked by the products of a few dozen sampled basis vectors (each ~ N P), then one
 *   eigensolve per Hessian of its own subspace's size;
 * - prefix-sum chains (sample-size sweeps): a member sums the products of the samples it adds
 *   (k P per sample on linear networks, P^2 per sample otherwise) and eigensolves its own sizes.
 *
 * Subspace sizes are the paper's ranks for generic weights (`predictRanks`) with the input rank
 * when it is known, else min(N, d): an upper bound, so unknown data errs on the slow side.
 */
import { predictRanks } from './predictions.js';
import { DENSE_MAX_PARAMS } from './ranks.js';
import { CLOSED_CHECK_SAMPLES } from './hessian/closed.js';
import { outerSubspaceBound } from './hessian/subspace.js';
import type { HessianKind, LossName } from './types.js';
import { convRoute, productParams, type StepShape } from './memory.js';

/**
 * Measured on this 2-core machine, one thread: the R-operator's cost per sample and direction, in
 * units per parameter, for one Hessian formed densely (H_L computes both parts; narrow layers and
 * small batches cost up to 1.5x more per parameter, wide ones down to 0.6x).
 */
const DENSE_PRODUCT: Readonly<Record<HessianKind, number>> = { loss: 30, outer: 16, functional: 16 };
/** The rotated operator's cost per sample, direction and parameter (H_F and H_O together). */
const SUBSPACE_PRODUCT = 38;
/** A closed-form entry of T (hessian/closed.ts), written into its packed triangle. */
const CLOSED_ENTRY = 300;
/** Basis vectors whose products check the closed form (one slice: ranks.ts forms T in one task). */
const CLOSED_CHECKED = CLOSED_CHECK_SAMPLES;
/** Writing a fresh P x P matrix: page faults and the symmetrising pass, per entry. */
const MATRIX_ENTRY = 200;
/** A Gram matrix: allocating it and its work arrays, per entry, and each layer's GEMM and Hadamard pass, per entry. */
const GRAM_ENTRY = 400;
const GRAM_LAYER_ENTRY = 150;
/**
 * An eigensolve: its fixed cost (the task, the packing) and its O(n^2) part; past a few thousand
 * rows its passes leave the cache and its flops slow down, towards half speed (n 3,400: 1.2x).
 */
const EIGEN_FIXED = 1e7;
const EIGEN_ENTRY = 200;
const EIGEN_CACHE = 15000;
/** A step's fixed cost: handing it to a worker thread, building its operators, storing its value. */
const STEP_OVERHEAD = 1.5e8;

/** The sizes a spectrum step's work depends on: its memory shape (memory.ts), and what sizes its subspaces. */
export interface WorkShape extends Omit<StepShape, 'jobs' | 'chain'> {
  readonly loss: LossName;
  /** rank(X^T X) when known (the input-rank step's value); else min(N, d) is assumed. */
  readonly inputRank?: number;
  /** A prefix-sum chain member: the samples it adds to the running sums (its size minus the previous boundary). */
  readonly chainAdded?: number;
  /** A chain member: the chain's largest size (its subspace, a superset of every member's, is the one summed). */
  readonly chainLargest?: number;
}

export interface SpectrumWork {
  /** Work units in all. */
  readonly work: number;
  /**
   * The part that runs on one thread whatever the worker count (a dense point is one task; a
   * subspace point's largest eigensolve; a chain's running sums are summed by one worker): no
   * number of workers finishes the step sooner than this.
   */
  readonly serial: number;
  /** How the figure was reached, e.g. `dense P 840` or `subspace k ~ 2450 of P 7280, gram 1000`. */
  readonly route: string;
}

/** Units of one symmetric eigensolve of size n (eigenvalues only). */
export function eigenWork(n: number): number {
  return n <= 0 ? 0 : EIGEN_FIXED + (4 / 3) * n ** 3 * (1 + n / (n + EIGEN_CACHE)) + EIGEN_ENTRY * n * n;
}

/** Units of forming one P x P Hessian from P products over N samples and eigensolving it. */
function denseHessianWork(P: number, N: number, kind: HessianKind): number {
  return DENSE_PRODUCT[kind] * N * P * P + MATRIX_ENTRY * P * P + eigenWork(P);
}

/** Units of H_O's N K x N K Gram matrix (built from per-layer blocks) and its eigensolve. */
function gramWork(s: WorkShape): number {
  const NK = s.samples * s.outputs;
  const layers = s.hidden.length + 1;
  const widths = [...s.hidden, s.outputs].reduce((a, b) => a + b, 0);
  return NK * NK * (GRAM_ENTRY + layers * GRAM_LAYER_ENTRY + 4 * widths) + eigenWork(NK);
}

/**
 * The subspace sizes of a linear network's Hessians for generic weights: H_L's and H_F's are
 * their predicted ranks (the subspace is built to match them); H_O's subspace is the sum of the
 * layers' O_l (x) X_l (see hessian/subspace.ts), larger than its rank.
 */
export function subspaceSizes(s: WorkShape, samples = s.samples): Record<HessianKind, number> {
  // A bias adds the all-ones column to a layer's inputs: one more dimension at most.
  const extra = s.bias === true ? 1 : 0;
  const r = Math.min(s.inputRank ?? Infinity, samples, s.inputDim) + (s.bias === false ? 0 : 1);
  const p = predictRanks({ inputRank: r, outputs: s.outputs, hidden: s.hidden, loss: s.loss, activation: 'linear', bias: false });
  const outer = outerSubspaceBound([s.inputDim, ...s.hidden, s.outputs], r, extra);
  const P = s.params;
  if (!p.applicable) return { loss: P, functional: P, outer: Math.min(P, outer) };
  return { loss: Math.min(P, p.loss ?? P), functional: Math.min(P, p.functional ?? P), outer: Math.min(P, outer) };
}

const KINDS: readonly HessianKind[] = ['loss', 'outer', 'functional'];

/** The kinds whose T the subspace route forms (H_O goes to its Gram matrix when that is smaller). */
function onSubspace(kinds: readonly HessianKind[], outerOnGram: boolean): HessianKind[] {
  return kinds.filter((x) => x !== 'outer' || !outerOnGram);
}

function wantedKinds(s: WorkShape): HessianKind[] {
  return KINDS.filter((k) => s.hessians.includes(k));
}

/** The work of one spectrum step, by the route ranks.ts (or chain.ts) takes for its shape. */
export function spectrumWork(s: WorkShape): SpectrumWork {
  const P = s.params, N = s.samples, NK = N * s.outputs;
  const kinds = wantedKinds(s);
  if (s.chainAdded !== undefined) return chainMemberWork(s, kinds);
  if (s.conv && s.conv.layers.length > 0) return convWork(s, kinds);
  if (s.dense || P <= DENSE_MAX_PARAMS) {
    const work = STEP_OVERHEAD + kinds.reduce((a, k) => a + denseHessianWork(P, N, k), 0);
    // The engine runs a dense point whole in one worker.
    return { work, serial: work, route: `dense P ${P}` };
  }
  if (!s.linear) {
    const onGram = kinds.includes('outer') && NK < P;
    const dense = kinds.filter((k) => k !== 'outer' || !onGram).map((k) => denseHessianWork(P, N, k));
    const gram = onGram ? gramWork(s) : 0;
    const work = STEP_OVERHEAD + gram + dense.reduce((a, b) => a + b, 0);
    return { work, serial: Math.max(gram, ...dense), route: `dense P ${P}${onGram ? `, gram ${NK}` : ''}` };
  }
  const k = subspaceSizes(s);
  const onGram = kinds.includes('outer') && NK < k.outer;
  const eigens = kinds.filter((x) => x !== 'outer' || !onGram).map((x) => eigenWork(k[x]));
  const gram = onGram ? gramWork(s) : 0;
  const entries = onSubspace(kinds, onGram).reduce((a, x) => a + (k[x] * k[x]) / 2, 0);
  const products = CLOSED_ENTRY * entries + SUBSPACE_PRODUCT * N * P * Math.min(k.loss, CLOSED_CHECKED);
  const work = STEP_OVERHEAD + products + gram + eigens.reduce((a, b) => a + b, 0);
  return { work, serial: Math.max(gram, ...eigens), route: `subspace k ~ ${k.loss} of P ${P}${onGram ? `, gram ${NK}` : ''}` };
}

/**
 * A network with convolutions: its products run on the Toeplitz expansion (P_d parameters); the
 * dense route forms P products per Hessian, the last-layer route |R| products for all of them,
 * then U, Y Y^T (u^2 N K) and one eigensolve per Hessian of its size bound k.
 */
function convWork(s: WorkShape, kinds: readonly HessianKind[]): SpectrumWork {
  const P = s.params, N = s.samples, Pd = productParams(s);
  const c = convRoute(s);
  if (!c.lastLayer) {
    const each = kinds.map((k) => DENSE_PRODUCT[k] * N * Pd * P + MATRIX_ENTRY * P * P + eigenWork(P));
    const work = STEP_OVERHEAD + each.reduce((a, b) => a + b, 0);
    return { work, serial: work, route: `dense P ${P}` };
  }
  const { k, R, lastWidth } = c, u = k - R, NK = N * s.outputs;
  const products = DENSE_PRODUCT.loss * N * Pd * R;
  const basis = 6 * R * s.outputs * Math.min(N, lastWidth) * lastWidth + 2 * u * s.outputs * N * lastWidth + 2 * u * u * NK;
  const blocks = kinds.length * (2 * u * R * s.outputs * lastWidth + MATRIX_ENTRY * k * k);
  const eigens = kinds.map(() => eigenWork(k));
  const work = STEP_OVERHEAD + products + basis + blocks + eigens.reduce((a, b) => a + b, 0);
  return { work, serial: products + basis + Math.max(...eigens), route: `last-layer subspace k <= ${k} of P ${P}` };
}

/**
 * A prefix-sum chain member: the products of the samples it adds to the chain's running sums,
 * then its own eigensolves. The sums run on one worker (in sample order), so they are serial.
 */
function chainMemberWork(s: WorkShape, kinds: readonly HessianKind[]): SpectrumWork {
  const P = s.params, N = s.samples, added = s.chainAdded ?? N;
  if (s.linear && !s.dense) {
    const k = subspaceSizes(s);
    const summed = subspaceSizes(s, Math.max(N, s.chainLargest ?? N)).loss;
    const sums = SUBSPACE_PRODUCT * added * P * summed;
    // On the chain's subspace H_O's coordinates are H_L's (its superset basis has no U / V split);
    // the projections read k^2 entries of the sums per Hessian.
    const size = (x: HessianKind): number => (x === 'outer' ? k.loss : k[x]);
    const eigens = kinds.map((x) => eigenWork(size(x)) + MATRIX_ENTRY * size(x) ** 2);
    const work = STEP_OVERHEAD + sums + eigens.reduce((a, b) => a + b, 0);
    return { work, serial: sums, route: `prefix sums on a subspace k ~ ${k.loss} of P ${P}` };
  }
  const sums = kinds.reduce((a, x) => a + DENSE_PRODUCT[x] * added * P * P, 0);
  const work = STEP_OVERHEAD + sums + kinds.length * (eigenWork(P) + MATRIX_ENTRY * P * P);
  return { work, serial: sums, route: `prefix sums, P ${P}` };
}
