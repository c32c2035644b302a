/**
 * Nightly scoring from the client's side: builds the scoring plan from the model's lineage (its cleaning,
 * label rule and training window), runs it on the local runner under a lease; the plan records the run with
 * its status and alerts so `ulasan runs` shows them. `ulasan scrape|schedule create --score-with <model>`
 * put `scoringModelFor`'s plan (the tag resolved once, at create time) into the nightly plan, whose
 * runner then scores each night's new reviews (workflows/plans/scrape.ts).
 */
import type { Command } from 'commander';
import type { AnnotateParams, AnnotateStageParams } from '../activities/annotate/annotate';
import { cleanConfigOf, type CleanParams } from '../activities/clean/clean';
import { badInput } from '../core/errors';
import type { ImportSource } from '../activities/import/import';
import { DEFAULT_DRIFT_THRESHOLDS, type DriftThresholds } from '../activities/lineage/drift-check';
import type { ArtifactStore } from '../data/store/artifact-store';
import { collectLineage } from '../data/store/lineage';
import type { PipelinePlan } from '../workflows/plans/pipeline';
import { runScoring, SCORING_PROFILES, type ScoringActivities, type ScoringPlan, type ScoringResult } from '../workflows/plans/score';
import { RunLease } from './leases';
import { realActivities, wrapActivities } from './local-runner';
import { resolveModel } from './models';
import { newRunId } from './records';

/** A scoring plan without its source: what a schedule keeps, each night's scrape being the source. */
export type ScoringModel = Omit<ScoringPlan, 'source'>;

/**
 * The model `modelRef` names (key, run id or tag), resolved now, with its recorded cleaning, label rule and
 * training window. A tag is resolved once: the plan keeps both the tag (`modelRef`) and the key it named.
 */
export async function scoringModelFor(store: ArtifactStore, modelRef: string, thresholds: DriftThresholds, name: string): Promise<ScoringModel> {
  const model = await resolveModel(store, modelRef);
  const lineage = await collectLineage(store, model);
  const clean = lineage.find((m) => m.stage === 'clean');
  const annotate = lineage.find((m) => m.stage === 'annotate');
  if (!clean || !annotate) {
    throw badInput(`model ${model} has no clean and annotate stages in its lineage; score with a model trained by a ulasan pipeline`, { key: model });
  }
  const label: AnnotateParams = { rule: (annotate.params as AnnotateStageParams).rule };
  return {
    name,
    model,
    ...(modelRef !== model ? { modelRef } : {}),
    clean: cleanConfigOf((clean.params as CleanParams).config, clean.provenance, clean.key),
    label,
    reference: { key: annotate.key, stage: 'annotate' },
    thresholds,
  };
}

/** The plan for scoring `source` with the model `modelRef` names (key, run id or tag). */
export async function scoringPlanFor(store: ArtifactStore, modelRef: string, source: ImportSource, thresholds: DriftThresholds, name: string): Promise<ScoringPlan> {
  return { ...(await scoringModelFor(store, modelRef, thresholds, name)), source };
}

export interface ScoringRun extends ScoringResult {
  runId: string;
}

/** Runs the plan in-process under a lease; the plan records it under `<store>/runs/` (status and alerts included). */
export async function runScoringLocal(store: ArtifactStore, plan: ScoringPlan, log: (line: string) => void = () => undefined): Promise<ScoringRun> {
  const runId = newRunId(plan as unknown as PipelinePlan);
  const lease = await RunLease.acquire(store, runId, 'local');
  try {
    const acts = wrapActivities<ScoringActivities>(realActivities(store, log), { store, log, lease }, SCORING_PROFILES);
    const result = await runScoring(acts, plan, { runId, runner: 'local' });
    for (const alert of result.alerts) log(`ALERT: ${alert}`);
    return { ...result, runId };
  } finally {
    await lease.release();
  }
}

/** The drift threshold flags, as commander parses them (`score`, `scrape --score-with`, `schedule create --score-with`). */
export interface DriftThresholdOptions {
  maxMixShift?: number;
  maxOovIncrease?: number;
  maxLengthChange?: number;
  maxScoreDrop?: number;
}

/** Declares the drift threshold flags on a command. */
export function withDriftThresholdOptions(command: Command): Command {
  const t = DEFAULT_DRIFT_THRESHOLDS;
  return command
    .option('--max-mix-shift <x>', `label mix total variation allowed (default ${t.mixShift})`, Number)
    .option('--max-oov-increase <x>', `OOV rate rise allowed (default ${t.oovIncrease})`, Number)
    .option('--max-length-change <x>', `relative mean length change allowed (default ${t.lengthChange})`, Number)
    .option('--max-score-drop <x>', `macro-F1 fall allowed (default ${t.scoreDrop})`, Number);
}

/** The thresholds the flags set (those not given take the defaults when the check runs); fails naming a flag that is not a number ≥ 0. */
export function driftThresholdsFrom(options: DriftThresholdOptions): DriftThresholds {
  const given = { mixShift: options.maxMixShift, oovIncrease: options.maxOovIncrease, lengthChange: options.maxLengthChange, scoreDrop: options.maxScoreDrop };
  const flags: Record<keyof DriftThresholds, string> = { mixShift: '--max-mix-shift', oovIncrease: '--max-oov-increase', lengthChange: '--max-length-change', scoreDrop: '--max-score-drop' };
  const thresholds: DriftThresholds = {};
  for (const [name, value] of Object.entries(given) as [keyof DriftThresholds, number | undefined][]) {
    if (value === undefined) continue;
    if (!(Number.isFinite(value) && value >= 0)) throw badInput(`${flags[name]} must be a number ≥ 0, got ${value}.`, { field: flags[name] });
    thresholds[name] = value;
  }
  return thresholds;
}

/** One line saying what a scored night uses: the model as named and the key it resolved to, and the thresholds. */
export function describeScoring(score: ScoringModel): string {
  const named = score.modelRef ? `${score.modelRef} (resolved to ${score.model})` : score.model;
  const t = { ...DEFAULT_DRIFT_THRESHOLDS, ...score.thresholds };
  return `scores each night's new reviews with ${named}; drift alerts above: label mix ${t.mixShift}, OOV +${t.oovIncrease}, length ±${t.lengthChange}, macro-F1 −${t.scoreDrop}`;
}
