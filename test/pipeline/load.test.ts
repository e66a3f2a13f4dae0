/** Problems of pipeline files: codes, dotted paths, lines and columns, hints. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PipelineError } from '../../src/pipeline/errors.js';
import { loadPipeline, loadStudy, parsePipeline } from '../../src/pipeline/load.js';
import { FILE, HEAD, assertAt, onlyProblem, problemsOf, studyOf, yaml } from './helpers.js';

const fixtures = fileURLToPath(new URL('../fixtures/pipelines/', import.meta.url));

describe('keys', () => {
  it('an unknown key is an error at the key itself', () => {
    const p = onlyProblem(yaml(...HEAD, 'colour: red'));
    assertAt(p, 9, 1, 'unknown-key', 'colour');
    assert.match(p.message, /unknown key 'colour' at the top level; allowed keys: version, name, /);
    assert.equal(p.hint, undefined);
    assert.deepEqual(p.excerpt, { text: 'colour: red', width: 6 });
  });

  it('a misspelt key gets a did-you-mean hint', () => {
    const p = onlyProblem(yaml(...HEAD, '  activaton: relu'));
    assertAt(p, 9, 3, 'unknown-key', 'model.activaton');
    assert.match(p.message, /allowed keys: hidden, width, depth, layers, activation, bias, init$/);
    assert.equal(p.hint, "did you mean 'activation'?");
  });

  it('a key in the wrong section says where it belongs', () => {
    const p = onlyProblem(yaml(...HEAD, 'activation: relu'));
    assertAt(p, 9, 1, 'unknown-key', 'activation');
    assert.equal(p.hint, "'activation' belongs in model");
  });

  it('a key of another dataset source names that source', () => {
    const p = onlyProblem(yaml(...HEAD.slice(0, 5), '  dim: 16', ...HEAD.slice(5)));
    assertAt(p, 6, 3, 'unknown-key', 'dataset.dim');
    assert.match(p.message, /in dataset \(source mnist\)/);
    assert.equal(p.hint, "'dim' is a setting of source gaussian-mixture");
  });

  it('a missing required key is reported at its parent', () => {
    const p = onlyProblem(yaml('version: 1', 'name: study', 'dataset:', '  source: mnist', 'model: {width: 4, depth: 2}'));
    assertAt(p, 3, 1, 'missing-key', 'dataset.samples');
    assert.match(p.message, /missing key 'samples' in dataset .*expected an integer >= 1/);
  });

  it('a missing top-level key points at the first key of the file', () => {
    const p = onlyProblem(yaml('# a comment', 'version: 1', 'dataset: {source: mnist, samples: 20}', 'model: {hidden: [4]}'));
    assertAt(p, 2, 1, 'missing-key', 'name');
  });

  it('keys required by one source only', () => {
    const p = onlyProblem(yaml('version: 1', 'name: s', 'dataset:', '  source: idx', '  samples: 20', '  labels: l.idx', 'model: {hidden: [4]}'));
    assertAt(p, 3, 1, 'missing-key', 'dataset.images');
    assert.match(p.message, /required for source idx/);
  });

  it('a model needs hidden, or width and depth (one problem when neither)', () => {
    const p = onlyProblem(yaml('version: 1', 'name: s', 'dataset: {source: mnist, samples: 20}', 'model:', '  activation: relu'));
    assertAt(p, 4, 1, 'missing-key', 'model.width');
    assert.match(p.message, /needs either 'hidden' .* or both 'width' and 'depth' .*found neither/);
    const q = onlyProblem(yaml('version: 1', 'name: s', 'dataset: {source: mnist, samples: 20}', 'model:', '  width: 4'));
    assertAt(q, 4, 1, 'missing-key', 'model.depth');
    assert.match(q.message, /'depth' is missing/);
  });

  it('hidden together with width is a conflict', () => {
    const p = onlyProblem(yaml(...HEAD.slice(0, 6), '  hidden: [4, 4]', '  width: 4'));
    assertAt(p, 8, 3, 'conflict', 'model.width');
  });

  it('a duplicate key is reported at its second place, naming the first', () => {
    const p = onlyProblem(yaml(...HEAD, '  width: 8'));
    assertAt(p, 9, 3, 'duplicate-key', 'model.width');
    assert.match(p.message, /key 'width' appears twice in model \(first at line 7\)/);
  });
});

describe('values', () => {
  it('a value of the wrong type', () => {
    const p = onlyProblem(yaml(...HEAD.slice(0, 4), '  samples: ten', ...HEAD.slice(5)));
    assertAt(p, 5, 12, 'bad-type', 'dataset.samples');
    assert.equal(p.message, "expected an integer, found the string 'ten'");
    const q = onlyProblem(yaml(...HEAD.slice(0, 4), '  samples: 2.5', ...HEAD.slice(5)));
    assert.equal(q.message, 'expected an integer, found 2.5');
    const r = onlyProblem(yaml(...HEAD.slice(0, 4), '  samples: "20"', ...HEAD.slice(5)));
    assert.equal(r.hint, 'remove the quotes to make it a number');
  });

  it('a number where a string belongs suggests quotes', () => {
    const p = onlyProblem(yaml('version: 1', 'name: 2024', ...HEAD.slice(2)));
    assertAt(p, 2, 7, 'bad-type', 'name');
    assert.equal(p.hint, 'put it in quotes: "2024"');
  });

  it('an empty section is a type error at its key', () => {
    const p = onlyProblem(yaml(...HEAD.slice(0, 5), 'model:'));
    assertAt(p, 6, 1, 'bad-type', 'model');
    assert.match(p.message, /expected a mapping, found nothing/);
  });

  it('a value outside its enum, with a suggestion', () => {
    const p = onlyProblem(yaml(...HEAD, '  activation: rleu'));
    assertAt(p, 9, 15, 'bad-value', 'model.activation');
    assert.equal(p.message, "found 'rleu'; allowed: 'linear', 'relu', 'tanh', 'sigmoid', 'elu', 'leaky_relu'");
    assert.equal(p.hint, "did you mean 'relu'?");
    assert.equal(onlyProblem(yaml(...HEAD, 'loss: cross_entropy')).hint, "did you mean 'cross-entropy'?");
    assert.equal(onlyProblem(yaml(...HEAD, 'loss: mes')).hint, "did you mean 'mse'?");
    assert.equal(onlyProblem(yaml(...HEAD, 'loss: hinge')).hint, undefined);
  });

  it('an unknown dataset source, with a suggestion', () => {
    const p = onlyProblem(yaml(...HEAD.slice(0, 3), '  source: minst', ...HEAD.slice(4)));
    assertAt(p, 4, 11, 'bad-value', 'dataset.source');
    assert.match(p.message, /allowed: 'mnist', 'idx', 'cifar10', 'gaussian-mixture'/);
    assert.equal(p.hint, "did you mean 'mnist'?");
  });

  it('numbers out of range', () => {
    const p = onlyProblem(yaml(...HEAD.slice(0, 5), '  classes: 11', ...HEAD.slice(5)));
    assertAt(p, 6, 12, 'bad-value', 'dataset.classes');
    assert.equal(p.message, 'found 11; must be an integer between 2 and 10');
    const q = onlyProblem(yaml(...HEAD.slice(0, 6), '  width: 0', '  depth: 2'));
    assert.equal(q.message, 'found 0; must be an integer >= 1');
  });

  it('the version is 1', () => {
    const p = onlyProblem(yaml('version: 2', ...HEAD.slice(1)));
    assertAt(p, 1, 10, 'bad-value', 'version');
    assert.equal(p.message, 'found 2; must be 1');
  });

  it('a name that is not a safe folder name', () => {
    for (const name of ['a/b', '../up', '.hidden', 'with space', '"a\\\\b"']) {
      const p = onlyProblem(yaml('version: 1', `name: ${name}`, ...HEAD.slice(2)));
      assertAt(p, 2, 7, 'bad-value', 'name');
      assert.match(p.message, /expected letters, digits, '\.', '_' and '-', starting with a letter or digit/);
    }
    studyOf(yaml('version: 1', 'name: Rank-vs_width.v2', ...HEAD.slice(2)));
  });

  it('a Hessian listed twice points at the second', () => {
    const p = onlyProblem(yaml(...HEAD, 'hessians: [loss, outer, loss]'));
    assertAt(p, 9, 25, 'bad-value', 'hessians[2]');
  });

  it('infinities are not numbers', () => {
    const p = onlyProblem(yaml(...HEAD.slice(0, 4), '  samples: .inf', ...HEAD.slice(5)));
    assertAt(p, 5, 12, 'bad-type', 'dataset.samples');
  });
});

describe('sweep problems', () => {
  it('a bad value deep in a list is reported at that item', () => {
    const p = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: [4, 8, 0, 16]'));
    assertAt(p, 10, 23, 'bad-sweep', 'sweep.model.width[2]');
    assert.equal(p.message, 'value for model.width: found 0; must be an integer >= 1');
  });

  it('a bad value inside a swept list is reported at its own position', () => {
    const text = yaml(...HEAD.slice(0, 6), '  hidden: [4, 4]', 'sweep:', '  model.hidden: [[8, 8], [8, -1]]');
    const p = onlyProblem(text);
    assertAt(p, 9, 30, 'bad-sweep', 'sweep.model.hidden[1][1]');
    assert.match(p.message, /^value for model.hidden\[1\]: found -1; must be an integer >= 1$/);
  });

  it('a bad value in a block list gets the enum suggestion', () => {
    const p = onlyProblem(yaml(...HEAD, 'sweep:', '  loss:', '    - mse', '    - cosh', '    - mes'));
    assertAt(p, 13, 7, 'bad-sweep', 'sweep.loss[2]');
    assert.equal(p.hint, "did you mean 'mse'?");
  });

  it('zip needs axes of equal length', () => {
    const p = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: [4, 8, 16]', '  seed: [1, 2]', '  mode: zip'));
    assertAt(p, 11, 3, 'bad-sweep', 'sweep.seed');
    assert.match(p.message, /^has 2 values but 'model.width' has 3 values; mode: zip pairs the axes element-wise/);
  });

  it('an axis that is not a path of the file, with a suggestion', () => {
    const p = onlyProblem(yaml(...HEAD, 'sweep:', '  model.widht: [4, 8]'));
    assertAt(p, 10, 3, 'bad-sweep', 'sweep.model.widht');
    assert.equal(p.hint, "did you mean 'model.width'?");
    assert.equal(onlyProblem(yaml(...HEAD, 'sweep:', '  sample: [4, 8]')).hint, undefined);
    assert.match(onlyProblem(yaml(...HEAD, 'sweep:', '  model..width: [4]')).message, /not a dotted path/);
  });

  it('axes that cannot be swept', () => {
    assert.match(onlyProblem(yaml(...HEAD, 'sweep:', '  name: [a, b]')).message, /'name' cannot be swept: it names the results folder/);
    assert.match(onlyProblem(yaml(...HEAD, 'sweep:', '  model: [a, b]')).message, /'model' is a section; sweep one of its settings: model.hidden, model.width/);
    assert.match(onlyProblem(yaml(...HEAD, 'sweep:', '  seed.x: [1]')).message, /'seed' is a single value/);
    const dim = onlyProblem(yaml(...HEAD, 'sweep:', '  dataset.dim: [4, 8]'));
    assertAt(dim, 10, 3, 'bad-sweep', 'sweep.dataset.dim');
    assert.match(dim.message, /does not apply to source 'mnist'; it is a setting of source gaussian-mixture/);
  });

  it('sweeping model.width needs the width/depth form', () => {
    const p = onlyProblem(yaml(...HEAD.slice(0, 6), '  hidden: [10, 10]', 'sweep:', '  model.width: [4, 8]'));
    assertAt(p, 9, 3, 'bad-sweep', 'sweep.model.width');
    assert.match(p.message, /needs the width\/depth form/);
    const q = onlyProblem(yaml(...HEAD, 'sweep:', '  model.hidden: [[4], [8]]'));
    assert.match(q.message, /needs the hidden form/);
  });

  it('list items must exist to be swept', () => {
    const p = onlyProblem(yaml(...HEAD.slice(0, 6), '  hidden: [10, 10]', 'sweep:', '  model.hidden.2: [4, 8]'));
    assert.match(p.message, /model.hidden has 2 items; there is no item 2/);
  });

  it('bad ranges', () => {
    const down = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: {from: 8, to: 4}'));
    assertAt(down, 10, 16, 'bad-sweep', 'sweep.model.width');
    assert.match(down.message, /'to' \(4\) is below 'from' \(8\)/);
    const big = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: {from: 1, to: 200000}'));
    assert.match(big.message, /the range has 200000 values; at most 100000 allowed/);
    const zero = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: {from: 1, to: 4, step: 0}'));
    assertAt(zero, 10, 39, 'bad-value', 'sweep.model.width.step');
    assert.equal(zero.message, 'found 0; must be a number > 0');
    const neg = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: {from: 1, to: 4, step: -1}'));
    assert.equal(neg.code, 'bad-value');
    const typo = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: {from: 1, to: 4, stpe: 1}'));
    assertAt(typo, 10, 33, 'unknown-key', 'sweep.model.width.stpe');
    assert.equal(typo.hint, "did you mean 'step'?");
  });

  it('a range whose values do not fit the target names the first bad value', () => {
    const p = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: {from: 0, to: 2, step: 0.5}'));
    assertAt(p, 10, 16, 'bad-sweep', 'sweep.model.width');
    assert.equal(p.message, 'model.width = 0 (value 1 of 5 of the range): found 0; must be an integer >= 1 (2 more values of the range fail too)');
  });

  it('a sweep value that is neither a list nor a range', () => {
    const p = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: 4'));
    assertAt(p, 10, 16, 'bad-type', 'sweep.model.width');
    assert.equal(p.message, 'expected a list of values or a range {from, to, step}, found the number 4');
    const q = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: []'));
    assert.equal(q.message, 'found an empty list; give at least 1 item');
  });

  it('a value listed twice in a grid axis', () => {
    const p = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: [1, 2, 1.0]'));
    assertAt(p, 10, 23, 'bad-sweep', 'sweep.model.width[2]');
    assert.match(p.message, /^1 is listed twice \(items 1 and 3\)/);
  });

  it('a repeated point in a zip', () => {
    const p = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: [4, 8, 4]', '  seed: [1, 2, 1]', '  mode: zip'));
    assertAt(p, 10, 23, 'bad-sweep', 'sweep.model.width[2]');
    assert.match(p.message, /point 3 \(model.width=4,seed=1\) repeats point 1/);
  });

  it('a swept value that breaks another part of the file', () => {
    const [images, labels, ...rest] = problemsOf(yaml(...HEAD, 'sweep:', '  dataset.source: [mnist, idx]'));
    assert.equal(rest.length, 0);
    assertAt(images!, 10, 3, 'bad-sweep', 'sweep.dataset.source');
    assert.match(images!.message, /^with dataset.source = 'idx': dataset.images: missing key 'images'/);
    assertAt(labels!, 10, 3, 'bad-sweep', 'sweep.dataset.source');
    assert.match(labels!.message, /^with dataset.source = 'idx': dataset.labels: missing key 'labels'/);
  });

  it('the mode is grid or zip', () => {
    const p = onlyProblem(yaml(...HEAD, 'sweep:', '  seed: [1, 2]', '  mode: zipp'));
    assertAt(p, 11, 9, 'bad-value', 'sweep.mode');
    assert.equal(p.hint, "did you mean 'zip'?");
  });

  it("a plot's x must be a sweep axis", () => {
    const p = onlyProblem(yaml(...HEAD, 'sweep:', '  model.width: [4, 8]', 'report:', '  plots:', '    - x: model.widht'));
    assertAt(p, 13, 10, 'bad-reference', 'report.plots[0].x');
    assert.equal(p.hint, "did you mean 'model.width'?");
    const q = onlyProblem(yaml(...HEAD, 'report:', '  plots: [{x: seed}]'));
    assert.match(q.message, /the file has no sweep/);
  });

  it('a misnamed axis is not reported again by the plots that use it', () => {
    const problems = problemsOf(yaml(...HEAD, 'sweep:', '  model.widht: [4, 8]', 'report:', '  plots: [{x: model.widht}]'));
    assert.deepEqual(problems.map((p) => p.code), ['bad-sweep']);
  });
});

describe('YAML', () => {
  it('a syntax error has its line and column', () => {
    const p = onlyProblem(yaml('version: 1', 'name: study', 'model: [4, 8', 'dataset: {}'));
    assertAt(p, 4, 1, 'yaml-syntax', '');
    assert.match(p.message, /Flow sequence .* end with a \] \(YAML\)$/);
  });

  it('tabs and multiple documents', () => {
    assertAt(onlyProblem(yaml('version: 1', 'name: study', '\tmodel: {}')), 3, 1, 'yaml-syntax', '');
    const docs = onlyProblem(yaml(...HEAD, '---', 'version: 1'));
    assertAt(docs, 9, 1, 'yaml-syntax', '');
    assert.match(docs.message, /single YAML document/);
  });

  it('an empty file or a file that is not a mapping', () => {
    assertAt(onlyProblem(''), 1, 1, 'bad-type', '');
    assert.match(onlyProblem('- 1\n- 2\n').message, /found a list; expected a mapping/);
  });
});

describe('all problems at once', () => {
  it('reports every problem of a file, in file order', async () => {
    const result = await loadPipeline(join(fixtures, 'many-problems.yaml'));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(
      result.problems.map((p) => `${p.line}:${p.column} ${p.code} ${p.path}`),
      [
        '2:7 bad-value name',
        '5:12 bad-type dataset.samples',
        '9:3 unknown-key model.activaton',
        '10:7 bad-value loss',
        '12:23 bad-sweep sweep.model.width[2]',
        '13:3 bad-sweep sweep.seed',
      ],
    );
    assert.ok(result.problems.every((p) => p.file === join(fixtures, 'many-problems.yaml')));
    assert.ok(result.error instanceof PipelineError);
    assert.equal(result.error.problems, result.problems);
    assert.match(result.error.message, /^6 problems in .*many-problems.yaml:\n/);
  });

  it('loadStudy throws the PipelineError', async () => {
    await assert.rejects(loadStudy(join(fixtures, 'many-problems.yaml')), (err: unknown) => err instanceof PipelineError && err.problems.length === 6);
  });

  it('an unreadable file is a problem without a position', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hrank-pipeline-'));
    try {
      const missing = join(dir, 'nope.yaml');
      const result = await loadPipeline(missing);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.deepEqual(result.problems.map((p) => [p.code, p.line, p.column]), [['unreadable-file', 0, 0]]);
      assert.match(result.problems[0]?.message ?? '', /no such file/);
      const folder = await loadPipeline(dir);
      assert.match(folder.ok ? '' : (folder.problems[0]?.message ?? ''), /folder/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a valid file parses from text as from disk', async () => {
    const loaded = await loadPipeline(join(fixtures, 'width.yaml'));
    assert.equal(loaded.ok, true);
    const parsed = parsePipeline('version: 1\nname: x\ndataset: {source: mnist, samples: 1}\nmodel: {hidden: [1]}\n', FILE);
    assert.equal(parsed.ok, true);
  });
});

describe('robustness', () => {
  it('never throws, and every problem has a position, whatever the file holds', async () => {
    const { default: fc } = await import('fast-check');
    const { stringify } = await import('yaml');
    const keys = ['version', 'name', 'dataset', 'model', 'loss', 'sweep', 'report', 'source', 'samples', 'hidden', 'width', 'depth', 'mode', 'from', 'to', 'step', 'model.width', 'model.hidden.0', 'dataset.source', 'plots', 'x'];
    const leaf = fc.oneof(fc.integer({ min: -3, max: 12 }), fc.constantFrom('mnist', 'idx', 'mse', 'zip', 'model.width', 'relu'), fc.boolean(), fc.constant(null), fc.double());
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(fc.constantFrom(...keys), tie('value'), { maxKeys: 4 })),
    }));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 6 }), (extra) => {
        const text = stringify({ version: 1, name: 'x', dataset: { source: 'mnist', samples: 3 }, model: { hidden: [2] }, ...extra });
        const result = parsePipeline(text, FILE);
        if (!result.ok) for (const p of result.problems) assert.ok(p.line >= 1 && p.column >= 1, JSON.stringify(p));
      }),
      { numRuns: 300, seed: 42 },
    );
    const valid = yaml(...HEAD, 'sweep:', '  model.width: [4, 8]', '  seed: {from: 1, to: 2}', '  mode: zip', 'report:', '  plots: [{x: seed}]');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length }), fc.string({ maxLength: 3 }), (at, insert) => {
        parsePipeline(valid.slice(0, at) + insert + valid.slice(at), FILE);
      }),
      { numRuns: 500, seed: 42 },
    );
  });
});
