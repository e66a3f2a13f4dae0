/**
 * Memory sizes as people write them (`--max-memory 4G`) and read them (`1.6 GiB`). No imports:
 * the CLI's option table uses it, and must stay fast to load.
 */

/** Default memory limit: this fraction of the machine's (or the container's) memory. */
export const DEFAULT_MEMORY_FRACTION = 0.8;

/** `4G`, `512M`, `1.5GiB`, `2000000000` (bytes) -> bytes; NaN when not a size. */
export function parseSize(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kKmMgGtT])(i?[bB])?|[bB])?\s*$/.exec(raw);
  if (!m) return NaN;
  const unit = ({ k: 1, m: 2, g: 3, t: 4 } as Record<string, number>)[(m[2] ?? '').toLowerCase()] ?? 0;
  return Math.round(Number(m[1]) * 1024 ** unit);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (!Number.isFinite(v)) return 'more than can be counted';
  return `${u === 0 ? v : v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}
