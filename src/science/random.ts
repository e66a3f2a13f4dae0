/**
 * Seeded pseudo-random numbers, identical on every machine.
 *
 * Algorithm: xoroshiro128+ from `pure-rand`, seeded with a 32-bit integer derived from
 * (seed, stream name) by FNV-1a. Uniform doubles in [0, 1) come from pure-rand's
 * `uniformFloat64` (53 random bits). Normals use the Box-Muller transform (both outputs used,
 * in order). Named streams make each consumer's numbers independent of the others: the
 * weights of layer 2 do not change when layer 1 grows.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** FNV-1a over the seed's decimal text and the stream name, as an unsigned 32-bit integer. */
export function streamSeed(seed: number, stream: string): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`random: seed must be an integer, got ${seed}`);
  const text = `${seed}/${stream}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h | 0;
}

export class Rng {
  private readonly gen: RandomGenerator;
  private spare: number | undefined;

  constructor(seed: number, stream = '') {
    this.gen = xoroshiro128plus(streamSeed(seed, stream));
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return uniformInt(this.gen, 0, n - 1);
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Standard normal conditioned on |z| <= bound (rejection), as jax.random.truncated_normal. */
  truncatedNormal(bound: number): number {
    for (;;) {
      const z = this.normal();
      if (Math.abs(z) <= bound) return z;
    }
  }
}
