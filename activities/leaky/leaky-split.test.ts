import { describe, expect, it } from 'vitest';
import type { StageOutcome } from '../context';
import { shareOfCopies, type TokenMatrix } from '../features/token-matrix';
import { tinyTrain, tinyUpstream } from '../../workflows/testing/fixtures';
import { runPipeline, type PipelineActivities, type PipelinePlan } from '../../workflows/plans/pipeline';
import { splitRows } from './leaky-split';

const matrix = (rows: number[][], labels: number[]): TokenMatrix => ({
  ids: Int32Array.from(rows.flat()),
  labels: Int32Array.from(labels),
  sourceRows: Int32Array.from(labels.keys()),
  rows: rows.length,
  seqLen: rows[0]!.length,
});

describe('leakage measures', () => {
  it('counts test rows that are exact copies of training rows', () => {
    const train = matrix([[1, 2], [3, 4]], [0, 1]);
    const test = matrix([[1, 2], [5, 6], [3, 4], [2, 1]], [0, 1, 1, 0]);
    expect(shareOfCopies(train, test)).toBe(0.5);
  });

  it('splits oversampled rows so copies straddle train and test, as the published setups did', () => {
    // One review copied 10 times (random over-sampling) plus 10 distinct ones.
    const rows = [...Array.from({ length: 10 }, () => [7, 7]), ...Array.from({ length: 10 }, (_, i) => [i + 10, 1])];
    const m = matrix(rows, [...Array(10).fill(0), ...Array(10).fill(1)]);
    const parts = splitRows(m, { train: 0.6, val: 0, test: 0.4 }, 3);
    expect(parts.test).toHaveLength(8);
    const copiesInTest = parts.test.filter((row) => row < 10).length;
    const copiesInTrain = parts.train.filter((row) => row < 10).length;
    expect(copiesInTest).toBeGreaterThan(0);
    expect(copiesInTrain).toBeGreaterThan(0);
  });
});

describe('leaky mode plan', () => {
  const plan: PipelinePlan = {
    name: 'leaky',
    ...tinyUpstream,
    resample: { sampler: { method: 'none' }, seed: 1, partition: 'train' },
    train: tinyTrain(0.01),
    evaluate: { partition: 'test' },
    report: { title: 'leaky' },
  };

  function fakes() {
    const calls: { name: string; input: Record<string, unknown> }[] = [];
    let n = 0;
    const act = (name: string) => async (input: Record<string, unknown>): Promise<StageOutcome> => {
      calls.push({ name, input });
      return { ref: { key: `${name}-${n++}`, stage: name }, cache: 'miss', ms: 0, summary: {} };
    };
    const names = ['importReviews', 'clean', 'annotate', 'split', 'features', 'resample', 'trainModel', 'evaluate', 'report', 'leakySplit'];
    return { calls, acts: Object.fromEntries(names.map((name) => [name, act(name)])) as unknown as PipelineActivities };
  }

  it('resamples everything before splitting only in leaky mode', async () => {
    const { calls, acts } = fakes();
    await runPipeline(acts, { ...plan, mode: 'leaky' });
    expect(calls.map((c) => c.name)).toEqual(['importReviews', 'clean', 'annotate', 'split', 'features', 'resample', 'leakySplit', 'trainModel', 'evaluate', 'report']);
    expect(calls[3]!.input).toMatchObject({ params: { ratios: { train: 1, val: 0, test: 0 } } });
  });

  it('runs both branches and gives the report the leaky evaluation in honest-vs-leaky mode', async () => {
    const { calls, acts } = fakes();
    const result = await runPipeline(acts, { ...plan, mode: 'honest-vs-leaky' });
    expect(calls.filter((c) => c.name === 'evaluate')).toHaveLength(2);
    const report = calls.find((c) => c.name === 'report')!;
    expect(report.input.leaky).toMatchObject({ key: result.leakyMetricsKey });
    expect(result.metricsKey).not.toBe(result.leakyMetricsKey);
  });
});
