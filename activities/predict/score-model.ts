/**
 * The one way a stored model meets feature rows: a baseline (`baseline.json`) on TF-IDF or document
 * vectors, or a tfjs model on token ids. Evaluate, pseudo-labelling, drift and predict all score through
 * `scoreStoredModel`, so a review gets the same class whichever of them asks. Loads tfjs only for tfjs models.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput, UlasanError } from '../../core/errors';
import { applyPriorAdjustment, type PriorAdjustment } from '../evaluate/prior-adjustment';
import type { FeaturePartition } from '../features/partition';
import { scoreBaseline, type BaselineModel, type RowScores } from '../../models/baselines';
import { BASELINE_FILE, PRIOR_ADJUSTMENT_FILE } from '../train/train';

export type { RowScores } from '../../models/baselines';

export interface ModelScores extends RowScores {
  /** Time spent in the model itself (not loading it), for the manifest summary. */
  inferenceMs: number;
}

function mismatch(modelKey: string, stage: string, what: string, rows: string) {
  return badInput(`model ${modelKey} is ${what} but the features to score hold ${rows}; score it on features built like the ones it was trained on`, {
    stage,
    key: modelKey,
  });
}

/**
 * Scores `data` with the model stored in `modelDir` (`modelKey` and `stage` name it in errors), with the
 * model's prior adjustment applied when it has one.
 */
export async function scoreStoredModel(modelDir: string, data: FeaturePartition, modelKey: string, stage: string): Promise<ModelScores> {
  const scores = await scoreModel(modelDir, data, modelKey, stage);
  const adjustmentPath = join(modelDir, PRIOR_ADJUSTMENT_FILE);
  if (!existsSync(adjustmentPath)) return scores;
  const adjustment = JSON.parse(await readFile(adjustmentPath, 'utf8')) as PriorAdjustment;
  const space = scores.kind === 'probability' ? 'log-probability' : 'decision';
  if (adjustment.space !== space || adjustment.offsets.length !== scores.k) {
    throw new UlasanError('CorruptArtifact', `model ${modelKey}: ${PRIOR_ADJUSTMENT_FILE} holds ${adjustment.offsets.length} ${adjustment.space} offsets but the model gives ${scores.k} ${space} scores; recompute it.`, {
      key: modelKey,
    });
  }
  return { ...applyPriorAdjustment(scores, adjustment.offsets), inferenceMs: scores.inferenceMs };
}

async function scoreModel(modelDir: string, data: FeaturePartition, modelKey: string, stage: string): Promise<ModelScores> {
  const baselinePath = join(modelDir, BASELINE_FILE);
  if (existsSync(baselinePath)) {
    if (data.layout === 'token-ids') throw mismatch(modelKey, stage, 'a baseline', 'token ids');
    const model = JSON.parse(await readFile(baselinePath, 'utf8')) as BaselineModel;
    const started = performance.now();
    const scores = scoreBaseline(model, data.x);
    return { ...scores, inferenceMs: performance.now() - started };
  }
  if (data.layout !== 'token-ids') throw mismatch(modelKey, stage, 'a token-id model', data.layout === 'csr' ? 'TF-IDF (CSR) rows' : 'dense rows');
  const [{ tfReady }, { loadModelFrom }, { scoreTokenIds }] = await Promise.all([
    import('../../models/tf-runtime'),
    import('../../models/model-io'),
    import('../../models/token-scores'),
  ]);
  await tfReady();
  const model = await loadModelFrom(modelDir);
  try {
    const started = performance.now();
    const scores = scoreTokenIds(model, data.matrix.ids, data.rows, data.matrix.seqLen);
    return { ...scores, inferenceMs: performance.now() - started };
  } finally {
    model.dispose();
  }
}
