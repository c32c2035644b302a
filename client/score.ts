/**
 * Nightly scoring from the client's side: builds the scoring plan from the model's lineage (its cleaning,
 * label rule and training window), runs it on the local runner under a lease, and records the run with
 * its status and alerts so `ulasan runs` shows them. A schedule (`--score-with <tag>`) calls
 * `scoringPlanFor` with tonight's scrape as the source and runs `runScoring` after the scrape.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnnotateParams, AnnotateStageParams } from '../activities/annotate/annotate';
import { cleanConfigOf, type CleanParams } from '../activities/clean/clean';
import { badInput } from '../core/errors';
import type { ImportSource } from '../activities/import/import';
import type { DriftThresholds } from '../activities/lineage/drift-check';
import type { ArtifactStore } from '../data/store/artifact-store';
import { collectLineage } from '../data/store/lineage';
import type { PipelinePlan } from '../workflows/plans/pipeline';
import { runScoring, SCORING_PROFILES, type ScoringActivities, type ScoringPlan, type ScoringResult } from '../workflows/plans/score';
import { RunLease } from './leases';
import { realActivities, wrapActivities } from './local-runner';
import { resolveModel, runsDir } from './models';
import { newRunId } from './records';

/** The plan for scoring `source` with the model `modelRef` names (key, run id or tag). */
export async function scoringPlanFor(store: ArtifactStore, modelRef: string, source: ImportSource, thresholds: DriftThresholds, name: string): Promise<ScoringPlan> {
  const model = await resolveModel(store, modelRef);
  const lineage = await collectLineage(store, model);
  const clean = lineage.find((m) => m.stage === 'clean');
  const annotate = lineage.find((m) => m.stage === 'annotate');
  if (!clean || !annotate) {
    throw badInput(`model ${model} has no clean and annotate stages in its lineage; score with a model trained by a ulasan pipeline`, { key: model });
  }
  const label: AnnotateParams = { rule: (annotate.params as AnnotateStageParams).rule };
  return { name, source, model, clean: cleanConfigOf((clean.params as CleanParams).config, clean.provenance, clean.key), label, reference: { key: annotate.key, stage: 'annotate' }, thresholds };
}

export interface ScoringRun extends ScoringResult {
  runId: string;
}

/** Runs the plan in-process and records it under `<store>/runs/` (status and alerts included). */
export async function runScoringLocal(store: ArtifactStore, plan: ScoringPlan, log: (line: string) => void = () => undefined): Promise<ScoringRun> {
  const runId = newRunId(plan as unknown as PipelinePlan);
  const lease = await RunLease.acquire(store, runId, 'local');
  try {
    const acts = wrapActivities<ScoringActivities>(realActivities(store, log), { store, log, lease }, SCORING_PROFILES);
    const result = await runScoring(acts, plan);
    for (const alert of result.alerts) log(`ALERT: ${alert}`);
    await mkdir(runsDir(store), { recursive: true });
    const record = { runId, kind: 'score', runner: 'local', plan, metricsKey: result.driftKey, ...result };
    await writeFile(join(runsDir(store), `${runId}.json`), JSON.stringify(record, null, 2) + '\n', { flag: 'wx' });
    return { runId, ...result };
  } finally {
    await lease.release();
  }
}
