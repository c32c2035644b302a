/**
 * How a grid compares its cells (see grid.ts): the selection metrics and method (`validation`, `cv`, or
 * `auto` resolved from the split), one cell's steps under each method (a cv cell runs every fold of the
 * training split: fold → features → resample → train → score on the held-out part), the refit of the
 * winner on the whole training split (a net that stopped early trains for its folds' mean best epoch),
 * families' training-row budgets, and the soft vote of the top cells, scored inside the folds like a cell.
 * Pure plan code like grid.ts, which holds the run's bookkeeping and re-exports what others use from here.
 */
import type { EnsembleMember } from '../../activities/evaluate/ensemble';
import type { ArtifactRef } from '../../activities/context';
import type { FeaturesParams } from '../../activities/features/features';
import type { BestCell, CellResult, GridActivities, GridCell, GridPlan, GridState, LookupCellsInput, TopCell } from './grid';
import type { stageRecorder } from './pipeline';
import { Producers } from './recovery';

export const SELECTION_METRICS = ['macroF1', 'balancedAccuracy', 'gMean', 'accuracy'] as const;
export type SelectionMetric = (typeof SELECTION_METRICS)[number];

/** How cells are compared (see the module comment). */
export interface Selection {
  method: 'validation' | 'cv' | 'auto';
  /** Folds of the training split (cv, auto). @default 5 */
  folds: number;
  /** Seed of the fold assignment. */
  seed: number;
  /** auto: cross-validate when the validation split's rarest class has fewer rows than this. @default 200 */
  minValClassRows: number;
  /** cv: soft-vote the top this-many cells inside every fold; the vote competes as a candidate of its own. 0 or 1: none. @default 3 */
  ensemble?: number;
}

/** The method a grid runs with once the split is known. */
export type SelectionMethod = 'validation' | 'cv';

/** Where a cell's artifacts hang off: the split, the plan's features, and how cells are scored. */
export interface CellContext {
  method: SelectionMethod;
  /** The plan's features artifact (validation). */
  features?: ArtifactRef;
  split?: ArtifactRef;
  planFeatures: FeaturesParams;
  cv?: { folds: number; seed: number };
}

const sameFeatures = (a: FeaturesParams | undefined, b: FeaturesParams): boolean => a === undefined || JSON.stringify(a) === JSON.stringify(b);

/** A cell's features params: its own, or the plan's for cells stored before features could vary. */
export const featuresOf = (cell: GridCell, planFeatures: FeaturesParams): FeaturesParams => cell.features ?? planFeatures;

export function pickScores(summary: Record<string, unknown>): Partial<Record<SelectionMetric, number>> {
  return Object.fromEntries(SELECTION_METRICS.filter((m) => typeof summary[m] === 'number').map((m) => [m, summary[m] as number]));
}

/** Each metric's mean over folds (only metrics every fold has). */
export function meanScores(folds: Partial<Record<SelectionMetric, number>>[]): Partial<Record<SelectionMetric, number>> {
  const metrics = SELECTION_METRICS.filter((m) => folds.length > 0 && folds.every((f) => typeof f[m] === 'number'));
  return Object.fromEntries(metrics.map((m) => [m, folds.reduce((sum, f) => sum + f[m]!, 0) / folds.length]));
}

/** Validation: (features →) resample (none for `onFeatures` cells) → train → score on the validation split. */
export async function runValidationCell(acts: GridActivities, ctx: CellContext, cell: GridCell, steps: Producers): Promise<CellResult> {
  const params = featuresOf(cell, ctx.planFeatures);
  const features = sameFeatures(params, ctx.planFeatures) || !ctx.split ? ctx.features! : (await steps.run(() => acts.features({ split: ctx.split!, params }))).ref;
  // A leaky grid's cells train on its features as they are: they were resampled before the split.
  const train = cell.onFeatures ? features : (await steps.run(() => acts.resample({ features, params: cell.resample }))).ref;
  const model = await steps.run(() => acts.trainModel({ train, features, params: cell.train }));
  const val = await steps.run(() => acts.evaluate({ model: model.ref, features, params: { partition: 'val' } }));
  const shared = features.key === ctx.features?.key ? {} : { featuresKey: features.key };
  return { id: cell.id, status: 'done', trainKey: model.ref.key, valKey: val.ref.key, val: pickScores(val.summary), ...shared };
}

/** Whether a cell's training watches a validation split (early stopping, LR on plateau): in cv, a fold's held-out part. */
export const watchesValidation = (cell: GridCell): boolean => Boolean(cell.train.earlyStopping || cell.train.reduceLrOnPlateau);

/** The epochs a fold's model trained for: its best epoch when it stopped early, else every epoch it ran. */
export function epochsTrained(trainSummary: Record<string, unknown>): number | undefined {
  if (typeof trainSummary.bestEpoch === 'number') return trainSummary.bestEpoch + 1;
  return Array.isArray(trainSummary.history) ? trainSummary.history.length : undefined;
}

/** The refit's epochs: the folds' mean (rounded, at least 1). */
export function refitEpochsOf(epochs: (number | undefined)[]): number | undefined {
  const known = epochs.filter((e): e is number => e !== undefined);
  return known.length === 0 ? undefined : Math.max(1, Math.round(known.reduce((a, b) => a + b, 0) / known.length));
}

/**
 * The cell the winner is refitted as: the whole training split has no held-out part to stop on, so a
 * cell that stopped early in its folds trains for the folds' mean best epoch, without early stopping or LR on plateau.
 */
export function refitCell(cell: GridCell, refitEpochs: number | undefined): GridCell {
  if (refitEpochs === undefined || !watchesValidation(cell)) return cell;
  const { earlyStopping: _e, reduceLrOnPlateau: _r, ...train } = cell.train;
  void _e;
  void _r;
  return { ...cell, train: { ...train, epochs: refitEpochs } };
}

/** cv: per fold, fold → features → resample → train → score on the fold's held-out part; the cell's score is the folds' mean. */
export async function runCvCell(acts: GridActivities, ctx: CellContext, cell: GridCell, steps: Producers): Promise<CellResult> {
  const { folds, seed } = ctx.cv!;
  const params = featuresOf(cell, ctx.planFeatures);
  const scores: Partial<Record<SelectionMetric, number>>[] = [];
  const foldKeys: string[] = [];
  const foldModels: EnsembleMember[] = [];
  const epochs: (number | undefined)[] = [];
  for (let fold = 0; fold < folds; fold++) {
    const split = await steps.run(() => acts.fold({ split: ctx.split!, params: { folds, fold, seed } }));
    const features = await steps.run(() => acts.features({ split: split.ref, params }));
    const train = await steps.run(() => acts.resample({ features: features.ref, params: cell.resample }));
    const model = await steps.run(() => acts.trainModel({ train: train.ref, features: features.ref, params: cell.train }));
    const val = await steps.run(() => acts.evaluate({ model: model.ref, features: features.ref, params: { partition: 'val' } }));
    scores.push(pickScores(val.summary));
    foldKeys.push(val.ref.key);
    foldModels.push({ model: model.ref.key, features: features.ref.key });
    epochs.push(epochsTrained(model.summary));
  }
  const refitEpochs = watchesValidation(cell) ? refitEpochsOf(epochs) : undefined;
  return { id: cell.id, status: 'done', foldKeys, foldModels, val: meanScores(scores), ...(refitEpochs !== undefined ? { refitEpochs } : {}) };
}

/** The best `k` cells by score (ties to the cell listed first), with what their folds trained. */
export function keepTop(top: TopCell[], index: number, result: CellResult, cell: GridCell, metric: SelectionMetric, k: number): TopCell[] {
  const score = result.val?.[metric];
  if (typeof score !== 'number' || !result.foldModels) return top;
  const entry: TopCell = { id: result.id, index, score, cell, foldModels: result.foldModels };
  return [...top, entry].sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
}

/**
 * The selection method once the split is known: `auto` cross-validates when the validation split is empty
 * or its rarest class has fewer than `minValClassRows` rows. Plans without `selection`: validation.
 */
export function resolveSelection(selection: Selection | undefined, splitSummary: Record<string, unknown>, classes: number): SelectionMethod {
  if (!selection || selection.method === 'validation') return 'validation';
  if (selection.method === 'cv') return 'cv';
  const val = (splitSummary.perSplitLabelCounts as Record<string, Record<string, number>> | undefined)?.val ?? {};
  const counts = Object.values(val);
  const rarest = counts.length < classes ? 0 : Math.min(...counts);
  return rarest < selection.minValClassRows ? 'cv' : 'validation';
}

/** Whether a cell's family budget excludes a training split of `trainRows` rows. */
export const overBudget = (cell: GridCell, trainRows: number | undefined): boolean =>
  cell.maxTrainRows !== undefined && trainRows !== undefined && trainRows > cell.maxTrainRows;

/** Rows of the split's training partition, from its manifest summary. */
export function trainRowsOf(splitSummary: Record<string, unknown>): number {
  const train = (splitSummary.perSplitLabelCounts as Record<string, Record<string, number>> | undefined)?.train ?? {};
  return Object.values(train).reduce((a, b) => a + b, 0);
}

/** What lookupCells and recordGrid need to find each cell's artifacts. */
export function lookupContext(ctx: CellContext): Omit<LookupCellsInput, 'cells' | 'from' | 'count'> {
  return {
    ...(ctx.features ? { features: ctx.features } : {}),
    ...(ctx.split ? { split: ctx.split, planFeatures: ctx.planFeatures } : {}),
    ...(ctx.cv ? { cv: ctx.cv } : {}),
  };
}

/** The selected cell's model and features: validation's own, or (cv) refitted on the whole training split. */
export async function selectedModel(acts: GridActivities, ctx: CellContext, best: BestCell, record: ReturnType<typeof stageRecorder>) {
  if (best.trainKey) {
    const features = best.featuresKey ? { key: best.featuresKey, stage: 'features' } : ctx.features!;
    return { model: { key: best.trainKey, stage: 'train' }, features };
  }
  const cell = best.cell!;
  const features = await record('features', () => acts.features({ split: ctx.split!, params: featuresOf(cell, ctx.planFeatures) }));
  const train = await record('resample', () => acts.resample({ features, params: cell.resample }));
  const model = await record('train', () => acts.trainModel({ train, features, params: cell.train }));
  return { model, features };
}

/** The id the grid records when the soft vote of the top cells is selected. */
export const ENSEMBLE_ID = 'ensemble';

/**
 * cv: the top cells' soft vote in every fold, each fold's voters being the models that fold trained (so
 * its score is as honest as a cell's). Undefined when the plan asks for no ensemble or too few cells scored.
 */
export async function scoreEnsemble(acts: GridActivities, plan: GridPlan, state: GridState, record: ReturnType<typeof stageRecorder>) {
  const top = state.top ?? [];
  if (top.length < 2) return undefined;
  const steps = new Producers(record.producers);
  const scores: Partial<Record<SelectionMetric, number>>[] = [];
  const foldKeys: string[] = [];
  for (let fold = 0; fold < top[0]!.foldModels.length; fold++) {
    const members = top.map((t) => t.foldModels[fold]!);
    const outcome = await steps.run(() => acts.ensemble({ members, partition: 'val' }));
    scores.push(pickScores(outcome.summary));
    foldKeys.push(outcome.ref.key);
  }
  const score = meanScores(scores)[plan.metric];
  if (typeof score !== 'number') return undefined;
  return { score, recorded: { members: top.map((t) => t.id), foldKeys } };
}

/** The vote won: every member refitted on the whole training split, their vote scored once on test. */
export async function ensembleOnTest(acts: GridActivities, ctx: CellContext, top: TopCell[], record: ReturnType<typeof stageRecorder>) {
  const members: EnsembleMember[] = [];
  let first: ArtifactRef | undefined;
  for (const t of top) {
    const { model, features } = await selectedModel(acts, ctx, { id: t.id, index: t.index, score: t.score, cell: t.cell }, record);
    first ??= features;
    members.push({ model: model.key, features: features.key });
  }
  const test = await record('ensemble', () => acts.ensemble({ members, partition: 'test' }));
  return { test, features: first!, refits: members.map((m) => m.model) };
}

/** Keeps the better of the best so far and a finished cell: higher score, ties to the cell listed first. */
export function better(best: BestCell | undefined, index: number, result: CellResult, metric: SelectionMetric, cell?: GridCell): BestCell | undefined {
  const score = result.val?.[metric];
  if (result.status === 'failed' || typeof score !== 'number' || !(result.trainKey || result.foldKeys)) return best;
  if (best && (best.score > score || (best.score === score && best.index < index))) return best;
  const model = result.trainKey ? { trainKey: result.trainKey, ...(result.featuresKey ? { featuresKey: result.featuresKey } : {}) } : { cell: refitCell(cell!, result.refitEpochs) };
  return { id: result.id, index, score, ...model };
}
