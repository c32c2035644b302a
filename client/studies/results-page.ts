/**
 * The studies' results page (`docs/RESULTS.md` and `docs/results.html`): a pure function of the results
 * index (which metrics key each study, variant and mode produced) and of the artifacts those keys name in a
 * store. Nothing is typed by hand and nothing depends on when or where the page is generated, so the same
 * index and store give the same bytes (results-page.test.ts checks it).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { TopLevelSpec } from 'vega-lite';
import type { ArtifactStore } from '../../data/store/artifact-store';
import { METRICS_FILE } from '../../activities/evaluate/evaluate';
import type { ClassificationMetrics } from '../../activities/evaluate/metrics';
import type { BootstrapResult } from '../../activities/evaluate/uncertainty';
import { partitionFile } from '../../activities/features/features';
import { readPartition, shareOfRowCopies } from '../../activities/features/partition';
import { escapeHtml, REPORT_CSS } from '../../activities/report/html';
import { renderCharts } from '../../activities/report/render-svg';
import type { ChartSpec } from '../../activities/report/charts';
import type { Budget, Figure, Published, StudyMode } from './study-spec';

/** What `ulasan studies` records per study: its description and the metrics key of every run. */
export interface StudyEntry {
  id: string;
  title: string;
  reference: string;
  data: string;
  leaked: boolean;
  notes: string[];
  published: string;
  budget: Budget;
  variants: { id: string; label: string; published: Published }[];
  runs: { variant: string; mode: StudyMode; metricsKey: string }[];
}

/** `docs/results.json`: the studies in page order. */
export interface ResultsIndex {
  studies: StudyEntry[];
}

/** One run's figures, read from the store. */
export interface RunFacts {
  variant: string;
  mode: StudyMode;
  metricsKey: string;
  n: number;
  accuracy: number;
  accuracyCi: [number, number] | null;
  macroF1: number;
  macroF1Ci: [number, number] | null;
  macroPrecision: number;
  macroRecall: number;
  minorityF1: number;
  minorityClass: string;
  /** Share of test rows whose features equal a training row's (null: the features keep no partitions to compare). */
  copiedShare: number | null;
  /** Semi-supervised: the teacher's labelling accuracy against the held-back ratings. */
  labellingAccuracy: number | null;
  /** Train compute plus inference time, from the manifests. */
  seconds: number;
  createdAt: string;
  codeVersion: string;
}

export interface StudyFacts extends Omit<StudyEntry, 'runs'> {
  runs: RunFacts[];
}

type MetricsJson = ClassificationMetrics & { model: string; features: string; bootstrap?: BootstrapResult };

const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;

/** Share of test rows copied from training: the leaky split's own count, else measured on the features' partitions. */
async function copiedShare(store: ArtifactStore, featuresKey: string): Promise<number | null> {
  const manifest = await store.manifest(featuresKey);
  if (manifest.stage === 'leaky-split') return (await readJson<{ testCopiesOfTrain: number }>(store.path(featuresKey, 'LEAKY.json'))).testCopiesOfTrain;
  const [train, test] = [store.path(featuresKey, partitionFile('train')), store.path(featuresKey, partitionFile('test'))];
  if (!existsSync(train) || !existsSync(test)) return null;
  return shareOfRowCopies(await readPartition(train), await readPartition(test));
}

/** Reads one run's figures from its evaluation artifact and the artifacts it names. */
export async function runFacts(store: ArtifactStore, run: StudyEntry['runs'][number]): Promise<RunFacts> {
  const evaluation = await store.manifest(run.metricsKey);
  const metrics = await readJson<MetricsJson>(store.path(run.metricsKey, METRICS_FILE));
  const train = await store.manifest(metrics.model);
  const features = await store.manifest(metrics.features);
  const minority = [...metrics.perClass].sort((a, b) => a.support - b.support)[0]!;
  const ci = (c: { low: number; high: number } | undefined): [number, number] | null => (c ? [c.low, c.high] : null);
  const labelling = features.summary.labellingAccuracy;
  return {
    ...run,
    n: metrics.n,
    accuracy: metrics.accuracy,
    accuracyCi: ci(metrics.bootstrap?.accuracy),
    macroF1: metrics.macro.f1,
    macroF1Ci: ci(metrics.bootstrap?.macroF1),
    macroPrecision: metrics.macro.precision,
    macroRecall: metrics.macro.recall,
    minorityF1: minority.f1,
    minorityClass: minority.label,
    copiedShare: await copiedShare(store, metrics.features),
    labellingAccuracy: typeof labelling === 'number' ? labelling : null,
    seconds: (train.timings.computeMs + Number(evaluation.summary.inferenceMs ?? 0)) / 1000,
    createdAt: evaluation.createdAt,
    codeVersion: evaluation.codeVersion,
  };
}

/** Every study's figures, in index order. */
export async function collectFacts(store: ArtifactStore, index: ResultsIndex): Promise<StudyFacts[]> {
  const out: StudyFacts[] = [];
  for (const { runs, ...study } of index.studies) {
    const facts: RunFacts[] = [];
    for (const run of runs) facts.push(await runFacts(store, run));
    out.push({ ...study, runs: facts });
  }
  return out;
}

const fixed = (x: number, digits = 3): string => x.toFixed(digits);
const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const withCi = (x: number, ci: [number, number] | null): string => (ci ? `${fixed(x)} [${fixed(ci[0])}, ${fixed(ci[1])}]` : fixed(x));
const figure = (f: Figure): string => (Array.isArray(f) ? `${fixed(f[0])}–${fixed(f[1])}` : fixed(f));

/** The published figures of a variant, one string. */
function publishedText(p: Published): string {
  const parts = [
    p.accuracy !== undefined ? `accuracy ${figure(p.accuracy)}` : '',
    p.macroF1 !== undefined ? `macro-F1 ${figure(p.macroF1)}` : '',
    p.minorityF1 !== undefined ? `minority F1 ${figure(p.minorityF1)}` : '',
    p.labellingAccuracy !== undefined ? `labelling ${figure(p.labellingAccuracy)}` : '',
    p.seconds !== undefined ? `${p.seconds} s` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : '—';
}

const modeText = (study: StudyFacts, mode: StudyMode): string =>
  mode === 'as-published' ? 'as published (LEAKY: resampled before the split)' : study.leaked ? 'honest (split first)' : 'as published = honest';

export const TABLE_HEADER = [
  'Variant',
  'Run',
  'Published',
  'Accuracy [95% CI]',
  'Macro-F1 [95% CI]',
  'Macro precision / recall',
  'Minority-class F1',
  'Test rows copied from training',
  'Labelling accuracy',
  'Seconds (train + predict)',
  'Test rows',
  'Metrics key',
  'Re-derive',
];

/** The table rows of a study, as plain strings (both renderers print these). */
export function tableRows(study: StudyFacts): string[][] {
  return study.runs.map((run) => {
    const variant = study.variants.find((v) => v.id === run.variant)!;
    return [
      variant.label,
      modeText(study, run.mode),
      publishedText(variant.published),
      withCi(run.accuracy, run.accuracyCi),
      withCi(run.macroF1, run.macroF1Ci),
      `${fixed(run.macroPrecision)} / ${fixed(run.macroRecall)}`,
      `${fixed(run.minorityF1)} (${run.minorityClass})`,
      pct(run.copiedShare),
      run.labellingAccuracy === null ? '—' : fixed(run.labellingAccuracy),
      run.seconds.toFixed(2),
      String(run.n),
      run.metricsKey,
      `ulasan verify ${run.metricsKey} --deep`,
    ];
  });
}

/** When and with which code the figures were made: the evaluations' own manifests. */
export function provenanceLine(study: StudyFacts): string {
  const dates = study.runs.map((r) => r.createdAt).sort();
  const versions = [...new Set(study.runs.map((r) => r.codeVersion))].sort();
  const when = dates.length === 0 ? 'no runs' : `${dates[0]!.slice(0, 10)} to ${dates.at(-1)!.slice(0, 10)}`;
  return `Budget: ${study.budget === 'full' ? 'full (the published protocol)' : 'SMOKE (the same protocol on a row sample with fewer epochs and grid points: not the published budget)'}. Figures made ${when} (UTC) with code version ${versions.join(', ')}.`;
}

/** A study's number: the leading number of its file name (`1-halodoc-cnn-bilstm` → 1). */
const studyNumber = (study: StudyFacts): string => study.id.split('-')[0]!;

const PREAMBLE =
  'Five published setups, each run by ulasan as published (with the leak where the study leaked: over-sampling before the split) and honestly (split first, everything fitted on the training split). ' +
  'Every figure is read from the metrics artifact whose key is printed beside it; `ulasan verify <key> --deep` recomputes it and its whole lineage and compares bytes. ' +
  'Intervals are 95% bootstrap percentile intervals over the test rows (1,000 resamples). "Test rows copied from training" is the share of test rows whose features equal a training row\'s: ' +
  'in a leaky run mostly copies of the same review; in an honest run (identical cleaned texts never straddle the split) different reviews whose features coincide, e.g. texts that differ only in words outside the vocabulary. Regenerate with `npm run studies` (or `ulasan studies`).';

export function renderResultsMarkdown(studies: readonly StudyFacts[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['# Published studies, reproduced', '', PREAMBLE, ''];
  for (const study of studies) {
    lines.push(`## ${studyNumber(study)}. ${study.title}`, '', `Study: ${study.reference}.`, '', `Data: ${study.data}`, '', `Published: ${study.published}.`, '');
    for (const note of study.notes) lines.push(`- ${note}`);
    if (study.notes.length > 0) lines.push('');
    lines.push(provenanceLine(study), '');
    lines.push(`| ${TABLE_HEADER.join(' | ')} |`, `|${TABLE_HEADER.map(() => '---').join('|')}|`);
    for (const row of tableRows(study)) {
      const [key, command] = [row.at(-2)!, row.at(-1)!];
      lines.push(`| ${[...row.slice(0, -2), `\`${key}\``, `\`${command}\``].map(cell).join(' | ')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** One chart per study: accuracy of each run with its interval, and the published figure as a tick. */
export function studyChart(study: StudyFacts): ChartSpec {
  const label = (run: RunFacts) => study.variants.find((v) => v.id === run.variant)!.label;
  const bars = study.runs.map((run) => ({ variant: label(run), run: run.mode, accuracy: run.accuracy, low: run.accuracyCi?.[0] ?? run.accuracy, high: run.accuracyCi?.[1] ?? run.accuracy }));
  const published = study.variants.flatMap((v) => {
    const a = v.published.accuracy;
    return a === undefined ? [] : [{ variant: v.label, accuracy: Array.isArray(a) ? (a[0] + a[1]) / 2 : a }];
  });
  const x = { field: 'variant', type: 'nominal' as const, title: null, sort: null, axis: { labelAngle: -20, labelLimit: 220 } };
  const y = { type: 'quantitative' as const, scale: { domain: [0, 1] } };
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { font: 'sans-serif', view: { stroke: '#ddd' } },
    width: 80 * study.variants.length,
    height: 220,
    layer: [
      {
        data: { values: bars },
        mark: 'bar',
        encoding: { x, xOffset: { field: 'run', sort: null }, y: { ...y, field: 'accuracy', title: 'accuracy' }, color: { field: 'run', type: 'nominal', sort: null, title: null, legend: { orient: 'bottom' } } },
      },
      { data: { values: bars }, mark: { type: 'rule', color: '#222' }, encoding: { x, xOffset: { field: 'run', sort: null }, y: { ...y, field: 'low' }, y2: { field: 'high' } } },
      { data: { values: published }, mark: { type: 'tick', color: '#e45756', thickness: 3 }, encoding: { x, y: { ...y, field: 'accuracy' } } },
    ],
  };
  return { id: `study-${studyNumber(study)}`, title: `${study.title}: accuracy per run (bars), 95% interval (lines), published (red tick)`, spec };
}

export async function renderResultsHtml(studies: readonly StudyFacts[]): Promise<string> {
  const charts = await renderCharts(studies.map(studyChart));
  const sections = studies.map((study, i) => {
    const head = `<tr>${TABLE_HEADER.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
    const rows = tableRows(study)
      .map((row) => `<tr>${row.map((c, j) => (j >= row.length - 2 ? `<td class="l"><code>${escapeHtml(c)}</code></td>` : `<td class="l">${escapeHtml(c)}</td>`)).join('')}</tr>`)
      .join('\n');
    const notes = study.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('');
    return `<h2 id="study-${studyNumber(study)}">${studyNumber(study)}. ${escapeHtml(study.title)}</h2>
<p>Study: ${escapeHtml(study.reference)}.</p><p>Data: ${escapeHtml(study.data)}</p><p>Published: ${escapeHtml(study.published)}.</p>
${notes ? `<ul class="note">${notes}</ul>` : ''}<p class="src">${escapeHtml(provenanceLine(study))}</p>
<table>${head}
${rows}</table>
<figure><figcaption>${escapeHtml(charts[i]!.title)}</figcaption>${charts[i]!.svg}</figure>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Published studies, reproduced — ulasan</title><style>${REPORT_CSS}</style></head>
<body>
<h1>Published studies, reproduced</h1>
<p>${escapeHtml(PREAMBLE)}</p>
${sections.join('\n')}
</body></html>
`;
}

/** The page from an index and a store: Markdown and HTML. */
export async function generateResultsPage(store: ArtifactStore, index: ResultsIndex): Promise<{ markdown: string; html: string }> {
  const facts = await collectFacts(store, index);
  return { markdown: renderResultsMarkdown(facts), html: await renderResultsHtml(facts) };
}
