/**
 * Opens a generated report in headless Chromium (Debian `chromium`, driven by playwright-core): every
 * chart is drawn with a non-zero size and marks, nothing logs an error (the page's CSP turns any fetch
 * into one), the grid table sorts, and a screenshot is saved. Skipped, loudly, without /usr/bin/chromium.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../data/store/artifact-store';
import { runStage } from '../../data/store/stage';
import { reportStage } from './report';
import { writeRunReport } from './per-run';
import { writeFixtureLineage } from './testing/fixture-store';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const available = existsSync(CHROMIUM);
if (!available) {
  console.warn(
    `\n!!! SKIPPING the report browser test: ${CHROMIUM} is absent. Install it with \`apt-get install -y chromium\` ` +
      '(CI does) to check that reports render in a real browser. !!!\n',
  );
}

interface ChartCheck {
  id: string;
  width: number;
  height: number;
  marks: number;
}

describe.skipIf(!available)('a generated report in headless Chromium', () => {
  let root: string;
  let page: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ulasan-browser-'));
    const store = new ArtifactStore(root);
    const f = await writeFixtureLineage(store);
    const grid = {
      selectedKey: f.trainKey,
      cells: f.cellKeys.map((key, i) => ({ key, params: { learningRate: [0.005, 0.01, 0.001][i] }, valMetrics: { macroF1: [0.71, 0.64, 0.69][i]! } })),
    };
    const params = { title: 'browser check', grid, leakyEvaluation: f.leakyEvaluationKey };
    const report = await runStage(store, reportStage, params, { evaluation: { key: f.evaluationKey, stage: 'evaluate' } });
    const stages = [
      { stage: 'evaluate', key: f.evaluationKey, cache: 'hit' as const, ms: 2 },
      { stage: 'report', key: report.ref.key, cache: 'miss' as const, reason: 'absent', ms: 300 },
    ];
    page = await writeRunReport(store, { runId: 'run-browser', stages, runner: 'local' });
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('draws every chart, logs no error, sorts the grid and saves a screenshot', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      tab.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      tab.on('pageerror', (e) => errors.push(String(e)));
      tab.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
      await tab.goto(pathToFileURL(page).href, { waitUntil: 'load' });
      const charts: ChartCheck[] = await tab.$$eval('svg.chart', (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          return { id: svg.id, width: box.width, height: box.height, marks: svg.querySelectorAll('g.role-mark > *').length };
        }),
      );
      expect(charts.map((c) => c.id)).toEqual(
        ['ratings', 'classes', 'f1', 'confusion', 'bootstrap', 'curves', 'grid', 'leaky'].map((id) => `chart-${id}`),
      );
      for (const chart of charts) {
        expect(chart.width, chart.id).toBeGreaterThan(50);
        expect(chart.height, chart.id).toBeGreaterThan(50);
        expect(chart.width, `${chart.id} fits the page`).toBeLessThan(1100);
        expect(chart.marks, chart.id).toBeGreaterThan(0);
      }
      const firstCell = () => tab.$eval('#grid-table tbody tr td', (td) => td.textContent ?? '');
      expect(await firstCell()).toMatch(/^#1 /);
      await tab.click('#grid-table th:last-child'); // val macroF1, descending first
      await tab.click('#grid-table th:last-child'); // ascending: the worst cell (#2) first
      expect(await firstCell()).toMatch(/^#2 /);
      expect(await tab.textContent('#run')).toContain('1 of 2 stages were cache hits');
      const screenshot = join(tmpdir(), `ulasan-report-${process.pid}.png`);
      await tab.screenshot({ path: screenshot, fullPage: true });
      console.log(`report screenshot: ${screenshot} (page ${page})`);
      expect((await stat(screenshot)).size).toBeGreaterThan(10_000);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
