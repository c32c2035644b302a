/**
 * Drift-check stage: the `drift` command's measures (drift.ts) of a new window of reviews against a
 * model's training window, with the model scored on both, checked against thresholds. Writes
 * `drift.json` (the report and the alerts); the alerts are in the manifest summary, so a runner sees
 * them without reading files. Nightly scoring (workflows/plans/score.ts) runs it after predict.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import type { DriftReport } from './drift';

/** When a measure of the new window crosses one of these, the run records an alert. */
export interface DriftThresholds {
  /** Largest total-variation distance between the label mixes. @default 0.15 */
  mixShift?: number;
  /** Largest rise of the out-of-vocabulary rate (share of tokens, window − training). @default 0.1 */
  oovIncrease?: number;
  /** Largest relative change of the mean review length in tokens, |window / training − 1|. @default 0.5 */
  lengthChange?: number;
  /** Largest fall of the model's macro-F1 (training window − new window). @default 0.1 */
  scoreDrop?: number;
}

export const DEFAULT_DRIFT_THRESHOLDS: Required<DriftThresholds> = { mixShift: 0.15, oovIncrease: 0.1, lengthChange: 0.5, scoreDrop: 0.1 };

export interface DriftCheckInput {
  /** The model's training window (a labelled table of its lineage). */
  reference: ArtifactRef;
  /** The new window, labelled with the model's label rule. */
  window: ArtifactRef;
  model: ArtifactRef;
  thresholds: DriftThresholds;
}

export const DRIFT_FILE = 'drift.json';

/** The alerts a report raises: one line per measure past its threshold, naming both values. */
export function driftAlerts(report: DriftReport, given: DriftThresholds): string[] {
  const t = { ...DEFAULT_DRIFT_THRESHOLDS, ...given };
  const alerts: string[] = [];
  const f = (x: number) => x.toFixed(3);
  if (report.mixShift > t.mixShift) alerts.push(`label mix shifted by ${f(report.mixShift)} (total variation; threshold ${t.mixShift})`);
  const oovRise = report.oov.rateB - report.oov.rateA;
  if (oovRise > t.oovIncrease) alerts.push(`OOV rate rose from ${f(report.oov.rateA)} to ${f(report.oov.rateB)} (threshold +${t.oovIncrease})`);
  const lengthChange = report.a.length.mean === 0 ? 0 : Math.abs(report.b.length.mean / report.a.length.mean - 1);
  if (lengthChange > t.lengthChange) alerts.push(`mean length changed from ${f(report.a.length.mean)} to ${f(report.b.length.mean)} tokens (threshold ±${t.lengthChange * 100}%)`);
  if (report.model && 'a' in report.model) {
    const drop = report.model.a.macroF1 - report.model.b.macroF1;
    if (drop > t.scoreDrop) alerts.push(`model macro-F1 fell from ${f(report.model.a.macroF1)} to ${f(report.model.b.macroF1)} (threshold −${t.scoreDrop})`);
  }
  return alerts;
}

export const driftCheckStage: StageDefinition<{ thresholds: Required<DriftThresholds> }> = {
  stage: 'drift-check',
  version: 1,
  inputNames: ['reference', 'window', 'model'],
  async compute({ params, inputs, outDir, store }) {
    const { computeDrift } = await import('./drift');
    const report = await computeDrift(store, inputs.reference!.key, inputs.window!.key, { modelKey: inputs.model!.key });
    const alerts = driftAlerts(report, params.thresholds);
    await writeFile(join(outDir, DRIFT_FILE), JSON.stringify({ thresholds: params.thresholds, alerts, report }, null, 2) + '\n');
    const score = report.model && 'a' in report.model ? { macroF1Reference: report.model.a.macroF1, macroF1Window: report.model.b.macroF1 } : {};
    return {
      rowCounts: { reference: report.a.rows, window: report.b.rows },
      summary: { alerts, mixShift: report.mixShift, oovReference: report.oov.rateA, oovWindow: report.oov.rateB, ...score },
    };
  },
};

export function createDriftCheckActivity(deps: ActivityDeps) {
  return async function driftCheck(input: DriftCheckInput): Promise<StageOutcome> {
    const thresholds = { ...DEFAULT_DRIFT_THRESHOLDS, ...input.thresholds };
    return runStage(deps.store, driftCheckStage, { thresholds }, { reference: input.reference, window: input.window, model: input.model }, deps);
  };
}
