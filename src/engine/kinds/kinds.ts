/**
 * The step kinds of a study. Each kind is a pure function of its parameters and inputs, so its
 * cache key is the hash of (kind, kind version, canonical parameters, input keys, file hashes,
 * engine version); how a point's settings become a kind's parameters: settings.ts.
 */

export type StepKind = 'dataset' | 'network' | 'train' | 'input-rank' | 'prediction' | 'spectrum' | 'ranks' | 'collect';

/** Bump a kind's version when its computation changes in a way that changes its output. */
export const KIND_VERSIONS: Readonly<Record<StepKind, number>> = {
  dataset: 1,
  network: 1,
  train: 1,
  'input-rank': 1,
  prediction: 2,
  spectrum: 2,
  ranks: 3,
  collect: 5,
};

/** Steps that run in worker threads (CPU-heavy); the rest run on the main thread. */
export const HEAVY_KINDS: ReadonlySet<StepKind> = new Set(['spectrum']);

/**
 * Steps computed from their inputs in a millisecond (ranks read from a spectrum): caching them
 * would cost more than it saves (a cache entry is written, fsynced and locked), so they are
 * computed wherever their value is needed and never stored. They still have keys: a lock file's
 * point key is its ranks step's.
 */
export const DERIVED_KINDS: ReadonlySet<StepKind> = new Set(['ranks']);
