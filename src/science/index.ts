/**
 * hrank's numerical core as a plain library: datasets, networks, losses, exact Hessians, ranks
 * and predictions, all float64. Knows nothing of YAML, caching or terminals.
 */
export * from './types.js';
export * from './datasets/index.js';
export { ACTIVATIONS, LEAKY_SLOPE } from './activations.js';
export { LOSSES, getLoss, type Loss } from './losses.js';
export { initNetwork, networkSpec, paramCount, layerLayout, lossAndGradient, forward } from './network.js';
export { HessianOperator, unitDirections, type Directions, type ProductRequest, type Products } from './hessian/operator.js';
export { denseHessians, symmetrize } from './hessian/dense.js';
export { outerGram } from './hessian/gram.js';
export { sketchRanks, DealtDirections, type SketchOptions } from './hessian/sketch.js';
export { PrefixChain, acceptSketch, firstSketchSize, type ChainSketch, type RankHints } from './hessian/chain.js';
export { numericalRank, EPS, AMBIGUITY, type RankResult } from './rank.js';
export { hessianRanks, inputCovarianceRank, usesDenseRoute, DENSE_MAX_PARAMS, type PointRanks, type RankOptions } from './ranks.js';
export { inlineBackend, computeSketchRows, operatorFor, denseEigenvaluesOf, outerGramEigenvaluesOf, type RanksBackend, type RankProblem, type SketchDirections, type SketchRows, type SketchWhich } from './hessian/backend.js';
export { predictRanks, type Prediction, type PredictionInput } from './predictions.js';
export { symmetricEigenvalues } from './linalg/eigen.js';
export { Rng } from './random.js';
export { HessianAccumulator, sliceSamples } from './hessian/accumulate.js';
