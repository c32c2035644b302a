/**
 * Running a stage through the store: look its key up, return a verified hit, otherwise compute into
 * a temp dir and commit atomically. `recomputeStage` redoes the work from the recorded inputs, for
 * `ulasan verify`.
 */
import { rm } from 'node:fs/promises';
import { sep } from 'node:path';
import { classifyError, UlasanError } from '../../core/errors';
import { ArtifactStore, artifactKey, differingFiles, hashDirectory, manifestProblem } from './artifact-store';
import { codeVersion } from './code-version';
import type { ArtifactRef, Execution, Manifest, Provenance, StageOutcome } from './types';

/** An input artifact as a stage sees it: its key, its directory and its manifest. */
export interface StageInputArtifact {
  key: string;
  dir: string;
  manifest: Manifest;
  /** Absolute path of one of its files. */
  file(name: string): string;
}

export interface ComputeContext<P> {
  params: P;
  inputs: Record<string, StageInputArtifact>;
  /** Where the stage writes its files (a temp dir; renamed into the store afterwards). */
  outDir: string;
  key: string;
  store: ArtifactStore;
  /** Where a source file is read from (not part of the key); absent for stages that read only artifacts. */
  provenance?: Provenance;
  /** Reports progress to the runner (Temporal heartbeat, or a log line locally). */
  heartbeat: (details?: unknown) => void;
  /** Throws when the run was cancelled: long stages call it between units of work. */
  throwIfCancelled: () => void;
}

export interface ComputeResult {
  rowCounts?: Record<string, number>;
  summary?: Record<string, unknown>;
}

/**
 * What keys a stage: a name, a version bumped whenever its output for the same inputs changes, and its
 * input names. A stage's definition file (`activities/<stage>/<stage>.ts`) exports one and never imports
 * its compute; `activities/stages.ts` joins the two.
 */
export interface StageIdentity {
  stage: string;
  version: number;
  /** Names of the input artifacts, in the order their keys enter the stage key. */
  inputNames: readonly string[];
}

/** A stage's work on a cache miss. */
export type StageCompute<P> = (ctx: ComputeContext<P>) => Promise<ComputeResult>;

/** One pipeline stage: what keys it and its work. */
export interface StageDefinition<P> extends StageIdentity {
  compute(ctx: ComputeContext<P>): Promise<ComputeResult>;
}

/**
 * A stage whose compute module loads on its first cache miss, so a run of cache hits never loads the
 * heavy modules (DuckDB, apache-arrow, tfjs) a compute pulls in.
 */
export function withLazyCompute<P>(identity: StageIdentity, load: () => Promise<StageCompute<P>>): StageDefinition<P> {
  return { ...identity, compute: async (ctx) => (await load())(ctx) };
}

export interface RunStageOptions {
  /** Recompute even when a valid entry exists (the new entry must then be identical to replace nothing). */
  bypassCache?: boolean;
  heartbeat?: (details?: unknown) => void;
  /** Told about cache decisions worth a human's attention (a corrupt entry). */
  warn?: (message: string) => void;
  /** Hash every file of a cache hit instead of trusting matching stamps (`--verify-hashes`). */
  verifyHashes?: boolean;
  /** Recorded in the manifest and given to compute; see `Manifest.provenance`. */
  provenance?: Provenance;
  /** Throws when the run was cancelled; given to compute (see `ComputeContext.throwIfCancelled`). */
  throwIfCancelled?: () => void;
  /** Which workflow, attempt, task queue and worker computed it (Temporal only); see `Manifest.execution`. */
  execution?: () => Execution | undefined;
}

/**
 * Runs a stage through the store. Whatever goes wrong comes out typed (`classifyError`), naming the
 * stage and the artifact key, so the runners retry only what may pass.
 */
export async function runStage<P>(
  store: ArtifactStore,
  definition: StageDefinition<P>,
  params: P,
  inputs: Record<string, ArtifactRef>,
  options: RunStageOptions = {},
): Promise<StageOutcome> {
  const started = performance.now();
  const key = stageKey(definition, params, inputs);
  const ref: ArtifactRef = { key, stage: definition.stage };
  try {
    let reason = 'bypassed';
    if (!options.bypassCache) {
      const check = await store.check(key, { verifyHashes: options.verifyHashes });
      if (check.status === 'ok') {
        return { ref, cache: 'hit', ms: performance.now() - started, summary: check.manifest.summary };
      }
      reason = check.status === 'absent' ? 'absent' : `corrupt: ${check.detail}`;
      if (check.status === 'corrupt') {
        const aside = await store.quarantine(key);
        options.warn?.(`${definition.stage} artifact ${key} is corrupt (${check.detail}); moved to ${aside}, recomputing.`);
      }
    }
    const manifest = await computeAndCommit(store, definition, params, inputs, key, options);
    return { ref, cache: 'miss', reason, ms: performance.now() - started, summary: manifest.summary };
  } catch (err) {
    throw classifyError(err, { stage: definition.stage, key });
  }
}

/** The key a stage run with these params and inputs has (or will have) in the store. */
export function stageKey<P>(definition: StageIdentity, params: P, inputs: Record<string, ArtifactRef>): string {
  const inputKeys = orderedInputKeys(definition, inputs);
  return artifactKey({ stage: definition.stage, stageVersion: definition.version, params, inputKeys });
}

function orderedInputKeys(definition: StageIdentity, inputs: Record<string, ArtifactRef>): string[] {
  return definition.inputNames.map((name) => {
    const input = inputs[name];
    if (!input) throw new UlasanError('Internal', `Stage ${definition.stage} needs input '${name}'.`, { stage: definition.stage });
    return input.key;
  });
}

/**
 * How a computation treats its inputs: a `run` refuses an untrusted input manifest and moves an
 * unreadable input aside (CorruptInput); `verify` only reads, and leaves judging each input to its own verdict.
 */
type ComputeMode = 'run' | 'verify';

async function loadInputs(store: ArtifactStore, inputs: Record<string, ArtifactRef>, mode: ComputeMode): Promise<Record<string, StageInputArtifact>> {
  const loaded: Record<string, StageInputArtifact> = {};
  for (const [name, ref] of Object.entries(inputs)) {
    const manifest = mode === 'run' ? await store.manifest(ref.key) : await store.rawManifest(ref.key);
    const dir = store.dir(ref.key);
    loaded[name] = { key: ref.key, dir, manifest, file: (file) => store.path(ref.key, file) };
  }
  return loaded;
}

/** Runs `compute` in a temp dir; returns the dir and what compute said, cleaning up on failure. */
async function computeInTemp<P>(
  store: ArtifactStore,
  definition: StageDefinition<P>,
  params: P,
  inputs: Record<string, ArtifactRef>,
  key: string,
  options: Pick<RunStageOptions, 'heartbeat' | 'throwIfCancelled' | 'provenance'>,
  mode: ComputeMode = 'run',
): Promise<{ outDir: string; result: ComputeResult; computeMs: number }> {
  const outDir = await store.tempDir(definition.stage);
  const started = performance.now();
  try {
    const loaded = await loadInputs(store, inputs, mode);
    const { provenance } = options;
    const heartbeat = options.heartbeat ?? (() => undefined);
    const throwIfCancelled = options.throwIfCancelled ?? (() => undefined);
    const result = await definition.compute({ params, inputs: loaded, outDir, key, store, heartbeat, throwIfCancelled, ...(provenance ? { provenance } : {}) });
    return { outDir, result, computeMs: Math.round(performance.now() - started) };
  } catch (err) {
    await rm(outDir, { recursive: true, force: true });
    throw mode === 'run' ? await asCorruptInput(store, definition.stage, inputs, err) : err;
  }
}

/**
 * A stage that finds one of its inputs unreadable (a CorruptArtifact naming a file of that input) moves
 * the input aside and fails with CorruptInput naming the input's producer and key: retrying this stage
 * cannot help, recomputing the input can, and the plan does that once (workflows/plans/recovery.ts).
 */
async function asCorruptInput(store: ArtifactStore, consumer: string, inputs: Record<string, ArtifactRef>, err: unknown): Promise<unknown> {
  if (!(err instanceof UlasanError) || err.type !== 'CorruptArtifact' || !err.context.file) return err;
  const file = err.context.file;
  const input = Object.values(inputs).find((ref) => file.startsWith(store.dir(ref.key) + sep));
  if (!input) return err;
  const producer = (await store.rawManifest(input.key).catch(() => undefined))?.stage ?? (input.stage || 'unknown');
  const aside = await store.quarantine(input.key);
  return new UlasanError(
    'CorruptInput',
    `${consumer} could not read ${file}, made by stage ${producer} (${input.key}): ${err.message} Moved that artifact to ${aside}; ` +
      `the run recomputes it once.`,
    { stage: producer, key: input.key, file },
    { cause: err },
  );
}

async function computeAndCommit<P>(
  store: ArtifactStore,
  definition: StageDefinition<P>,
  params: P,
  inputs: Record<string, ArtifactRef>,
  key: string,
  options: RunStageOptions,
): Promise<Manifest> {
  const { provenance } = options;
  const { outDir, result, computeMs } = await computeInTemp(store, definition, params, inputs, key, options);
  const execution = options.execution?.();
  try {
    return await store.commit(outDir, {
      key,
      stage: definition.stage,
      stageVersion: definition.version,
      params,
      inputs: Object.fromEntries(definition.inputNames.map((name) => [name, inputs[name]!.key])),
      inputKeys: orderedInputKeys(definition, inputs),
      ...(provenance ? { provenance } : {}),
      ...(execution ? { execution } : {}),
      codeVersion: codeVersion(),
      rowCounts: result.rowCounts ?? {},
      summary: result.summary ?? {},
      timings: { computeMs },
      createdAt: new Date().toISOString(),
    });
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/** The result of recomputing an artifact from its recorded inputs. */
export interface VerifyResult {
  key: string;
  stage: string;
  identical: boolean;
  /** Files whose recomputed bytes differ from the stored ones (or exist on one side only). */
  differing: string[];
  problem?: string;
}

/** Recomputes a stored artifact from its manifest's params and inputs, bypassing the cache, and compares hashes. */
export async function recomputeStage(
  store: ArtifactStore,
  definitions: Record<string, StageDefinition<unknown>>,
  key: string,
): Promise<VerifyResult> {
  const manifest = await store.rawManifest(key);
  const definition = definitions[manifest.stage];
  const base = { key, stage: manifest.stage };
  const untrusted = manifestProblem(manifest, key);
  if (!definition) return { ...base, identical: false, differing: [], problem: `unknown stage '${manifest.stage}'` };
  if (definition.version !== manifest.stageVersion) {
    const problem = `stage version is now ${definition.version}, artifact was made by version ${manifest.stageVersion}`;
    return { ...base, identical: false, differing: [], problem };
  }
  const inputs = Object.fromEntries(
    Object.entries(manifest.inputs).map(([name, inputKey]) => [name, { key: inputKey, stage: '' }]),
  );
  const { outDir, result } = await computeInTemp(store, definition, manifest.params, inputs, key, { provenance: manifest.provenance }, 'verify');
  try {
    const differing = differingFiles(manifest.files, await hashDirectory(outDir));
    const fields = differingRowCounts(manifest.rowCounts, result.rowCounts ?? {});
    const stored = await store.check(key, { verifyHashes: true });
    const problems = [
      ...(untrusted ? [untrusted] : []),
      ...fields.map((f) => `manifest field ${f.field} records ${f.recorded}, recomputed ${f.recomputed}`),
      ...(stored.status !== 'ok' && !untrusted ? [`the stored entry no longer matches its manifest (${stored.status === 'corrupt' ? stored.detail : 'absent'})`] : []),
    ];
    const identical = differing.length === 0 && problems.length === 0;
    return { ...base, identical, differing, ...(problems.length > 0 ? { problem: problems.join('; ') } : {}) };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/** Row counts whose recorded value differs from the recomputed one (the counts `lineage` prints). */
function differingRowCounts(recorded: Record<string, number>, recomputed: Record<string, number>) {
  const names = [...new Set([...Object.keys(recorded ?? {}), ...Object.keys(recomputed)])].sort();
  return names
    .filter((name) => recorded?.[name] !== recomputed[name])
    .map((name) => ({ field: `rowCounts.${name}`, recorded: recorded?.[name], recomputed: recomputed[name] }));
}
