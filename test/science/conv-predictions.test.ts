import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convStack } from '../../src/science/conv.js';
import { convDataRanks, gramRank, patchMatrix } from '../../src/science/conv-predictions.js';
import { loadMnist } from '../../src/science/datasets/mnist.js';
import { convNetworkSpec, initNetwork, paramCount } from '../../src/science/network.js';
import { CONV_REASON, CONV_SETTING_REASON, effectiveOutputs, formulaTerms, needsConvRanks, predictRanks } from '../../src/science/predictions.js';
import { hessianRanks, inputCovarianceRank } from '../../src/science/ranks.js';
import { Rng } from '../../src/science/random.js';
import type { ConvLayerSpec, Dataset, HessianKind, ImageShape, LossName } from '../../src/science/types.js';
import { gaussianData } from './helpers.js';

const KINDS: readonly HessianKind[] = ['loss', 'outer', 'functional'];

test('patchMatrix holds each sample\'s patches as the definition reads them (stride, same padding, channels)', () => {
  const input: ImageShape = { channels: 2, height: 5, width: 4 };
  const l = convStack(input, [{ channels: 3, kernel: 3, stride: 2, padding: 'same' }]).layers[0]!;
  const data = gaussianData(3, 40, 2, 1);
  const { Z, Q, D } = patchMatrix(data, l);
  assert.equal(Q, l.output.height * l.output.width);
  assert.equal(D, 2 * 9);
  for (let i = 0; i < 3; i++) for (let oy = 0; oy < l.output.height; oy++) for (let ox = 0; ox < l.output.width; ox++) {
    for (let c = 0; c < 2; c++) for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) {
      const iy = oy * 2 + ky - l.padTop, ix = ox * 2 + kx - l.padLeft;
      const inside = iy >= 0 && iy < 5 && ix >= 0 && ix < 4;
      const want = inside ? data.x[i * 40 + c * 20 + iy * 4 + ix]! : 0;
      assert.equal(Z[(i * Q + oy * l.output.width + ox) * D + (c * 3 + ky) * 3 + kx], want);
    }
  }
});

test('convDataRanks: covered rank skips pixels a stride larger than the kernel never reads; patch and feature ranks on known cases', () => {
  // 1 x 1 kernel, stride 2 on 5 x 5: 9 pixels read; N = 30 generic samples give r = 25, r_c = 9.
  const data = gaussianData(30, 25, 3, 2);
  const stack = convStack({ channels: 1, height: 5, width: 5 }, [{ channels: 2, kernel: 1, stride: 2, padding: 'valid' }]);
  const r = convDataRanks(data, stack, 'mse');
  assert.equal(inputCovarianceRank(data).rank, 25);
  assert.equal(r.coveredRank, 9);
  assert.equal(r.patchRank, 1);
  // Features: channel c is w_c times the 9 pixels: rank 9 whatever C.
  assert.equal(r.featureRank, 9);
  assert.equal(r.gradientPatchRank, 1);
  // 3 x 3 valid on 6 x 6 with 2 samples: 32 patches span R^9, and C = 1 features are the 2 samples' 16 outputs: rank 2.
  const few = gaussianData(2, 36, 4, 3);
  const s2 = convStack({ channels: 1, height: 6, width: 6 }, [{ channels: 1, kernel: 3, stride: 1, padding: 'valid' }]);
  const r2 = convDataRanks(few, s2, 'cross-entropy');
  assert.deepEqual([r2.coveredRank, r2.patchRank, r2.featureRank], [2, 9, 2]);
  // beta: the 3 (K - 1) centred gradient images' 16 patches each span R^9.
  assert.equal(r2.gradientPatchRank, 9);
  assert.equal(gramRank(new Float64Array([1, 2, 2, 4]), 2, 2), 1);
});

test('predictRanks: networks without convolutions are unchanged; conv networks outside the verified setting get a reason', () => {
  const dense = predictRanks({ inputRank: 41, outputs: 10, hidden: [10, 10], loss: 'mse', activation: 'linear', bias: false });
  const t = formulaTerms(41, 10, [10, 10], 'mse');
  assert.ok(dense.applicable);
  assert.deepEqual([dense.loss, dense.outer, dense.functional], [t.loss, t.outer, t.functional]);
  const stack = convStack({ channels: 1, height: 8, width: 8 }, [{ channels: 2, kernel: 3, stride: 1, padding: 'valid' }]);
  const two = convStack({ channels: 1, height: 8, width: 8 }, [{ channels: 2, kernel: 3, stride: 1, padding: 'valid' }, { channels: 2, kernel: 3, stride: 1, padding: 'valid' }]);
  const convRanks = { coveredRank: 41, patchRank: 9, featureRank: 41, gradientPatchRank: 9 };
  const base = { inputRank: 41, outputs: 10, hidden: [] as number[], loss: 'mse' as LossName, activation: 'linear' as const, bias: false as const, conv: stack };
  assert.deepEqual(predictRanks(base), { applicable: false, reason: CONV_REASON });
  assert.ok(needsConvRanks(base));
  for (const changed of [{ hidden: [5] }, { conv: two }, { bias: 'first' as const, augmentedInputRank: 42 }, { activation: 'relu' as const }]) {
    assert.ok(!needsConvRanks({ ...base, ...changed }));
    assert.deepEqual(predictRanks({ ...base, convRanks, ...changed }), { applicable: false, reason: CONV_SETTING_REASON });
    assert.deepEqual(predictRanks({ ...base, ...changed }), { applicable: false, reason: CONV_SETTING_REASON });
  }
  const p = predictRanks({ ...base, convRanks });
  assert.ok(p.applicable && p.kind === 'exact');
  assert.deepEqual([p.loss, p.outer, p.functional], [null, 410, 2 * 2 * 9]);
  const low = predictRanks({ ...base, convRanks: { ...convRanks, featureRank: 36 }, loss: 'cross-entropy' });
  assert.ok(low.applicable);
  assert.deepEqual([low.loss, low.outer, low.functional], [null, null, 36]);
  assert.match(low.missing!, /H_O/);
});

interface Arch { cin: number; side: number; k: number; stride: number; padding: 'valid' | 'same'; C: number; K: number; n: number; mode: number; loss: LossName }

/** Data by mode: 0 generic, 1 low rank, 2 zero border (top row, bottom row, left column in every channel, as digits have). */
function archData(a: Arch, seed: number, rng: Rng): Dataset {
  const d = a.cin * a.side * a.side;
  const data = gaussianData(a.n, d, a.K, seed, a.mode === 1 ? { inputRank: 1 + rng.int(d) } : {});
  if (a.mode === 2) {
    for (let i = 0; i < a.n; i++) for (let c = 0; c < a.cin; c++) for (let y = 0; y < a.side; y++) for (let x = 0; x < a.side; x++) {
      if (y === 0 || x === 0 || y === a.side - 1) data.x[i * d + (c * a.side + y) * a.side + x] = 0;
    }
  }
  return data;
}

async function measure(a: Arch, dataSeed: number, netSeed: number, rng: Rng) {
  const input: ImageShape = { channels: a.cin, height: a.side, width: a.side };
  const spec: ConvLayerSpec = { channels: a.C, kernel: a.k, stride: a.stride, padding: a.padding };
  const stack = convStack(input, [spec]);
  const data = archData(a, dataSeed, rng);
  const net = initNetwork(convNetworkSpec(input, [spec], [], a.K, 'linear', false), 'glorot', netSeed);
  const convRanks = convDataRanks(data, stack, a.loss);
  const r = inputCovarianceRank(data).rank;
  const pred = predictRanks({ inputRank: r, outputs: a.K, hidden: [], loss: a.loss, activation: 'linear', bias: false, conv: stack, convRanks });
  assert.ok(pred.applicable && pred.kind === 'exact' && pred.loss === null);
  const ranks = await hessianRanks(net, data, a.loss, KINDS, { route: 'dense' });
  return { pred, ranks, convRanks, r, P: net.theta.length, Q: stack.layers[0]!.output.height * stack.layers[0]!.output.width };
}

/**
 * One conv layer straight into the outputs, linear, no bias: rank(H_F) = 2 C beta at every
 * unambiguous point, and rank(H_O) = K' r_c wherever rho_H = r_c, on random architectures
 * (1 - 3 input channels, images 3 - 7, kernels 1 - 4, strides 1 - 3 (larger than the kernel
 * too), valid and same padding, 1 - 6 channels, K 2 - 5, N from 1 to 1.5 d, generic, low-rank
 * and zero-border data, mse, cross-entropy, cosh).
 */
test('one conv layer into the outputs: the H_F and H_O formulas hold on random architectures', async () => {
  const rng = new Rng(19, 'conv-prediction-cases');
  const losses: LossName[] = ['mse', 'cross-entropy', 'cosh'];
  let checkedF = 0, checkedO = 0, ambiguous = 0, cases = 0;
  const seen = { mode0: 0, mode1: 0, mode2: 0, same: 0, skipping: 0, belowRc: 0, nBelowD: 0, nAboveD: 0 };
  for (let t = 0; cases < 110 && t < 400; t++) {
    const a: Arch = {
      loss: losses[t % 3]!, cin: 1 + rng.int(3), side: 3 + rng.int(5), k: 0, stride: 1 + rng.int(3),
      padding: rng.uniform() < 0.3 ? 'same' : 'valid', C: 1 + rng.int(6), K: 2 + rng.int(4), n: 0, mode: t % 3,
    };
    a.k = 1 + rng.int(Math.min(4, a.side));
    const d = a.cin * a.side * a.side;
    a.n = 1 + rng.int(Math.max(2, Math.floor(1.5 * d)));
    let spec;
    try { spec = convNetworkSpec({ channels: a.cin, height: a.side, width: a.side }, [{ channels: a.C, kernel: a.k, stride: a.stride, padding: a.padding }], [], a.K, 'linear', false); } catch { continue; }
    if (paramCount(spec) > 400) continue;
    cases++;
    const { pred, ranks, convRanks, P } = await measure(a, 1000 + t, 2000 + t, rng);
    assert.ok(pred.applicable);
    const at = `case ${t}: ${JSON.stringify(a)} P ${P} ${JSON.stringify(convRanks)}`;
    seen[`mode${a.mode}` as 'mode0']++;
    if (a.padding === 'same') seen.same++;
    if (a.stride > a.k) seen.skipping++;
    if (a.n < d) seen.nBelowD++; else seen.nAboveD++;
    if (ranks.functional!.ambiguous) ambiguous++;
    else { checkedF++; assert.equal(ranks.functional!.rank, pred.functional, `${at}: H_F`); }
    if (pred.outer === null) { seen.belowRc++; continue; }
    assert.equal(pred.outer, effectiveOutputs(a.K, a.loss) * convRanks.coveredRank);
    if (ranks.outer!.ambiguous) ambiguous++;
    else { checkedO++; assert.equal(ranks.outer!.rank, pred.outer, `${at}: H_O`); }
  }
  assert.ok(checkedF >= 100 && checkedO >= 60, `checked H_F ${checkedF}, H_O ${checkedO} (${ambiguous} ambiguous)`);
  assert.ok(Object.values(seen).every((v) => v > 0), JSON.stringify(seen));
});

/**
 * Where the formulas stop: the H_O candidate for rho_H < r_c,
 * K' rho_H + min(K' (r_c - rho_H), C rho - min(C, rho)^2), and the H_L candidate
 * rank(H_O) + rank(H_F) - 1 (what 8 x 8 digits show for C >= 2) each miss at unambiguous points.
 */
test('the H_O candidate below r_c and the H_L candidate fail at unambiguous points (so neither ships)', async () => {
  const rng = new Rng(5, 'unused');
  // Zero-border data, 2 x 2 outputs of a stride-2 3 x 3 kernel: the candidate says 144, H_O is 128.
  const a: Arch = { cin: 3, side: 5, k: 3, stride: 2, padding: 'valid', C: 4, K: 5, n: 44, mode: 2, loss: 'cross-entropy' };
  const { ranks, convRanks } = await measure(a, 1178, 2178, rng);
  const kp = effectiveOutputs(a.K, a.loss), { coveredRank: rc, featureRank: rh, patchRank: rho } = convRanks;
  assert.ok(rh < rc);
  const candidate = kp * rh + Math.min(kp * (rc - rh), a.C * rho - Math.min(a.C, rho) ** 2);
  assert.ok(!ranks.outer!.ambiguous);
  assert.notEqual(ranks.outer!.rank, candidate, `H_O ${ranks.outer!.rank}, candidate ${candidate}`);
  // H_L: generic data, 2 channels, K' = 2: rank(H_L) = rank(H_O) + rank(H_F) - 4 here, not - 1.
  const b: Arch = { cin: 2, side: 3, k: 3, stride: 1, padding: 'valid', C: 2, K: 2, n: 6, mode: 0, loss: 'cosh' };
  const m = await measure(b, 1026, 2026, rng);
  assert.ok(!m.ranks.loss!.ambiguous && !m.ranks.outer!.ambiguous && !m.ranks.functional!.ambiguous);
  assert.notEqual(m.ranks.loss!.rank, m.ranks.outer!.rank + m.ranks.functional!.rank - 1);
  assert.ok(m.ranks.loss!.rank < m.P);
});

/** The channel study at its first points: 8 x 8 digits, N 100, 3 x 3 valid, mse and cross-entropy. */
test('8 x 8 digits, one 3 x 3 conv layer: H_F = 2 C beta for C 1 and 2, H_O = K\' r_c for C 2 (rho_H = r_c), none for C 1', async () => {
  const data = loadMnist({ samples: 100, classes: 10, resize: 8 });
  const input = { channels: 1, height: 8, width: 8 };
  for (const loss of ['mse', 'cross-entropy'] as LossName[]) {
    for (const C of [1, 2]) {
      const convs: ConvLayerSpec[] = [{ channels: C, kernel: 3, stride: 1, padding: 'valid' }];
      const stack = convStack(input, convs);
      const convRanks = convDataRanks(data, stack, loss);
      const r = inputCovarianceRank(data).rank;
      const pred = predictRanks({ inputRank: r, outputs: 10, hidden: [], loss, activation: 'linear', bias: false, conv: stack, convRanks });
      assert.ok(pred.applicable);
      const net = initNetwork(convNetworkSpec(input, convs, [], 10, 'linear', false), 'glorot', 7 + C);
      const ranks = await hessianRanks(net, data, loss, ['outer', 'functional']);
      const at = `${loss} C ${C} ${JSON.stringify(convRanks)} r ${r}`;
      assert.equal(convRanks.coveredRank, r, at);
      assert.ok(!ranks.functional!.ambiguous, at);
      assert.equal(ranks.functional!.rank, pred.functional, at);
      if (C === 1) { assert.equal(pred.outer, null, at); continue; }
      assert.ok(!ranks.outer!.ambiguous, at);
      assert.equal(ranks.outer!.rank, pred.outer, at);
    }
  }
});
