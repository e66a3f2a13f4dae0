/**
 * Datasets: one entry point, `loadDataset(spec)`, over four sources. File paths in specs are
 * used as given (absolute, or relative to the working directory): the caller resolves them.
 * Problems with files or options throw `DatasetError` (message names the file and the problem).
 */
import type { Dataset } from '../types.js';
import { DatasetError } from './errors.js';
import { loadMnist, type MnistOptions } from './mnist.js';
import { loadIdx, type IdxOptions } from './idx.js';
import { loadCifar10, type Cifar10Options } from './cifar10.js';
import { loadGaussianMixture, type GaussianMixtureOptions } from './gaussianMixture.js';

export { DatasetError, fileReadError, type DatasetErrorCode } from './errors.js';
export {
  prepareImages,
  nearestIndices,
  buildTargets,
  checkImageOptions,
  MAX_IMAGE_CLASSES,
  type DatasetOptions,
  type RawImages,
  type SourceInfo,
  type TwoClassTargets,
} from './prepare.js';
export { loadMnist, embeddedMnist, embeddedMnistClass, EMBEDDED_MNIST_NAME, type MnistOptions } from './mnist.js';
export { loadIdx, readIdx, inspectIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, type IdxOptions, type IdxHeader } from './idx.js';
export {
  loadCifar10,
  readCifar10,
  CIFAR10_RECORD,
  CIFAR10_SIDE,
  type Cifar10Options,
  type Cifar10Channel,
} from './cifar10.js';
export { loadGaussianMixture, type GaussianMixtureOptions } from './gaussianMixture.js';

export type MnistSpec = MnistOptions & { readonly source: 'mnist' };
export type IdxSpec = IdxOptions & { readonly source: 'idx' };
export type Cifar10Spec = Cifar10Options & { readonly source: 'cifar10' };
export type GaussianMixtureSpec = GaussianMixtureOptions & { readonly source: 'gaussian-mixture' };

/** What to load: a discriminated union on `source`. */
export type DatasetSpec = MnistSpec | IdxSpec | Cifar10Spec | GaussianMixtureSpec;

/** The names accepted in `source`. */
export const DATASET_SOURCES = ['mnist', 'idx', 'cifar10', 'gaussian-mixture'] as const satisfies readonly DatasetSpec['source'][];

/** Loads and prepares a dataset. Pure apart from reading the named files (and caching embedded MNIST). */
export function loadDataset(spec: DatasetSpec): Dataset {
  switch (spec.source) {
    case 'mnist':
      return loadMnist(spec);
    case 'idx':
      return loadIdx(spec);
    case 'cifar10':
      return loadCifar10(spec);
    case 'gaussian-mixture':
      return loadGaussianMixture(spec);
    default: {
      const source: unknown = (spec as { source?: unknown }).source;
      throw new DatasetError('bad-option', `dataset: unknown source ${JSON.stringify(source)}, expected one of ${DATASET_SOURCES.join(', ')}`);
    }
  }
}
