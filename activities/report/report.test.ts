/**
 * The report stage on a fixture lineage: what the model reads from manifests and tables, a
 * self-contained page with every chart, byte-identical output, grid and leaky sections when given,
 * and the per-run copy with cache hits and times.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../data/store/artifact-store';
import { runStage } from '../../data/store/stage';
import { confusionChart, gridChart } from './charts';
import { RUN_SECTION_MARKER } from './html';
import { normaliseSvgIds, renderChart } from './render-svg';
import { REPORT_HTML, REPORT_MD, createReportActivity, readTableFacts, reportStage, type ReportParams } from './report';
import { buildReportModel, gridForReport, type MetricsDocument, type ReportGrid } from './report-model';
import { runReportPath, writeRunReport } from './per-run';
import { commitArtifact, writeFixtureLineage, type FixtureLineage } from './testing/fixture-store';

const roots: string[] = [];
async function freshStore(): Promise<ArtifactStore> {
  const root = await mkdtemp(join(tmpdir(), 'ulasan-report-'));
  roots.push(root);
  return new ArtifactStore(root);
}

let store: ArtifactStore;
let fixture: FixtureLineage;
beforeAll(async () => {
  store = await freshStore();
  fixture = await writeFixtureLineage(store);
});
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

const gridOf = (f: FixtureLineage): ReportGrid => ({
  selectedKey: f.trainKey,
  selectionMetric: 'macroF1',
  cells: f.cellKeys.map((key, i) => ({
    key,
    params: { resample: { method: 'random-over', seed: 3 }, train: { learningRate: [0.005, 0.01, 0.001][i], epochs: 4 } },
    valMetrics: { macroF1: [0.71, 0.64, 0.69][i]!, accuracy: [0.8, 0.77, 0.79][i]! },
    timings: { trainMs: 1000 + i },
  })),
});

describe('the report model', () => {
  it('reads data steps, window, ratings, class counts by name, curves and lineage from the artifacts', async () => {
    const model = await buildReportModel(store, fixture.evaluationKey, { title: 't' }, readTableFacts);
    expect(model.synthetic).toBe(true);
    expect(model.dataset.map((s) => s.stage)).toEqual(['import', 'clean', 'annotate', 'split', 'features', 'resample', 'train', 'evaluate']);
    expect(model.dataset[1]!.detail).toBe('quarantined: empty after cleaning 2');
    expect(model.window).toEqual({ from: '2025-03-01', to: '2025-03-28', key: fixture.cleanKey });
    const imported = model.ratings.filter((r) => r.group === 'imported');
    expect(imported.reduce((s, r) => s + r.count, 0)).toBe(62);
    expect(model.ratings.filter((r) => r.group === 'cleaned').reduce((s, r) => s + r.count, 0)).toBe(60);
    expect(model.classes.filter((r) => r.group === 'train')).toEqual([
      { group: 'train', label: 'negative', count: 11, key: fixture.splitKey },
      { group: 'train', label: 'positive', count: 25, key: fixture.splitKey },
    ]);
    expect(model.classes.filter((r) => r.group === 'train (resampled)').map((r) => r.count)).toEqual([25, 25]);
    expect(model.curves).toHaveLength(1);
    // Durations are clock readings, not curves.
    expect(new Set(model.curves[0]!.points.map((p) => p.series))).toEqual(new Set(['loss', 'valLoss', 'valAccuracy']));
    expect(model.lineage.at(-1)).toMatchObject({ stage: 'evaluate', key: fixture.evaluationKey, stageVersion: 2 });
  });

  it('describes a TF-IDF baseline by the options in its keys: no fit options, no curve, no "undefined"', async () => {
    const features = await commitArtifact(store, {
      stage: 'features',
      params: { kind: 'tfidf', ngramRange: [1, 2], minDf: 1, maxDf: 1, maxFeatures: null, useIdf: true, smoothIdf: true, sublinearTf: false, norm: 'l2' },
      inputs: { split: fixture.splitKey },
      rowCounts: { train: 36, val: 12, test: 12 },
      summary: { vocabSize: 120, trainDocuments: 36, fittedOn: 'train', testCopiesOfTrain: 0 },
    });
    const train = await commitArtifact(store, {
      stage: 'train',
      params: { model: { arch: 'nb', alpha: 1 } },
      inputs: { train: fixture.resampleKey, features: features.key },
      files: { 'metadata.json': JSON.stringify({ history: [{ epoch: 0, valAccuracy: 0.7, valMacroF1: 0.6 }] }) },
      summary: { backend: 'js', arch: 'nb', kind: 'multinomialNb' },
    });
    const metrics = await readFile(store.path(fixture.evaluationKey, 'metrics.json'));
    const evaluation = await commitArtifact(store, {
      stage: 'evaluate',
      stageVersion: 2,
      params: { partition: 'test' },
      inputs: { model: train.key, features: features.key },
      files: { 'metrics.json': metrics },
    });
    const model = await buildReportModel(store, evaluation.key, { title: 't' }, readTableFacts);
    const detail = (key: string) => model.dataset.find((s) => s.key === key)!.detail;
    expect(detail(features.key)).toBe('tfidf: 120 terms, fitted on train; test rows identical to a training row: 0');
    expect(detail(train.key)).toBe('nb on js, alpha 1');
    expect(model.curves).toEqual([]);
    expect(JSON.stringify(model.dataset)).not.toMatch(/undefined|epochs|batch/);
  });

  it('keeps only the grid params that vary, and no timings', () => {
    const grid = gridForReport(gridOf(fixture));
    expect(grid.cells.map((c) => c.params)).toEqual([
      { 'train.learningRate': 0.005 },
      { 'train.learningRate': 0.01 },
      { 'train.learningRate': 0.001 },
    ]);
    expect(grid.cells.every((c) => c.timings === undefined)).toBe(true);
  });

  it('refuses a key that is not an evaluation, saying what to give', async () => {
    await expect(buildReportModel(store, fixture.trainKey, { title: 't' }, readTableFacts)).rejects.toMatchObject({
      type: 'BadInput',
      message: expect.stringContaining('give the report an evaluation artifact key'),
    });
  });
});

describe('charts', () => {
  it('render to the same bytes whatever was rendered before, with ids prefixed by the chart', async () => {
    const metrics = JSON.parse(await readFile(store.path(fixture.evaluationKey, 'metrics.json'), 'utf8')) as MetricsDocument;
    const grid = gridChart(gridOf(fixture).cells);
    const first = await renderChart(grid);
    await renderChart(confusionChart(metrics));
    const again = await renderChart(grid);
    expect(again.svg).toBe(first.svg);
    expect(first.warnings).toEqual([]);
    expect(first.svg).toMatch(/^<svg[^>]* class="marks chart" id="chart-grid" role="img"/);
    // The colour legend's gradient gets a chart-scoped id, referenced by the new name.
    expect(first.svg).toContain('id="chart-grid-1"');
    expect(first.svg).toContain('url(#chart-grid-1)');
    expect(first.svg).not.toMatch(/id="(gradient|clip)_?\d+"/);
  });

  it('normalises ids and every reference to them', () => {
    const svg = '<svg><defs><clipPath id="clip7"/><linearGradient id="g_3"/></defs><g clip-path="url(#clip7)" fill="url(#g_3)"/><use href="#clip7"/></svg>';
    expect(normaliseSvgIds(svg, 'c')).toBe(
      '<svg><defs><clipPath id="c-1"/><linearGradient id="c-2"/></defs><g clip-path="url(#c-1)" fill="url(#c-2)"/><use href="#c-1"/></svg>',
    );
  });
});

describe('the report stage', () => {
  let html: string;
  let reportKey: string;
  const params: ReportParams = { title: 'fixture <run>' };

  beforeAll(async () => {
    const outcome = await runStage(store, reportStage, params, { evaluation: { key: fixture.evaluationKey, stage: 'evaluate' } });
    reportKey = outcome.ref.key;
    html = await readFile(store.path(reportKey, REPORT_HTML), 'utf8');
  });

  it('writes a self-contained page with every chart, the lineage and no clock readings', async () => {
    expect(html).toContain('<title>fixture &lt;run&gt; — ulasan report</title>');
    expect(html).toContain("Content-Security-Policy\" content=\"default-src 'none'");
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<script[^>]+src=/);
    const charts = [...html.matchAll(/<svg[^>]* class="marks chart" id="chart-([a-z0-9]+)"/g)].map((m) => m[1]);
    expect(charts).toEqual(['ratings', 'classes', 'f1', 'confusion', 'bootstrap', 'curves']);
    for (const key of [fixture.importKey, fixture.resampleKey, fixture.trainKey, fixture.evaluationKey]) expect(html).toContain(key);
    expect(html).not.toContain('2026-01-01T00:00:00');
    expect(html).not.toContain('1234');
    expect(html).toContain(RUN_SECTION_MARKER);
    const markdown = await readFile(store.path(reportKey, REPORT_MD), 'utf8');
    expect(markdown).toMatch(/Test macro-F1 \*\*0\.\d{4}\*\* \[0\.\d{4}, [01]\.\d{4}\]/);
    expect(markdown).toContain('| train | 11 | 25 |');
  });

  it('gives identical bytes for the same lineage in another store', async () => {
    const other = await freshStore();
    const again = await writeFixtureLineage(other);
    expect(again.evaluationKey).toBe(fixture.evaluationKey);
    const outcome = await runStage(other, reportStage, params, { evaluation: { key: again.evaluationKey, stage: 'evaluate' } });
    expect(outcome.ref.key).toBe(reportKey);
    for (const file of [REPORT_HTML, REPORT_MD, 'metrics.json']) {
      expect(await readFile(other.path(reportKey, file), 'utf8')).toBe(await readFile(store.path(reportKey, file), 'utf8'));
    }
  });

  it('adds a sortable grid and the honest-vs-leaky comparison when given', async () => {
    const withExtras: ReportParams = { ...params, grid: gridOf(fixture), leakyEvaluation: fixture.leakyEvaluationKey };
    const outcome = await runStage(store, reportStage, withExtras, { evaluation: { key: fixture.evaluationKey, stage: 'evaluate' } });
    const page = await readFile(store.path(outcome.ref.key, REPORT_HTML), 'utf8');
    const charts = [...page.matchAll(/<svg[^>]* class="marks chart" id="chart-([a-z0-9]+)"/g)].map((m) => m[1]);
    expect(charts).toEqual(['ratings', 'classes', 'f1', 'confusion', 'bootstrap', 'curves', 'grid', 'leaky']);
    expect(page).toContain('<table class="sortable" id="grid-table">');
    expect(page).toContain('<script>');
    expect(page).toMatch(/<tr class="selected"><td data-v="1">#1 [0-9a-f]{8} \(selected\)/);
    expect(page).toContain('LEAKY (resampled before split)');
    expect(page).toMatch(/LEAKY \(resampled before split\)<\/td>(<td>[^<]*<\/td>){5}<td>40\.0%<\/td>/);
    expect(page).toMatch(/honest \(split first\)<\/td>(<td>[^<]*<\/td>){5}<td>0\.0%<\/td>/);
    expect(page).not.toContain('id="leaky-mode"');
    // One learning curve per grid cell (the selected model's is not drawn twice).
    const model = JSON.parse(await readFile(store.path(outcome.ref.key, 'metrics.json'), 'utf8'));
    expect(model.curves.map((c: { key: string }) => c.key)).toEqual(fixture.cellKeys);
    expect(JSON.stringify(model)).not.toContain('trainMs');
  });
});

describe('a leaky evaluation', () => {
  it('is flagged at the top of every page, with the share of test rows copied from training', async () => {
    const outcome = await runStage(store, reportStage, { title: 'leaky' }, { evaluation: { key: fixture.leakyEvaluationKey, stage: 'evaluate' } });
    const page = await readFile(store.path(outcome.ref.key, REPORT_HTML), 'utf8');
    expect(page).toMatch(/<p class="leak" id="leaky-mode"><b>LEAKY EVALUATION\.<\/b>.* 40\.0% of the test rows are copies of training rows\./);
    expect(page.indexOf('id="leaky-mode"')).toBeLessThan(page.indexOf('class="headline"'));
    expect(await readFile(store.path(outcome.ref.key, REPORT_MD), 'utf8')).toContain('> **LEAKY EVALUATION**');
  });

  it('reaches the report through the activity input as params.leakyEvaluation', async () => {
    const report = createReportActivity({ store, heartbeat: () => undefined, warn: () => undefined });
    const evaluation = { key: fixture.evaluationKey, stage: 'evaluate' };
    const outcome = await report({ evaluation, params: { title: 'pair' }, leaky: { key: fixture.leakyEvaluationKey, stage: 'evaluate' } });
    expect((await store.manifest(outcome.ref.key)).params).toEqual({ title: 'pair', leakyEvaluation: fixture.leakyEvaluationKey });
    expect(await readFile(store.path(outcome.ref.key, REPORT_HTML), 'utf8')).toContain('<h2 id="leaky">Honest vs leaky</h2>');
  });
});

describe('writeRunReport', () => {
  it('writes runs/<runId>/report.html: the artifact page plus cache hits, misses and times', async () => {
    const outcome = await runStage(store, reportStage, { title: 'run copy' }, { evaluation: { key: fixture.evaluationKey, stage: 'evaluate' } });
    const stages = [
      { stage: 'resample', key: fixture.resampleKey, cache: 'hit' as const, ms: 3 },
      { stage: 'train', key: fixture.trainKey, cache: 'miss' as const, reason: 'absent', ms: 950 },
      { stage: 'evaluate', key: fixture.evaluationKey, cache: 'miss' as const, reason: 'absent', ms: 20 },
      { stage: 'report', key: outcome.ref.key, cache: 'miss' as const, reason: 'absent', ms: 400 },
    ];
    const path = await writeRunReport(store, { runId: 'run-test-1', stages, runner: 'local' });
    expect(path).toBe(runReportPath(store, 'run-test-1'));
    expect(path).toBe(join(store.root, 'runs', 'run-test-1', 'report.html'));
    const page = await readFile(path, 'utf8');
    const artifact = await readFile(store.path(outcome.ref.key, REPORT_HTML), 'utf8');
    expect(page.startsWith(artifact.slice(0, artifact.indexOf(RUN_SECTION_MARKER)))).toBe(true);
    expect(page).not.toContain(RUN_SECTION_MARKER);
    expect(page).toContain('1 of 4 stages were cache hits; 1,373 ms in all');
    expect(page).toContain('Training: 900 ms');
    expect(page).toContain('Resampling: 40 ms');
    expect(page).toContain('Inference: 12.5 ms per 1,000 reviews');
    expect(page).toMatch(/<tr class="miss"><td>train<\/td>.*miss \(absent\)/);
    expect(artifact).not.toContain('cache hits');
  });

  it('says what is wrong when the run has no report stage', async () => {
    await expect(writeRunReport(store, { runId: 'r', stages: [] })).rejects.toMatchObject({ type: 'BadInput', message: expect.stringContaining('no report stage') });
  });
});
