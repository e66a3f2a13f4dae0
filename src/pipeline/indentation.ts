/**
 * yaml names an indentation slip by its effect, at the place it noticed it: "Nested mappings are
 * not allowed in compact mappings" at the end of the line before a key indented too deep, or "All
 * mapping items must start at the same column" at column 1. This finds the line that is out of
 * place and says what is wrong with it, in the words of the file (keys, columns), for the three
 * slips seen in practice:
 *
 * - a key dedented out of its block (`model:` then `width: 3` at column 1, its siblings below
 *   still indented);
 * - a key indented under a key that already has a value (`samples: 12` then `    classes: 3`);
 * - a key indented between two levels (one space where its siblings have two).
 */

/** yaml error codes an indentation slip produces. */
export const INDENT_CODES: ReadonlySet<string> = new Set(['BAD_INDENT', 'BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY']);

export interface IndentSlip {
  /** 1-based line and column of the out-of-place key. */
  readonly line: number;
  readonly column: number;
  readonly width: number;
  readonly text: string;
  readonly message: string;
  readonly hint: string;
}

interface Line {
  readonly n: number;
  readonly text: string;
  readonly indent: number;
  /** The key, for a `key: ...` or `key:` line. */
  readonly key?: string;
  /** The line is `key:` with nothing after it: it opens a block. */
  readonly opens: boolean;
}

function parseLine(text: string, n: number): Line | undefined {
  const body = text.replace(/\s+#.*$/, '').replace(/^\s*#.*$/, '');
  if (body.trim() === '' || body.trim() === '---') return undefined;
  const indent = body.length - body.trimStart().length;
  const m = /^\s*(?:-\s+)?([^\s:#][^:#]*?)\s*:(\s|$)/.exec(body);
  const key = m?.[1];
  return { n, text, indent, ...(key !== undefined ? { key } : {}), opens: key !== undefined && /:\s*$/.test(body) };
}

/** The columns a key after line `j` may start at: that line's, and those of the blocks it is in. */
function levels(lines: readonly Line[], j: number): number[] {
  const out = [lines[j]!.indent];
  let level = lines[j]!.indent;
  for (let k = j - 1; k >= 0 && level > 0; k--) {
    const l = lines[k]!;
    if (l.opens && l.indent < level) {
      out.push(l.indent);
      level = l.indent;
    }
  }
  if (!out.includes(0)) out.push(0);
  return out;
}

const spaces = (n: number): string => `${n} space${n === 1 ? '' : 's'}`;

/** The slip near yaml's error at `errorLine` (1-based), or undefined when none of the three fits. */
export function explainIndentation(text: string, errorLine: number): IndentSlip | undefined {
  const raw = text.split(/\r?\n/);
  const lines = raw.map((t, i) => parseLine(t, i + 1)).filter((l): l is Line => l !== undefined);
  const at = lines.findIndex((l) => l.n >= errorLine);
  if (at < 0) return undefined;
  const slip = (l: Line, message: string, hint: string): IndentSlip => ({
    line: l.n, column: l.indent + 1, width: Math.max(1, (l.key ?? l.text.trim()).length), text: l.text, message, hint,
  });
  // Look at yaml's line and the next one: the out-of-place key is one of them.
  for (const i of [at, at + 1]) {
    const cur = lines[i];
    const prev = lines[i - 1];
    const next = lines[i + 1];
    if (!cur || !prev || cur.key === undefined) continue;
    // Dedented out of its block: the line before opens a block, this key is not inside it, and
    // the line after is (its former siblings).
    if (prev.opens && cur.indent <= prev.indent && next && next.indent > cur.indent && !cur.opens) {
      return slip(cur, `'${cur.key}' is not indented under '${prev.key}:' (line ${prev.n}), which opens a block, yet the line after it is`,
        `indent '${cur.key}' like the line after it (${spaces(next.indent)}), or, if it belongs at this level, move it below that block`);
    }
    // Dedented out of the block the lines around it are in (its siblings above and below).
    if (!cur.opens && next && prev.key !== undefined && !prev.opens && cur.indent < prev.indent && next.indent === prev.indent) {
      return slip(cur, `'${cur.key}' is indented less (${spaces(cur.indent)}) than '${prev.key}' above it and the line after it (${spaces(prev.indent)}): it left their block`,
        `indent '${cur.key}' by ${spaces(prev.indent)}, or, if it belongs at this level, move it below that block`);
    }
    // Indented under a key that has a value already.
    if (prev.key !== undefined && !prev.opens && cur.indent > prev.indent) {
      return slip(cur, `'${cur.key}' is indented more (${spaces(cur.indent)}) than '${prev.key}' above it (${spaces(prev.indent)}), which already has a value`,
        `indent '${cur.key}' by ${spaces(prev.indent)}, as '${prev.key}'`);
    }
    // Between two levels: not at the column of the key above, nor of any block it is in.
    if (prev.key !== undefined && cur.indent < prev.indent && !levels(lines, i - 1).includes(cur.indent)) {
      return slip(cur, `'${cur.key}' is indented by ${spaces(cur.indent)}, and '${prev.key}' above it (line ${prev.n}) by ${spaces(prev.indent)}; keys of one block start at the same column`,
        `indent '${cur.key}' by ${spaces(prev.indent)}, or by as much as the block it belongs to`);
    }
  }
  return undefined;
}
