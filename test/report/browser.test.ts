/**
 * report.html in a real browser: Debian's chromium, driven headless by playwright-core, loads the
 * file from disk. No console error, no network request but the file itself, every plot drawn
 * (an SVG with marks per plot), the table as long as the results; hovering a point shows its
 * values. Skipped, loudly, only when /usr/bin/chromium is missing (.ci/run installs it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { PALETTE } from '../../src/report/html.js';
import { runFixture, type Fixture } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const missing = !existsSync(CHROMIUM);

let fx: Fixture | undefined;
let browser: Browser | undefined;

before(async () => {
  if (missing) return;
  [fx, browser] = await Promise.all([runFixture(), chromium.launch({ executablePath: CHROMIUM, args: ARGS })]);
});
after(async () => {
  await browser?.close();
  if (fx) rmSync(fx.root, { recursive: true, force: true });
});

test('report.html in chromium: no console error, no network, every plot drawn, the whole table', async (t) => {
  if (missing) {
    const why = `chromium not installed: ${CHROMIUM} is missing (apt-get install -y chromium); the report.html browser test did NOT run`;
    console.warn(`\n${'!'.repeat(100)}\n!!! SKIPPED: ${why}\n${'!'.repeat(100)}\n`);
    t.skip(why);
    return;
  }
  const file = path.join(fx!.run.dir, 'report.html');
  const url = pathToFileURL(file).href;
  const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));

  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('body[data-plots-rendered], body[data-plots-failed]', { timeout: 15_000 });
  assert.equal(await page.getAttribute('body', 'data-plots-failed'), null);

  // Every plot container holds an SVG with marks: rank figures lines and dots, spectra lines and rules.
  const plots = await page.$$eval('figure.plot', (figs) => figs.map((f) => ({
    id: f.getAttribute('data-plot'),
    kind: f.getAttribute('data-kind'),
    rendered: f.querySelector('.vega')?.getAttribute('data-rendered') === 'true',
    svgs: f.querySelectorAll('.vega svg').length,
    lines: f.querySelectorAll('.vega svg g.mark-line.role-mark path').length,
    dots: f.querySelectorAll('.vega svg g.mark-symbol.role-mark.predicted_marks path').length,
    rules: f.querySelectorAll('.vega svg g.mark-rule.role-mark[class*="tolerance_"] line').length,
  })));
  assert.equal(plots.length, 2 + 4, JSON.stringify(plots));
  assert.equal(await page.getAttribute('body', 'data-plots-rendered'), String(plots.length));
  for (const p of plots) {
    assert.ok(p.rendered, `${p.id} rendered`);
    assert.equal(p.svgs, 1, `${p.id}: one svg`);
    if (p.kind === 'ranks') {
      assert.equal(p.lines, 2 * 3, `${p.id}: a line per panel and Hessian`);
      assert.equal(p.dots, 4 * 3, `${p.id}: a dot per prediction`);
    } else {
      assert.equal(p.lines, 3, `${p.id}: a spectrum per Hessian`);
      assert.equal(p.rules, 3, `${p.id}: a tolerance per Hessian`);
    }
  }

  // The table: a row per results row, a check per Hessian.
  const results = JSON.parse(readFileSync(path.join(fx!.run.dir, 'results.json'), 'utf8')) as unknown[];
  assert.equal(await page.locator('table.results tbody tr').count(), results.length);
  assert.equal(await page.locator('table.results tbody td[data-check]').count(), results.length * 3);

  // Hovering a point shows its values.
  const target = page.locator('figure.plot[data-kind="ranks"] .vega svg g.hover_marks path').first();
  await target.hover({ force: true });
  await page.waitForSelector('#hrank-tooltip:not([hidden])', { timeout: 5_000 });
  const tip = await page.locator('#hrank-tooltip').innerText();
  assert.match(tip, /point\s+loss=mse,model\.width=2/);
  assert.match(tip, /rank\s+\d+/);
  assert.match(tip, /prediction\s+\d+/);

  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [url], 'no request but the file itself');
  await page.close();
});

/** `rgb(r, g, b)`, as getComputedStyle writes a #rrggbb colour. */
function rgb(hex: string): string {
  return `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
}

test('report.html in chromium: fits a 1280 px screen, follows dark mode, prints on light paper with figures in the page', async (t) => {
  if (missing) {
    t.skip(`chromium not installed: ${CHROMIUM} is missing; the screen, dark and print checks did NOT run`);
    return;
  }
  const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(pathToFileURL(path.join(fx!.run.dir, 'report.html')).href, { waitUntil: 'load' });
  await page.waitForSelector('body[data-plots-rendered]', { timeout: 15_000 });

  // The page never scrolls sideways; the fixture's table fits its box whole.
  const screen = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    window: document.documentElement.clientWidth,
    table: document.querySelector('table.results')!.getBoundingClientRect().width,
    box: document.querySelector('.table-wrap')!.clientWidth,
  }));
  assert.ok(screen.page <= screen.window, JSON.stringify(screen));
  assert.ok(screen.table <= screen.box, JSON.stringify(screen));

  await page.emulateMedia({ colorScheme: 'dark' });
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), rgb(PALETTE.dark.bg));
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('figure.plot')!).backgroundColor), 'rgb(255, 255, 255)', 'figures on their white card');

  // Print (with a dark screen preference): light paper, no navigation, nothing clipped, every figure within an A4-wide page.
  await page.emulateMedia({ media: 'print', colorScheme: 'dark' });
  await page.setViewportSize({ width: 700, height: 1000 });
  const print = await page.evaluate(() => {
    const main = document.querySelector('main')!.clientWidth;
    return {
      background: getComputedStyle(document.body).backgroundColor,
      nav: getComputedStyle(document.querySelector('nav')!).display,
      overflow: getComputedStyle(document.querySelector('.table-wrap')!).overflowX,
      tooWide: [...document.querySelectorAll('figure.plot .vega svg')].filter((s) => s.getBoundingClientRect().width > main + 0.5).length,
    };
  });
  assert.deepEqual(print, { background: 'rgb(255, 255, 255)', nav: 'none', overflow: 'visible', tooWide: 0 });
  await page.close();
});
