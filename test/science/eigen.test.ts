import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/science/random.js';
import { symmetricEigenvalues, type SymmetricEigenOptions } from '../../src/science/linalg/eigen.js';
import { FOUR_ROW_BLOCKS_FROM, fusedBlocks2, fusedBlocks4, wasmKernelAvailable } from '../../src/science/linalg/kernel.js';
import { jacobiEigenvalues } from './jacobi.js';

const EPS = 2.220446049250313e-16;

/** Random symmetric n x n matrix with standard normal entries (exactly symmetric). */
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

/**
 * Q diag(lambda) Q^T with Q a product of n Householder reflections of random normal vectors,
 * applied two-sidedly: A <- A - w z^T - z w^T. The update formula is symmetric in (i, j), so A
 * stays exactly symmetric.
 */
function withSpectrum(lambda: number[], rng: Rng): Float64Array {
  const n = lambda.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = lambda[i];
  const w = new Float64Array(n);
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let ww = 0;
    for (let i = 0; i < n; i++) {
      w[i] = rng.normal();
      ww += w[i] * w[i];
    }
    const beta = 2 / ww;
    let wy = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[i * n + j] * w[j];
      y[i] = beta * s;
      wy += w[i] * y[i];
    }
    const k = 0.5 * beta * wy;
    for (let i = 0; i < n; i++) y[i] -= k * w[i];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) a[i * n + j] -= w[i] * y[j] + y[i] * w[j];
    }
  }
  return a;
}

function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  assert.equal(x.length, y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

function assertAscending(w: Float64Array): void {
  for (let i = 1; i < w.length; i++) assert.ok(w[i - 1] <= w[i], `not ascending at ${i}: ${w[i - 1]} > ${w[i]}`);
}

/**
 * The same suite runs against the JavaScript reference kernels and the WebAssembly SIMD kernels
 * (kernels/fused.wat), with the default choice of row blocks (two rows below
 * FOUR_ROW_BLOCKS_FROM, which these sizes stay under) and with four-row blocks everywhere; a
 * last test checks that they give bit-identical eigenvalues.
 */
function suite(kernel: 'js' | 'wasm', fourRowBlocksFrom?: number): void {
  const eig = (a: Float64Array, n: number, o: SymmetricEigenOptions = {}): Float64Array =>
    symmetricEigenvalues(a, n, { ...o, kernel, ...(fourRowBlocksFrom !== undefined ? { fourRowBlocksFrom } : {}) });
  const label = fourRowBlocksFrom === undefined ? kernel : `${kernel}, four-row blocks from ${fourRowBlocksFrom}`;
  const t = (name: string, fn: () => void): void => { test(`${name} [${label}]`, fn); };

  t('wrong lengths throw RangeErrors naming the function', () => {
    assert.throws(() => eig(new Float64Array(5), 2), (e: unknown) => e instanceof RangeError && /symmetricEigenvalues/.test(e.message));
    assert.throws(() => jacobiEigenvalues(new Float64Array(3), 2), (e: unknown) => e instanceof RangeError && /jacobiEigenvalues/.test(e.message));
    assert.throws(() => eig(new Float64Array(4), 1.5), RangeError);
  });

  t('trivial sizes, zero, diagonal and 2 x 2 matrices', () => {
    assert.deepEqual(eig(new Float64Array(0), 0), new Float64Array(0));
    assert.deepEqual(eig(Float64Array.of(-3.5), 1), Float64Array.of(-3.5));
    assert.deepEqual(eig(new Float64Array(49), 7), new Float64Array(7));
    // Diagonal: every row is already reduced, so the values come back exactly, sorted.
    const diag = [3, -1e-30, 0, 7e20, -2, 3, 1e-5];
    const n = diag.length;
    const a = new Float64Array(n * n);
    diag.forEach((x, i) => (a[i * n + i] = x));
    assert.deepEqual(eig(a, n), Float64Array.from(diag).sort());
    // [[2, 1], [1, 2]] has eigenvalues 1 and 3; so does the reference.
    const b = Float64Array.of(2, 1, 1, 2);
    for (const w of [eig(b, 2), jacobiEigenvalues(b, 2)]) {
      assert.ok(maxAbsDiff(w, [1, 3]) <= 4 * EPS, `${w}`);
    }
    // Tridiagonal with one zero off-diagonal: mixes skipped and real reflections.
    const t = Float64Array.of(1, 2, 0, 0, 2, 1, 0, 0, 0, 0, 5, 1, 0, 0, 1, 5);
    assert.ok(maxAbsDiff(eig(t, 4), [-1, 3, 4, 6]) <= 16 * EPS);
  });

  t('agrees with cyclic Jacobi on random symmetric matrices, n = 1..60', () => {
    const rng = new Rng(11, 'eigen-jacobi');
    let worst = 0;
    for (let n = 1; n <= 60; n++) {
      const a = randomSymmetric(n, rng);
      const w = eig(a, n);
      const ref = jacobiEigenvalues(a, n);
      assertAscending(w);
      const err = maxAbsDiff(w, ref) / maxAbs(ref);
      worst = Math.max(worst, err);
      assert.ok(err <= 1e-12, `n = ${n}: relative error ${err}`);
    }
    // Both are backward stable: in practice they agree to a few dozen ulps of the norm.
    assert.ok(worst <= 100 * EPS, `worst relative error ${worst}`);
  });

  t('the Jacobi reference itself recovers a known spectrum', () => {
    const rng = new Rng(12, 'eigen-jacobi-known');
    const lambda = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? -1 : 1) * (i + 1) * 0.37);
    const w = jacobiEigenvalues(withSpectrum(lambda, rng), 30);
    assert.ok(maxAbsDiff(w, lambda.slice().sort((x, y) => x - y)) <= 1e-13 * maxAbs(lambda));
  });

  t('known spectra Q diag(lambda) Q^T, n = 200', () => {
    const n = 200;
    const rng = new Rng(13, 'eigen-known');
    const cases: Record<string, number[]> = {
      // Tight clusters around 1 and -2 (spacing 1e-10) plus spread values.
      clustered: Array.from({ length: n }, (_, i) =>
        i < 80 ? 1 + i * 1e-10 : i < 140 ? -2 + (i - 80) * 1e-10 : (i - 140) / 10 - 3),
      // Four values, each repeated many times, including 0.
      repeated: Array.from({ length: n }, (_, i) => [-1, 0, 2, 3][i % 4]),
      // Half of the spectrum exactly zero.
      zeros: Array.from({ length: n }, (_, i) => (i < 100 ? 0 : 1 + Math.sin(i))),
      // Logarithmically spaced from 1e-12 to 1.
      'wide range': Array.from({ length: n }, (_, i) => 10 ** (-12 + (12 * i) / (n - 1))),
      // Mostly negative, symmetric-ish around -1.
      negative: Array.from({ length: n }, (_, i) => -5 + (6 * i) / (n - 1) - (i % 7 === 0 ? 10 : 0)),
    };
    for (const [name, lambda] of Object.entries(cases)) {
      const a = withSpectrum(lambda, rng);
      const w = eig(a, n);
      assertAscending(w);
      const want = lambda.slice().sort((x, y) => x - y);
      const err = maxAbsDiff(w, want) / maxAbs(lambda);
      assert.ok(err <= 1e-13, `${name}: relative error ${err}`);
    }
  });

  t('rank-deficient B B^T: numerical rank is exact and the zeros are at rounding level', () => {
    // Several draws: the "zeros" of a plain-arithmetic reduction land near tol / 100 (about
    // 3 eps max|eig| here) and fail for some of them; this solver stays near 1.5 eps max|eig|.
    const n = 300;
    const r = 37;
    for (let seed = 1; seed <= 5; seed++) {
      const rng = new Rng(seed, 'eigen-rank');
      const b = new Float64Array(n * r);
      for (let i = 0; i < b.length; i++) b[i] = rng.normal();
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += b[i * r + k] * b[j * r + k];
          a[i * n + j] = s;
          a[j * n + i] = s;
        }
      }
      const w = eig(a, n);
      assert.ok(w.every(Number.isFinite));
      const top = maxAbs(w);
      const tol = top * n * EPS;
      const mags = Array.from(w, Math.abs).sort((x, y) => y - x);
      const rank = mags.filter((x) => x > tol).length;
      assert.equal(rank, r, `seed ${seed}`);
      // The largest of the n - r "zero" eigenvalues is at least two decades below the tolerance.
      assert.ok(mags[r] <= tol / 100, `seed ${seed}: largest zero eigenvalue ${mags[r]} vs tolerance ${tol}`);
      // And the smallest nonzero one is far above it (B B^T is well conditioned on its range).
      assert.ok(mags[r - 1] > 1e6 * tol, `seed ${seed}`);
    }
  });

  t('other rank-deficient inputs give no NaN: all-ones, repeated rows, one nonzero entry', () => {
    const n = 50;
    const ones = new Float64Array(n * n).fill(1);
    const w1 = eig(ones, n);
    assert.ok(Math.abs(w1[n - 1] - n) <= 8 * n * EPS);
    assert.ok(maxAbs(w1.subarray(0, n - 1)) <= 8 * n * EPS, `${maxAbs(w1.subarray(0, n - 1))}`);
    const rng = new Rng(15, 'eigen-rows');
    const x = Array.from({ length: n }, () => rng.normal());
    const outer = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) outer[i * n + j] = x[i] * x[j];
    const w2 = eig(outer, n);
    const xx = x.reduce((s, v) => s + v * v, 0);
    assert.ok(Math.abs(w2[n - 1] - xx) <= 1e-13 * xx);
    assert.ok(maxAbs(w2.subarray(0, n - 1)) <= 4 * EPS * xx, `${maxAbs(w2.subarray(0, n - 1)) / xx}`);
    const single = new Float64Array(n * n);
    single[(n - 1) * n + 3] = 2;
    single[3 * n + (n - 1)] = 2;
    const w3 = eig(single, n);
    assert.ok(w3.every(Number.isFinite));
    assert.ok(maxAbsDiff([w3[0], w3[n - 1]], [-2, 2]) <= 4 * EPS);
    assert.ok(maxAbs(w3.subarray(1, n - 1)) === 0);
  });

  t('trace and Frobenius norm are preserved', () => {
    const n = 150;
    const a = randomSymmetric(n, new Rng(16, 'eigen-invariants'));
    const w = eig(a, n);
    let trace = 0;
    let frob2 = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i];
    for (let i = 0; i < n * n; i++) frob2 += a[i] * a[i];
    const sum = w.reduce((s, x) => s + x, 0);
    const sum2 = w.reduce((s, x) => s + x * x, 0);
    const norm = Math.sqrt(frob2);
    assert.ok(Math.abs(sum - trace) <= 1e-12 * norm, `trace ${trace} vs ${sum}`);
    assert.ok(Math.abs(sum2 - frob2) <= 1e-12 * frob2, `frob2 ${frob2} vs ${sum2}`);
  });

  t('overwrite mode gives the same values; the default leaves the input unchanged', () => {
    for (const n of [2, 9, 64, 131]) {
      const a = randomSymmetric(n, new Rng(n, 'eigen-overwrite'));
      const saved = a.slice();
      const w = eig(a, n);
      assert.deepEqual(a, saved, 'input modified without overwrite');
      const w2 = eig(a, n, { overwrite: true });
      assert.deepEqual(w2, w);
      // The JS kernel packs in place; the wasm kernel copies into its own memory instead.
      if (n > 2 && kernel === 'js') assert.notDeepEqual(a, saved, 'overwrite mode is expected to reuse the input');
    }
  });

  t('only the lower triangle is read', () => {
    const n = 40;
    const a = randomSymmetric(n, new Rng(17, 'eigen-lower'));
    const w = eig(a, n);
    const junk = a.slice();
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) junk[i * n + j] = NaN;
    assert.deepEqual(eig(junk, n), w);
    assert.deepEqual(jacobiEigenvalues(junk, n), jacobiEigenvalues(a, n));
    // Non-finite entries in the lower triangle give NaN, not a silent wrong answer.
    junk[5 * n + 2] = Infinity;
    assert.ok(eig(junk, n).every(Number.isNaN));
  });

  t('scaling: tiny and huge matrices, and graded blocks, neither underflow nor overflow', () => {
    const n = 30;
    const a = randomSymmetric(n, new Rng(18, 'eigen-scale'));
    const w = eig(a, n);
    // Power-of-two scaling is exact, so the eigenvalues scale exactly.
    for (const k of [-1000, -600, 600, 1000]) {
      const s = 2 ** k;
      const ws = eig(a.map((x) => x * s), n);
      assert.deepEqual(ws, w.map((x) => x * s), `2^${k}`);
    }
    // Subnormal input (2^-1060 ~ 1e-319) has lost most of its digits, but must not give NaN.
    const sub = eig(a.map((x) => x * 2 ** -530 * 2 ** -530), n);
    assert.ok(sub.every(Number.isFinite) && sub.some((x) => x !== 0));
    assert.ok(maxAbsDiff(sub.map((x) => x * 2 ** 530 * 2 ** 530), w) <= 1e-2 * maxAbs(w));
    for (const s of [1e-300, 1e300]) {
      const ws = eig(a.map((x) => x * s), n);
      assert.ok(maxAbsDiff(ws.map((x) => x / s), w) <= 1e-13 * maxAbs(w), `${s}`);
    }
    // Block diagonal: an O(1) block and a 1e-200 block, reduced bottom-up from the tiny block.
    const m = 2 * n;
    const g = new Float64Array(m * m);
    const small = randomSymmetric(n, new Rng(19, 'eigen-scale-small'));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        g[i * m + j] = a[i * n + j];
        g[(n + i) * m + n + j] = 1e-200 * small[i * n + j];
      }
    }
    const wg = eig(g, m);
    assert.ok(wg.every(Number.isFinite));
    const tiny = Array.from(wg).filter((x) => Math.abs(x) < 1e-100);
    const big = Array.from(wg).filter((x) => Math.abs(x) >= 1e-100);
    assert.equal(tiny.length, n);
    assert.ok(maxAbsDiff(big, w) <= 1e-13 * maxAbs(w));
    // The blocks are decoupled exactly, so even the tiny block keeps its relative accuracy.
    const wSmall = jacobiEigenvalues(small, n).map((x) => 1e-200 * x);
    assert.ok(maxAbsDiff(tiny, wSmall) <= 1e-12 * maxAbs(wSmall));
  });
}

suite('js');
suite('js', 0);
if (wasmKernelAvailable()) { suite('wasm'); suite('wasm', 0); }
else test('WebAssembly SIMD kernel', (t) => t.skip('WebAssembly SIMD unavailable: only the JS kernel was tested'));

test('the WebAssembly and JavaScript kernels give bit-identical eigenvalues', () => {
  assert.ok(wasmKernelAvailable(), 'Node 20 has WebAssembly SIMD');
  const rng = new Rng(12, 'kernels');
  for (const n of [2, 3, 4, 5, 8, 9, 17, 64, 131, 300]) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) { const v = rng.normal(); a[i * n + j] = v; a[j * n + i] = v; }
    // Two-row blocks only, four-row only, and both within one reduction (passes of 100+ rows take four).
    for (const fourRowBlocksFrom of [FOUR_ROW_BLOCKS_FROM, 0, 100]) {
      const w = symmetricEigenvalues(a, n, { kernel: 'wasm', fourRowBlocksFrom });
      const js = symmetricEigenvalues(a, n, { kernel: 'js', fourRowBlocksFrom });
      for (let i = 0; i < n; i++) assert.ok(Object.is(w[i], js[i]), `n=${n}, four rows from ${fourRowBlocksFrom}: eigenvalue ${i}: ${w[i]} vs ${js[i]}`);
    }
  }
  assert.equal(typeof fusedBlocks2, 'function');
  assert.equal(typeof fusedBlocks4, 'function');
});

test('a packed lower triangle gives the eigenvalues of the full matrix, bit for bit, with either kernel; its prefix is the leading block', () => {
  const rng = new Rng(13, 'packed');
  for (const kernel of ['js', 'wasm'] as const) {
    if (kernel === 'wasm' && !wasmKernelAvailable()) continue;
    for (const n of [1, 2, 5, 40, 129]) {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) { const v = rng.normal(); a[i * n + j] = v; a[j * n + i] = v; }
      const packed = new Float64Array((n * (n + 1)) / 2);
      for (let i = 0, o = 0; i < n; i++) for (let j = 0; j <= i; j++) packed[o++] = a[i * n + j];
      const full = symmetricEigenvalues(a, n, { kernel });
      const fromPacked = symmetricEigenvalues(packed.slice(), n, { kernel, packed: true, overwrite: true });
      for (let i = 0; i < n; i++) assert.ok(Object.is(full[i], fromPacked[i]), `${kernel} n=${n} eigenvalue ${i}`);
      // The leading m x m block of the packed form is its first m(m+1)/2 values.
      const m = Math.max(1, n >> 1);
      const lead = new Float64Array(m * m);
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) lead[i * m + j] = a[i * n + j];
      const wl = symmetricEigenvalues(lead, m, { kernel });
      const wp = symmetricEigenvalues(packed.slice(0, (m * (m + 1)) / 2), m, { kernel, packed: true });
      for (let i = 0; i < m; i++) assert.ok(Object.is(wl[i], wp[i]), `${kernel} leading ${m} of ${n}: eigenvalue ${i}`);
    }
  }
  assert.throws(() => symmetricEigenvalues(new Float64Array(5), 3, { packed: true }), /packed triangle of length n\(n\+1\)\/2 = 6, got 5/);
});
