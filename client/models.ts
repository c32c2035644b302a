/**
 * Naming trained models: tags (`<store>/tags/<name>.json`, written by `ulasan model tag`), and resolving
 * what a user types where a model is expected — a train artifact key, a run id (the model its
 * evaluation scored: the selected cell of a grid) or a tag — to a train artifact key.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LABELS_FILE, readClassNames } from '../activities/annotate/annotate';
import { badInput, notFound } from '../core/errors';
import { runsDir } from '../activities/lineage/run-record';
import type { ArtifactStore } from '../data/store/artifact-store';
import { writeFileWhole } from '../data/write-whole';
import type { Manifest } from '../data/store/types';
import type { FailureSummary } from '../core/failures';

export interface ModelTag {
  name: string;
  key: string;
  taggedAt: string;
}

const TAG_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const tagsDir = (store: ArtifactStore): string => join(store.root, 'tags');
export { runsDir };

/** A run record as `recordRun` writes it (client/records.ts), the fields read here. */
export interface StoredRun {
  runId: string;
  metricsKey: string;
  reportPath?: string;
  runReportPath?: string;
  runner?: string;
  plan?: { name?: string };
  selected?: string;
  gridKey?: string;
  stages?: { stage: string; key: string; cache: string; ms: number }[];
}

export async function readRunRecord(store: ArtifactStore, runId: string): Promise<StoredRun | undefined> {
  const path = join(runsDir(store), `${runId}.json`);
  if (!/^[\w.-]+$/.test(runId) || !existsSync(path)) return undefined;
  return JSON.parse(await readFile(path, 'utf8')) as StoredRun;
}

async function trainManifest(store: ArtifactStore, key: string, what: string): Promise<Manifest> {
  const manifest = await store.manifest(key);
  if (manifest.stage !== 'train') {
    throw badInput(`${what} is a ${manifest.stage} artifact, not a trained model; give a train artifact key, a run id or a model tag`, { key });
  }
  return manifest;
}

/** The model a run's evaluation scored (the selected cell's model for a grid). */
export async function modelOfRun(store: ArtifactStore, run: StoredRun): Promise<string> {
  const evaluation = await store.manifest(run.metricsKey);
  const model = evaluation.inputs.model;
  if (!model) throw badInput(`run ${run.runId}'s metrics artifact ${run.metricsKey} names no model input`, { key: run.metricsKey });
  return model;
}

export async function readTag(store: ArtifactStore, name: string): Promise<ModelTag | undefined> {
  const path = join(tagsDir(store), `${name}.json`);
  if (!TAG_NAME.test(name) || !existsSync(path)) return undefined;
  return JSON.parse(await readFile(path, 'utf8')) as ModelTag;
}

export async function listTags(store: ArtifactStore): Promise<ModelTag[]> {
  if (!existsSync(tagsDir(store))) return [];
  const names = (await readdir(tagsDir(store))).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(names.map(async (f) => JSON.parse(await readFile(join(tagsDir(store), f), 'utf8')) as ModelTag));
}

/** A train artifact key from a key, a run id or a tag name; a clear error naming all three otherwise. */
export async function resolveModel(store: ArtifactStore, ref: string): Promise<string> {
  if (/^[0-9a-f]{64}$/.test(ref) && (await store.has(ref))) return (await trainManifest(store, ref, `artifact ${ref}`)).key;
  const run = await readRunRecord(store, ref);
  if (run) return (await trainManifest(store, await modelOfRun(store, run), `run ${ref}'s model`)).key;
  const tag = await readTag(store, ref);
  if (tag) return (await trainManifest(store, tag.key, `tag ${ref}`)).key;
  throw notFound(
    `'${ref}' is not a train artifact key, a run id (${runsDir(store)}) or a model tag (${tagsDir(store)}); see \`ulasan runs\` and \`ulasan model list\``,
    { key: ref },
  );
}

/** Gives `name` to the model `ref` resolves to (a tag moves when given again). */
export async function tagModel(store: ArtifactStore, ref: string, name: string, now = new Date()): Promise<ModelTag> {
  if (!TAG_NAME.test(name)) {
    throw badInput(`tag name '${name}' is not allowed: use letters, digits, '.', '_' and '-' (up to 100), starting with a letter or digit`, { field: 'name' });
  }
  const tag: ModelTag = { name, key: await resolveModel(store, ref), taggedAt: now.toISOString() };
  await mkdir(tagsDir(store), { recursive: true });
  await writeFileWhole(join(tagsDir(store), `${name}.json`), JSON.stringify(tag, null, 2) + '\n');
  return tag;
}

/**
 * The model a scored schedule resolved at create/update time, pinned in the store (`<store>/schedules/<id>.json`):
 * schedules live on the Temporal server, and `ulasan gc` must keep a scheduled model even when its tag moves.
 */
export interface SchedulePin {
  scheduleId: string;
  model: string;
  pinnedAt: string;
}

export const schedulePinsDir = (store: ArtifactStore): string => join(store.root, 'schedules');
const pinPath = (store: ArtifactStore, scheduleId: string): string => join(schedulePinsDir(store), `${encodeURIComponent(scheduleId)}.json`);

export async function pinScheduleModel(store: ArtifactStore, scheduleId: string, model: string, now = new Date()): Promise<void> {
  await mkdir(schedulePinsDir(store), { recursive: true });
  await writeFileWhole(pinPath(store, scheduleId), JSON.stringify({ scheduleId, model, pinnedAt: now.toISOString() } satisfies SchedulePin, null, 2) + '\n');
}

/** Drops a schedule's pin (deleted, or no longer scored); absent pins are fine. */
export async function unpinSchedule(store: ArtifactStore, scheduleId: string): Promise<void> {
  await rm(pinPath(store, scheduleId), { force: true });
}

export async function listSchedulePins(store: ArtifactStore): Promise<SchedulePin[]> {
  if (!existsSync(schedulePinsDir(store))) return [];
  const names = (await readdir(schedulePinsDir(store))).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(names.map(async (f) => JSON.parse(await readFile(join(schedulePinsDir(store), f), 'utf8')) as SchedulePin));
}

export interface ModelDescription {
  key: string;
  tags: string[];
  arch: unknown;
  features: string | undefined;
  classes: string[] | undefined;
  backend: unknown;
  createdAt: string;
  /** Runs whose evaluation scored this model, with the metrics their evaluation summary holds. */
  runs: { runId: string; metricsKey: string; macroF1?: unknown; accuracy?: unknown }[];
}

export async function describeModel(store: ArtifactStore, ref: string): Promise<ModelDescription> {
  const key = await resolveModel(store, ref);
  const manifest = await store.manifest(key);
  const runs: ModelDescription['runs'] = [];
  for (const run of await listRunRecords(store)) {
    if (!(await store.has(run.metricsKey)) || (await modelOfRun(store, run).catch(() => undefined)) !== key) continue;
    const summary = (await store.manifest(run.metricsKey)).summary;
    runs.push({ runId: run.runId, metricsKey: run.metricsKey, macroF1: summary.macroF1, accuracy: summary.accuracy });
  }
  return {
    key,
    tags: (await listTags(store)).filter((t) => t.key === key).map((t) => t.name),
    arch: manifest.summary.arch,
    features: manifest.inputs.features,
    classes: manifest.inputs.features ? await readClassNames(store.path(manifest.inputs.features, LABELS_FILE)).catch(() => undefined) : undefined,
    backend: manifest.summary.backend,
    createdAt: manifest.createdAt,
    runs,
  };
}

/** Every record file under runs/, oldest first (run ids sort by start time). */
async function readRunFiles(store: ArtifactStore): Promise<Record<string, unknown>[]> {
  if (!existsSync(runsDir(store))) return [];
  const files = (await readdir(runsDir(store))).filter((f) => f.endsWith('.json') && !f.endsWith('.progress.json')).sort();
  return Promise.all(files.map((f) => readFile(join(runsDir(store), f), 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>)));
}

/** Every run record with results, oldest first. */
export async function listRunRecords(store: ArtifactStore): Promise<StoredRun[]> {
  const records = await readRunFiles(store);
  return records.filter((r): r is Record<string, unknown> & StoredRun => typeof r.runId === 'string' && typeof r.metricsKey === 'string');
}

/** A run that ended before it had results (a night that could not be scored): no metrics, the failure instead. */
export type FailedRun = Omit<StoredRun, 'metricsKey'> & { status: 'failed'; error: FailureSummary };

/** Every failed run's record, oldest first (`ulasan runs` lists them; nothing else reads them). */
export async function listFailedRuns(store: ArtifactStore): Promise<FailedRun[]> {
  const records = await readRunFiles(store);
  return records.filter((r): r is Record<string, unknown> & FailedRun => typeof r.runId === 'string' && r.status === 'failed');
}

export interface ModelList {
  tags: ModelTag[];
  /** Each run's model, newest run first. */
  runs: { runId: string; model: string; spec?: string }[];
}

export async function modelList(store: ArtifactStore): Promise<ModelList> {
  const runs: ModelList['runs'] = [];
  for (const run of (await listRunRecords(store)).reverse()) {
    const model = await modelOfRun(store, run).catch(() => undefined);
    if (model) runs.push({ runId: run.runId, model, ...(run.plan?.name ? { spec: run.plan.name } : {}) });
  }
  return { tags: await listTags(store), runs };
}

export function formatModelList(list: ModelList): string {
  const tags = list.tags.map((t) => `  ${t.name.padEnd(24)} ${t.key}  (tagged ${t.taggedAt})`);
  const runs = list.runs.map((r) => `  ${r.runId.padEnd(44)} ${r.model}${r.spec ? `  ${r.spec}` : ''}`);
  return ['tags:', ...(tags.length ? tags : ['  (none: `ulasan model tag <key|runId> <name>`)']), 'models of runs:', ...(runs.length ? runs : ['  (no runs)'])].join('\n');
}
