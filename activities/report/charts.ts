/**
 * Vega-Lite specs for the report's charts. Pure data → spec functions: rendering to SVG happens in
 * `render-svg.ts`, at build time, so the page needs no script or network to show them.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CountRow, GridCell, LearningCurve, MetricsDigest, MetricsDocument, ReportModel } from './report-model';

/** One chart of the report: a stable id (also the prefix of its SVG ids), a title and its spec. */
export interface ChartSpec {
  id: string;
  title: string;
  spec: TopLevelSpec;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const CONFIG = { font: 'sans-serif', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12 } };

/** Star ratings as imported and after cleaning, bars grouped by star. */
export function ratingsChart(rows: readonly CountRow[]): ChartSpec {
  return {
    id: 'ratings',
    title: 'Star ratings, imported and after cleaning',
    spec: {
      $schema: SCHEMA,
      config: CONFIG,
      // With xOffset the step is one bar's width.
      width: { step: 22 },
      height: 200,
      data: { values: rows.map(({ group, label, count }) => ({ group, label, count })) },
      encoding: {
        x: { field: 'label', type: 'nominal', title: 'rating', axis: { labelAngle: 0 } },
        xOffset: { field: 'group', type: 'nominal', sort: null },
        y: { field: 'count', type: 'quantitative', title: 'reviews' },
        color: { field: 'group', type: 'nominal', sort: null, title: null },
      },
      mark: 'bar',
    },
  };
}

/** Class counts after labelling, in each split, and in the training split after resampling. */
export function classesChart(rows: readonly CountRow[]): ChartSpec {
  const groups = [...new Set(rows.map((r) => r.group))];
  return {
    id: 'classes',
    title: 'Classes after labelling, per split, and after resampling',
    spec: {
      $schema: SCHEMA,
      config: CONFIG,
      width: { step: 26 },
      height: 220,
      data: { values: rows.map(({ group, label, count }) => ({ group, label, count })) },
      encoding: {
        x: { field: 'group', type: 'nominal', sort: groups, title: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'label', type: 'nominal', sort: null },
        y: { field: 'count', type: 'quantitative', title: 'reviews' },
        color: { field: 'label', type: 'nominal', sort: null, title: 'class' },
      },
      layer: [
        { mark: 'bar' },
        { mark: { type: 'text', dy: -6, fontSize: 10 }, encoding: { text: { field: 'count', type: 'quantitative' } } },
      ],
    },
  };
}

/** Loss and validation curves per epoch, one panel per trained model. */
export function learningCurvesChart(curves: readonly LearningCurve[]): ChartSpec {
  const values = curves.flatMap((c) => c.points.map((p) => ({ model: c.label, epoch: p.epoch, series: p.series, value: p.value })));
  return {
    id: 'curves',
    title: 'Learning curves',
    spec: {
      $schema: SCHEMA,
      config: CONFIG,
      data: { values },
      facet: { field: 'model', type: 'nominal', sort: curves.map((c) => c.label), title: null },
      columns: 3,
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 260,
        height: 180,
        encoding: {
          x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'value', type: 'quantitative', title: null },
          color: { field: 'series', type: 'nominal', title: null },
        },
        layer: [{ mark: 'line' }, { mark: { type: 'point', filled: true, size: 30 } }],
      },
    },
  };
}

/** The selected model's confusion matrix as a heatmap with counts. */
export function confusionChart(metrics: MetricsDocument): ChartSpec {
  const values = metrics.confusionMatrix.flatMap((row, t) =>
    row.map((count, p) => ({ actual: metrics.classes[t] ?? String(t), predicted: metrics.classes[p] ?? String(p), count })),
  );
  const max = Math.max(1, ...values.map((v) => v.count));
  const order = metrics.classes;
  return {
    id: 'confusion',
    title: 'Confusion matrix (rows: true class, columns: predicted)',
    spec: {
      $schema: SCHEMA,
      config: CONFIG,
      width: { step: 70 },
      height: { step: 50 },
      data: { values },
      encoding: {
        x: { field: 'predicted', type: 'nominal', sort: order, axis: { orient: 'top', labelAngle: 0 } },
        y: { field: 'actual', type: 'nominal', sort: order, title: 'true' },
      },
      layer: [
        { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, legend: null } } },
        {
          mark: { type: 'text', fontSize: 13 },
          encoding: {
            text: { field: 'count', type: 'quantitative' },
            color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: 'black' },
          },
        },
      ],
    },
  };
}

/** Per-class F1 of the selected model. */
export function f1Chart(metrics: MetricsDocument): ChartSpec {
  const values = metrics.perClass.map((c) => ({ class: c.label, f1: c.f1, support: c.support }));
  return {
    id: 'f1',
    title: 'Per-class F1',
    spec: {
      $schema: SCHEMA,
      config: CONFIG,
      width: 360,
      height: { step: 26 },
      data: { values },
      encoding: {
        y: { field: 'class', type: 'nominal', sort: null, title: null },
        x: { field: 'f1', type: 'quantitative', scale: { domain: [0, 1] }, title: 'F1' },
      },
      layer: [
        { mark: { type: 'bar', color: '#4c78a8' } },
        { mark: { type: 'text', align: 'left', dx: 4 }, encoding: { text: { field: 'f1', type: 'quantitative', format: '.3f' } } },
      ],
    },
  };
}

/** Bootstrap percentile intervals around accuracy and macro-F1. */
export function bootstrapChart(bootstrap: NonNullable<MetricsDocument['bootstrap']>): ChartSpec {
  const values = [
    { metric: 'accuracy', ...bootstrap.accuracy },
    { metric: 'macro-F1', ...bootstrap.macroF1 },
  ];
  return {
    id: 'bootstrap',
    title: `${Math.round(bootstrap.confidence * 100)}% bootstrap intervals (${bootstrap.resamples} resamples)`,
    spec: {
      $schema: SCHEMA,
      config: CONFIG,
      width: 360,
      height: { step: 34 },
      data: { values },
      encoding: { y: { field: 'metric', type: 'nominal', sort: null, title: null } },
      layer: [
        {
          mark: { type: 'rule', strokeWidth: 2 },
          encoding: {
            x: { field: 'low', type: 'quantitative', scale: { zero: false }, title: 'score' },
            x2: { field: 'high' },
          },
        },
        { mark: { type: 'point', filled: true, size: 70, color: 'black' }, encoding: { x: { field: 'estimate', type: 'quantitative' } } },
      ],
    },
  };
}

/** Short label of a grid cell: its position and key prefix. */
export const cellLabel = (cell: GridCell, index: number): string => `#${index + 1} ${cell.key.slice(0, 8)}`;

/** Validation metrics of every grid cell as a heatmap (cells × metrics). */
export function gridChart(cells: readonly GridCell[]): ChartSpec {
  const labels = cells.map(cellLabel);
  const values = cells.flatMap((cell, i) =>
    Object.keys(cell.valMetrics)
      .sort()
      .map((metric) => ({ cell: labels[i], metric, value: cell.valMetrics[metric] })),
  );
  const scores = values.map((v) => v.value ?? 0);
  const middle = scores.length > 0 ? (Math.min(...scores) + Math.max(...scores)) / 2 : 0;
  return {
    id: 'grid',
    title: 'Grid: validation metrics per cell',
    spec: {
      $schema: SCHEMA,
      config: CONFIG,
      width: { step: 64 },
      height: { step: 26 },
      data: { values },
      encoding: {
        x: { field: 'cell', type: 'nominal', sort: labels, title: null, axis: { labelAngle: -40 } },
        y: { field: 'metric', type: 'nominal', title: null },
      },
      layer: [
        { mark: 'rect', encoding: { color: { field: 'value', type: 'quantitative', scale: { scheme: 'blues' }, title: 'value' } } },
        {
          mark: { type: 'text', fontSize: 10 },
          encoding: {
            text: { field: 'value', type: 'quantitative', format: '.3f' },
            color: { condition: { test: `datum.value > ${middle}`, value: 'white' }, value: 'black' },
          },
        },
      ],
    },
  };
}

/** Honest and leaky evaluations of the same setup, metric by metric. */
export function leakyChart(honest: MetricsDigest, leaky: MetricsDigest): ChartSpec {
  const metrics = ['accuracy', 'balancedAccuracy', 'macroF1', 'weightedF1'] as const;
  const values = metrics.flatMap((metric) => [
    { metric, mode: 'honest (split first)', value: honest[metric] },
    { metric, mode: 'leaky (resampled before split)', value: leaky[metric] },
  ]);
  return {
    id: 'leaky',
    title: 'Honest vs leaky evaluation',
    spec: {
      $schema: SCHEMA,
      config: CONFIG,
      width: { step: 34 },
      height: 220,
      data: { values },
      encoding: {
        x: { field: 'metric', type: 'nominal', sort: [...metrics], title: null, axis: { labelAngle: 0 } },
        xOffset: { field: 'mode', type: 'nominal', sort: null },
        y: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] } },
        color: {
          field: 'mode',
          type: 'nominal',
          sort: null,
          scale: { range: ['#4c78a8', '#e45756'] },
          title: null,
          legend: { orient: 'bottom', labelLimit: 320 },
        },
      },
      mark: 'bar',
    },
  };
}

/** Every chart the model has data for, in page order. */
export function reportCharts(model: ReportModel): ChartSpec[] {
  const charts: ChartSpec[] = [];
  if (model.ratings.length > 0) charts.push(ratingsChart(model.ratings));
  if (model.classes.length > 0) charts.push(classesChart(model.classes));
  charts.push(f1Chart(model.metrics), confusionChart(model.metrics));
  if (model.metrics.bootstrap) charts.push(bootstrapChart(model.metrics.bootstrap));
  if (model.curves.length > 0) charts.push(learningCurvesChart(model.curves));
  if (model.grid && model.grid.cells.length > 0) charts.push(gridChart(model.grid.cells));
  if (model.leaky) charts.push(leakyChart(model.leaky.honest, model.leaky.leaky));
  return charts;
}
