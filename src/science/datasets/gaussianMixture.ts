/**
 * A synthetic, seeded Gaussian mixture: one isotropic Gaussian cluster per class.
 *
 * - Centres: for c = 0..K-1, for j = 0..dim-1: mu_c[j] = separation * z, z standard normal from
 *   `new Rng(seed, 'gmm/centres')`, drawn in that order (centre 0 first).
 * - Samples: sample i has class i mod K; for j = 0..dim-1: x_i[j] = mu_c[j] + spread * z, z from
 *   `new Rng(seed, 'gmm/samples')`, drawn in sample order.
 * - Targets as for images: one-hot, or with 2 classes (default) one output with -1 / +1.
 *
 * The same options give the same data on every machine; the first N samples do not depend on
 * how many are asked for beyond N, and the centres do not depend on N at all.
 */
import type { Dataset } from '../types.js';
import { Rng } from '../random.js';
import { DatasetError } from './errors.js';
import { buildTargets, checkClasses, checkSamples, checkTwoClassTargets, describeTargets, type TwoClassTargets } from './prepare.js';

const NAME = 'gaussian-mixture';

/** Options of the Gaussian mixture. */
export interface GaussianMixtureOptions {
  /** Number of samples N, integer >= 1. */
  readonly samples: number;
  /** Input dimension d, integer >= 1. */
  readonly dim: number;
  /** Number of classes (clusters) K, integer >= 2. */
  readonly classes: number;
  /** Seed (safe integer) of both random streams. */
  readonly seed: number;
  /** Standard deviation of each cluster around its centre; default 1. Finite, >= 0. */
  readonly spread?: number;
  /** Scale of the centres (standard normal vectors times this); default 1. Finite, >= 0. */
  readonly separation?: number;
  /** Target coding when classes == 2; default 'pm1'. */
  readonly twoClassTargets?: TwoClassTargets;
}

function checkNonNegative(value: unknown, option: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new DatasetError('bad-option', `${NAME}: ${option} must be a finite number >= 0, got ${String(value)} (${typeof value})`);
  }
}

/** Generates the mixture (see the module comment). */
export function loadGaussianMixture(options: GaussianMixtureOptions): Dataset {
  const { samples, dim, classes, seed, spread = 1, separation = 1, twoClassTargets = 'pm1' } = options;
  checkSamples(samples, NAME);
  if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 1) {
    throw new DatasetError('bad-option', `${NAME}: dim must be an integer >= 1, got ${String(dim)} (${typeof dim})`);
  }
  checkClasses(classes, NAME, Number.POSITIVE_INFINITY);
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new DatasetError('bad-option', `${NAME}: seed must be an integer, got ${String(seed)} (${typeof seed})`);
  }
  checkNonNegative(spread, 'spread');
  checkNonNegative(separation, 'separation');
  checkTwoClassTargets(twoClassTargets, NAME);

  const centres = new Float64Array(classes * dim);
  const rc = new Rng(seed, 'gmm/centres');
  for (let i = 0; i < centres.length; i++) centres[i] = separation * rc.normal();

  const x = new Float64Array(samples * dim);
  const labels = new Int32Array(samples);
  const rs = new Rng(seed, 'gmm/samples');
  for (let i = 0; i < samples; i++) {
    const c = i % classes;
    labels[i] = c;
    for (let j = 0; j < dim; j++) x[i * dim + j] = centres[c * dim + j]! + spread * rs.normal();
  }
  const { y, k } = buildTargets(labels, classes, twoClassTargets);
  const description =
    `${NAME}, ${samples} samples, dim ${dim}, ${classes} classes, seed ${seed}, ` +
    `spread ${spread}, separation ${separation}, ${describeTargets(classes, twoClassTargets)}`;
  return { x, y, labels, n: samples, d: dim, k, classes, description };
}
