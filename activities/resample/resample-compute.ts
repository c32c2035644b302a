/**
 * The resample stage's work on a cache miss: the samplers over a training partition in its own feature space.
 * Kept apart from resample.ts (the stage definition) so that a cache-hit run loads none of the sampler modules.
 */
import { Rng } from '../../data/random';
import type { FeaturePartition } from '../features/partition';
import type { TokenMatrix } from '../features/token-matrix';
import type { FeatureSpace } from './feature-space';
import { isCsr, type DenseMatrix } from './matrix';
import type { ResampleStageParams } from './resample';
import type { ResampleResult } from './result';
import { resample as resampleRows } from './sampler';

/** Runs the sampler on the token-id matrix (SMOTE and friends refused there unless `allowOnTokenIds`). */
export function resampleTokenMatrix(train: TokenMatrix, nClasses: number, params: ResampleStageParams): { matrix: TokenMatrix; result: ResampleResult } {
  const x = { data: Float32Array.from(train.ids), rows: train.rows, cols: train.seqLen };
  const result = resampleRows({ x, y: train.labels, featureSpace: 'token-ids', nClasses }, params.sampler, samplerRng(params));
  const dense = result.x as DenseMatrix;
  // Interpolated token ids (SMOTE on ids, only with allowOnTokenIds) are rounded back to ids; the flag says so.
  const ids = Int32Array.from(dense.data, (v) => Math.round(v));
  const sourceRows = originRows(result, train.sourceRows);
  return { matrix: { ids, labels: Int32Array.from(result.y), sourceRows, rows: dense.rows, seqLen: train.seqLen }, result };
}

/** `none` has no seed in its key and draws nothing, so any seed serves it. */
const samplerRng = (params: ResampleStageParams): Rng => new Rng(params.seed ?? 0).fork('resample');

/** The source row of every output row; -1 for rows a sampler synthesised. */
function originRows(result: ResampleResult, sourceRows: Int32Array): Int32Array {
  return Int32Array.from(result.origin.source, (row) => (row >= 0 ? sourceRows[row]! : -1));
}

/** The sampler's feature space for a partition layout: token ids, document vectors (dense) or TF-IDF (CSR). */
export function featureSpaceOf(layout: FeaturePartition['layout']): FeatureSpace {
  return layout === 'token-ids' ? 'token-ids' : layout === 'dense' ? 'doc-vectors' : 'tfidf';
}

/** Resamples a training partition in its own feature space; the output has the same layout. */
export function resamplePartition(
  train: FeaturePartition,
  nClasses: number,
  params: ResampleStageParams,
): { partition: FeaturePartition; result: ResampleResult } {
  if (train.layout === 'token-ids') {
    const { matrix, result } = resampleTokenMatrix(train.matrix, nClasses, params);
    return { partition: { layout: 'token-ids', matrix, labels: matrix.labels, sourceRows: matrix.sourceRows, rows: matrix.rows }, result };
  }
  const featureSpace = featureSpaceOf(train.layout);
  const result = resampleRows({ x: train.x, y: train.labels, featureSpace, nClasses }, params.sampler, samplerRng(params));
  const rows = { labels: Int32Array.from(result.y), sourceRows: originRows(result, train.sourceRows), rows: result.x.rows };
  const partition: FeaturePartition = isCsr(result.x)
    ? { layout: 'csr', x: result.x, metadata: train.metadata, ...rows }
    : { layout: 'dense', x: result.x, metadata: train.metadata, ...rows };
  return { partition, result };
}
