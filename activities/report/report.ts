/**
 * Report stage: one self-contained HTML page, a Markdown summary and `metrics.json` for an
 * evaluation, built from the evaluation artifact and its lineage (every number's artifact keys and
 * params). Charts are Vega-Lite rendered to SVG here, so the page fetches nothing. No clock readings:
 * the same lineage always gives the same bytes; run-specific facts (cache hits, times) go into the
 * per-run copy that `writeRunReport` writes.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson } from '../../data/canonical';
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import { METRICS_FILE } from '../evaluate/evaluate';
import { reportGrid } from '../grid/grid';
import { reportCharts } from './charts';
import { renderReportHtml } from './html';
import { renderReportMarkdown } from './markdown';
import { buildReportModel, type ReportGrid, type TableFacts } from './report-model';

export interface ReportParams {
  /** Experiment name shown as the title. */
  title: string;
  /**
   * The grid the selected model came from, when there was one: each cell's key, varying params and
   * validation metrics. Drawn as a heatmap and a table sortable by metric. Timings in cells are not
   * part of the artifact report (they are clock readings); leave them out of params.
   */
  grid?: ReportGrid;
  /** Evaluation artifact of the same setup run in leaky mode, shown beside the honest one. */
  leakyEvaluation?: string;
  /** Warnings the run raised about its data (too few rows per class, allowed): shown with the headline. */
  warnings?: string[];
}

export interface ReportInput {
  evaluation: ArtifactRef;
  params: ReportParams;
  /** The same setup evaluated in leaky mode, shown beside the honest one (sets `params.leakyEvaluation`). */
  leaky?: ArtifactRef;
  /** The grid artifact the selected model came from (sets `params.grid` from it, so no payload carries every cell). */
  grid?: ArtifactRef;
}

export const REPORT_HTML = 'report.html';
export const REPORT_MD = 'report.md';

/** Rating counts and date range of a review table (Parquet with `rating` and `date` columns). */
export async function readTableFacts(path: string): Promise<TableFacts> {
  const { parquet, queryRows, withConnection } = await import('../../data/duckdb');
  return withConnection(async (connection) => {
    const source = parquet(path);
    const ratings = await queryRows(connection, `SELECT rating::VARCHAR AS rating, count(*)::INTEGER AS n FROM ${source} GROUP BY 1 ORDER BY 1`);
    const [range] = await queryRows(
      connection,
      `SELECT strftime(min(date), '%Y-%m-%d') AS "from", strftime(max(date), '%Y-%m-%d') AS "to" FROM ${source}`,
    );
    return {
      ratings: Object.fromEntries(ratings.map((r) => [String(r.rating), Number(r.n)])),
      from: typeof range?.from === 'string' ? range.from : undefined,
      to: typeof range?.to === 'string' ? range.to : undefined,
    };
  });
}

export const reportStage: StageDefinition<ReportParams> = {
  stage: 'report',
  // 2: Vega-Lite charts, data and class distributions, learning curves, bootstrap intervals, grid and leaky sections.
  // 3: narrower grouped bar charts. 4: one-line key prefixes, resample/features details from the new summaries.
  // 5: only the options in each stage's key (no fit options for baselines, no length for TF-IDF), no
  //    learning curves for models without epochs, a file source by content hash rather than path.
  version: 5,
  inputNames: ['evaluation'],
  async compute({ params, inputs, outDir, store }) {
    const evaluation = inputs.evaluation!;
    const { title, grid, leakyEvaluation, warnings: runWarnings } = params;
    const model = await buildReportModel(store, evaluation.key, { title, grid, leakyEvaluation, warnings: runWarnings }, readTableFacts);
    const { renderCharts } = await import('./render-svg');
    const charts = await renderCharts(reportCharts(model));
    await writeFile(join(outDir, REPORT_HTML), renderReportHtml(model, charts));
    await writeFile(join(outDir, REPORT_MD), renderReportMarkdown(model));
    await writeFile(join(outDir, METRICS_FILE), canonicalJson(model) + '\n');
    const warnings = charts.flatMap((c) => c.warnings.map((w) => `${c.id}: ${w}`));
    return {
      summary: {
        metricsKey: evaluation.key,
        macroF1: model.metrics.macro.f1,
        accuracy: model.metrics.accuracy,
        charts: charts.map((c) => c.id),
        ...(warnings.length > 0 ? { chartWarnings: warnings } : {}),
      },
    };
  },
};

export function createReportActivity(deps: ActivityDeps) {
  return async function report(input: ReportInput): Promise<StageOutcome> {
    // The leaky evaluation and the grid enter the key through params (the stage has one fixed input).
    const grid = input.grid ? { grid: await reportGrid(deps.store, input.grid.key) } : {};
    const params = { ...input.params, ...grid, ...(input.leaky ? { leakyEvaluation: input.leaky.key } : {}) };
    return runStage(deps.store, reportStage, params, { evaluation: input.evaluation }, deps);
  };
}
