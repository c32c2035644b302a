/** The grid plan in-process over fake activities: caching, isolation, honest selection, cancellation, continue-as-new. */
import { describe, expect, it } from 'vitest';
import { tinyTrain, tinyUpstream } from '../testing/fixtures';
import type { StageOutcome } from '../../activities/context';
import type { TrainParams } from '../../activities/train/train';
import { runGrid, type CachedCell, type GridActivities, type GridCell, type GridPlan } from './grid';

const cells: GridCell[] = [0.1, 0.2, 0.3, 0.4, 0.5].map((lr, i) => ({
  id: `c${i}`,
  resample: { sampler: { method: 'none' }, seed: 1, partition: 'train' },
  train: tinyTrain(lr),
}));
const plan: GridPlan = {
  name: 'g',
  ...tinyUpstream,
  cells,
  metric: 'macroF1',
  parallel: 2,
  report: { title: 'g' },
};

interface FakeOptions {
  /** Validation macro-F1 per learning rate. */
  val: Record<number, number>;
  /** Test macro-F1 per learning rate (made to disagree with validation). */
  test: Record<number, number>;
  failing?: number[];
  cached?: Record<string, CachedCell>;
  cancelAt?: number;
}

class Cancelled extends Error {}

function fakes(options: FakeOptions) {
  const calls: { name: string; input: unknown }[] = [];
  let running = 0;
  let maxRunning = 0;
  const outcome = (key: string, stage: string, summary: Record<string, unknown> = {}): StageOutcome => ({ ref: { key, stage }, cache: 'miss', ms: 1, summary });
  const lrOfModel = (key: string) => Number(key.replace('model-', ''));
  const simple = (stage: string) => async (input: unknown) => {
    calls.push({ name: stage, input });
    return outcome(`${stage}-key`, stage);
  };
  const acts: GridActivities = {
    importReviews: simple('import'),
    clean: simple('clean'),
    annotate: simple('annotate'),
    split: simple('split'),
    features: simple('features'),
    resample: simple('resample'),
    async trainModel(input) {
      calls.push({ name: 'train', input });
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      const lr = input.params.learningRate;
      if (options.cancelAt === lr) throw new Cancelled('cancelled');
      if (options.failing?.includes(lr)) throw new Error(`diverged at lr ${lr}`);
      return outcome(`model-${lr}`, 'train');
    },
    async evaluate(input) {
      calls.push({ name: `evaluate:${input.params.partition}`, input });
      const lr = lrOfModel(input.model.key);
      const macroF1 = (input.params.partition === 'val' ? options.val : options.test)[lr]!;
      return outcome(`eval-${input.params.partition}-${lr}`, 'evaluate', { macroF1, accuracy: macroF1 });
    },
    report: simple('report'),
    leakySplit: simple('leaky-split'),
    labelFraction: simple('label-fraction'),
    pseudoLabel: simple('pseudo-label'),
    async lookupCells(input) {
      return Object.fromEntries(input.cells.map((c) => [c.id, options.cached?.[c.id] ?? null]));
    },
    recordGrid: simple('grid'),
  };
  return { acts, calls, maxRunning: () => maxRunning };
}

const VAL = { 0.1: 0.6, 0.2: 0.7, 0.3: 0.9, 0.4: 0.5, 0.5: 0.9 };
const TEST = { 0.1: 0.99, 0.2: 0.6, 0.3: 0.7, 0.4: 0.8, 0.5: 0.95 };

async function done(acts: GridActivities, p = plan, hooks = {}) {
  const outcome = await runGrid(acts, p, undefined, hooks);
  if (outcome.kind !== 'done') throw new Error('expected the grid to finish');
  return outcome.result;
}

describe('runGrid', () => {
  it('selects on validation only, ties to the first listed cell, and scores only that cell on test, once', async () => {
    const { acts, calls, maxRunning } = fakes({ val: VAL, test: TEST });
    const result = await done(acts);
    // c2 and c4 tie on validation (0.9); c0 would win on test (0.99) but test must not decide.
    expect(result.selected).toBe('c2');
    const testCalls = calls.filter((c) => c.name === 'evaluate:test');
    expect(testCalls).toHaveLength(1);
    expect(testCalls[0]!.input).toMatchObject({ model: { key: 'model-0.3' } });
    expect(result.metricsKey).toBe('eval-test-0.3');
    expect(maxRunning()).toBeLessThanOrEqual(2);
    expect(calls.filter((c) => c.name === 'import')).toHaveLength(1);
  });

  it('records a failing cell with its error and completes with the rest', async () => {
    const { acts } = fakes({ val: VAL, test: TEST, failing: [0.3] });
    const result = await done(acts);
    expect(result.cells.find((c) => c.id === 'c2')).toMatchObject({ status: 'failed', error: 'diverged at lr 0.3' });
    expect(result.cells.filter((c) => c.status === 'done')).toHaveLength(4);
    expect(result.selected).toBe('c4');
  });

  it('never schedules a cell already in the store', async () => {
    const cached = { c0: { trainKey: 'model-0.1', valKey: 'eval-val-0.1', val: { macroF1: 0.6 } } };
    const { acts, calls } = fakes({ val: VAL, test: TEST, cached });
    const result = await done(acts);
    const trained = calls.filter((c) => c.name === 'train').map((c) => (c.input as { params: TrainParams }).params.learningRate);
    expect(trained.sort()).toEqual([0.2, 0.3, 0.4, 0.5]);
    expect(result.cells[0]).toMatchObject({ id: 'c0', status: 'cached' });
  });

  it('stops at a cancellation instead of recording it as a failed cell', async () => {
    const { acts, calls } = fakes({ val: VAL, test: TEST, cancelAt: 0.2 });
    const outcome = runGrid(acts, { ...plan, parallel: 1 }, undefined, { isCancellation: (e) => e instanceof Cancelled });
    await expect(outcome).rejects.toBeInstanceOf(Cancelled);
    expect(calls.filter((c) => c.name === 'train')).toHaveLength(2);
    expect(calls.some((c) => c.name === 'evaluate:test')).toBe(false);
  });

  it('hands its state to a fresh run (continue-as-new) without training any cell twice', async () => {
    const { acts, calls } = fakes({ val: VAL, test: TEST });
    const hooks = { shouldContinueAsNew: (finished: number) => finished >= 2 };
    const first = await runGrid(acts, { ...plan, parallel: 1 }, undefined, hooks);
    expect(first.kind).toBe('continue');
    if (first.kind !== 'continue') return;
    expect(first.state.results).toHaveLength(2);
    const second = await runGrid(acts, { ...plan, parallel: 1 }, first.state, hooks);
    const third = second.kind === 'continue' ? await runGrid(acts, { ...plan, parallel: 1 }, second.state, hooks) : second;
    expect(third.kind).toBe('done');
    const trained = calls.filter((c) => c.name === 'train').map((c) => (c.input as { params: TrainParams }).params.learningRate);
    expect(trained).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(calls.filter((c) => c.name === 'import')).toHaveLength(1);
  });
});
