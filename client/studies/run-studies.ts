/**
 * `ulasan studies` / `npm run studies`: runs the published studies of `experiments/studies/` (all, or those
 * named) under a budget, locally or on Temporal, records each run's metrics key in `<out>/results.json`
 * (merged: studies not run keep their entry), and regenerates `<out>/RESULTS.md` and `<out>/results.html`
 * from that index and the store.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactStore } from '../../data/store/artifact-store';
import { UlasanError } from '../../core/errors';
import { gridPlanFromSpec } from '../grid-spec';
import type { Experiment } from '../experiment';
import { runLoadedExperiment, type RunOptions } from '../experiment-runner';
import { parseSpec, planFromSpec } from '../spec';
import { generateResultsPage, type ResultsIndex, type StudyEntry } from './results-page';
import { BUDGETS, expandStudy, readStudies, type Budget, type Study, type StudyRun } from './study-spec';

export const RESULTS_INDEX = 'results.json';
export const RESULTS_MARKDOWN = 'RESULTS.md';
export const RESULTS_HTML = 'results.html';

export interface StudiesOptions extends Omit<RunOptions, 'parallel'> {
  /** Study ids or numbers; none runs all. */
  names: readonly string[];
  /** @default 'full' */
  budget: Budget;
  /** Folder of the study files. @default experiments/studies */
  studiesDir: string;
  /** Folder of the index and the page. @default docs */
  outDir: string;
}

export function parseBudget(value: string): Budget {
  if ((BUDGETS as readonly string[]).includes(value)) return value as Budget;
  throw new UlasanError('BadInput', `--budget ${value}: give ${BUDGETS.join(' or ')}.`, { field: '--budget' });
}

/** A study run as the ordinary loader would give it: a grid when it has `grid:`, else one pipeline. */
export function loadStudyRun(run: StudyRun, study: Study, allowSmall = false): Experiment {
  const where = `${study.file} (variant ${run.variant}, ${run.mode})`;
  if (run.raw.grid !== undefined) return { kind: 'grid', plan: gridPlanFromSpec(run.raw, where, { allowSmall }) };
  return { kind: 'pipeline', plan: planFromSpec(parseSpec(run.raw, where), { allowSmall }) };
}

async function readIndex(outDir: string): Promise<ResultsIndex> {
  return readFile(join(outDir, RESULTS_INDEX), 'utf8').then(
    (text) => JSON.parse(text) as ResultsIndex,
    () => ({ studies: [] }),
  );
}

/** Runs every run of the chosen studies, then writes the index and regenerates the page. */
export async function runStudies(options: StudiesOptions): Promise<{ index: ResultsIndex; markdownPath: string; htmlPath: string }> {
  const studies = await readStudies(options.studiesDir, options.names);
  // Every run is validated before the first one starts.
  const planned = studies.map((study) => ({ study, runs: expandStudy(study, options.budget).map((run) => ({ run, experiment: loadStudyRun(run, study, options.allowSmall) })) }));
  const store = new ArtifactStore();
  const previous = await readIndex(options.outDir);
  const kept = previous.studies.filter((entry) => !studies.some((study) => study.id === entry.id));
  await requireInStore(store, kept, options.outDir);
  const entries: StudyEntry[] = [];
  for (const { study, runs } of planned) {
    const recorded: StudyEntry['runs'] = [];
    for (const { run, experiment } of runs) {
      options.log(`study ${study.id}: ${run.variant} (${run.mode}, ${options.budget} budget)`);
      const summary = await runLoadedExperiment(experiment, options);
      recorded.push({ variant: run.variant, mode: run.mode, metricsKey: summary.metricsKey });
    }
    entries.push(entryOf(study, options.budget, recorded));
  }
  const index: ResultsIndex = { studies: [...kept, ...entries].sort((a, b) => a.id.localeCompare(b.id)) };
  await mkdir(options.outDir, { recursive: true });
  await writeFile(join(options.outDir, RESULTS_INDEX), JSON.stringify(index, null, 2) + '\n');
  return { index, ...(await writeResultsPage(store, index, options.outDir)) };
}

/**
 * The page is made from the store, so every study it keeps from an earlier run must have its metrics there
 * (a fresh clone's store has none of the committed page's): checked before anything runs.
 */
async function requireInStore(store: ArtifactStore, entries: readonly StudyEntry[], outDir: string): Promise<void> {
  const missing: string[] = [];
  for (const entry of entries) {
    for (const run of entry.runs) {
      if (!(await store.has(run.metricsKey))) {
        missing.push(entry.id);
        break;
      }
    }
  }
  if (missing.length === 0) return;
  throw new UlasanError(
    'BadInput',
    `${join(outDir, RESULTS_INDEX)} lists ${missing.join(', ')}, whose metrics are not in the store at ${store.root}, and the page is made from the store: ` +
      'run those studies too (`ulasan studies` with no names runs all), or write this page elsewhere with --out <dir>.',
    { file: join(outDir, RESULTS_INDEX), field: 'studies' },
  );
}

function entryOf(study: Study, budget: Budget, runs: StudyEntry['runs']): StudyEntry {
  const { id, title, reference, data, leaked, notes, published } = study;
  const variants = study.variants.map(({ id: variant, label, published: figures }) => ({ id: variant, label, published: figures }));
  return { id, title, reference, data, leaked, notes, published: published.text, budget, variants, runs };
}

/** Regenerates the page from an index and a store (`ulasan studies --page-only` does only this). */
export async function writeResultsPage(store: ArtifactStore, index: ResultsIndex, outDir: string): Promise<{ markdownPath: string; htmlPath: string }> {
  const { markdown, html } = await generateResultsPage(store, index);
  const markdownPath = join(outDir, RESULTS_MARKDOWN);
  const htmlPath = join(outDir, RESULTS_HTML);
  await writeFile(markdownPath, markdown);
  await writeFile(htmlPath, html);
  return { markdownPath, htmlPath };
}

/** `--page-only`: the page again from the recorded index, running nothing. */
export async function regeneratePage(outDir: string): Promise<{ markdownPath: string; htmlPath: string }> {
  const index = await readIndex(outDir);
  if (index.studies.length === 0) throw new UlasanError('NotFound', `No ${RESULTS_INDEX} with studies in ${outDir}: run \`ulasan studies\` first.`, { file: join(outDir, RESULTS_INDEX) });
  const store = new ArtifactStore();
  await requireInStore(store, index.studies, outDir);
  return writeResultsPage(store, index, outDir);
}
