/**
 * Reading a pipeline file: YAML -> schema -> sweep checks -> a normalised `Study` and its points.
 *
 * Every problem of the file is collected and returned at once, each with its line and column.
 * Nothing here prints or exits: the CLI formats `PipelineError.problems` with `formatProblem`.
 */
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Document, LineCounter, isAlias, isMap, isSeq, parseDocument, type Node } from 'yaml';
import { PipelineError, sortProblems } from './errors.js';
import { MAX_ALIAS_COUNT, MAX_PIPELINE_BYTES, aliasBombProblem, aliasCycleProblems, controlCharacterProblem, decodePipelineBytes, nestingProblem, tooLargeProblem } from './guards.js';
import { expandSweep } from './expand.js';
import { limitIssues } from './limits.js';
import { normalizeConfig } from './normalize.js';
import { formatPath, getPath, isRecord, withPath, without } from './paths.js';
import { SourceMap, keyText } from './positions.js';
import { schemaIssues, type Issue } from './schema.js';
import { checkSweep, suppliedPaths } from './sweep.js';
import { DEFAULTS } from './types.js';
import type { PathSegment, PipelineDocument, PlotSpec, Point, Problem, Study } from './types.js';
import { pointIssues } from './semantics.js';
import { INDENT_CODES, explainIndentation } from './indentation.js';

export type LoadResult =
  | {
      readonly ok: true; readonly study: Study; readonly points: readonly Point[];
      /** Valid but likely not what was meant (a range that stops short of its `to`); print them, then go on. */
      readonly warnings: readonly Problem[];
    }
  | { readonly ok: false; readonly problems: readonly Problem[]; readonly error: PipelineError };

/** Reads and checks a pipeline file. Never throws for problems of the file (see `LoadResult`). */
export async function loadPipeline(path: string): Promise<LoadResult> {
  let bytes: Buffer;
  try {
    const read = await readCapped(path);
    if (read.tooLarge !== undefined) return fail([tooLargeProblem(read.tooLarge, path, read.exact)]);
    bytes = read.bytes;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder, not a file' : code === 'EACCES' ? 'permission denied' : String((err as Error).message);
    return fail([{ code: 'unreadable-file', file: path, path: '', line: 0, column: 0, message: `cannot read the pipeline file: ${why}` }]);
  }
  const decoded = decodePipelineBytes(bytes, path);
  if (!decoded.ok) return fail([decoded.problem]);
  return parsePipeline(decoded.text, path);
}

/**
 * The bytes of a file, reading at most MAX_PIPELINE_BYTES + 1 (so a huge file, a device such as
 * /dev/zero or an endless pipe cannot exhaust memory or hang the loader).
 */
async function readCapped(path: string): Promise<{ bytes: Buffer; tooLarge?: undefined } | { tooLarge: number; exact: boolean }> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.isFile() && st.size > MAX_PIPELINE_BYTES) return { tooLarge: st.size, exact: true };
    const buf = Buffer.alloc(MAX_PIPELINE_BYTES + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, total, buf.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_PIPELINE_BYTES) return { tooLarge: total, exact: false };
    }
    return { bytes: buf.subarray(0, total) };
  } finally {
    await fh.close();
  }
}

/** Like `loadPipeline`, but returns the study and throws a `PipelineError` listing every problem. */
export async function loadStudy(path: string): Promise<Study> {
  const result = await loadPipeline(path);
  if (!result.ok) throw result.error;
  return result.study;
}

/**
 * Checks a pipeline file's text. `file` names it in problems and locates relative dataset paths
 * (resolved against its folder).
 */
export function parsePipeline(text: string, file: string): LoadResult {
  // 0. Guards that must hold before the (recursive) YAML composer and our own walks run: size,
  // control characters, nesting depth (measured on yaml's iteratively built syntax tree).
  if (text.length > MAX_PIPELINE_BYTES) return fail([tooLargeProblem(Buffer.byteLength(text), file)]);
  {
    const lines = new LineCounter();
    const early = new SourceMap(new Document(), lines, text);
    const nesting = nestingProblem(text, file, early, lines);
    const control = controlCharacterProblem(text, file);
    if (nesting || control) return fail([nesting, control].filter((p): p is Problem => p !== undefined));
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const map = new SourceMap(doc, lineCounter, text);
  const problems: Problem[] = [];
  const at = (issue: Issue): Problem => toProblem(issue, map, file);

  // 1. YAML. Duplicate keys are found by our own walk, which names the key and its first place.
  // An indentation slip is named at the key that is out of place, once (yaml reports its effects,
  // often on another line, two or three times).
  const slipAt = doc.errors.find((e) => INDENT_CODES.has(e.code));
  const slip = slipAt ? explainIndentation(text, map.at(slipAt.pos[0]).line) : undefined;
  if (slip) {
    problems.push({
      code: 'yaml-syntax', file, path: '', line: slip.line, column: slip.column, message: `${slip.message} (YAML indentation)`,
      hint: slip.hint, excerpt: { text: slip.text, width: slip.width },
    });
  }
  for (const e of [...doc.errors, ...doc.warnings]) {
    if (e.code === 'DUPLICATE_KEY') continue;
    if (slip && INDENT_CODES.has(e.code)) continue;
    const loc = map.at(e.pos[0], e.pos[1]);
    problems.push({
      code: 'yaml-syntax',
      file,
      path: '',
      line: loc.line,
      column: loc.column,
      message: e.code === 'MULTIPLE_DOCS' ? 'a pipeline file holds a single YAML document; remove this --- line and what follows, or split the file' : `${cleanYamlMessage(e.message)} (YAML)`,
      excerpt: { text: loc.text, width: loc.width },
    });
  }
  const syntaxBroken = problems.length > 0;
  problems.push(...duplicateKeys(doc, map, file));
  if (syntaxBroken) return fail(problems);
  // An alias inside its own anchor makes the data infinite (and every walk of it endless).
  const cycles = aliasCycleProblems(doc, file, map);
  if (cycles.length > 0) return fail([...problems, ...cycles]);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    problems.push(aliasBombProblem(doc, file, map, cleanYamlMessage(String((err as Error).message))));
    return fail(problems);
  }
  if (!isRecord(data)) {
    const found = data === null || data === undefined ? 'an empty file' : Array.isArray(data) ? 'a list' : `a single value (${String(data)})`;
    problems.push(at({ code: 'bad-type', path: [], target: 'value', message: `found ${found}; expected a mapping with at least version, name, dataset and model` }));
    return fail(problems);
  }

  // 2. Schema, with missing keys excused where the sweep supplies them. 3. Sweep checks.
  const issues = schemaIssues(data, suppliedPaths(data));
  const sweep = checkSweep(data, issues.length + problems.length);
  problems.push(...issues.map(at), ...sweep.issues.map(at));
  if (problems.length > 0) return fail(problems);
  // 3b. Sizes far beyond anything computable (10^12 samples, a layer of 10^15 units).
  problems.push(...limitIssues(data, sweep.axes).map(at));
  if (problems.length > 0) return fail(problems);

  // 4. The study.
  const document = data as unknown as PipelineDocument;
  const dir = dirname(resolve(file));
  let baseDoc: unknown = without(document, ['sweep', 'report']);
  for (const axis of sweep.axes) {
    if (getPath(baseDoc, axis.segments) === undefined) baseDoc = withPath(baseDoc, axis.segments, axis.values[0]);
  }
  const report = document.report;
  const plots: PlotSpec[] = (report?.plots ?? []).map((p) => ({
    x: p.x, y: p.y ?? DEFAULTS.y, normalize: p.normalize ?? DEFAULTS.normalize, title: p.title ?? null,
    aggregate: p.aggregate ?? null,
  }));
  const study: Study = {
    file,
    dir,
    text,
    version: 1,
    name: document.name,
    description: document.description ?? null,
    base: normalizeConfig(baseDoc as PipelineDocument, dir),
    sweep: { mode: sweep.mode, axes: sweep.axes },
    report: { plots, spectra: report?.spectra ?? DEFAULTS.spectra },
    document,
  };
  const points = expandSweep(study);
  // 5. Points whose settings, each valid, together mean nothing (a softmax over one output).
  problems.push(...pointIssues(points, sweep.axes, data).map(at));
  if (problems.length > 0) return fail(problems);
  return { ok: true, study, points, warnings: sweep.warnings.map(at) };
}

/** Most problems reported for one file (a sweep of 100,000 bad values would print pages). */
export const MAX_PROBLEMS = 100;

function fail(all: readonly Problem[]): LoadResult {
  let problems = all;
  if (all.length > MAX_PROBLEMS) {
    const shown = sortProblems(all).slice(0, MAX_PROBLEMS);
    const last = shown[shown.length - 1]!;
    problems = [...shown, { code: last.code, file: last.file, path: '', line: last.line, column: last.column, message: `... and ${all.length - MAX_PROBLEMS} more problems (only the first ${MAX_PROBLEMS} are shown)` }];
  }
  const error = new PipelineError(problems);
  return { ok: false, problems: error.problems, error };
}

function toProblem(issue: Issue, map: SourceMap, file: string): Problem {
  const loc = map.locate(issue.path, issue.target);
  return {
    code: issue.code,
    file,
    path: formatPath(issue.path),
    line: loc.line,
    column: loc.column,
    message: issue.message,
    ...(issue.hint === undefined ? {} : { hint: issue.hint }),
    excerpt: { text: loc.text, width: loc.width },
  };
}

/** yaml's message without its own position and excerpt (we add ours). */
function cleanYamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?\s*$/, '').replace(/:\s*$/, '');
}

/** Every key that appears twice in one mapping, at its second place, naming the first. */
function duplicateKeys(doc: Document, map: SourceMap, file: string): Problem[] {
  const out: Problem[] = [];
  const seenNodes = new Set<unknown>();
  const walk = (node: unknown, path: PathSegment[]): void => {
    if (isAlias(node) || seenNodes.has(node)) return;
    seenNodes.add(node);
    if (isMap(node)) {
      const first = new Map<string, Node | null>();
      for (const pair of node.items) {
        const key = keyText(pair.key);
        const keyNode = (pair.key ?? null) as Node | null;
        if (first.has(key)) {
          const prev = first.get(key)?.range;
          const here = keyNode?.range;
          const loc = here ? map.at(here[0], here[1]) : map.locate(path, 'key');
          const firstLine = prev ? map.at(prev[0]).line : undefined;
          out.push({
            code: 'duplicate-key',
            file,
            path: formatPath([...path, key]),
            line: loc.line,
            column: loc.column,
            message: `key '${key}' appears twice ${path.length === 0 ? 'at the top level' : `in ${formatPath(path)}`}${firstLine === undefined ? '' : ` (first at line ${firstLine})`}; keep one`,
            excerpt: { text: loc.text, width: loc.width },
          });
        } else first.set(key, keyNode);
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    }
  };
  walk(doc.contents, []);
  return out;
}
