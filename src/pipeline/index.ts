/** The pipeline layer: reading, checking and expanding pipeline files. */
export { loadPipeline, loadStudy, parsePipeline, type LoadResult } from './load.js';
export { PipelineError, formatProblem, sortProblems } from './errors.js';
export { expandSweep, formatValue, pointId, combinations, countPoints } from './expand.js';
export { normalizeConfig, fileRef } from './normalize.js';
export { expandRange, SWEEPABLE_PATHS } from './sweep.js';
export { pipelineSchema } from './schema.js';
export * from './types.js';
