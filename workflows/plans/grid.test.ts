/** The grid plan in-process over fake activities: caching, isolation, honest selection, cancellation, continue-as-new. */
import { describe, expect, it } from 'vitest';
import { tinyTrain, tinyUpstream } from '../testing/fixtures';
import type { StageOutcome } from '../../activities/context';
import type { ResampleParams } from '../../activities/resample/resample';
import type { TrainParams } from '../../activities/train/train';
import { cellFailure, epochsTrained, refitCell, refitEpochsOf, resolveSelection, runGrid, GridFailedError, type CachedCell, type CellFailure, type GridActivities, type GridCell, type GridPlan, type GridProgress, type GridState } from './grid';

const cells: GridCell[] = [0.1, 0.2, 0.3, 0.4, 0.5].map((lr, i) => ({
  id: `c${i}`,
  resample: { sampler: { method: 'none' }, seed: 1, partition: 'train' },
  train: tinyTrain(lr),
}));
const plan: GridPlan = {
  name: 'g',
  ...tinyUpstream,
  cells: { key: 'cells-key', count: cells.length },
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
  /** Learning rates whose training fails the way Temporal reports it: an ActivityFailure wrapping the typed cause. */
  failingOnTemporal?: number[];
  cached?: Record<string, CachedCell>;
  cancelAt?: number;
  /** cv: each fold's held-out macro-F1 per learning rate (else the validation figure). */
  foldVal?: Record<number, number[]>;
  /** cv: the top cells' soft vote per fold. */
  ensembleVal?: number[];
}

class Cancelled extends Error {}

/** An error shaped as Temporal hands a failed activity to workflow code. */
function activityFailure(type: string, message: string): Error {
  const cause = Object.assign(new Error(message), { name: 'ApplicationFailure', type });
  return Object.assign(new Error('Activity task failed'), { name: 'ActivityFailure', cause });
}

function fakes(options: FakeOptions) {
  const calls: { name: string; input: unknown }[] = [];
  const failures: Record<string, CellFailure> = {};
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
    async features(input) {
      calls.push({ name: 'features', input });
      return outcome(`features-of-${input.split.key}`, 'features');
    },
    async ensemble(input) {
      calls.push({ name: `ensemble:${input.partition}`, input });
      const fold = /^features-of-fold-(\d+)$/.exec(input.members[0]!.features)?.[1];
      const macroF1 = input.partition === 'test' ? 0.5 : (options.ensembleVal?.[Number(fold)] ?? 0);
      return outcome(`vote-${input.partition}-${fold ?? 'all'}`, 'ensemble', { macroF1 });
    },
    async fold(input) {
      calls.push({ name: 'fold', input });
      return outcome(`fold-${input.params.fold}`, 'fold');
    },
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
      if (options.failingOnTemporal?.includes(lr)) throw activityFailure('BadInput', `classWeight has 3 weights for 2 classes (lr ${lr})`);
      return outcome(`model-${lr}`, 'train');
    },
    async evaluate(input) {
      calls.push({ name: `evaluate:${input.params.partition}`, input });
      const lr = lrOfModel(input.model.key);
      const fold = /^features-of-fold-(\d+)$/.exec(input.features.key)?.[1];
      const foldScore = fold === undefined ? undefined : options.foldVal?.[lr]?.[Number(fold)];
      const macroF1 = foldScore ?? (input.params.partition === 'val' ? options.val : options.test)[lr]!;
      return outcome(`eval-${input.params.partition}-${lr}`, 'evaluate', { macroF1, accuracy: macroF1 });
    },
    report: simple('report'),
    leakySplit: simple('leaky-split'),
    labelFraction: simple('label-fraction'),
    pseudoLabel: simple('pseudo-label'),
    checkStore: async () => undefined,
    checkTrainStore: async () => undefined,
    async lookupCells(input) {
      calls.push({ name: 'lookup', input });
      return cells.slice(input.from, input.from + input.count).map((cell, offset) => {
        const cached = options.cached?.[cell.id];
        return { index: input.from + offset, id: cell.id, cell, ...(cached ? { cached } : {}) };
      });
    },
    async recordFailures(input) {
      calls.push({ name: 'failures', input });
      Object.assign(failures, input.failures);
      return `failures-${calls.length}`;
    },
    recordGrid: simple('grid'),
  };
  return { acts, calls, failures, maxRunning: () => maxRunning };
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

  it('records a failing cell with its real failure type and message and completes with the rest', async () => {
    const { acts, failures, calls } = fakes({ val: VAL, test: TEST, failing: [0.3], failingOnTemporal: [0.2] });
    const result = await done(acts);
    expect(failures).toEqual({
      c1: { type: 'BadInput', message: 'classWeight has 3 weights for 2 classes (lr 0.2)' },
      c2: { type: 'Error', message: 'diverged at lr 0.3' },
    });
    expect(result.counts).toEqual({ done: 3, cached: 0, failed: 2 });
    expect(result.selected).toBe('c4');
    expect(calls.find((c) => c.name === 'grid')!.input).toMatchObject({ failures: ['failures-' + (calls.findIndex((c) => c.name === 'failures') + 1)], selected: 'c4' });
  });

  it('reads the same failure on both runners: the cause Temporal wraps, or the error itself', () => {
    const typed = Object.assign(new Error('no such artifact'), { type: 'NotFound' });
    expect(cellFailure(typed)).toEqual({ type: 'NotFound', message: 'no such artifact' });
    expect(cellFailure(activityFailure('NotFound', 'no such artifact'))).toEqual(cellFailure(typed));
    expect(cellFailure(new RangeError('bad'))).toEqual({ type: 'RangeError', message: 'bad' });
  });

  it('fails with a typed error naming the first failures when every cell fails', async () => {
    const { acts, calls } = fakes({ val: VAL, test: TEST, failingOnTemporal: [0.1, 0.2, 0.3, 0.4, 0.5] });
    const failure = await runGrid(acts, plan).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GridFailedError);
    expect(failure).toMatchObject({ type: 'BadInput' });
    expect((failure as Error).message).toMatch(/^Every cell of grid 'g' failed \(5 of 5\): c0: BadInput: classWeight has 3 weights for 2 classes \(lr 0\.1\); .*; and 2 more\./);
    expect(calls.some((c) => c.name === 'evaluate:test')).toBe(false);
  });

  it('fetches cells in batches and never carries more than a batch of specs', async () => {
    const many: GridCell[] = Array.from({ length: 130 }, (_, i) => ({ id: `m${i}`, resample: cells[0]!.resample, train: tinyTrain(0.1) }));
    const { acts, calls } = fakes({ val: { 0.1: 0.5 }, test: { 0.1: 0.5 } });
    acts.lookupCells = async (input) => {
      calls.push({ name: 'lookup', input });
      return many.slice(input.from, input.from + input.count).map((cell, offset) => ({ index: input.from + offset, id: cell.id, cell }));
    };
    const result = await done(acts, { ...plan, cells: { key: 'many', count: many.length }, parallel: 3 });
    const lookups = calls.filter((c) => c.name === 'lookup').map((c) => c.input as { from: number; count: number });
    expect(lookups).toEqual([{ from: 0, count: 50 }, { from: 50, count: 50 }, { from: 100, count: 30 }].map((l) => expect.objectContaining(l)));
    expect(result.counts.done).toBe(130);
    expect(result.selected).toBe('m0');
  });

  it('never schedules a cell already in the store, and counts it in the progress', async () => {
    const cached = { c0: { trainKey: 'model-0.1', valKey: 'eval-val-0.1', val: { macroF1: 0.6 } } };
    const { acts, calls } = fakes({ val: VAL, test: TEST, cached });
    const progress: GridProgress[] = [];
    const result = await done(acts, plan, { onProgress: (p: GridProgress) => progress.push(p) });
    const trained = calls.filter((c) => c.name === 'train').map((c) => (c.input as { params: TrainParams }).params.learningRate);
    expect(trained.sort()).toEqual([0.2, 0.3, 0.4, 0.5]);
    expect(result.counts).toEqual({ done: 4, cached: 1, failed: 0 });
    expect(progress[1]).toEqual({ total: 5, done: 0, cached: 1, failed: 0, running: 0 });
    expect(progress.at(-1)).toEqual({ total: 5, done: 4, cached: 1, failed: 0, running: 0 });
  });

  it('asks both queues for the store id first and does nothing on another store', async () => {
    const { acts, calls } = fakes({ val: VAL, test: TEST });
    const asked: string[] = [];
    acts.checkStore = async ({ storeId }) => void asked.push(`ulasan:${storeId}`);
    acts.checkTrainStore = async ({ storeId }) => {
      asked.push(`train:${storeId}`);
      throw Object.assign(new Error(`this worker's store is not the client's (id ${storeId})`), { type: 'BadInput' });
    };
    await expect(runGrid(acts, { ...plan, storeId: 'client-id' })).rejects.toThrow("this worker's store is not the client's (id client-id)");
    expect(asked).toEqual(['ulasan:client-id', 'train:client-id']);
    expect(calls).toEqual([]);
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
    expect(first.state).toMatchObject({ next: 2, counts: { done: 2, cached: 0, failed: 0 } } satisfies Partial<GridState>);
    const second = await runGrid(acts, { ...plan, parallel: 1 }, first.state, hooks);
    const third = second.kind === 'continue' ? await runGrid(acts, { ...plan, parallel: 1 }, second.state, hooks) : second;
    expect(third.kind).toBe('done');
    const trained = calls.filter((c) => c.name === 'train').map((c) => (c.input as { params: TrainParams }).params.learningRate);
    expect(trained).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(calls.filter((c) => c.name === 'import')).toHaveLength(1);
  });

  it('cv: selects on the folds\' mean, refits only the winner on the whole training split, and scores it on test once', async () => {
    const foldVal = { 0.1: [0.5, 0.5, 0.5], 0.2: [0.7, 0.7, 0.7], 0.3: [0.95, 0.5, 0.5], 0.4: [0.6, 0.6, 0.6], 0.5: [0.1, 0.1, 0.1] };
    const { acts, calls } = fakes({ val: VAL, test: TEST, foldVal });
    const result = await done(acts, { ...plan, selection: { method: 'cv', folds: 3, seed: 7, minValClassRows: 200 } });
    // c1 has the best mean (0.7); c2 the best single fold (0.95); c0 the best test score: neither decides.
    expect(result.selected).toBe('c1');
    expect(calls.filter((c) => c.name === 'fold')).toHaveLength(15);
    expect(calls.filter((c) => c.name === 'fold').map((c) => c.input)).toContainEqual({ split: { key: 'split-key', stage: 'split' }, params: { folds: 3, fold: 2, seed: 7 } });
    // Every fold model is scored on its fold's held-out part only.
    const vals = calls.filter((c) => c.name === 'evaluate:val').map((c) => (c.input as { features: { key: string } }).features.key);
    expect(vals).toHaveLength(15);
    expect(vals.every((key) => key.startsWith('features-of-fold-'))).toBe(true);
    // The whole training split is featurised once, after every fold, for the refit; the test split is scored once.
    const wholeSplit = calls.map((c, i) => ({ ...c, i })).filter((c) => c.name === 'features' && (c.input as { split: { key: string } }).split.key === 'split-key');
    expect(wholeSplit).toHaveLength(1);
    expect(wholeSplit[0]!.i).toBeGreaterThan(calls.map((c) => c.name).lastIndexOf('evaluate:val'));
    const testCalls = calls.filter((c) => c.name === 'evaluate:test');
    expect(testCalls).toHaveLength(1);
    expect(testCalls[0]!.input).toMatchObject({ model: { key: 'model-0.2' }, features: { key: 'features-of-split-key' } });
    expect(calls.find((c) => c.name === 'grid')!.input).toMatchObject({ cv: { folds: 3, seed: 7 }, selected: 'c1', selectedTrainKey: 'model-0.2' });
  });

  it('auto: cross-validates when validation is empty or its rarest class is small, else validates', () => {
    const auto = { method: 'auto' as const, folds: 5, seed: 1, minValClassRows: 200 };
    const counts = (val: Record<string, number>) => ({ perSplitLabelCounts: { train: { 0: 5000, 1: 5000 }, val } });
    expect(resolveSelection(auto, counts({ 0: 31, 1: 900 }), 2)).toBe('cv');
    expect(resolveSelection(auto, counts({ 0: 900 }), 2)).toBe('cv');
    expect(resolveSelection(auto, { perSplitLabelCounts: { train: { 0: 10 } } }, 2)).toBe('cv');
    expect(resolveSelection(auto, counts({ 0: 200, 1: 900 }), 2)).toBe('validation');
    expect(resolveSelection(undefined, counts({ 0: 3 }), 2)).toBe('validation');
    expect(resolveSelection({ ...auto, method: 'cv' }, counts({ 0: 900, 1: 900 }), 2)).toBe('cv');
  });

  it('cv with early stopping: the refit trains for the folds\' mean best epoch, without a held-out part to stop on', () => {
    const stopping: GridCell = { ...cells[0]!, train: { ...tinyTrain(0.1), epochs: 20, earlyStopping: { monitor: 'val_loss', patience: 2, minDelta: 0, restoreBestWeights: true } } };
    const epochs = [{ bestEpoch: 3, history: [1, 2, 3, 4, 5, 6] }, { bestEpoch: 5, history: [] }, { history: [1, 2, 3, 4, 5, 6, 7] }].map(epochsTrained);
    expect(epochs).toEqual([4, 6, 7]);
    expect(refitEpochsOf(epochs)).toBe(6);
    const refit = refitCell(stopping, 6);
    expect(refit.train.epochs).toBe(6);
    expect(refit.train).not.toHaveProperty('earlyStopping');
    expect(refitCell(cells[0]!, 6)).toBe(cells[0]);
    expect(refitEpochsOf([undefined])).toBeUndefined();
  });

  it('cv: soft-votes the top cells inside every fold, and selects the vote when its mean beats the best cell', async () => {
    const foldVal = { 0.1: [0.5, 0.5], 0.2: [0.7, 0.7], 0.3: [0.6, 0.6], 0.4: [0.65, 0.65], 0.5: [0.1, 0.1] };
    const selection = { method: 'cv' as const, folds: 2, seed: 7, minValClassRows: 200, ensemble: 3 };
    const losing = fakes({ val: VAL, test: TEST, foldVal, ensembleVal: [0.69, 0.69] });
    expect((await done(losing.acts, { ...plan, selection })).selected).toBe('c1');
    // The vote in each fold is of that fold's models of c1, c3, c2 (the top 3), and it never meets the test split.
    const votes = losing.calls.filter((c) => c.name.startsWith('ensemble'));
    expect(votes.map((c) => c.name)).toEqual(['ensemble:val', 'ensemble:val']);
    expect((votes[1]!.input as { members: { features: string }[] }).members.map((m) => m.features)).toEqual(['features-of-fold-1', 'features-of-fold-1', 'features-of-fold-1']);
    expect(losing.calls.find((c) => c.name === 'grid')!.input).toMatchObject({ selected: 'c1', ensemble: { members: ['c1', 'c3', 'c2'], foldKeys: ['vote-val-0', 'vote-val-1'] } });

    const winning = fakes({ val: VAL, test: TEST, foldVal, ensembleVal: [0.72, 0.74] });
    const result = await done(winning.acts, { ...plan, selection });
    expect(result.selected).toBe('ensemble');
    // Each member refitted on the whole training split, the vote scored once on test, no cell scored on test.
    expect(winning.calls.filter((c) => c.name === 'features' && (c.input as { split: { key: string } }).split.key === 'split-key')).toHaveLength(3);
    expect(winning.calls.filter((c) => c.name === 'ensemble:test')).toHaveLength(1);
    expect(winning.calls.some((c) => c.name === 'evaluate:test')).toBe(false);
    expect(result.metricsKey).toBe('vote-test-all');
  });

  it('validation: a cell with features of its own gets them off the split; cells with the plan\'s share its features', async () => {
    const own = { kind: 'tfidf' as const, ngramRange: [1, 2] as [number, number], minDf: 1, maxDf: 1, maxFeatures: null, useIdf: true, smoothIdf: true, sublinearTf: false, norm: 'l2' as const };
    const mixed: GridCell[] = cells.map((c, i) => (i === 1 ? { ...c, features: own } : { ...c, features: plan.features }));
    const { acts, calls } = fakes({ val: VAL, test: TEST });
    acts.lookupCells = async (input) => mixed.slice(input.from, input.from + input.count).map((cell, offset) => ({ index: input.from + offset, id: cell.id, cell }));
    const result = await done(acts, { ...plan, selection: { method: 'validation', folds: 5, seed: 1, minValClassRows: 200 } });
    const featureCalls = calls.filter((c) => c.name === 'features').map((c) => (c.input as { params: unknown }).params);
    expect(featureCalls).toEqual([plan.features, own]);
    const trainedOn = calls.filter((c) => c.name === 'train').map((c) => (c.input as { features: { key: string } }).features.key);
    expect(new Set(trainedOn)).toEqual(new Set(['features-of-split-key']));
    expect(result.selected).toBe('c2');
  });

  const leakyResample: ResampleParams = { sampler: { method: 'random-over', samplingStrategy: 'auto', shrinkage: null }, seed: 1, partition: 'train' };

  it('leaky: cells train on the leaky split as it is (no resample of their own), auto selects on its val rows, no folds', async () => {
    const { acts, calls } = fakes({ val: VAL, test: TEST });
    const lookup = acts.lookupCells;
    acts.lookupCells = async (input) => (await lookup(input)).map((slot) => ({ ...slot, cell: { ...slot.cell!, onFeatures: true as const } }));
    // The fakes' split has no val counts: an honest auto grid would cross-validate here.
    const result = await done(acts, { ...plan, leakyResample, selection: { method: 'auto', folds: 5, seed: 1, minValClassRows: 200 } });
    expect(result.selected).toBe('c2');
    expect(calls.filter((c) => c.name === 'fold')).toHaveLength(0);
    // The one resample is the leaky sampler over every row, before the leaky split.
    expect(calls.filter((c) => c.name === 'resample').map((c) => c.input)).toEqual([{ features: { key: 'features-of-split-key', stage: 'features' }, params: leakyResample }]);
    const leaky = { key: 'leaky-split-key', stage: 'leaky-split' };
    expect(calls.filter((c) => c.name === 'train').every((c) => JSON.stringify(c.input).includes('"train":' + JSON.stringify(leaky)))).toBe(true);
    expect(calls.filter((c) => c.name === 'evaluate:test').map((c) => c.input)).toEqual([{ model: { key: 'model-0.3', stage: 'train' }, features: leaky, params: { partition: 'test' } }]);
  });

  it('leaky: refuses cross-validation with a typed error before any stage runs', async () => {
    const { acts, calls } = fakes({ val: VAL, test: TEST });
    const run = runGrid(acts, { ...plan, leakyResample, selection: { method: 'cv', folds: 5, seed: 1, minValClassRows: 200 } });
    await expect(run).rejects.toThrow(GridFailedError);
    await expect(run).rejects.toMatchObject({ type: 'BadInput', message: expect.stringMatching(/leaky .*cannot cross-validate/) });
    expect(calls).toHaveLength(0);
  });
});
