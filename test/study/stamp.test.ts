/**
 * The results stamp is hashed in pieces (issue 18: at 100,000 points its text is hundreds of MB):
 * it must equal the sha256 of the whole text it stands for, JSON.stringify({ format, hrank,
 * spectra, pipeline, file, git, results: resultsJson(results), details }), for any results.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import test from 'node:test';
import fc from 'fast-check';
import { resultRows, resultsJson } from '../../src/report/results.js';
import { resultsStamp } from '../../src/study/stamp.js';
import { HRANK_VERSION } from '../../src/version.js';
import type { Results } from '../../src/engine/kinds/collect.js';
import type { Study } from '../../src/pipeline/types.js';

const cell = fc.oneof(fc.constant(null), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }));

test('resultsStamp = sha256 of the whole stamp text, for any rows, details and settings', () => {
  fc.assert(fc.property(
    fc.array(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
    fc.nat(300), fc.boolean(), fc.option(fc.boolean(), { nil: undefined }), fc.option(fc.record({ commit: fc.string(), dirty: fc.boolean() }), { nil: null }), fc.string(),
    (columns, n, withSpectra, spectra, git, text) => {
      const rows = Array.from({ length: n }, (_, i) => columns.map((_c, j) => (fc.sample(cell, { numRuns: 1, seed: i * 31 + j })[0] ?? null)));
      const details = rows.map((r, i) => ({ id: `p${i}\u{1F600}`, note: r[0] ?? null, gone: undefined }));
      const results = { columns, rows, details } as unknown as Results;
      const study = { text, file: 'x/study.yaml', report: { spectra } } as unknown as Study;
      const whole = JSON.stringify({
        format: 1, hrank: HRANK_VERSION, spectra: study.report.spectra && withSpectra, pipeline: study.text, file: path.resolve(study.file), git,
        results: resultsJson(results), details: results.details,
      });
      // results.json, now made row by row, is the text it was.
      assert.equal(resultsJson(results), JSON.stringify(resultRows(results), null, 2) + '\n');
      assert.equal(resultsStamp(study, results, git, withSpectra), createHash('sha256').update(whole).digest('hex'));
    }), { numRuns: 60 });
});
