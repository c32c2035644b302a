/**
 * What a finished run found, for the console: the test metric with its bootstrap interval, n, the
 * selected cell of a grid and every warning (metrics warnings, failed cells, leaky evaluation), read
 * from the run's metrics.json. Also the one-line headline `ulasan runs` lists.
 */
import { readFile } from 'node:fs/promises';
import { METRICS_FILE } from '../activities/evaluate/evaluate';
import type { ArtifactStore } from '../data/store/artifact-store';

interface Interval {
  estimate: number;
  low: number;
  high: number;
}

interface MetricsDocument {
  partition: string;
  n: number;
  accuracy: number;
  macro: { f1: number };
  bootstrap?: { confidence: number; macroF1: Interval; accuracy: Interval };
  warnings?: string[];
}

export interface Headline {
  metric: 'macro-F1';
  value: number;
  /** The bootstrap interval, when the evaluation has one. */
  low?: number;
  high?: number;
  confidence?: number;
  accuracy: number;
  n: number;
  partition: string;
  /** Grids: the selected cell. */
  selected?: string;
  /** Grids: how it was selected. @default 'validation' */
  selection?: 'validation' | 'cv';
  warnings: string[];
}

/** What headline needs of a run: its metrics and, for grids, the cells. */
export interface HeadlineRun {
  metricsKey: string;
  selected?: string;
  standings?: { method: 'validation' | 'cv' };
  /** The grid's recorded cells: a failed one carries its failure. */
  cells?: { id: string; error?: { type: string; message: string } }[];
}

export async function runHeadline(store: ArtifactStore, run: HeadlineRun): Promise<Headline> {
  const metrics = JSON.parse(await readFile(store.path(run.metricsKey, METRICS_FILE), 'utf8')) as MetricsDocument;
  const manifest = await store.manifest(run.metricsKey);
  const warnings = [...(metrics.warnings ?? [])];
  for (const cell of run.cells ?? []) if (cell.error) warnings.push(`grid cell ${cell.id} failed (${cell.error.type}): ${cell.error.message}`);
  const model = manifest.inputs.model;
  const trainedOn = model ? (await store.manifest(model)).inputs.train : undefined;
  if (trainedOn && (await store.manifest(trainedOn)).stage === 'leaky-split') {
    warnings.push('LEAKY evaluation (resampled before splitting): reproduces a published setup, not an honest estimate');
  }
  const interval = metrics.bootstrap?.macroF1;
  return {
    metric: 'macro-F1',
    value: metrics.macro.f1,
    ...(interval ? { low: interval.low, high: interval.high, confidence: metrics.bootstrap!.confidence } : {}),
    accuracy: metrics.accuracy,
    n: metrics.n,
    partition: metrics.partition,
    ...(run.selected ? { selected: run.selected } : {}),
    ...(run.standings ? { selection: run.standings.method } : {}),
    warnings,
  };
}

/** `macro-F1 0.858 [0.784, 0.921] (95% bootstrap), accuracy 0.927, n=191 test`. */
export function headlineText(h: Headline): string {
  const ci = h.low !== undefined && h.high !== undefined ? ` [${h.low.toFixed(3)}, ${h.high.toFixed(3)}] (${Math.round((h.confidence ?? 0.95) * 100)}% bootstrap)` : '';
  return `${h.metric} ${h.value.toFixed(3)}${ci}, accuracy ${h.accuracy.toFixed(3)}, n=${h.n} ${h.partition}`;
}

/** The lines printed after a run, before the report path. */
export function formatHeadline(h: Headline): string[] {
  return [
    `result:  ${headlineText(h)}`,
    ...(h.selected ? [`         selected cell ${h.selected} (chosen ${h.selection === 'cv' ? 'by cross-validation, refitted on the whole training split' : 'on validation'}, scored once on ${h.partition})`] : []),
    ...h.warnings.map((w) => `WARNING: ${w}`),
  ];
}
