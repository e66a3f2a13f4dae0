/** Paths into the file's data: display, JSON pointers, reading and writing plain JSON values. */
import type { PathSegment } from './types.js';

/** `model.width`, `report.plots[0].x`, `sweep.model.width[2]`; '' for the whole file. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/**
 * Splits an ajv `instancePath` (a JSON pointer) into segments; a segment is a number where the
 * data at that point is a list.
 */
export function decodePointer(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const out: PathSegment[] = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(seg)) {
      out.push(Number(seg));
      node = node[Number(seg)];
    } else {
      out.push(seg);
      node = isRecord(node) ? node[seg] : undefined;
    }
  }
  return out;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a path, or undefined. */
export function getPath(data: unknown, path: readonly PathSegment[]): unknown {
  let node = data;
  for (const seg of path) {
    if (Array.isArray(node) && typeof seg === 'number') node = node[seg];
    else if (isRecord(node) && typeof seg === 'string' && Object.prototype.hasOwnProperty.call(node, seg)) node = node[seg];
    else return undefined;
  }
  return node;
}

/**
 * A copy of `data` with `value` at `path`, creating missing mappings on the way (never lists).
 * Only the containers along the path are copied; the rest is shared.
 */
export function withPath(data: unknown, path: readonly PathSegment[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [PathSegment, ...PathSegment[]];
  if (Array.isArray(data) && typeof head === 'number') {
    const copy = [...data];
    copy[head] = withPath(copy[head], rest, value);
    return copy;
  }
  const base = isRecord(data) ? data : {};
  return { ...base, [String(head)]: withPath(base[String(head)], rest, value) };
}

/**
 * Sets `value` at `path` inside `data` (which must be a private copy: it is mutated, creating
 * missing mappings) and returns a function that puts back what was there. For loops over many
 * values of one path without copying the document each time.
 */
export function setInPlace(data: unknown, path: readonly PathSegment[], value: unknown): () => void {
  if (path.length === 0) throw new Error('pipeline: setInPlace needs a non-empty path (bug)');
  const created: Array<() => void> = [];
  let node = data as Record<string | number, unknown>;
  for (const seg of path.slice(0, -1)) {
    let next = node[seg];
    if (typeof next !== 'object' || next === null) {
      const parent = node;
      const had = Object.prototype.hasOwnProperty.call(parent, seg);
      const old = parent[seg];
      next = {};
      parent[seg] = next;
      created.push(() => {
        if (had) parent[seg] = old;
        else delete parent[seg];
      });
    }
    node = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1] as PathSegment;
  const had = Object.prototype.hasOwnProperty.call(node, last);
  const old = node[last];
  node[last] = value;
  const parent = node;
  return () => {
    if (had) parent[last] = old;
    else delete parent[last];
    for (const undo of created.reverse()) undo();
  };
}

/** The data without the given top-level keys. */
export function without(data: unknown, keys: readonly string[]): unknown {
  if (!isRecord(data)) return data;
  const copy = { ...data };
  for (const k of keys) delete copy[k];
  return copy;
}
