/** Shared helpers of the pipeline tests: YAML from numbered lines, and problem lookups. */
import assert from 'node:assert/strict';
import { parsePipeline } from '../../src/pipeline/load.js';
import type { Point, Problem, Study } from '../../src/pipeline/types.js';

/** The file name given to the parser in tests (its folder resolves relative dataset paths). */
export const FILE = '/work/studies/study.yaml';

/** A YAML text from its lines: line n of the file is argument n. */
export function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/** The first lines of a valid file (lines 1 to 8), to which tests append. */
export const HEAD = [
  'version: 1', // 1
  'name: study', // 2
  'dataset:', // 3
  '  source: mnist', // 4
  '  samples: 20', // 5
  'model:', // 6
  '  width: 4', // 7
  '  depth: 2', // 8
] as const;

export function problemsOf(text: string, file = FILE): readonly Problem[] {
  const result = parsePipeline(text, file);
  if (result.ok) assert.fail(`expected problems, got a valid study with points ${result.points.map((p) => p.id).join(' ')}`);
  return result.problems;
}

export function studyOf(text: string, file = FILE): { study: Study; points: readonly Point[] } {
  const result = parsePipeline(text, file);
  if (!result.ok) assert.fail(`expected a valid study, got:\n${result.error.message}`);
  return { study: result.study, points: result.points };
}

/** The one problem of the text (fails when there are more or fewer). */
export function onlyProblem(text: string): Problem {
  const problems = problemsOf(text);
  assert.equal(problems.length, 1, `expected one problem, got:\n${problems.map((p) => `${p.line}:${p.column} ${p.code} ${p.path}: ${p.message}`).join('\n')}`);
  return problems[0] as Problem;
}

/** Asserts the position, code and path of a problem. */
export function assertAt(p: Problem, line: number, column: number, code: Problem['code'], path: string): void {
  assert.deepEqual({ line: p.line, column: p.column, code: p.code, path: p.path }, { line, column, code, path }, `${p.message}`);
}
