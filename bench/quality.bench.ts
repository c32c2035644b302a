/**
 * `npm run bench -- quality [--datasets a,b] [--tasks binary,ternary]`: the `auto` preset
 * (experiments/auto.yaml) on every shared review dataset, binary and ternary, on the peer's own 80/20
 * split (`split: from-file` with ../shared/peer/results/<dataset>.<task>.split.json), selecting by
 * cross-validation within the 80% and scoring the test rows once. Beside it, the peer's best honest
 * macro-F1 on that split (scikit-learn, the best of its 24 honest configurations chosen ON THE TEST SET,
 * i.e. with hindsight). Prints a table; returns the geometric mean of ulasan ÷ peer (goal ≥ 1.00).
 * Artifacts go to `$ULASAN_HOME` (default: a store under the OS temp folder kept between runs, so a
 * rerun is served from the cache).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readGridFile, storeGridCells } from '../activities/grid/grid';
import { METRICS_FILE } from '../activities/evaluate/evaluate';
import { gridStandings } from '../activities/grid/standings';
import { gridPlanFromSpec } from '../client/grid-spec';
import { runGridLocal } from '../client/local-runner';
import { readRawSpec } from '../client/spec';
import { ArtifactStore } from '../data/store/artifact-store';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHARED = resolve(ROOT, '../shared');
const REVIEWS = join(SHARED, 'data/reviews');
const PEER = join(SHARED, 'peer/results');
const TASKS = ['binary', 'ternary'] as const;
type Task = (typeof TASKS)[number];

interface PeerRow {
  resampler: string;
  model: string;
  macro_f1?: number;
}

/** The peer's best honest macro-F1 for a dataset and task, and the configuration that reached it. */
function peerBest(dataset: string, task: Task): { f1: number; config: string; testRows: number } | undefined {
  const path = join(PEER, `${dataset}.json`);
  if (!existsSync(path)) return undefined;
  const result = JSON.parse(readFileSync(path, 'utf8')) as { tasks: Record<string, { honest: PeerRow[]; split: { test: number } }> };
  const rows = (result.tasks[task]?.honest ?? []).filter((r) => typeof r.macro_f1 === 'number');
  if (rows.length === 0) return undefined;
  const best = rows.reduce((a, b) => (b.macro_f1! > a.macro_f1! ? b : a));
  return { f1: best.macro_f1!, config: `${best.resampler}+${best.model}`, testRows: result.tasks[task]!.split.test };
}

function option(args: string[], name: string): string[] | undefined {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] ? args[at + 1]!.split(',').filter(Boolean) : undefined;
}

interface Row {
  dataset: string;
  task: Task;
  ulasan: number;
  low: number;
  high: number;
  n: number;
  winner: string;
  cv: string;
  peer: { f1: number; config: string; testRows: number };
  seconds: number;
}

async function runOne(store: ArtifactStore, dataset: string, task: Task, peer: Row['peer']): Promise<Row> {
  const { raw } = await readRawSpec(join(ROOT, 'experiments/auto.yaml'));
  const spec = {
    ...raw,
    name: `auto-${dataset}-${task}`,
    source: { file: join(REVIEWS, `${dataset}.csv`) },
    label: { rule: task },
    split: { strategy: 'from-file', file: join(PEER, `${dataset}.${task}.split.json`) },
  };
  // Small test splits (a dozen neutral rows) are the peer's own: scored anyway, the interval says how much they say.
  const plan = await storeGridCells(store, gridPlanFromSpec(spec, `auto.yaml (${dataset}, ${task})`, { allowSmall: true }));
  const started = performance.now();
  const result = await runGridLocal(plan, { store });
  const seconds = (performance.now() - started) / 1000;
  const metrics = JSON.parse(await readFile(store.path(result.metricsKey, METRICS_FILE), 'utf8')) as {
    n: number;
    macro: { f1: number };
    bootstrap?: { macroF1: { low: number; high: number } };
  };
  const { winner } = gridStandings(await readGridFile(store, result.gridKey));
  const cv = winner ? `${winner.score.toFixed(3)} ± ${winner.sd?.toFixed(3) ?? '?'}` : '?';
  const interval = metrics.bootstrap?.macroF1 ?? { low: NaN, high: NaN };
  return { dataset, task, ulasan: metrics.macro.f1, ...interval, n: metrics.n, winner: winner?.label ?? '?', cv, peer, seconds };
}

function printTable(rows: Row[]): void {
  console.log('| dataset | task | test n (peer) | ulasan auto: winner | CV macro-F1 | ulasan test macro-F1 [95% CI] | peer best honest (hindsight) | ratio | s |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const ci = `${r.ulasan.toFixed(3)} [${r.low.toFixed(3)}, ${r.high.toFixed(3)}]`;
    const peer = `${r.peer.f1.toFixed(3)} (${r.peer.config})`;
    console.log(`| ${r.dataset} | ${r.task} | ${r.n} (${r.peer.testRows}) | ${r.winner} | ${r.cv} | ${ci} | ${peer} | ${(r.ulasan / r.peer.f1).toFixed(3)} | ${r.seconds.toFixed(0)} |`);
  }
}

export default async function quality(args: string[]): Promise<number> {
  if (!existsSync(REVIEWS) || !existsSync(PEER)) {
    console.warn(`SKIPPED: quality needs ${REVIEWS} and ${PEER} (../shared)`);
    return NaN;
  }
  const all = readdirSync(REVIEWS).filter((f) => f.endsWith('.csv')).map((f) => basename(f, '.csv')).sort();
  const datasets = option(args, 'datasets') ?? all;
  const unknown = datasets.filter((d) => !all.includes(d));
  if (unknown.length > 0) throw new Error(`--datasets: no ${unknown.join(', ')} in ${REVIEWS}; available: ${all.join(', ')}`);
  const tasks = (option(args, 'tasks') ?? [...TASKS]) as Task[];
  const store = new ArtifactStore(process.env.ULASAN_HOME ?? join(tmpdir(), 'ulasan-bench-quality'));
  const rows: Row[] = [];
  for (const dataset of datasets) {
    for (const task of tasks) {
      const peer = peerBest(dataset, task);
      if (!peer || !existsSync(join(PEER, `${dataset}.${task}.split.json`))) {
        console.warn(`SKIPPED: ${dataset} ${task}: no peer result or split file in ${PEER}`);
        continue;
      }
      const row = await runOne(store, dataset, task, peer);
      console.error(`${dataset} ${task}: ulasan ${row.ulasan.toFixed(3)} vs peer ${peer.f1.toFixed(3)} (${row.seconds.toFixed(0)} s)`);
      rows.push(row);
    }
  }
  printTable(rows);
  const logs = rows.map((r) => Math.log(r.ulasan / r.peer.f1));
  return Math.exp(logs.reduce((a, b) => a + b, 0) / Math.max(1, logs.length));
}
