/**
 * One Hessian, one rank: at points whose spectra have values within a decade of the tolerance
 * (flagged ambiguous: where a compression's eigenvalues used to decide differently), every route
 * gives the dense route's rank and inertia.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset } from '../../src/science/datasets/index.js';
import { PrefixChain } from '../../src/science/hessian/chain.js';
import { sliceSamples } from '../../src/science/hessian/accumulate.js';
import { getLoss } from '../../src/science/losses.js';
import { convNetworkSpec, initNetwork, networkSpec } from '../../src/science/network.js';
import type { RankResult } from '../../src/science/rank.js';
import { hessianRanks, rankSpectrum, type PointRanks } from '../../src/science/ranks.js';
import type { Dataset, HessianKind, LossName, Network } from '../../src/science/types.js';

const KINDS: HessianKind[] = ['loss', 'outer', 'functional'];

/**
 * Decades between the tolerance and the nearest eigenvalue: below ~0.01 (2%), rounding (a few
 * eps s_max) could move a value across on any route, the dense one included; such a decision
 * belongs to no route and is not compared.
 */
function margin(r: RankResult): number {
  const near = [r.smallestKept, r.largestDropped].filter((v): v is number => v !== null);
  return Math.min(Infinity, ...near.map((v) => Math.abs(Math.log10(v / r.tolerance))));
}

interface Tally { compared: number; knifeEdges: number }

function sameAsDense(label: string, dense: PointRanks, other: Partial<Record<HessianKind, RankResult>>, tally: Tally): void {
  for (const kind of KINDS) {
    const d = dense[kind]!, o = other[kind]!;
    if (margin(d) < 0.01) continue;
    tally.compared++;
    if (d.ambiguous) tally.knifeEdges++;
    assert.deepEqual([o.rank, o.positive, o.negative], [d.rank, d.positive, d.negative], `${label} ${kind} (${o.method}): nearest value ${margin(d).toFixed(3)} decades from the tolerance`);
    assert.equal(o.ambiguous, d.ambiguous, `${label} ${kind}: the flag is the spectrum's own`);
  }
}

test('the shipped sample-size study (embedded digits, hidden [10, 10], mse): chain ranks equal the dense route\'s at its flagged sizes', async () => {
  const data = loadDataset({ source: 'mnist', samples: 350, resize: 8, classes: 10 });
  const net = initNetwork(networkSpec(64, [10, 10], 10, 'linear', false), 'glorot', 1);
  const boundaries = Array.from({ length: 35 }, (_, i) => 10 * (i + 1));
  const chain = new PrefixChain(net, data, getLoss('mse'), KINDS, boundaries, { batchSize: 10 });
  const tally = { compared: 0, knifeEdges: 0 };
  // The sizes of the table (chain 577/378, 638/438, 648/448 against dense 579/379,
  // 640/440, 650/450), and one where the data leaves the formula (659 against 660).
  for (const n of [40, 150, 300, 350]) {
    chain.advanceTo(n);
    const s = chain.spectra();
    const dense = await hessianRanks(net, sliceSamples(data, 0, n), 'mse', KINDS, { route: 'dense', batchSize: 10 });
    sameAsDense(`N=${n}`, dense, Object.fromEntries(KINDS.map((k) => [k, rankSpectrum(s[k]!)])), tally);
    if (n === 150) assert.deepEqual([dense.loss!.rank, dense.outer!.rank], [640, 440]);
  }
  assert.ok(tally.knifeEdges >= 6, `knife edges compared: ${tally.knifeEdges}`);
});

/**
 * Points built on the knife edge: a Gaussian mixture with a tiny spread has a few input
 * directions of size ~spread, so a few Hessian eigenvalues sit near the tolerance (P = 288,
 * small enough for quick dense references; `denseMaxParams: 0` sends it down the subspace route).
 */
function mixture(spread: number, samples = 40): { data: Dataset; net: Network } {
  const data = loadDataset({ source: 'gaussian-mixture', samples, dim: 8, classes: 4, spread, separation: 1, seed: 3 });
  return { data, net: initNetwork(networkSpec(8, [12, 12], 4, 'linear', false), 'glorot', 1) };
}

test('small-gap points built on purpose: the subspace route (any split) gives the dense route\'s ranks and inertia', async () => {
  const tally = { compared: 0, knifeEdges: 0 };
  for (const spread of [3e-5, 1e-5, 3e-6, 1e-6, 3e-7]) {
    for (const loss of ['mse', 'cross-entropy'] as LossName[]) {
      const { data, net } = mixture(spread);
      const dense = await hessianRanks(net, data, loss, KINDS, { route: 'dense' });
      for (const parallel of [1, 3]) {
        const fast = await hessianRanks(net, data, loss, KINDS, { parallel, denseMaxParams: 0 });
        assert.match(fast.loss!.method, /^subspace \d+$/);
        sameAsDense(`spread ${spread} ${loss} parallel ${parallel}`, dense, fast, tally);
      }
    }
  }
  assert.ok(tally.knifeEdges >= 10, `knife edges compared: ${tally.knifeEdges}`);
});

test('the same points along a sample-size chain, and with another batch size: the dense route\'s ranks', async () => {
  const tally = { compared: 0, knifeEdges: 0 };
  const { data, net } = mixture(1e-6);
  for (const loss of ['mse', 'cosh'] as LossName[]) {
    const chain = new PrefixChain(net, data, getLoss(loss), KINDS, [12, 20, 32, 40], { batchSize: 7 });
    for (const n of [12, 20, 32, 40]) {
      chain.advanceTo(n);
      const s = chain.spectra();
      const part = sliceSamples(data, 0, n);
      const dense = await hessianRanks(net, part, loss, KINDS, { route: 'dense', batchSize: 5 });
      sameAsDense(`chain N=${n} ${loss}`, dense, Object.fromEntries(KINDS.map((k) => [k, rankSpectrum(s[k]!)])), tally);
      sameAsDense(`alone N=${n} ${loss}`, dense, await hessianRanks(net, part, loss, KINDS, { batchSize: 3, denseMaxParams: 0 }), tally);
    }
  }
  assert.ok(tally.knifeEdges >= 4, `knife edges compared: ${tally.knifeEdges}`);
});

/**
 * Convolutions on the knife edge: 6 x 6 images from the same kind of mixture (a few input
 * directions of size ~spread), one conv layer (3 channels, 3 x 3) into 4 outputs, P = 219;
 * `denseMaxParams: 0` sends it down the last-layer subspace route.
 */
test('conv networks at small-gap points: the last-layer subspace route gives the dense route\'s ranks and inertia', async () => {
  const tally = { compared: 0, knifeEdges: 0 };
  for (const spread of [1e-5, 1e-6, 3e-7]) {
    const data = loadDataset({ source: 'gaussian-mixture', samples: 20, dim: 36, classes: 4, spread, separation: 1, seed: 3 });
    for (const [loss, act] of [['mse', 'linear'], ['cross-entropy', 'linear'], ['mse', 'tanh']] as [LossName, 'linear' | 'tanh'][]) {
      const net = initNetwork(convNetworkSpec({ channels: 1, height: 6, width: 6 }, [{ channels: 3, kernel: 3, stride: 1, padding: 'valid' }], [], 4, act, false), 'glorot', 1);
      const dense = await hessianRanks(net, data, loss, KINDS, { route: 'dense' });
      for (const batchSize of [undefined, 7]) {
        const fast = await hessianRanks(net, data, loss, KINDS, { denseMaxParams: 0, batchSize });
        assert.match(fast.loss!.method, /^last-layer subspace \d+$/);
        sameAsDense(`conv spread ${spread} ${loss} ${act} batch ${batchSize ?? 'all'}`, dense, fast, tally);
      }
    }
  }
  assert.ok(tally.knifeEdges >= 4, `knife edges compared: ${tally.knifeEdges}`);
});
