/**
 * Timing of symmetricEigenvalues on random symmetric (GOE-like) matrices.
 * Run: npx tsx bench/eigen.ts [n ...]   (default n = 500 1000 2000 3000)
 * Prints one line per size: n, seconds (overwrite mode, matrix generation excluded).
 */
import { Rng } from '../src/science/random.js';
import { symmetricEigenvalues } from '../src/science/linalg/eigen.js';

function randomSymmetric(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const x = rng.normal();
      a[i * n + j] = x;
      a[j * n + i] = x;
    }
  }
  return a;
}

const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [500, 1000, 2000, 3000];
// Warm up the JIT on a small problem.
symmetricEigenvalues(randomSymmetric(200, new Rng(0, 'bench-warmup')), 200, { overwrite: true });
console.log('n\tseconds');
for (const n of sizes) {
  const a = randomSymmetric(n, new Rng(n, 'bench-eigen'));
  const t0 = performance.now();
  const w = symmetricEigenvalues(a, n, { overwrite: true });
  const secs = (performance.now() - t0) / 1000;
  if (w.length !== n || !w.every(Number.isFinite)) throw new Error(`bench: bad eigenvalues at n = ${n}`);
  console.log(`${n}\t${secs.toFixed(3)}`);
}
