/** A record of each run (which stages hit or missed, where the report is) under `<store>/runs/`. */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyError, UlasanError } from '../core/errors';
import { canonicalJson, sha256Hex } from '../data/canonical';
import type { ArtifactStore } from '../data/store/artifact-store';
import type { ExpandedGridPlan, GridPlan, GridResult } from '../workflows/plans/grid';
import type { PipelinePlan, PipelineResult } from '../workflows/plans/pipeline';
import { runIdStamp } from '../workflows/plans/score';
import { REPORT_HTML } from '../activities/report/report';
import { writeRunReport } from '../activities/report/per-run';
import { readGridFile, type GridFile } from '../activities/grid/grid';
import { gridStandings, type GridStandings } from '../activities/grid/standings';

export interface RunSummary {
  runId: string;
  reportPath: string;
  /** The per-run copy of the report, with this run's cache hits/misses and times. */
  runReportPath: string;
  metricsKey: string;
  stages: PipelineResult['stages'];
  /** Grid runs: the grid artifact, the selected cell, counts, and every cell's outcome (read from the grid artifact). */
  gridKey?: string;
  selected?: string;
  counts?: GridResult['counts'];
  cells?: GridFile['cells'];
  /** Grid runs: how cells were compared, winner, runner-up and each family's best (activities/grid/standings.ts). */
  standings?: GridStandings;
}

/**
 * A run id that sorts by time, names the plan it ran and is unique: two runs of one plan started in
 * the same second differ in the random suffix (a run id names an event, not a result, so it need not
 * be reproducible; artifact keys and workflow ids derived from the plan are what dedupe work).
 */
export function newRunId(plan: PipelinePlan | GridPlan | ExpandedGridPlan, now = new Date(), nonce = randomBytes(4).toString('hex')): string {
  return `run-${runIdStamp(now)}-${sha256Hex(canonicalJson(plan)).slice(0, 8)}-${nonce}`;
}

async function gridSummary(store: ArtifactStore, result: GridResult): Promise<Pick<RunSummary, 'gridKey' | 'selected' | 'counts' | 'cells' | 'standings'>> {
  const grid = await readGridFile(store, result.gridKey);
  return { gridKey: result.gridKey, selected: result.selected, counts: result.counts, cells: grid.cells, standings: gridStandings(grid) };
}

export async function recordRun(
  store: ArtifactStore,
  runId: string,
  plan: PipelinePlan | GridPlan,
  result: PipelineResult | GridResult,
  runner: string,
  warn: (message: string) => void = () => undefined,
): Promise<RunSummary> {
  const reportPath = store.path(result.reportKey, REPORT_HTML);
  const summary: RunSummary = {
    runId,
    reportPath,
    runReportPath: reportPath,
    metricsKey: result.metricsKey,
    stages: result.stages,
    ...('gridKey' in result ? await gridSummary(store, result) : {}),
  };
  try {
    summary.runReportPath = await writeRunReport(store, { runId, stages: result.stages, runner });
    await mkdir(join(store.root, 'runs'), { recursive: true });
    // 'wx': a run record is never overwritten, not even by a run that somehow got the same id.
    await writeFile(join(store.root, 'runs', `${runId}.json`), JSON.stringify({ ...summary, runner, plan }, null, 2) + '\n', { flag: 'wx' });
  } catch (err) {
    // The results are in the store already (a read-only or full store still serves a cached run):
    // only this run's record is lost, and the user is told why.
    const typed = classifyError(err, { file: join(store.root, 'runs') });
    if (!(typed instanceof UlasanError) || typed.type === 'Internal') throw typed;
    // Node's own words (code and path): a read-only store can surface as ENOENT from a recursive mkdir.
    warn(`run record ${runId} not written (${(err as Error).message}); the results are in the store, only this run's record is missing.`);
  }
  return summary;
}
