/**
 * From paths in the parsed data to line:column in the YAML text.
 *
 * Walks the yaml `Document` (as `doc.getIn(path, true)` does, but also yielding key nodes and
 * following aliases), and turns a node's `range[0]` into a 1-based line and column with the
 * parser's `LineCounter`. A path that does not exist in full points at its deepest existing part.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { PathSegment } from './types.js';

export interface Location {
  readonly line: number;
  readonly column: number;
  /** Characters to underline from the column (at least 1, never past the line's end). */
  readonly width: number;
  /** The whole line's text, without its line break. */
  readonly text: string;
}

/** What to point at: the value at the path, the key naming it, or the key of its parent mapping. */
export type Target = 'value' | 'key' | 'parent';

type AnyNode = Node | null | undefined;

interface Step {
  readonly key: AnyNode;
  readonly value: AnyNode;
}

export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    private readonly text: string,
  ) {}

  /** The location of a character offset, underlining up to `end` (same line only). */
  at(offset: number, end?: number): Location {
    const start = Math.max(0, Math.min(offset, this.text.length));
    const { line, col } = this.lineCounter.linePos(start);
    const starts = this.lineCounter.lineStarts;
    const lineStart = starts[line - 1] ?? 0;
    let lineEnd = line < starts.length ? (starts[line] ?? this.text.length) : this.text.length;
    while (lineEnd > lineStart && (this.text[lineEnd - 1] === '\n' || this.text[lineEnd - 1] === '\r')) lineEnd--;
    const text = this.text.slice(lineStart, lineEnd);
    const stop = Math.min(end ?? start + 1, lineEnd);
    return { line, column: col, width: Math.max(1, stop - start), text };
  }

  /** Where the path points (see `Target`); the deepest existing part when it does not exist. */
  locate(path: readonly PathSegment[], target: Target = 'value'): Location {
    if (target === 'parent') {
      if (path.length > 1) return this.locate(path.slice(0, -1), 'key');
      // The top level: its first key (or the first character of content).
      const root = this.doc.contents;
      const first = isMap(root) ? root.items[0]?.key : undefined;
      return this.ofNode((first ?? root) as AnyNode);
    }
    let node: AnyNode = this.doc.contents;
    let best: AnyNode = node;
    for (let i = 0; i < path.length; i++) {
      const step = this.step(node, path[i] as PathSegment);
      if (step === undefined) return this.ofNode(best);
      const last = i === path.length - 1;
      if (last && target === 'key') return this.ofNode(step.key ?? step.value ?? best);
      // An empty value (`model:` and nothing) has a zero-width node after the colon: use the key.
      const empty = step.value?.range !== undefined && step.value.range !== null && step.value.range[0] === step.value.range[1];
      best = (empty ? step.key : step.value) ?? step.key ?? best;
      node = step.value;
    }
    return this.ofNode(best);
  }

  private step(node: AnyNode, seg: PathSegment): Step | undefined {
    if (isAlias(node)) node = node.resolve(this.doc) as AnyNode;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      return pair === undefined ? undefined : { key: pair.key as AnyNode, value: pair.value as AnyNode };
    }
    if (isSeq(node)) {
      const index = typeof seg === 'number' ? seg : /^\d+$/.test(seg) ? Number(seg) : -1;
      const item = node.items[index] as AnyNode;
      return index >= 0 && index < node.items.length ? { key: item, value: item } : undefined;
    }
    return undefined;
  }

  private ofNode(node: AnyNode): Location {
    const range = node?.range;
    if (range === undefined || range === null) return this.at(firstContentOffset(this.text));
    return this.at(range[0], range[1]);
  }
}

/** The text of a mapping key as the data sees it (scalar keys by value). */
export function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

function firstContentOffset(text: string): number {
  const m = /[^\s#][^\n]*/.exec(text.replace(/#[^\n]*/g, (c) => ' '.repeat(c.length)));
  return m === null ? 0 : m.index;
}
