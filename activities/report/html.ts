/**
 * The report as one self-contained HTML page: inline CSS, charts inlined as SVG, a few lines of
 * inline script to sort tables, and a Content-Security-Policy that forbids every fetch, so opening
 * it offline shows exactly what was built.
 */
import type { RenderedChart } from './render-svg';
import { cellLabel } from './charts';
import type { CountRow, GridCell, LineageNode, MetricsDigest, ReportModel } from './report-model';

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Where `writeRunReport` inserts the run-specific section of a per-run copy. */
export const RUN_SECTION_MARKER = '<!-- ulasan:run-section -->';

const fixed = (x: number): string => x.toFixed(4);
const code = (text: string): string => `<code>${escapeHtml(text)}</code>`;
/** A 12-character key prefix, kept on one line. */
const shortKey = (key: string): string => `<code class="k">${key.slice(0, 12)}</code>`;
const json = (value: unknown): string => escapeHtml(JSON.stringify(value) ?? '');

export const REPORT_CSS = `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}nav a{margin-right:1em}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;vertical-align:top}
td.l,th.l,td:first-child,th:first-child{text-align:left}tr.avg td{font-weight:600}tr.selected td{background:#eef6ff;font-weight:600}
.headline{font-size:1.35em}.note{background:#fff7d6;border-left:4px solid #e0b000;padding:.5em 1em}
.leak{background:#fde8e8;border-left:4px solid #d33;padding:.5em 1em}.src{color:#666;font-size:.85em}
code{font-size:.85em;word-break:break-all}code.k{white-space:nowrap;word-break:normal}figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}
table.sortable th{cursor:pointer;user-select:none}table.sortable th[data-dir=asc]::after{content:" ▲"}table.sortable th[data-dir=desc]::after{content:" ▼"}
.bar{display:inline-block;height:.8em;background:#4c78a8;vertical-align:middle}`;

/** Sorts a `table.sortable` by the clicked column: numbers numerically (from `data-v` when set), text otherwise. */
const SORT_SCRIPT = `for (const th of document.querySelectorAll('table.sortable th')) th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0], col = th.cellIndex, dir = th.dataset.dir === 'desc' ? 'asc' : 'desc';
  for (const other of th.parentNode.children) delete other.dataset.dir;
  th.dataset.dir = dir;
  const value = (row) => { const cell = row.cells[col]; const v = cell.dataset.v ?? cell.textContent; const n = Number(v); return v !== '' && !Number.isNaN(n) ? n : v; };
  const rows = [...body.rows].sort((a, b) => { const x = value(a), y = value(b); const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)); return dir === 'asc' ? c : -c; });
  for (const row of rows) body.appendChild(row);
});`;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

function figure(chart: RenderedChart | undefined): string {
  return chart ? `<figure id="fig-${chart.id}"><figcaption>${escapeHtml(chart.title)}</figcaption>\n${chart.svg}\n</figure>` : '';
}

const source = (what: string, key: string, file: string): string =>
  `<p class="src">From ${what} artifact ${code(key)} (${escapeHtml(file)}).</p>`;

const percent = (share: number): string => `${(100 * share).toFixed(1)}%`;

function leakyBanner(model: ReportModel): string {
  const leaky = model.leakyMode;
  if (!leaky) return '';
  const copies = leaky.testCopiesOfTrain === undefined ? '' : ` ${percent(leaky.testCopiesOfTrain)} of the test rows are copies of training rows.`;
  return `<p class="leak" id="leaky-mode"><b>LEAKY EVALUATION.</b> The data were resampled BEFORE the split (artifact ${shortKey(leaky.key)}), ` +
    `as some published setups do, so these scores are inflated and are not an estimate of performance on new reviews.${copies} ` +
    'Run the same spec in honest mode for the real number.</p>';
}

function headline(model: ReportModel): string {
  const { metrics } = model;
  const ci = metrics.bootstrap;
  const interval = (c: { low: number; high: number } | undefined): string => (c ? ` <span class="src">[${fixed(c.low)}, ${fixed(c.high)}]</span>` : '');
  const warnings = (model.warnings ?? []).map((w) => `<p class="leak" id="data-warning"><b>WARNING.</b> ${escapeHtml(w)}</p>\n`).join('');
  return `${warnings}<p class="headline">Test macro-F1 <b>${fixed(metrics.macro.f1)}</b>${interval(ci?.macroF1)} · accuracy ${fixed(metrics.accuracy)}${interval(ci?.accuracy)} · ` +
    `balanced accuracy ${fixed(metrics.balancedAccuracy)} · G-mean ${fixed(metrics.gMean)} · n=${metrics.n}</p>
<p>Scored once on the <b>${escapeHtml(metrics.partition)}</b> split, which no fitting step (vocabulary, resampling, training) has seen.` +
    `${ci ? ` Brackets: ${Math.round(ci.confidence * 100)}% bootstrap percentile intervals over ${ci.resamples} resamples of the test rows.` : ''}</p>
${source('evaluate', model.metricsKey, 'metrics.json')}`;
}

function rowCounts(counts: Record<string, number>): string {
  return Object.entries(counts).map(([name, n]) => `${escapeHtml(name)} ${n}`).join(', ') || '-';
}

function datasetSection(model: ReportModel, charts: Map<string, RenderedChart>): string {
  const rows = model.dataset
    .map((s) => `<tr><td>${s.stage}</td><td>${shortKey(s.key)}</td><td class="l">${rowCounts(s.rowCounts)}</td><td class="l">${escapeHtml(s.detail)}</td></tr>`)
    .join('\n');
  const window = model.window
    ? `<p>Data window: reviews dated <b>${escapeHtml(model.window.from)}</b> to <b>${escapeHtml(model.window.to)}</b> after cleaning.</p>${source('clean', model.window.key, 'clean.parquet')}`
    : '<p>Data window: the table has no review dates.</p>';
  return `<h2 id="data">Data</h2>
${window}
<table><thead><tr><th>stage</th><th>artifact</th><th class="l">rows</th><th class="l">what it did</th></tr></thead><tbody>
${rows}
</tbody></table>
${figure(charts.get('ratings'))}${countSources(model.ratings)}
${figure(charts.get('classes'))}${countSources(model.classes)}`;
}

function countSources(rows: readonly CountRow[]): string {
  const byGroup = new Map<string, string>();
  for (const row of rows) byGroup.set(row.group, row.key);
  if (byGroup.size === 0) return '';
  const parts = [...byGroup].map(([group, key]) => `${escapeHtml(group)}: ${shortKey(key)}`);
  return `<p class="src">Counts from the artifacts' manifests and tables: ${parts.join('; ')}.</p>`;
}

function metricsTable(model: ReportModel): string {
  const { metrics } = model;
  const rows = metrics.perClass
    .map((c) => `<tr><td>${escapeHtml(c.label)}</td><td>${fixed(c.precision)}</td><td>${fixed(c.recall)}</td><td>${fixed(c.f1)}</td><td>${c.support}</td></tr>`)
    .join('');
  const avg = (name: string, a: typeof metrics.macro): string =>
    `<tr class="avg"><td>${name}</td><td>${fixed(a.precision)}</td><td>${fixed(a.recall)}</td><td>${fixed(a.f1)}</td><td>${a.support}</td></tr>`;
  const warnings = metrics.warnings.length > 0 ? `<p class="note">${metrics.warnings.map(escapeHtml).join('<br>')}</p>` : '';
  return `<table><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead>
<tbody>${rows}${avg('macro avg', metrics.macro)}${avg('weighted avg', metrics.weighted)}</tbody></table>${warnings}`;
}

function bootstrapTable(model: ReportModel): string {
  const ci = model.metrics.bootstrap;
  if (!ci) return '<p>No bootstrap intervals: this evaluation predates them (evaluate stage v1).</p>';
  const row = (name: string, c: { estimate: number; low: number; high: number }): string =>
    `<tr><td>${name}</td><td>${fixed(c.estimate)}</td><td>${fixed(c.low)}</td><td>${fixed(c.high)}</td></tr>`;
  return `<table><thead><tr><th>metric</th><th>estimate</th><th>low</th><th>high</th></tr></thead><tbody>${row('accuracy', ci.accuracy)}${row('macro-F1', ci.macroF1)}</tbody></table>`;
}

function modelSection(model: ReportModel, charts: Map<string, RenderedChart>): string {
  return `<h2 id="model">Selected model on the test split</h2>
${metricsTable(model)}
${figure(charts.get('f1'))}
${figure(charts.get('confusion'))}
${figure(charts.get('bootstrap'))}
${bootstrapTable(model)}
${source('evaluate', model.metricsKey, 'metrics.json')}
<p class="src">Model artifact ${code(model.metrics.model)}, features artifact ${code(model.metrics.features)}.</p>`;
}

function curvesSection(model: ReportModel, charts: Map<string, RenderedChart>): string {
  if (model.curves.length === 0) return '';
  const sources = model.curves.map((c) => `${escapeHtml(c.label)}: ${code(c.key)}`).join('; ');
  return `<h2 id="curves">Learning curves</h2>
<p>Training loss and validation scores after each epoch (validation split only; the test split is not looked at while training).</p>
${figure(charts.get('curves'))}
<p class="src">From each train artifact's metadata.json history: ${sources}.</p>`;
}

function gridTable(cells: readonly GridCell[], selectedKey: string | undefined): string {
  const paramNames = [...new Set(cells.flatMap((c) => Object.keys(c.params)))].sort();
  const metricNames = [...new Set(cells.flatMap((c) => Object.keys(c.valMetrics)))].sort();
  const head = ['cell', 'artifact', ...paramNames, ...metricNames.map((m) => `val ${m}`)].map((h, i) => `<th${i < 2 + paramNames.length ? ' class="l"' : ''}>${escapeHtml(h)}</th>`).join('');
  const rows = cells.map((cell, i) => {
    const params = paramNames.map((p) => `<td class="l">${json(cell.params[p])}</td>`);
    const metrics = metricNames.map((m) => {
      const v = cell.valMetrics[m];
      return v === undefined ? '<td data-v=""></td>' : `<td data-v="${v}">${fixed(v)}</td>`;
    });
    const selected = cell.key === selectedKey ? ' class="selected"' : '';
    return `<tr${selected}><td data-v="${i + 1}">${escapeHtml(cellLabel(cell, i))}${selected ? ' (selected)' : ''}</td><td class="l">${shortKey(cell.key)}</td>${params.join('')}${metrics.join('')}</tr>`;
  });
  return `<table class="sortable" id="grid-table"><thead><tr>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

function gridSection(model: ReportModel, charts: Map<string, RenderedChart>): string {
  const grid = model.grid;
  if (!grid) return '';
  const metric = grid.selectionMetric ?? 'macroF1';
  const how = grid.crossValidated
    ? `${grid.cells.length} cells scored by cross-validation of the training split (each figure a mean over folds); the cell with the best mean ${escapeHtml(metric)} was refitted on the whole training split and scored once on the test split.`
    : `${grid.cells.length} cells scored on the validation split; the cell with the best validation ${escapeHtml(metric)} was scored once on the test split.`;
  const standings = grid.standings?.length ? `<ul>${grid.standings.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>` : '';
  return `<h2 id="grid">Grid</h2>
<p>${how} Click a column to sort.</p>
${standings}
${figure(charts.get('grid'))}
${gridTable(grid.cells, grid.selectedKey)}`;
}

function leakySection(model: ReportModel, charts: Map<string, RenderedChart>): string {
  const leaky = model.leaky;
  if (!leaky) return '';
  const row = (name: string, d: MetricsDigest): string =>
    `<tr><td>${name}</td><td>${fixed(d.accuracy)}</td><td>${fixed(d.balancedAccuracy)}</td><td>${fixed(d.macroF1)}</td><td>${fixed(d.weightedF1)}</td><td>${d.n}</td>` +
    `<td>${d.testCopiesOfTrain === undefined ? '-' : percent(d.testCopiesOfTrain)}</td><td class="l">${shortKey(d.key)}</td></tr>`;
  return `<h2 id="leaky">Honest vs leaky</h2>
<p class="leak">The LEAKY numbers come from resampling before the split, as some published setups do: copies of training rows end up in the test set. They are shown only to measure that inflation; the honest numbers are the result.</p>
<table><thead><tr><th>evaluation</th><th>accuracy</th><th>balanced acc.</th><th>macro-F1</th><th>weighted F1</th><th>n</th><th>test rows copied from train</th><th class="l">artifact</th></tr></thead>
<tbody>${row('honest (split first)', leaky.honest)}${row('LEAKY (resampled before split)', leaky.leaky)}</tbody></table>
${figure(charts.get('leaky'))}`;
}

function lineageRow(node: LineageNode): string {
  const inputs = Object.entries(node.inputs).map(([name, key]) => `${escapeHtml(name)}: ${shortKey(key)}`).join('<br>') || '-';
  return `<tr id="a-${node.key}"><td>${node.stage} v${node.stageVersion}</td><td class="l">${code(node.key)}</td><td class="l">${inputs}</td>` +
    `<td class="l">${code(JSON.stringify(node.params))}</td><td class="l">${rowCounts(node.rowCounts)}</td><td class="l">${code(node.codeVersion)}</td></tr>`;
}

function lineageSection(model: ReportModel): string {
  return `<h2 id="lineage">Lineage</h2>
<p>Every number above comes from one of these artifacts (sources first). Re-derive them: ${code(`ulasan lineage ${model.metricsKey}`)}, ` +
    `${code(`ulasan verify --deep ${model.metricsKey}`)} (recomputes every artifact from its recorded inputs and compares bytes).</p>
<table><thead><tr><th>stage</th><th class="l">artifact key</th><th class="l">inputs</th><th class="l">params</th><th class="l">rows</th><th class="l">code</th></tr></thead><tbody>
${model.lineage.map(lineageRow).join('\n')}
</tbody></table>`;
}

/** The whole page. `charts` are the rendered SVGs by chart id; a missing one leaves its figure out. */
export function renderReportHtml(model: ReportModel, rendered: readonly RenderedChart[]): string {
  const charts = new Map(rendered.map((c) => [c.id, c]));
  const links = [['data', 'Data'], ['model', 'Selected model'], ['curves', 'Learning curves'], ['grid', 'Grid'], ['leaky', 'Honest vs leaky'], ['lineage', 'Lineage']]
    .filter(([id]) => (id !== 'curves' || model.curves.length > 0) && (id !== 'grid' || model.grid) && (id !== 'leaky' || model.leaky))
    .map(([id, name]) => `<a href="#${id}">${name}</a>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(model.title)} — ulasan report</title><style>${REPORT_CSS}</style></head>
<body>
<h1>${escapeHtml(model.title)}</h1>
${model.synthetic ? '<p class="note">Data: SYNTHETIC reviews generated by ulasan (seeded templates), not real user reviews.</p>' : ''}
${leakyBanner(model)}
${headline(model)}
<nav>${links}</nav>
${datasetSection(model, charts)}
${modelSection(model, charts)}
${curvesSection(model, charts)}
${gridSection(model, charts)}
${leakySection(model, charts)}
${lineageSection(model)}
${RUN_SECTION_MARKER}
${model.grid ? `<script>${SORT_SCRIPT}</script>` : ''}
</body></html>
`;
}
