import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyActivation } from '../../src/science/activations.js';
import { ConvShapeError, convStack } from '../../src/science/conv.js';
import { getLoss } from '../../src/science/losses.js';
import { convNetworkSpec, forward, initNetwork, lossAndGradient, networkSpec, paramCount } from '../../src/science/network.js';
import { denseHessians } from '../../src/science/hessian/dense.js';
import { HessianOperator } from '../../src/science/hessian/operator.js';
import { productOperator } from '../../src/science/hessian/tied.js';
import { hessianSpectra, rankSpectrum } from '../../src/science/ranks.js';
import { convRoute, spectrumStepBytes } from '../../src/science/memory.js';
import { spectrumWork } from '../../src/science/cost.js';
import { lastLayerRows } from '../../src/science/hessian/lastlayer.js';
import { SUBSPACE_CHECK } from '../../src/science/spectrum.js';
import { Rng } from '../../src/science/random.js';
import type { Activation, ConvLayerSpec, Dataset, ImageShape, LossName, Network } from '../../src/science/types.js';
import { gaussianData, maxAbs, maxAbsDiff, outerFromJacobian } from './helpers.js';

/**
 * The test's own convolution, written from the definition (independent of conv.ts's Toeplitz
 * entries): out[co, oy, ox] = b[co] + sum over ci, ky, kx of w[co, ci, ky, kx] x[ci, oy s + ky - pt, ox s + kx - pl],
 * zero outside the image; 'same' pads TensorFlow's way (ceil(in / s) outputs, the extra row below).
 */
function naiveConv(x: ArrayLike<number>, inp: ImageShape, w: ArrayLike<number>, bias: ArrayLike<number> | null, spec: ConvLayerSpec): { out: Float64Array; shape: ImageShape } {
  const k = spec.kernel, s = spec.stride;
  const side = (n: number): { out: number; pad: number } => spec.padding === 'valid'
    ? { out: (n - k) / s + 1, pad: 0 }
    : { out: Math.ceil(n / s), pad: Math.floor(Math.max((Math.ceil(n / s) - 1) * s + k - n, 0) / 2) };
  const r = side(inp.height), c = side(inp.width);
  const shape = { channels: spec.channels, height: r.out, width: c.out };
  const out = new Float64Array(shape.channels * shape.height * shape.width);
  for (let co = 0; co < shape.channels; co++) for (let oy = 0; oy < shape.height; oy++) for (let ox = 0; ox < shape.width; ox++) {
    let acc = bias ? bias[co] : 0;
    for (let ci = 0; ci < inp.channels; ci++) for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
      const iy = oy * s + ky - r.pad, ix = ox * s + kx - c.pad;
      if (iy < 0 || iy >= inp.height || ix < 0 || ix >= inp.width) continue;
      acc += w[((co * inp.channels + ci) * k + ky) * k + kx] * x[(ci * inp.height + iy) * inp.width + ix];
    }
    out[(co * shape.height + oy) * shape.width + ox] = acc;
  }
  return { out, shape };
}

interface Case { readonly input: ImageShape; readonly convs: readonly ConvLayerSpec[]; readonly hidden: readonly number[]; readonly K: number }

/** Two conv layers (stride 2 with same padding, then valid), several channels, a dense layer. */
const STRIDED: Case = {
  input: { channels: 2, height: 5, width: 5 },
  convs: [{ channels: 3, kernel: 3, stride: 2, padding: 'same' }, { channels: 2, kernel: 2, stride: 1, padding: 'valid' }],
  hidden: [3], K: 2,
};
/** One conv layer, same padding at stride 1, straight into the outputs. */
const SAME: Case = { input: { channels: 1, height: 4, width: 4 }, convs: [{ channels: 2, kernel: 3, stride: 1, padding: 'same' }], hidden: [], K: 3 };
/** Two conv layers on a two-channel image, an even kernel with same padding (uneven pads), straight into the outputs. */
const EVEN: Case = {
  input: { channels: 2, height: 5, width: 5 },
  convs: [{ channels: 2, kernel: 3, stride: 1, padding: 'valid' }, { channels: 3, kernel: 2, stride: 1, padding: 'same' }],
  hidden: [], K: 3,
};

function imageData(c: Case, n: number, seed: number): Dataset {
  const d = c.input.channels * c.input.height * c.input.width;
  return gaussianData(n, d, c.K, seed);
}

function convNet(c: Case, act: Activation, bias: boolean, seed: number): Network {
  const net = initNetwork(convNetworkSpec(c.input, c.convs, c.hidden, c.K, act, bias), 'glorot', seed);
  // Nonzero biases, so their terms are tested too.
  const rng = new Rng(seed, 'test-bias');
  for (let i = 0; i < net.theta.length; i++) if (net.theta[i] === 0) net.theta[i] = 0.3 * rng.normal();
  return net;
}

/** The network's outputs for one sample, layer by layer from the definition (naiveConv, then dense layers). */
function naiveForward(net: Network, c: Case, x: ArrayLike<number>): Float64Array {
  let a: Float64Array = Float64Array.from(x), shape = c.input, off = 0;
  const L = net.sizes.length - 1;
  const act = (z: Float64Array, last: boolean): Float64Array => {
    if (last) return z;
    const o = new Float64Array(z.length);
    applyActivation(net.activation, z, o, new Float64Array(z.length), new Float64Array(z.length));
    return o;
  };
  for (const [l, spec] of c.convs.entries()) {
    const kn = spec.channels * shape.channels * spec.kernel * spec.kernel;
    const w = net.theta.subarray(off, off + kn);
    const b = net.bias ? net.theta.subarray(off + kn, off + kn + spec.channels) : null;
    off += kn + (net.bias ? spec.channels : 0);
    const r = naiveConv(a, shape, w, b, spec);
    a = act(r.out, l + 1 === L);
    shape = r.shape;
  }
  for (let l = c.convs.length + 1; l <= L; l++) {
    const rows = net.sizes[l], cols = net.sizes[l - 1];
    const z = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let s = net.bias ? net.theta[off + rows * cols + i] : 0;
      for (let j = 0; j < cols; j++) s += net.theta[off + i * cols + j] * a[j];
      z[i] = s;
    }
    off += rows * cols + (net.bias ? rows : 0);
    a = act(z, l === L);
  }
  assert.equal(off, net.theta.length);
  return a;
}

/**
 * J_T (P_dense x P, row-major) from naiveConv alone: a conv layer's dense matrix is T(w), whose
 * column p is the convolution of the unit image e_p; T is linear in w, so the column of J_T for
 * kernel weight j is vec(T(e_j)). Dense layers map to themselves; a conv bias to every position.
 */
function naiveJT(net: Network, c: Case): { JT: Float64Array; Pd: number } {
  const P = net.theta.length;
  const dense = networkSpec(net.sizes[0], net.sizes.slice(1, -1), net.sizes.at(-1)!, net.activation, net.bias);
  const Pd = paramCount(dense);
  const JT = new Float64Array(Pd * P);
  let off = 0, doff = 0, shape = c.input;
  for (let l = 1; l < net.sizes.length; l++) {
    const rows = net.sizes[l], cols = net.sizes[l - 1];
    const spec = c.convs[l - 1];
    if (spec) {
      const kn = spec.channels * shape.channels * spec.kernel * spec.kernel;
      let outShape = shape;
      for (let j = 0; j < kn; j++) {
        const w = new Float64Array(kn); w[j] = 1;
        for (let p = 0; p < cols; p++) {
          const e = new Float64Array(cols); e[p] = 1;
          const r = naiveConv(e, shape, w, null, spec);
          outShape = r.shape;
          for (let o = 0; o < rows; o++) JT[(doff + o * cols + p) * P + off + j] = r.out[o];
        }
      }
      if (net.bias) {
        const plane = outShape.height * outShape.width;
        for (let o = 0; o < rows; o++) JT[(doff + rows * cols + o) * P + off + kn + Math.floor(o / plane)] = 1;
      }
      off += kn + (net.bias ? spec.channels : 0);
      shape = outShape;
    } else {
      for (let t = 0; t < rows * cols + (net.bias ? rows : 0); t++) JT[(doff + t) * P + off + t] = 1;
      off += rows * cols + (net.bias ? rows : 0);
    }
    doff += rows * cols + (net.bias ? rows : 0);
  }
  assert.equal(off, P);
  assert.equal(doff, Pd);
  return { JT, Pd };
}

function relErr(a: Float64Array, b: Float64Array): number {
  return maxAbsDiff(a, b) / Math.max(maxAbs(b), 1e-300);
}

test('conv shapes: valid and same padding, strides; parameters count the shared kernel once', () => {
  const st = convStack(STRIDED.input, STRIDED.convs);
  assert.deepEqual(st.layers.map((l) => [l.output.channels, l.output.height, l.output.width]), [[3, 3, 3], [2, 2, 2]]);
  const spec = convNetworkSpec(STRIDED.input, STRIDED.convs, STRIDED.hidden, STRIDED.K, 'linear', true);
  assert.deepEqual(spec.sizes, [50, 27, 8, 3, 2]);
  // 3*2*9 + 3, 2*3*4 + 2, 3*8 + 3, 2*3 + 2
  assert.equal(paramCount(spec), 57 + 26 + 27 + 8);
  assert.equal(paramCount(convNetworkSpec(STRIDED.input, STRIDED.convs, STRIDED.hidden, STRIDED.K, 'linear', false)), 54 + 24 + 24 + 6);
});

test('conv shapes: a kernel larger than its input, a stride that does not fit, name the layer and the shape', () => {
  const img = { channels: 1, height: 8, width: 8 };
  assert.throws(() => convStack(img, [{ channels: 2, kernel: 3, stride: 1, padding: 'valid' }, { channels: 2, kernel: 7, stride: 1, padding: 'valid' }]),
    (e: unknown) => e instanceof ConvShapeError && e.layer === 1 && e.key === 'kernel' && /kernel 7 is larger than its 6-pixel input/.test(e.message) && /2 x 6 x 6/.test(e.message));
  assert.throws(() => convStack(img, [{ channels: 2, kernel: 3, stride: 2, padding: 'valid' }]),
    (e: unknown) => e instanceof ConvShapeError && e.layer === 0 && e.key === 'stride' && /output would be 3/.test(e.message));
  // same padding fits any stride: ceil(8 / 3) = 3.
  assert.equal(convStack(img, [{ channels: 2, kernel: 3, stride: 3, padding: 'same' }]).layers[0]!.output.height, 3);
});

for (const c of [STRIDED, SAME, EVEN]) {
  for (const act of ['linear', 'tanh'] as const) {
    test(`a conv network's outputs equal the convolutions' from the definition (${c === SAME ? 'same padding' : c === EVEN ? 'even kernel, same padding' : 'stride 2, two layers'}, ${act})`, () => {
      const net = convNet(c, act, true, 3);
      const data = imageData(c, 4, 5);
      const out = forward(net, data.x, 0, data.n).a.at(-1)!;
      for (let i = 0; i < data.n; i++) {
        const want = naiveForward(net, c, data.x.subarray(i * data.d, (i + 1) * data.d));
        assert.ok(maxAbsDiff(out.subarray(i * c.K, (i + 1) * c.K), want) <= 1e-13, `sample ${i}`);
      }
    });
  }
}

for (const [c, name] of [[STRIDED, 'stride 2 + same, two layers'], [SAME, 'same padding'], [EVEN, 'two channels in, even kernel with same padding']] as const) {
  for (const [lossName, act, bias] of [['mse', 'linear', false], ['cross-entropy', 'tanh', true], ['cosh', 'relu', true]] as [LossName, Activation, boolean][]) {
    test(`conv Hessians equal J_T^T H_dense J_T entry by entry (${name}, ${lossName}, ${act}, bias=${bias})`, () => {
      const net = convNet(c, act, bias, 7);
      const data = imageData(c, 5, 11);
      const loss = getLoss(lossName);
      const P = net.theta.length;
      const { JT, Pd } = naiveJT(net, c);
      const thetaD = new Float64Array(Pd);
      for (let i = 0; i < Pd; i++) for (let j = 0; j < P; j++) thetaD[i] += JT[i * P + j] * net.theta[j];
      const dnet: Network = { sizes: [...net.sizes], activation: act, bias, theta: thetaD };
      const HD = denseHessians(new HessianOperator(dnet, data, loss), ['loss', 'outer', 'functional']);
      const HC = denseHessians(productOperator(net, data, loss, { batchSize: 2 }), ['loss', 'outer', 'functional']);
      for (const kind of ['loss', 'outer', 'functional'] as const) {
        const hd = HD[kind]!, want = new Float64Array(P * P);
        // J_T^T H_dense J_T over J_T's nonzeros (column j: the dense entries weight j fills).
        const nz: [number, number][][] = Array.from({ length: P }, () => []);
        for (let a = 0; a < Pd; a++) for (let j = 0; j < P; j++) if (JT[a * P + j] !== 0) nz[j]!.push([a, JT[a * P + j]!]);
        const tmp = new Float64Array(Pd * P); // H_dense J_T
        for (let j = 0; j < P; j++) for (const [b, v] of nz[j]!) for (let a = 0; a < Pd; a++) tmp[a * P + j] += hd[a * Pd + b]! * v;
        for (let i = 0; i < P; i++) for (const [a, v] of nz[i]!) for (let j = 0; j < P; j++) want[i * P + j] += v * tmp[a * P + j]!;
        assert.ok(maxAbs(want) > 1e-3, `${kind}: a Hessian far from zero`);
        assert.ok(relErr(HC[kind]!, want) <= 1e-12, `${kind}: ${relErr(HC[kind]!, want)}`);
      }
    });
  }
}

test('conv Hessians match finite differences (H_L of the gradient, H_F with frozen output gradients, H_O = J^T A J)', () => {
  for (const [lossName, act] of [['mse', 'linear'], ['cross-entropy', 'tanh']] as [LossName, Activation][]) {
    const c = STRIDED;
    const net = convNet(c, act, true, 13);
    const data = imageData(c, 4, 17);
    const loss = getLoss(lossName);
    const P = net.theta.length, N = data.n, K = data.k;
    const H = denseHessians(productOperator(net, data, loss), ['loss', 'outer', 'functional']);
    const th = Float64Array.from(net.theta);
    const at = (t: Float64Array): Network => ({ ...net, theta: t });
    // H_L: central differences of the exact gradient.
    const h = 1e-5, fdL = new Float64Array(P * P);
    for (let j = 0; j < P; j++) {
      const v = th[j];
      th[j] = v + h; const gp = lossAndGradient(at(th), data, loss).grad;
      th[j] = v - h; const gm = lossAndGradient(at(th), data, loss).grad;
      th[j] = v;
      for (let i = 0; i < P; i++) fdL[i * P + j] = (gp[i] - gm[i]) / (2 * h);
    }
    assert.ok(relErr(H.loss!, fdL) <= 1e-6, `${lossName}: H_L vs FD ${relErr(H.loss!, fdL)}`);
    // J by central differences of the outputs; H_O = sum_i J_i^T A_i J_i; H_F by second
    // differences of phi(theta) = sum_i g_i . f(x_i; theta), g frozen at theta.
    const out0 = forward(net, data.x, 0, N).a.at(-1)!;
    const g0 = new Float64Array(N * K);
    for (let i = 0; i < N; i++) loss.valueAndGrad(out0, data.y, i * K, K, g0);
    const J = new Float64Array(N * K * P), hj = 1e-6;
    for (let j = 0; j < P; j++) {
      const v = th[j];
      th[j] = v + hj; const fp = forward(at(th), data.x, 0, N).a.at(-1)!;
      th[j] = v - hj; const fm = forward(at(th), data.x, 0, N).a.at(-1)!;
      th[j] = v;
      for (let r = 0; r < N * K; r++) J[r * P + j] = (fp[r] - fm[r]) / (2 * hj);
    }
    const HO = outerFromJacobian(J, out0, data, loss, P);
    assert.ok(relErr(H.outer!, HO) <= 1e-6, `${lossName}: H_O vs J^T A J ${relErr(H.outer!, HO)}`);
    const phi = (t: Float64Array): number => { const o = forward(at(t), data.x, 0, N).a.at(-1)!; let s = 0; for (let r = 0; r < N * K; r++) s += g0[r] * o[r]; return s; };
    // Mixed second differences d^2 phi / (d theta_a d theta_b) at 800 seeded entries (and every
    // diagonal one): each costs four forward passes.
    const h2 = 1e-4, rng = new Rng(lossName === 'mse' ? 1 : 2, 'fd-entries');
    const pairs: [number, number][] = [...Array.from({ length: P }, (_, a): [number, number] => [a, a]), ...Array.from({ length: 800 }, (): [number, number] => [rng.int(P), rng.int(P)])];
    const at2 = (a: number, da: number, b: number, db: number): number => {
      const va = th[a]!, vb = th[b]!;
      th[a] = va + da; th[b] = th[b]! + db;
      const r = phi(th);
      th[a] = va; th[b] = vb;
      return r;
    };
    let worst = 0, scale = 0;
    for (const [a, b] of pairs) {
      const fd = (at2(a, h2, b, h2) - at2(a, h2, b, -h2) - at2(a, -h2, b, h2) + at2(a, -h2, b, -h2)) / (4 * h2 * h2);
      worst = Math.max(worst, Math.abs(H.functional![a * P + b]! - fd));
      scale = Math.max(scale, Math.abs(fd));
    }
    assert.ok(scale > 1e-2, 'H_F far from zero');
    assert.ok(worst <= 1e-5 * scale, `${lossName}: H_F vs FD ${worst / scale}`);
  }
});

test('the last-layer subspace route gives the dense route\'s nonzero eigenvalues and inertia (conv networks, every loss and activation)', async () => {
  const cases: [Case, LossName, Activation, boolean][] = [
    [EVEN, 'mse', 'linear', false], [EVEN, 'cross-entropy', 'tanh', true], [SAME, 'cosh', 'relu', true], [SAME, 'mse', 'linear', true],
  ];
  for (const [c, lossName, act, bias] of cases) {
    const net = convNet(c, act, bias, 19);
    const data = imageData(c, 3, 23);
    const P = net.theta.length;
    const dense = await hessianSpectra(net, data, lossName, ['loss', 'outer', 'functional'], { route: 'dense' });
    const fast = await hessianSpectra(net, data, lossName, ['loss', 'outer', 'functional'], { denseMaxParams: 0 });
    for (const kind of ['loss', 'outer', 'functional'] as const) {
      const d = dense[kind]!, f = fast[kind]!;
      assert.match(f.method, /^last-layer subspace \d+$/, `${kind}: ${f.method}`);
      const k = Number(f.method.split(' ').at(-1));
      assert.ok(k < P, `${kind}: subspace ${k} of P ${P}`);
      assert.equal(f.size, P);
      // The nonzero eigenvalues agree in value; the rest of the dense spectrum is rounding.
      const smax = Math.max(...Array.from(d.eigenvalues, Math.abs));
      const big = (e: Float64Array): number[] => Array.from(e).filter((v) => Math.abs(v) > 1e-9 * smax);
      assert.deepEqual(big(f.eigenvalues).length, big(d.eigenvalues).length, `${kind}: nonzero count`);
      assert.ok(maxAbsDiff(big(f.eigenvalues), big(d.eigenvalues)) <= 1e-10 * smax, `${kind}: eigenvalues`);
      const rd = rankSpectrum(d), rf = rankSpectrum(f);
      assert.deepEqual([rf.rank, rf.positive, rf.negative], [rd.rank, rd.positive, rd.negative], `${kind}: rank and inertia`);
      assert.ok(rd.rank > 0 && rd.rank < P, `${kind}: a rank below P (${rd.rank})`);
    }
  }
});

test('the memory guard and the cost model follow the route ranks.ts takes for conv networks', async () => {
  const input = { channels: 1, height: 8, width: 8 };
  // Last-layer (P 1,476, k 564) and dense (P 369) routes; a shape past 1,200 parameters whose
  // bound reaches P takes the dense route by the same lastLayerApplies in all three.
  for (const [channels, samples] of [[4, 20], [1, 20]] as const) {
    const convs: ConvLayerSpec[] = [{ channels, kernel: 3, stride: 1, padding: 'valid' }];
    const spec = convNetworkSpec(input, convs, [], 10, 'linear', false);
    const data = gaussianData(samples, 64, 10, 29);
    const net = initNetwork(spec, 'glorot', 1);
    const shape = {
      params: paramCount(spec), samples, inputDim: 64, outputs: 10, hidden: [], hessians: ['loss', 'outer', 'functional'], linear: true, bias: false as const,
      dense: false, jobs: 1, conv: convStack(input, convs),
    };
    const method = (await hessianSpectra(net, data, 'mse', ['loss'])).loss!.method;
    const lastLayer = method.startsWith('last-layer');
    assert.equal(spectrumStepBytes(shape).route.startsWith('last-layer'), lastLayer, `${channels} channels, N ${samples}: ${method}`);
    assert.equal(spectrumWork({ ...shape, loss: 'mse' }).route.startsWith('last-layer'), lastLayer);
    if (lastLayer) assert.ok(Number(method.split(' ').at(-1)) <= convRoute(shape).k, 'k within its bound');
  }
});

test('the last-layer route\'s check sees a subspace that misses part of the range (H_F\'s W_L columns left out)', () => {
  const net = convNet(EVEN, 'tanh', true, 19);
  const data = imageData(EVEN, 3, 23);
  const which = { loss: true, outer: true, functional: true };
  const smax = (t: Float64Array, n: number): number => { let m = 0; for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(t[(i * (i + 3)) / 2]!)); return m; };
  const whole = lastLayerRows(net, data, getLoss('mse'), which);
  const missing = lastLayerRows(net, data, getLoss('mse'), which, { omitColumns: true });
  assert.ok(missing.size < whole.size);
  for (const kind of ['loss', 'functional'] as const) {
    const s = smax(whole[kind]!, whole.size);
    assert.ok(whole.outside[kind]! <= SUBSPACE_CHECK * s, `${kind}: the whole subspace passes (${whole.outside[kind]! / s})`);
    assert.ok(missing.outside[kind]! > 1e-3 * s, `${kind}: the check sees what is missing (${missing.outside[kind]! / s})`);
  }
});
