/**
 * Drift between two windows of reviews (e.g. two nightly scrapes), each a table artifact in the store
 * (annotate's `labelled.parquet`, split's `split.parquet` or clean's `clean.parquet`): label mix,
 * review length, out-of-vocabulary rate, the terms whose share changed most, and, given a model, the
 * model's score on each window.
 */
import { parquet, queryRows, withConnection } from '../../data/duckdb';
import { LABELS_FILE, readClassNames } from '../annotate/annotate';
import type { ArtifactStore } from '../../data/store/artifact-store';
import { collectLineage } from '../../data/store/lineage';
import type { Manifest } from '../../data/store/types';
import { badInput } from '../../core/errors';
import { percentile } from '../evaluate/uncertainty';
import { readVocabulary } from '../features/featurize';
import { tokenize } from '../features/vocabulary';

/** Table files drift can read, in order of preference (the first one an artifact has is used). */
export const DRIFT_TABLE_FILES = ['labelled.parquet', 'split.parquet', 'clean.parquet'] as const;

export interface DriftOptions {
  /** A train artifact: its vocabulary gives the OOV rate and it is scored on both windows (labelled tables only). */
  modelKey?: string;
  /** The features artifact the model was trained on. @default the model's recorded `features` input */
  featuresKey?: string;
  /** Changed terms to list. @default 20 */
  topTerms?: number;
  /** Terms seen fewer times in both windows together are not ranked (rare terms swing wildly). @default 5 */
  minTermCount?: number;
}

/** Tokens per review. */
export interface LengthStats {
  mean: number;
  median: number;
  p95: number;
}

export interface WindowStats {
  key: string;
  file: string;
  rows: number;
  tokens: number;
  /** Class names when the table is labelled; then `mix` counts classes, else star ratings. */
  classes?: string[];
  mix: Record<string, number>;
  length: LengthStats;
  /** Earliest and latest review date (YYYY-MM-DD), when the table has dates. */
  from?: string;
  to?: string;
}

export interface TermChange {
  term: string;
  countA: number;
  countB: number;
  /** Share of all tokens in the window. */
  shareA: number;
  shareB: number;
  /** shareB − shareA. */
  change: number;
  /** log2 of the share ratio B/A, with half a count added to each side. */
  log2Ratio: number;
}

export interface ModelScore {
  n: number;
  accuracy: number;
  macroF1: number;
  /** The model's training data came from this table: the score is optimistic. */
  seenInTraining: boolean;
}

export interface DriftReport {
  a: WindowStats;
  b: WindowStats;
  /** Total variation distance between the two mixes (0 = same proportions, 1 = disjoint). */
  mixShift: number;
  oov: {
    /** `window A` (every token in A), or `features <key>` (the model's vocabulary). */
    vocabulary: string;
    vocabularySize: number;
    /** Share of A's and B's tokens outside that vocabulary. */
    rateA: number;
    rateB: number;
  };
  topChangedTerms: TermChange[];
  model?: { key: string; featuresKey: string; a: ModelScore; b: ModelScore } | { key: string; skipped: string };
}

interface WindowData {
  stats: WindowStats;
  texts: string[];
  labels?: Int32Array;
  counts: Map<string, number>;
}

async function tableFile(manifest: Manifest): Promise<string> {
  const file = DRIFT_TABLE_FILES.find((name) => manifest.files[name]);
  if (!file) {
    throw badInput(
      `Artifact ${manifest.key} (${manifest.stage}) has no review table; give the key of a clean, annotate or split artifact.`,
      { key: manifest.key, stage: 'drift' },
    );
  }
  return file;
}

async function readClasses(store: ArtifactStore, key: string): Promise<string[] | undefined> {
  try {
    return await readClassNames(store.path(key, LABELS_FILE));
  } catch {
    return undefined;
  }
}

function lengthStats(lengths: number[]): LengthStats {
  if (lengths.length === 0) return { mean: 0, median: 0, p95: 0 };
  const sorted = Float64Array.from(lengths).sort();
  let sum = 0;
  for (const n of lengths) sum += n;
  return { mean: sum / lengths.length, median: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

async function readWindow(store: ArtifactStore, key: string): Promise<WindowData> {
  const manifest = await store.manifest(key);
  const file = await tableFile(manifest);
  const path = store.path(key, file);
  const labelled = file !== 'clean.parquet';
  const rows = await withConnection((connection) =>
    queryRows(
      connection,
      `SELECT text, rating${labelled ? ', label' : ''}, strftime(date, '%Y-%m-%d') AS day FROM ${parquet(path)} ORDER BY source_row`,
    ),
  );
  const classes = labelled ? await readClasses(store, key) : undefined;
  const texts = rows.map((r) => String(r.text ?? ''));
  const labels = labelled ? Int32Array.from(rows, (r) => Number(r.label)) : undefined;
  const mix: Record<string, number> = {};
  const counts = new Map<string, number>();
  const lengths: number[] = [];
  let tokens = 0;
  rows.forEach((row, i) => {
    const name = labels ? (classes?.[labels[i]!] ?? String(labels[i])) : `${String(row.rating)}★`;
    mix[name] = (mix[name] ?? 0) + 1;
    const words = tokenize(texts[i]!);
    lengths.push(words.length);
    tokens += words.length;
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  });
  const days = rows.map((r) => r.day).filter((d): d is string => typeof d === 'string').sort();
  const stats: WindowStats = { key, file, rows: rows.length, tokens, classes, mix, length: lengthStats(lengths), from: days[0], to: days.at(-1) };
  return { stats, texts, labels, counts };
}

/** Total variation distance between two count vectors (as proportions). */
export function totalVariation(a: Record<string, number>, b: Record<string, number>): number {
  const total = (m: Record<string, number>) => Object.values(m).reduce((s, n) => s + n, 0) || 1;
  const [ta, tb] = [total(a), total(b)];
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  let sum = 0;
  for (const name of names) sum += Math.abs((a[name] ?? 0) / ta - (b[name] ?? 0) / tb);
  return sum / 2;
}

/** Share of `counts`' tokens not in `vocabulary`. */
export function oovRate(counts: ReadonlyMap<string, number>, vocabulary: ReadonlySet<string>): number {
  let total = 0;
  let out = 0;
  for (const [term, n] of counts) {
    total += n;
    if (!vocabulary.has(term)) out += n;
  }
  return total === 0 ? 0 : out / total;
}

/** Terms ranked by how much their share of all tokens changed (largest absolute change first; ties by term). */
export function changedTerms(
  a: ReadonlyMap<string, number>,
  b: ReadonlyMap<string, number>,
  top: number,
  minCount: number,
): TermChange[] {
  const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((s, n) => s + n, 0);
  const [ta, tb] = [sum(a), sum(b)];
  const terms = [...new Set([...a.keys(), ...b.keys()])];
  const changes = terms
    .map((term) => {
      const countA = a.get(term) ?? 0;
      const countB = b.get(term) ?? 0;
      const shareA = ta === 0 ? 0 : countA / ta;
      const shareB = tb === 0 ? 0 : countB / tb;
      // Half a count added to each side keeps terms seen in one window only finite.
      const log2Ratio = Math.log2((countB + 0.5) / (tb + 0.5) / ((countA + 0.5) / (ta + 0.5)));
      return { term, countA, countB, shareA, shareB, change: shareB - shareA, log2Ratio };
    })
    .filter((t) => t.countA + t.countB >= minCount);
  changes.sort((x, y) => Math.abs(y.change) - Math.abs(x.change) || (x.term < y.term ? -1 : x.term > y.term ? 1 : 0));
  return changes.slice(0, top);
}

/** Why a model cannot be scored on raw windows here, or undefined when it can. */
function unscorable(manifest: Manifest): string | undefined {
  if (!manifest.files['baseline.json'] && !manifest.files['model.json']) return `artifact ${manifest.key.slice(0, 12)} (${manifest.stage}) holds no model`;
  return undefined;
}

/** Each window through the model's features and the model itself (predict's own path, score-model.ts). */
async function scoreWindows(store: ArtifactStore, modelKey: string, featuresKey: string, windows: readonly WindowData[]): Promise<NonNullable<DriftReport['model']>> {
  const modelClasses = await readClasses(store, featuresKey);
  for (const w of windows) {
    if (!w.labels) return { key: modelKey, skipped: `window ${w.stats.key.slice(0, 12)} is not labelled (${w.stats.file})` };
    if (JSON.stringify(w.stats.classes) !== JSON.stringify(modelClasses)) {
      return {
        key: modelKey,
        skipped: `window ${w.stats.key.slice(0, 12)} has classes ${JSON.stringify(w.stats.classes)}, the model ${JSON.stringify(modelClasses)}`,
      };
    }
  }
  const [{ featurizeTexts }, { scoreStoredModel }, { classificationMetrics }] = await Promise.all([
    import('../features/featurize'),
    import('../predict/score-model'),
    import('../evaluate/metrics'),
  ]);
  const ancestors = new Set((await collectLineage(store, modelKey)).map((m) => m.key));
  const features = { key: featuresKey, file: (name: string) => store.path(featuresKey, name) };
  const score = async (w: WindowData): Promise<ModelScore> => {
    const data = await featurizeTexts(features, w.texts, Int32Array.from(w.texts.keys()));
    const { labels } = await scoreStoredModel(store.dir(modelKey), data, modelKey, 'drift');
    const metrics = classificationMetrics(w.labels!, labels, modelClasses!);
    return { n: metrics.n, accuracy: metrics.accuracy, macroF1: metrics.macro.f1, seenInTraining: ancestors.has(w.stats.key) };
  };
  return { key: modelKey, featuresKey, a: await score(windows[0]!), b: await score(windows[1]!) };
}

async function featuresOf(store: ArtifactStore, modelKey: string, given: string | undefined): Promise<string> {
  if (given) return given;
  const manifest = await store.manifest(modelKey);
  const features = manifest.inputs.features;
  if (!features) {
    throw badInput(`Artifact ${modelKey} (${manifest.stage}) has no 'features' input; give a train artifact key or --features.`, {
      key: modelKey,
      stage: 'drift',
    });
  }
  return features;
}

export async function computeDrift(store: ArtifactStore, keyA: string, keyB: string, options: DriftOptions = {}): Promise<DriftReport> {
  const a = await readWindow(store, keyA);
  const b = await readWindow(store, keyB);
  const featuresKey = options.modelKey ? await featuresOf(store, options.modelKey, options.featuresKey) : options.featuresKey;
  const vocab = featuresKey ? await readVocabulary({ key: featuresKey, file: (name) => store.path(featuresKey, name) }) : undefined;
  const vocabulary = vocab ? new Set(vocab.tokens.slice(2)) : new Set(a.counts.keys());
  const report: DriftReport = {
    a: a.stats,
    b: b.stats,
    mixShift: totalVariation(a.stats.mix, b.stats.mix),
    oov: {
      vocabulary: featuresKey ? `features ${featuresKey}` : 'window A',
      vocabularySize: vocabulary.size,
      rateA: oovRate(a.counts, vocabulary),
      rateB: oovRate(b.counts, vocabulary),
    },
    topChangedTerms: changedTerms(a.counts, b.counts, options.topTerms ?? 20, options.minTermCount ?? 5),
  };
  if (options.modelKey && featuresKey) {
    const why = unscorable(await store.manifest(options.modelKey));
    report.model = why ? { key: options.modelKey, skipped: why } : await scoreWindows(store, options.modelKey, featuresKey, [a, b]);
  }
  return report;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const f3 = (x: number): string => x.toFixed(3);

function mixLine(w: WindowStats): string {
  return Object.entries(w.mix)
    .sort(([x], [y]) => x.localeCompare(y, 'en', { numeric: true }))
    .map(([name, n]) => `${name} ${n} (${pct(n / Math.max(1, w.rows))})`)
    .join(', ');
}

export function formatDrift(report: DriftReport): string {
  const window = (name: string, w: WindowStats) =>
    `${name}: ${w.key} (${w.file}) ${w.rows} reviews${w.from ? `, ${w.from} .. ${w.to}` : ''}\n` +
    `   mix: ${mixLine(w)}\n   length (tokens): mean ${f3(w.length.mean)}, median ${w.length.median}, p95 ${w.length.p95}`;
  const lines = [
    window('A', report.a),
    window('B', report.b),
    `mix shift (total variation): ${f3(report.mixShift)}`,
    `OOV vs ${report.oov.vocabulary} (${report.oov.vocabularySize} terms): A ${pct(report.oov.rateA)}, B ${pct(report.oov.rateB)}`,
    'top changed terms (share of tokens A → B, counts):',
    ...report.topChangedTerms.map(
      (t) => `   ${t.change >= 0 ? '+' : '-'} ${t.term.padEnd(18)} ${pct(t.shareA).padStart(6)} → ${pct(t.shareB).padStart(6)}   ${t.countA} → ${t.countB}   log2 ${t.log2Ratio.toFixed(2)}`,
    ),
  ];
  const m = report.model;
  if (m && 'skipped' in m) lines.push(`model ${m.key}: not scored (${m.skipped})`);
  else if (m) {
    const score = (name: string, s: ModelScore) =>
      `   ${name}: accuracy ${f3(s.accuracy)}, macro-F1 ${f3(s.macroF1)}, n=${s.n}${s.seenInTraining ? '  (the model was trained on rows from this table: optimistic)' : ''}`;
    lines.push(`model ${m.key} (features ${m.featuresKey.slice(0, 12)}):`, score('A', m.a), score('B', m.b));
  }
  return lines.join('\n');
}
