/**
 * hrank's numerical core as a plain library: datasets, networks, losses, exact Hessians, ranks
 * and predictions, all float64. Knows nothing of YAML, caching or terminals.
 */
export * from './types.js';
export * from './datasets/index.js';
export { ACTIVATIONS, LEAKY_SLOPE } from './activations.js';
export { LOSSES, getLoss, type Loss } from './losses.js';
export { initNetwork, networkSpec, convNetworkSpec, hasConv, paramCount, paramLayout, layerLayout, layerHasBias, lossAndGradient, forward, denseNetwork, toeplitzExpansion, type ParamLayout, type ToeplitzExpansion } from './network.js';
export { HessianOperator, unitDirections, type Directions, type ProductRequest, type Products } from './hessian/operator.js';
export { TiedOperator, productOperator, type ProductOperator } from './hessian/tied.js';
export { convStack, ConvShapeError, describeShape, forEachToeplitzEntry, kernelSize, shapeSize } from './conv.js';
export { denseHessians, symmetrize } from './hessian/dense.js';
export { outerGram } from './hessian/gram.js';
export { PrefixChain, acceptProjection, chainSpectra, sumChain, type ChainJob, type ChainProjection } from './hessian/chain.js';
export { linearHessianSubspace, prefixSets, subspaceIndex, type HessianSubspace, type SubspaceBlock, type SubspaceIndex } from './hessian/subspace.js';
export { SubspaceOperator } from './hessian/rotated.js';
export { subspaceRows, type SubspaceRows, type SubspaceWhich } from './hessian/structured.js';
export { numericalRank, EPS, AMBIGUITY, MIN_RTOL, type RankResult, type RankControls } from './rank.js';
export { SUBSPACE_CHECK, subspaceSpectrum, type Spectrum } from './spectrum.js';
export { hessianRanks, hessianSpectra, rankSpectra, rankSpectrum, inputCovarianceRank, augmentedInputCovarianceRank, usesDenseRoute, DENSE_MAX_PARAMS, type PointRanks, type PointSpectra, type SpectrumOptions, type Route } from './ranks.js';
export { inlineBackend, taskBackend, runBackendTask, operatorFor, subspaceFor, denseEigenvaluesOf, outerGramEigenvaluesOf, type RanksBackend, type RankProblem, type BackendTask, type BackendResult, type SubspaceContext } from './hessian/backend.js';
export { predictRanks, formulaTerms, effectiveOutputs, ALL_BIAS_REASON, type Prediction, type PredictionInput, type PredictionKind, type FormulaTerms } from './predictions.js';
export { symmetricEigenvalues } from './linalg/eigen.js';
export { Rng } from './random.js';
export { HessianAccumulator, sliceSamples } from './hessian/accumulate.js';
export { ADAM, OPTIMIZERS, TrainingDiverged, checkTrainSettings, functionalBelowLossTolerance, checkpointMetrics, initialState, meanLossAndGradient, minibatch, train, type CheckpointMetrics, type Optimizer, type TrainSettings, type TrainState } from './train.js';
