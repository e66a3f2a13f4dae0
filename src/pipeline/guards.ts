/**
 * Guards against hostile or broken pipeline files, applied before (and around) YAML parsing so
 * that no input can crash the loader, hang it or exhaust memory, and every refusal still names a
 * line and column:
 *
 * - size: a pipeline file is at most MAX_PIPELINE_BYTES;
 * - encoding: UTF-8 only (UTF-16/32 byte-order marks and invalid byte sequences are named at the
 *   first bad byte), no control characters (NUL, ...) outside what YAML allows;
 * - nesting: lists and mappings nested more than MAX_NESTING deep are refused from the CST (which
 *   yaml builds iteratively), before the recursive composer and our own recursive walks run;
 * - aliases: an alias inside its own anchor (a cycle, which would make the data infinite) and
 *   alias bombs (billion laughs: yaml's `maxAliasCount`) are named at the alias.
 */
import { Parser, isAlias, isCollection, isPair, type Document, type LineCounter, type Node } from 'yaml';
import type { SourceMap } from './positions.js';
import type { Problem } from './types.js';

/** Largest pipeline file read (a real one is a few kB). */
export const MAX_PIPELINE_BYTES = 1024 * 1024;

/** Deepest nesting of lists and mappings (a valid file needs 4: sweep -> axis -> list -> list). */
export const MAX_NESTING = 32;

/** Most aliases expanded when converting to data (yaml's guard against alias bombs). */
export const MAX_ALIAS_COUNT = 1000;

/** The line, column (1-based, in characters) and line text of a byte offset in raw bytes. */
function bytePosition(bytes: Uint8Array, offset: number): { line: number; column: number; text: string } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  let end = start;
  while (end < bytes.length && bytes[end] !== 0x0a && bytes[end] !== 0x0d) end++;
  const lenient = new TextDecoder('utf-8', { fatal: false });
  const before = lenient.decode(bytes.subarray(start, offset));
  return { line, column: [...before].length + 1, text: lenient.decode(bytes.subarray(start, end)) };
}

/** A pipeline file over MAX_PIPELINE_BYTES. */
export function tooLargeProblem(size: number, file: string, exact = true): Problem {
  return {
    code: 'too-large',
    file,
    path: '',
    line: 1,
    column: 1,
    message: `the file has ${exact ? '' : 'more than '}${exact ? size : MAX_PIPELINE_BYTES} bytes; a pipeline file is at most ${MAX_PIPELINE_BYTES} bytes (1 MiB)`,
    hint: 'is this the right file? a pipeline file describes a study in a few lines of YAML',
  };
}

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/**
 * The text of a pipeline file's bytes, or the problem that keeps it from being one: too large,
 * not UTF-8 (a UTF-16/32 byte-order mark, or an invalid byte sequence, named at its first byte).
 * A UTF-8 byte-order mark is allowed and dropped.
 */
export function decodePipelineBytes(bytes: Uint8Array, file: string): { ok: true; text: string } | { ok: false; problem: Problem } {
  const problem = (line: number, column: number, message: string, text?: string, hint?: string): { ok: false; problem: Problem } => ({
    ok: false,
    problem: {
      code: 'bad-encoding',
      file,
      path: '',
      line,
      column,
      message,
      ...(hint === undefined ? {} : { hint }),
      ...(text === undefined ? {} : { excerpt: { text, width: 1 } }),
    },
  });
  if (bytes.length > MAX_PIPELINE_BYTES) return { ok: false, problem: tooLargeProblem(bytes.length, file) };
  const bom = (...b: number[]): boolean => b.every((v, i) => bytes[i] === v);
  if (bom(0x00, 0x00, 0xfe, 0xff) || bom(0xff, 0xfe, 0x00, 0x00)) {
    return problem(1, 1, 'the file is UTF-32 (it starts with a UTF-32 byte-order mark); pipeline files are UTF-8', undefined, 'save it as UTF-8');
  }
  if (bom(0xfe, 0xff) || bom(0xff, 0xfe)) {
    return problem(1, 1, 'the file is UTF-16 (it starts with a UTF-16 byte-order mark); pipeline files are UTF-8', undefined, 'save it as UTF-8');
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return { ok: true, text };
  } catch {
    const at = firstInvalidUtf8(bytes);
    const pos = bytePosition(bytes, at);
    const shown = Array.from(bytes.subarray(at, Math.min(bytes.length, at + 4)), hex).join(' ');
    return problem(
      pos.line,
      pos.column,
      `the file is not valid UTF-8: byte ${at} (${shown}${at + 4 < bytes.length ? ' ...' : ''}) does not start a UTF-8 character`,
      pos.text,
      'save the file as UTF-8 (a Latin-1 or binary file cannot be read)',
    );
  }
}

/** Offset of the first byte that does not begin a valid UTF-8 sequence (bytes.length if none). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let n = 0;
    let min = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else return i;
    if (i + n >= b.length) return i; // the sequence runs past the end
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return b.length;
}

/** Characters YAML does not allow in a file (C0 controls but tab, LF, CR; DEL; C1 controls but NEL). */
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u0080-\u0084\u0086-\u009f\ufffe\uffff]/u;

/** The first control character YAML does not allow, as a problem at its line and column. */
export function controlCharacterProblem(text: string, file: string): Problem | undefined {
  const m = FORBIDDEN.exec(text);
  if (m === null) return undefined;
  const loc = textPosition(text, m.index);
  const code = m[0].codePointAt(0)!;
  const name = code === 0 ? 'a NUL byte' : `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return {
    code: 'bad-encoding',
    file,
    path: '',
    line: loc.line,
    column: loc.column,
    message: `${name} is not allowed in a YAML file`,
    hint: 'is this a binary file? inside a double-quoted string, write it as an escape such as \\0 or \\x01',
    excerpt: { text: loc.text.replace(FORBIDDEN_ALL, ' '), width: 1 },
  };
}

const FORBIDDEN_ALL = new RegExp(FORBIDDEN.source, 'gu');

/** 1-based line and column (in code points) of a character offset, and the line's text. */
function textPosition(text: string, offset: number): { line: number; column: number; text: string } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  let end = text.indexOf('\n', start);
  if (end === -1) end = text.length;
  if (end > start && text[end - 1] === '\r') end--;
  return { line, column: [...text.slice(start, offset)].length + 1, text: text.slice(start, end) };
}

/**
 * The first list or mapping nested deeper than MAX_NESTING, from yaml's concrete syntax tree
 * (built without recursion, so any depth is safe to measure); its offset in the text.
 */
export function deepestNesting(text: string, lines?: LineCounter): { depth: number; offset: number } | undefined {
  type Tok = { type?: string; offset?: number; items?: { key?: unknown; value?: unknown; start?: unknown[] }[]; value?: unknown } | null | undefined;
  for (const token of new Parser(lines?.addNewLine).parse(text)) {
    if (token.type !== 'document') continue;
    const stack: [Tok, number][] = [[token.value as Tok, 1]];
    while (stack.length > 0) {
      const [t, depth] = stack.pop()!;
      if (t === null || t === undefined || typeof t !== 'object' || !Array.isArray(t.items)) continue;
      if (depth > MAX_NESTING) return { depth, offset: t.offset ?? 0 };
      for (const item of t.items) {
        if (item.key) stack.push([item.key as Tok, depth + 1]);
        if (item.value) stack.push([item.value as Tok, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * The problem of a file nested too deep. `lines` is filled in while parsing (as `map`'s line
 * counter, so `map` can locate offsets afterwards).
 */
export function nestingProblem(text: string, file: string, map: SourceMap, lines: LineCounter): Problem | undefined {
  const deep = deepestNesting(text, lines);
  if (deep === undefined) return undefined;
  const loc = map.at(deep.offset);
  return syntaxProblem(file, loc, `lists and mappings are nested more than ${MAX_NESTING} levels deep here; a pipeline file needs at most 4`);
}

/** A 'yaml-syntax' problem at a located spot of the file, with its excerpt unless `excerpt` is false. */
function syntaxProblem(file: string, loc: ReturnType<SourceMap['at']>, message: string, more: { readonly hint?: string; readonly excerpt?: boolean } = {}): Problem {
  return {
    code: 'yaml-syntax',
    file,
    path: '',
    line: loc.line,
    column: loc.column,
    message,
    ...(more.hint ? { hint: more.hint } : {}),
    ...(more.excerpt === false ? {} : { excerpt: { text: loc.text, width: loc.width } }),
  };
}

/**
 * Aliases that make the data infinite (an alias inside the node its anchor names), each at the
 * alias. Walks the document without recursion.
 */
export function aliasCycleProblems(doc: Document, file: string, map: SourceMap): Problem[] {
  const out: Problem[] = [];
  // Each entry: a node and the set of nodes above it (its ancestors, aliases followed).
  const stack: [unknown, readonly unknown[]][] = [[doc.contents, []]];
  const visited = new Set<unknown>();
  while (stack.length > 0 && out.length < 10) {
    const [node, above] = stack.pop()!;
    if (node === null || node === undefined) continue;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target !== undefined && above.includes(target)) {
        const range = node.range;
        const loc = range ? map.at(range[0], range[1]) : map.at(0);
        out.push(syntaxProblem(file, loc,
          `the alias *${node.source} refers to the anchor &${node.source} it is inside of, which would make the value infinite`,
          { hint: 'an alias can only repeat a value that is complete before it' }));
      }
      continue;
    }
    if (visited.has(node)) continue;
    visited.add(node);
    if (isCollection(node)) {
      const path = [...above, node];
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          stack.push([item.key, path], [item.value, path]);
        } else stack.push([item, path]);
      }
    }
  }
  return out;
}

/** Where an alias bomb starts: the first alias in the text (the data blew up from there). */
export function aliasBombProblem(doc: Document, file: string, map: SourceMap, message: string): Problem {
  let first: Node | undefined;
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      if (node.range && (first === undefined || (first.range && node.range[0] < first.range[0]))) first = node;
    } else if (isCollection(node)) {
      for (const item of node.items as unknown[]) {
        if (isPair(item)) stack.push(item.key, item.value);
        else stack.push(item);
      }
    }
  }
  const loc = first?.range ? map.at(first.range[0], first.range[1]) : map.at(0);
  const tooMany = /alias count|resource exhaustion/i.test(message);
  return syntaxProblem(file, loc, tooMany
    ? `the aliases of this file expand to more than ${MAX_ALIAS_COUNT} copies (an "alias bomb"); a pipeline file needs few aliases, if any`
    : message, { excerpt: first !== undefined });
}
