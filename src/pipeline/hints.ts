/** Suggestions for misspelt keys and values, and short renderings of values in messages. */
import { distance } from 'fastest-levenshtein';

/**
 * The candidate closest to `word`, when close enough to be a likely typo: same text up to case,
 * '-' or '_', or within an edit distance that grows with the word's length (1 up to 3 characters,
 * 2 up to 6, else 3). Ties go to the earlier candidate.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const fold = (s: string): string => s.toLowerCase().replace(/[-_ ]/g, '');
  const folded = fold(word);
  const same = candidates.find((c) => c !== word && fold(c) === folded);
  if (same !== undefined) return same;
  const swapped = candidates.find((c) => c !== word && isAdjacentSwap(word.toLowerCase(), c.toLowerCase()));
  if (swapped !== undefined) return swapped;
  const limit = word.length <= 3 ? 1 : word.length <= 6 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** True when b is a with two neighbouring characters swapped ('mes' / 'mse'). */
function isAdjacentSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i < a.length - 1 && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

/** "did you mean 'x'?" for the closest candidate, or undefined. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const match = closestMatch(word, candidates);
  return match === undefined ? undefined : `did you mean '${match}'?`;
}

/** A value as quoted in messages: 'text', 8, true, null, [4, 8], a mapping. */
export function show(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) {
    const inner = value.map(show).join(', ');
    return inner.length <= 40 ? `[${inner}]` : `a list of ${value.length} items`;
  }
  return 'a mapping';
}

/** A value with its kind, for "found ..." in type errors: the string 'ten', the number 3, a list. */
export function showWithKind(value: unknown): string {
  if (typeof value === 'string') return `the string ${quote(value)}`;
  if (typeof value === 'number') return `the number ${show(value)}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list (${show(value)})`;
  return 'a mapping';
}

function quote(s: string): string {
  const short = s.length > 60 ? `${s.slice(0, 57)}...` : s;
  return /^[\x20-\x7e]*$/.test(short) && !short.includes("'") ? `'${short}'` : JSON.stringify(short);
}

/** "a, b or c" */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
