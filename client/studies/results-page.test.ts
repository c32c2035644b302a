/**
 * The smoke budget end to end (the same code path as `npm run studies`, on row samples): every key on the
 * generated page resolves to its metrics in the store the run filled, the figures printed are those metrics,
 * and generating the page again from the index and the store gives the same bytes.
 * By default two studies run (1: leaky grid, Word2Vec, CNN-BiLSTM; 5: TF-IDF baselines, SMOTE→ADASYN, timings);
 * ULASAN_STUDIES_ALL=1 runs all five (what `npm run studies -- --budget smoke` does).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../data/store/artifact-store';
import { METRICS_FILE } from '../../activities/evaluate/evaluate';
import { generateResultsPage, TABLE_HEADER, type ResultsIndex } from './results-page';
import { RESULTS_HTML, RESULTS_INDEX, RESULTS_MARKDOWN, runStudies } from './run-studies';

const sharedDir = resolve(process.env.ULASAN_SHARED_DATA ?? '../shared/data', 'reviews');
const haveShared = existsSync(sharedDir);
if (!haveShared) console.warn(`SKIPPED: studies smoke run (${sharedDir} not found; set ULASAN_SHARED_DATA).`);
const NAMES = process.env.ULASAN_STUDIES_ALL ? [] : ['1', '5'];

describe.skipIf(!haveShared)('studies, smoke budget', () => {
  let dir: string;
  let store: ArtifactStore;
  let index: ResultsIndex;
  let markdown: string;
  let html: string;
  const home = process.env.ULASAN_HOME;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ulasan-studies-'));
    process.env.ULASAN_HOME = join(dir, 'store');
    store = new ArtifactStore();
    const outDir = join(dir, 'out');
    const studiesDir = resolve(import.meta.dirname, '../../experiments/studies');
    await runStudies({ names: NAMES, budget: 'smoke', studiesDir, outDir, taskQueue: 'ulasan', log: () => undefined });
    index = JSON.parse(await readFile(join(outDir, RESULTS_INDEX), 'utf8')) as ResultsIndex;
    markdown = await readFile(join(outDir, RESULTS_MARKDOWN), 'utf8');
    html = await readFile(join(outDir, RESULTS_HTML), 'utf8');
  }, 900_000);

  afterAll(async () => {
    if (home === undefined) delete process.env.ULASAN_HOME;
    else process.env.ULASAN_HOME = home;
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every run of the studies it ran, each with a metrics key', () => {
    expect(index.studies.map((s) => s.id.split('-')[0])).toEqual(NAMES.length > 0 ? NAMES : ['1', '2', '3', '4', '5']);
    for (const study of index.studies) {
      expect(study.budget).toBe('smoke');
      expect(study.runs.length).toBe(study.variants.length * (study.leaked ? 2 : 1));
    }
  });

  it('every key on the page resolves to an evaluation in the store, and the page prints its metrics', async () => {
    for (const page of [markdown, html]) {
      const keys = new Set(page.match(/\b[0-9a-f]{64}\b/g));
      const indexed = new Set(index.studies.flatMap((s) => s.runs.map((r) => r.metricsKey)));
      expect(keys).toEqual(indexed);
      for (const key of keys) {
        expect((await store.manifest(key)).stage).toBe('evaluate');
        const metrics = JSON.parse(await readFile(store.path(key, METRICS_FILE), 'utf8')) as { accuracy: number; bootstrap: { accuracy: { low: number; high: number } } };
        const row = page.split('\n').find((line) => line.includes(key) && line.includes('verify'))!;
        expect(row).toContain(`${metrics.accuracy.toFixed(3)} [${metrics.bootstrap.accuracy.low.toFixed(3)}, ${metrics.bootstrap.accuracy.high.toFixed(3)}]`);
        expect(row).toContain(`ulasan verify ${key} --deep`);
      }
    }
  });

  it('shows the leak: the as-published (leaky) runs copy test rows from training, the honest runs barely', () => {
    const study = index.studies.find((s) => s.leaked);
    if (!study) return;
    const section = markdown.slice(markdown.indexOf(study.title));
    const copied = (mode: string) =>
      section
        .split('\n')
        .filter((line) => line.includes(mode) && line.includes('verify'))
        .map((line) => Number(line.split(' | ')[TABLE_HEADER.indexOf('Test rows copied from training')]!.replace('%', '')));
    expect(Math.min(...copied('LEAKY'))).toBeGreaterThan(20);
    expect(Math.max(...copied('honest (split first)'))).toBeLessThan(5);
  });

  it('the generator reproduces the page byte for byte from the index and the store', async () => {
    const again = await generateResultsPage(store, index);
    expect(again.markdown).toBe(markdown);
    expect(again.html).toBe(html);
    expect(html.match(/<svg/g)?.length).toBe(index.studies.length);
  });
});
