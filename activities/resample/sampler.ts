/**
 * The one entry point of the resampling toolkit: `resample(input, spec, rng)`.
 *
 * Pure and synchronous: typed arrays in, typed arrays out, all randomness from the given Rng (one
 * forked stream per chain step), so the same input, spec and seed give the same bytes. The stage
 * activity (resample.ts) loads the training split, calls this, and records the summary, the origin
 * of every row and the flag in the artifact's manifest.
 */
import type { Rng } from '../../data/random';
import { badInput } from '../../core/errors';
import { adasyn } from './adasyn';
import { borderlineSmote } from './borderline-smote';
import { checkSamplerForFeatureSpace, type FeatureSpace } from './feature-space';
import { checkDataset, classCounts, type FeatureMatrix } from './matrix';
import { randomOverSample, randomUnderSample } from './random-samplers';
import {
  applyDraft,
  copyStatsOfIds,
  copyStatsOfKeep,
  draftIsIdentity,
  GeneratedLog,
  type ResampleDiagnostics,
  type ResampleResult,
  type ResampleSummary,
  type RowState,
  type SamplerDraft,
  summarize,
} from './result';
import { smote, identityRows } from './smote';
import { smoteNc } from './smote-nc';
import {
  INTERPOLATING_METHODS,
  parseSamplerSpec,
  type SamplerSpec,
  type SamplerSpecInput,
  type SingleSamplerSpec,
} from './spec';

export { parseSamplerSpec };

export interface SamplerInput {
  /** Training rows only: the stage refuses anything else before calling this. */
  x: FeatureMatrix;
  /** Class index per row. */
  y: Int32Array;
  /** What the columns are; decides which samplers are allowed (see feature-space.ts). */
  featureSpace: FeatureSpace;
  /** Number of classes; labels are 0..nClasses-1. @default max(y) + 1 */
  nClasses?: number;
}

/**
 * Resamples the training rows as the spec says (a written spec is parsed, defaults filled in).
 * The input is never modified; when nothing changes, `result.x` is the input matrix itself and
 * `summary.noOp` says why. Bad specs, labels or shapes are BadInput errors naming the field.
 */
export function resample(input: SamplerInput, spec: SamplerSpecInput | SamplerSpec, rng: Rng): ResampleResult {
  const parsed = parseSamplerSpec(spec);
  const steps: SingleSamplerSpec[] = parsed.method === 'chain' ? parsed.steps : [parsed];
  if (steps.length > 255) throw badInput(`A chain has at most 255 steps; got ${steps.length}.`, { field: 'steps' });
  const flag = checkSamplerForFeatureSpace(parsed, input.featureSpace, input.x);
  const { x, y } = input;
  checkDataset(x, y, { finite: steps.some(needsFiniteValues) });
  const nClasses = classCount(y, input.nClasses);

  const initial: RowState = { x, y, rowId: identityRows(x.rows) };
  const log = new GeneratedLog();
  const summaries: ResampleSummary[] = [];
  const diagnostics: ResampleDiagnostics = {};
  let state = initial;
  steps.forEach((step, i) => {
    const counts = classCounts(state.y, nClasses);
    const draft = runSampler(step, state, counts, rng.fork(`resample/${i}/${step.method}`));
    const unchanged = draftIsIdentity(draft, state.x.rows);
    const next = unchanged ? state : applyDraft(state, draft, log, x.rows, i);
    const noOp = unchanged ? (draft.noOp ?? noOpReason(step)) : undefined;
    const stats = copyStatsOfKeep(draft.keep, state.y.length);
    summaries.push(summarize(step.method, state, next, nClasses, stats, draft.classes, noOp));
    mergeDiagnostics(diagnostics, draft.diagnostics);
    state = next;
  });

  const summary =
    parsed.method === 'chain' ? chainSummary(initial, state, nClasses, summaries) : (summaries[0] as ResampleSummary);
  const source = state.rowId.map((id) => (id < x.rows ? id : -1));
  const result: ResampleResult = {
    x: state.x,
    y: state.y,
    origin: { inputRows: x.rows, rowId: state.rowId, source, generated: log.freeze() },
    summary,
    diagnostics,
  };
  if (flag) result.flag = flag;
  return result;
}

const NONE_REASON = "method 'none': rows passed through unchanged";

function runSampler(step: SingleSamplerSpec, state: RowState, counts: number[], rng: Rng): SamplerDraft {
  const { x, y } = state;
  switch (step.method) {
    case 'none':
      return { keep: identityRows(x.rows), synthetic: [], classes: [], noOp: NONE_REASON };
    case 'random-over':
      return randomOverSample(x, y, counts, step, rng);
    case 'random-under':
      return randomUnderSample(y, counts, step, rng);
    case 'smote':
      return smote(x, y, counts, step, rng);
    case 'borderline-smote':
      return borderlineSmote(x, y, counts, step, rng);
    case 'adasyn':
      return adasyn(x, y, counts, step, rng);
    case 'smote-nc':
      return smoteNc(x, y, counts, step, rng);
  }
}

function noOpReason(step: SingleSamplerSpec): string {
  return `${step.method}: the sampling strategy asks for no change (every targeted class is already at its target)`;
}

function needsFiniteValues(step: SingleSamplerSpec): boolean {
  const interpolating = (INTERPOLATING_METHODS as readonly string[]).includes(step.method);
  return interpolating || (step.method === 'random-over' && step.shrinkage !== null);
}

function classCount(y: Int32Array, declared: number | undefined): number {
  let max = -1;
  for (const label of y) if (label > max) max = label;
  if (declared === undefined) return max + 1;
  if (!Number.isInteger(declared) || declared <= max) {
    throw badInput(
      `nClasses is ${declared} but the labels go up to ${max}; labels must be 0..nClasses-1.`,
      { field: 'nClasses' },
    );
  }
  return declared;
}

function chainSummary(initial: RowState, final: RowState, nClasses: number, steps: ResampleSummary[]): ResampleSummary {
  const allNoOp = steps.every((s) => s.noOp !== undefined);
  const noOp = allNoOp ? `every chain step was a no-op: ${steps.map((s) => s.noOp).join(' | ')}` : undefined;
  const stats = copyStatsOfIds(final.rowId, initial.y.length);
  return { ...summarize('chain', initial, final, nClasses, stats, [], noOp), steps };
}

function mergeDiagnostics(into: ResampleDiagnostics, from: ResampleDiagnostics | undefined): void {
  if (from?.danger) into.danger = new Map([...(into.danger ?? []), ...from.danger]);
  if (from?.adasynCounts) into.adasynCounts = new Map([...(into.adasynCounts ?? []), ...from.adasynCounts]);
}
