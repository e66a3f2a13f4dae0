/**
 * The image a point's dataset gives a conv layer: channels x height x width, from the settings
 * alone (IDX at native size: from the file headers). One home for the engine's layer sizes and
 * the shape checks before a study runs.
 */
import { inspectIdx } from '../science/datasets/idx.js';
import type { ImageShape } from '../science/types.js';
import type { DatasetConfig } from './types.js';

/** Native side of the embedded MNIST digits and of CIFAR-10 images. */
export const NATIVE_SIDE = { mnist: 28, cifar10: 32 } as const;

/**
 * The image shape of a dataset; undefined for a source without images (gaussian-mixture).
 * Throws (a DatasetError) when IDX headers must be read and cannot be.
 */
export function imageShape(d: DatasetConfig): ImageShape | undefined {
  switch (d.source) {
    case 'mnist': {
      const side = d.resize ?? NATIVE_SIDE.mnist;
      return { channels: 1, height: side, width: side };
    }
    case 'cifar10': {
      const side = d.resize ?? NATIVE_SIDE.cifar10;
      return { channels: d.channels ?? 1, height: side, width: side };
    }
    case 'idx': {
      if (d.resize) return { channels: 1, height: d.resize, width: d.resize };
      const h = inspectIdx(d.images.path, d.labels.path);
      return { channels: 1, height: h.rows, width: h.cols };
    }
    case 'gaussian-mixture':
      return undefined;
  }
}
