/** Loads an experiment file: a single pipeline, or a grid when the spec has a `grid:` section. */
import type { ExpandedGridPlan } from '../workflows/plans/grid';
import type { PipelinePlan } from '../workflows/plans/pipeline';
import { gridPlanFromSpec } from './grid-spec';
import { parseSpec, planFromSpec, readRawSpec, type PlanOptions } from './spec';

export type Experiment = { kind: 'pipeline'; plan: PipelinePlan } | { kind: 'grid'; plan: ExpandedGridPlan };

export async function loadExperiment(path: string, options: PlanOptions = {}): Promise<Experiment> {
  const { raw, file } = await readRawSpec(path);
  if (raw.grid !== undefined) return { kind: 'grid', plan: gridPlanFromSpec(raw, file, options) };
  return { kind: 'pipeline', plan: planFromSpec(parseSpec(raw, file), options) };
}
