/**
 * `ulasan diff <runA> <runB>`: what two runs have in common and where they part. Reads the run records
 * (`<store>/runs/<runId>.json`) and, where the store still has them, the artifacts' manifests, so the
 * params compared are the resolved ones a stage key was computed from.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UlasanError } from '../core/errors';
import type { ArtifactStore } from '../data/store/artifact-store';
import type { Manifest } from '../data/store/types';
import type { PipelinePlan, StageRecord } from '../workflows/plans/pipeline';

/** What `recordRun` writes to `<store>/runs/<runId>.json`. */
export interface RunRecordFile {
  runId: string;
  metricsKey: string;
  reportPath?: string;
  stages: StageRecord[];
  runner?: string;
  plan: PipelinePlan;
}

/** One value that differs between the two sides; `path` is dotted (`model.filters`, `ratios.test`). */
export interface ValueChange {
  path: string;
  a: unknown;
  b: unknown;
}

/**
 * Why a stage's artifacts differ: `shared` (same key, one artifact), `params` (its own params differ),
 * `stage-version` (its code's declared version differs), `inputs` (same params, an upstream artifact
 * differs), or it ran in only one of the runs.
 */
export type StageDiffKind = 'shared' | 'params' | 'stage-version' | 'inputs' | 'only-in-a' | 'only-in-b';

export interface StageDiff {
  stage: string;
  kind: StageDiffKind;
  keyA?: string;
  keyB?: string;
  changes: ValueChange[];
}

export interface RunDiff {
  runA: string;
  runB: string;
  stages: StageDiff[];
  /** Keys of artifacts both runs used. */
  sharedKeys: string[];
  /** Plan fields that differ (including ones no stage key depends on, such as the name). */
  planChanges: ValueChange[];
}

/** Which plan field holds each stage's params (for runs whose artifacts are gone from the store). */
const PLAN_FIELD: Record<string, keyof PipelinePlan> = {
  import: 'source',
  clean: 'clean',
  annotate: 'annotate',
  split: 'split',
  features: 'features',
  resample: 'resample',
  train: 'train',
  evaluate: 'evaluate',
  report: 'report',
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

/** Every leaf where `a` and `b` differ, in key order; arrays compare element by element. */
export function diffValues(a: unknown, b: unknown, path = ''): ValueChange[] {
  if (isObject(a) && isObject(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = Array.isArray(a) && Array.isArray(b)
      ? Array.from({ length: Math.max(a.length, b.length) }, (_, i) => String(i))
      : [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffValues(a[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: path || '(value)', a, b }];
}

/** Reads a run record by id (from `<store>/runs/`) or by the path of its JSON file. */
export async function readRunRecord(store: ArtifactStore, idOrPath: string): Promise<RunRecordFile> {
  const path = idOrPath.endsWith('.json') ? idOrPath : join(store.root, 'runs', `${idOrPath}.json`);
  try {
    return JSON.parse(await readFile(path, 'utf8')) as RunRecordFile;
  } catch (err) {
    const message = `No run record ${path}: give a run id listed under ${join(store.root, 'runs')} (or the path of a run's .json).`;
    throw new UlasanError('NotFound', message, { file: path }, { cause: err });
  }
}

async function stageDiff(store: ArtifactStore, stage: string, a: RunRecordFile, b: RunRecordFile): Promise<StageDiff> {
  const keyA = a.stages.find((s) => s.stage === stage)?.key;
  const keyB = b.stages.find((s) => s.stage === stage)?.key;
  if (!keyA) return { stage, kind: 'only-in-b', keyB, changes: [] };
  if (!keyB) return { stage, kind: 'only-in-a', keyA, changes: [] };
  if (keyA === keyB) return { stage, kind: 'shared', keyA, keyB, changes: [] };
  const [ma, mb] = await Promise.all([keyA, keyB].map((k) => store.manifest(k).catch((): Manifest | undefined => undefined)));
  if (ma && mb && ma.stageVersion !== mb.stageVersion) {
    return { stage, kind: 'stage-version', keyA, keyB, changes: [{ path: 'stageVersion', a: ma.stageVersion, b: mb.stageVersion }] };
  }
  const field = PLAN_FIELD[stage];
  const changes = ma && mb ? diffValues(ma.params, mb.params) : field ? diffValues(a.plan[field], b.plan[field]) : [];
  return { stage, kind: changes.length > 0 ? 'params' : 'inputs', keyA, keyB, changes };
}

export async function diffRuns(store: ArtifactStore, runA: string, runB: string): Promise<RunDiff> {
  const [a, b] = await Promise.all([readRunRecord(store, runA), readRunRecord(store, runB)]);
  const names = [...a.stages.map((s) => s.stage), ...b.stages.map((s) => s.stage).filter((n) => !a.stages.some((s) => s.stage === n))];
  const stages: StageDiff[] = [];
  for (const name of names) stages.push(await stageDiff(store, name, a, b));
  const keysB = new Set(b.stages.map((s) => s.key));
  return {
    runA: a.runId,
    runB: b.runId,
    stages,
    sharedKeys: a.stages.map((s) => s.key).filter((k) => keysB.has(k)),
    planChanges: diffValues(a.plan, b.plan),
  };
}

const show = (value: unknown): string => (value === undefined ? '(absent)' : JSON.stringify(value));

const KIND_TEXT: Record<StageDiffKind, string> = {
  shared: 'shared',
  params: 'params differ',
  'stage-version': 'stage version differs',
  inputs: 'same params, different inputs',
  'only-in-a': 'only in A',
  'only-in-b': 'only in B',
};

export function formatRunDiff(diff: RunDiff): string {
  const lines = [`A: ${diff.runA}`, `B: ${diff.runB}`, ''];
  for (const s of diff.stages) {
    const keys = s.kind === 'shared' ? s.keyA!.slice(0, 12) : `${s.keyA?.slice(0, 12) ?? '-'} → ${s.keyB?.slice(0, 12) ?? '-'}`;
    lines.push(`${s.stage.padEnd(9)} ${KIND_TEXT[s.kind].padEnd(30)} ${keys}`);
    for (const c of s.changes) lines.push(`            ${c.path}: ${show(c.a)} → ${show(c.b)}`);
  }
  lines.push('', `${diff.sharedKeys.length} artifact(s) shared.`);
  const unkeyed = diff.planChanges.filter((c) => c.path === 'name' || c.path.startsWith('report.'));
  for (const c of unkeyed) lines.push(`plan ${c.path}: ${show(c.a)} → ${show(c.b)}`);
  return lines.join('\n');
}
