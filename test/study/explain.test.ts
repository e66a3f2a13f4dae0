/**
 * The shipped studies run, and `hrank explain` agrees with their results rows: every file under
 * pipelines/examples/ (each demonstrates a formula of docs/theory.md and runs in seconds), the
 * quick start and the nonlinear width study. Each is copied to a temp folder first, so no lock
 * file lands in the repository. The studies share one cache (steps they have in common are computed
 * once), and each is run once: the last test reads, then edits, the copy of bias-first.yaml the
 * loop ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/cli.js';
import type { Cell, PointDetail, Results } from '../../src/engine/kinds/collect.js';
import { reportTable } from '../../src/report/table.js';
import { resultDerivations } from '../../src/report/derivation.js';
import { loadStudy } from '../../src/pipeline/index.js';
import { explainStudy } from '../../src/study/explain.js';
import { runStudy } from '../../src/study/study.js';
import { captureIO } from '../cli/helpers.js';
import { tempDir } from '../engine/helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLES = path.join(ROOT, 'pipelines/examples');
const KINDS = ['loss', 'outer', 'functional'] as const;

const shipped = [
  ...readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(EXAMPLES, f)),
  path.join(ROOT, 'pipelines/quickstart.yaml'),
  path.join(ROOT, 'pipelines/nonlinear.yaml'),
];

// One cache for the whole file; each shipped study run once, by whichever test first needs it.
const WORK = tempDir();
const CACHE = path.join(WORK, 'cache');
const RESULTS = path.join(WORK, 'results');
type Ran = { file: string; run: Awaited<ReturnType<typeof runStudy>> };
const runs = new Map<string, Promise<Ran>>();
function ranStudy(original: string): Promise<Ran> {
  let r = runs.get(original);
  if (!r) {
    const file = path.join(WORK, path.basename(original));
    copyFileSync(original, file);
    r = runStudy(file, { cache: CACHE, results: RESULTS, jobs: 2 }).then((run) => ({ file, run }));
    runs.set(original, r);
  }
  return r;
}
test('there are examples to run', () => {
  assert.ok(shipped.length >= 8, shipped.join(', '));
});

for (const original of shipped) {
  test(`${path.relative(ROOT, original)} runs, and hrank explain agrees with its results rows`, async () => {
    const { file, run } = await ranStudy(original);
    const results = RESULTS;
    assert.ok(run.run.ok, `${original} failed`);
    const rows = JSON.parse(readFileSync(path.join(run.dir, 'results.json'), 'utf8')) as Record<string, Cell>[];
    const details = JSON.parse(readFileSync(path.join(run.dir, 'details.json'), 'utf8')) as PointDetail[];
    const columns = Object.keys(rows[0]!);
    const asResults: Results = { columns, rows: rows.map((r) => columns.map((c) => r[c] ?? null)), details };
    const study = await loadStudy(file);
    const table = reportTable(study, asResults);
    const ex = await explainStudy(file, { results });
    // report.html: one derivation per point, the same as explain's (from the rows alone).
    const html = readFileSync(path.join(run.dir, 'report.html'), 'utf8');
    const fromRows = resultDerivations(study, asResults);
    assert.equal(fromRows.length, rows.length);
    fromRows.forEach((d, i) => {
      const x = ex.points[i]!;
      assert.ok(html.includes(`<details class="derivation" data-point="${d.point.replace(/"/g, '&quot;')}">`), `report.html has ${d.point}`);
      assert.deepEqual({ r: d.r, q: d.q, s: d.s, kp: d.k_prime, f: d.formulas, p: d.prediction, m: d.measured, a: d.assumptions },
        { r: x.r, q: x.q, s: x.s, kp: x.k_prime, f: x.formulas, p: x.prediction, m: x.measured, a: x.assumptions }, d.point);
    });
    assert.equal(ex.results, path.resolve(run.dir));
    assert.equal(ex.points.length, rows.length);
    ex.points.forEach((d, i) => {
      const row = rows[i]!, detail = details[i]!;
      const at = `${path.basename(file)} ${d.point}`;
      assert.equal(d.point, detail.id);
      assert.equal(d.setting.params, row.params, `${at}: P`);
      assert.equal(d.input_rank.rank, row.rank_input_cov, `${at}: r`);
      assert.notEqual(row.pred_kind, null, `${at}: every shipped point has a prediction of some Hessian`);
      assert.equal(d.prediction.kind, row.pred_kind, `${at}: kind`);
      assert.equal(d.r.value, detail.prediction.input_rank, `${at}: the r of the formulas`);
      for (const k of KINDS) {
        const f = d.formulas[k];
        if (row[`pred_${k}`] === null) {
          assert.equal(f, null, `${at}: no ${k} formula without a prediction`);
          assert.ok(d.assumptions.some((a) => a.met === false && a.name === 'bias'), `${at}: explain names the failing assumption`);
        } else assert.equal(f!.value, row[`pred_${k}`], `${at}: pred_${k}`);
      }
      // The terms add up to the value they are printed beside.
      const f = d.formulas;
      const o = f.outer!; // fully connected points: H_O always has its formula
      assert.equal(o.terms.q! * o.terms["r + K' - q"]! + (o.terms.e ?? 0), o.value);
      if (f.functional) assert.equal(f.functional.terms['2 q sum(m)']! + f.functional.terms['2 q s']! - f.functional.terms['L q^2']!, f.functional.value);
      if (f.loss) assert.equal(f.loss.terms['rank(H_F)']! + f.loss.terms['rank(H_O)']! + f.loss.terms['q (q - 2 s)']!, f.loss.value);
      for (const k of KINDS) {
        const m = d.measured?.[k];
        assert.ok(m, `${at}: measured ${k}`);
        assert.equal(m.rank, row[`rank_${k}`], `${at}: rank_${k}`);
        assert.equal(m.route, detail.ranks[k]!.method);
        assert.equal(m.tolerance, detail.ranks[k]!.tolerance);
        assert.equal(m.positive + m.negative, m.rank, `${at}: inertia of ${k}`);
        const checkCol = table.columns.findIndex((c) => c.name === `check_${k}`);
        assert.equal(m.check, table.rows[i]![checkCol], `${at}: the table's check of ${k}`);
        // Exact predictions hold at every unambiguous point of the shipped studies; estimates are never = / differs.
        if (row.pred_kind === 'exact' && !m.ambiguous && row[`pred_${k}`] !== null) assert.equal(m.rank, row[`pred_${k}`], `${at}: ${k} exact`);
        if (row.pred_kind === 'estimate') assert.ok(m.check === 'ambiguous' || m.check!.startsWith('~'), `${at}: ${k} check ${m.check}`);
      }
    });
  });
}

test('hrank explain prints the derivation with the numbers, --json gives the same as data, an unknown point exits 2', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'bias-first.yaml');
  copyFileSync(path.join(EXAMPLES, 'bias-first.yaml'), file);
  const io = captureIO();
  const point = 'dataset.samples=30,model.bias=first';
  // Before any run (a results folder with nothing in it).
  assert.equal(await main(['explain', file, '--point', point, '--results', path.join(dir, 'results')], io), 0, io.stderr());
  const text = io.stdout();
  assert.match(text, /measurements none yet/);
  assert.match(text, /rank\(\[X 1\]\^T \[X 1\]\) = 11/);
  assert.match(text, /r {2}= 11: the augmented rank/);
  assert.match(text, /rank\(H_O\) = q \(r \+ K' - q\)\n {13}= 4 \(11 \+ 4 - 4\) = 44/);
  assert.match(text, /not run yet/);
  const json = captureIO();
  assert.equal(await main(['explain', file, '--point', point, '--json', '--results', path.join(dir, 'results')], json), 0);
  const data = JSON.parse(json.stdout()) as { points: { r: { value: number }; formulas: { outer: { value: number } } }[] };
  assert.equal(data.points.length, 1);
  assert.equal(data.points[0]!.r.value, 11);
  assert.equal(data.points[0]!.formulas.outer.value, 44);
  const bad = captureIO();
  assert.equal(await main(['explain', file, '--point', 'model.width=3'], bad), 2);
  assert.match(bad.stderr(), /has no point 'model.width=3'; its points: dataset.samples=6,model.bias=false/);
  // Run (the shared run of this file), then edit the file: the measurements of the old version are
  // not shown beside the new derivation.
  const ran = await ranStudy(path.join(EXAMPLES, 'bias-first.yaml'));
  assert.ok(ran.run.run.ok);
  const fresh = await explainStudy(ran.file, { results: RESULTS, points: [point] });
  assert.equal(fresh.points[0]!.measured?.outer?.rank, 44);
  appendFileSync(ran.file, '# edited\n');
  const stale = captureIO();
  assert.equal(await main(['explain', ran.file, '--point', point, '--results', RESULTS], stale), 0);
  assert.match(stale.stderr(), /holds the results of another version/);
  assert.match(stale.stdout(), /measurements none \(the results folder is stale\)/);
  assert.doesNotMatch(stale.stdout(), /route /);
  // A bias in every layer: H_O only, and explain says which assumption fails for H_F and H_L.
  const all = captureIO();
  assert.equal(await main(['explain', ran.file, '--point', 'dataset.samples=30,model.bias=true', '--results', RESULTS], all), 0);
  assert.match(all.stdout(), /rank\(H_O\) = q \(r \+ K' - q\) \+ e.*\n {13}= 4 \(10 \+ 4 - 4\) \+ 4 \(r1 = r \+ 1/);
  assert.match(all.stdout(), /rank\(H_F\): no verified formula with a bias in every layer/);
  assert.match(all.stdout(), /NOT met {2}bias: bias in every layer: H_O has a derived and verified formula; no formula for H_F and H_L/);
});
