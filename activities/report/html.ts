/** Self-contained HTML for a run report: inline CSS and SVG, nothing fetched when the page opens. */
import type { ClassificationMetrics } from '../evaluate/metrics';

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const fixed = (x: number): string => x.toFixed(4);

export function metricsTable(metrics: ClassificationMetrics): string {
  const rows = metrics.perClass
    .map((c) => `<tr><td>${escapeHtml(c.label)}</td><td>${fixed(c.precision)}</td><td>${fixed(c.recall)}</td><td>${fixed(c.f1)}</td><td>${c.support}</td></tr>`)
    .join('');
  const avg = (name: string, a: ClassificationMetrics['macro']): string =>
    `<tr class="avg"><td>${name}</td><td>${fixed(a.precision)}</td><td>${fixed(a.recall)}</td><td>${fixed(a.f1)}</td><td>${a.support}</td></tr>`;
  return `<table><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead>
<tbody>${rows}${avg('macro avg', metrics.macro)}${avg('weighted avg', metrics.weighted)}</tbody></table>`;
}

/** The confusion matrix as an SVG heatmap (rows: true class, columns: predicted). */
export function confusionSvg(metrics: ClassificationMetrics): string {
  const k = metrics.classes.length;
  const cell = 64;
  const pad = 90;
  const max = Math.max(1, ...metrics.confusionMatrix.flat());
  const cells = metrics.confusionMatrix.flatMap((row, t) =>
    row.map((count, p) => {
      const shade = Math.round(255 - (200 * count) / max);
      const x = pad + p * cell;
      const y = pad + t * cell;
      return `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#fff"/>` +
        `<text x="${x + cell / 2}" y="${y + cell / 2 + 5}" text-anchor="middle">${count}</text>`;
    }),
  );
  const labels = metrics.classes.flatMap((name, i) => [
    `<text x="${pad - 6}" y="${pad + i * cell + cell / 2 + 5}" text-anchor="end">${escapeHtml(name)}</text>`,
    `<text x="${pad + i * cell + cell / 2}" y="${pad - 8}" text-anchor="middle">${escapeHtml(name)}</text>`,
  ]);
  const size = pad + k * cell + 10;
  return `<svg class="chart" role="img" aria-label="confusion matrix" xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" font-family="sans-serif" font-size="13">
<text x="${pad}" y="16">predicted →</text><text x="4" y="${pad - 8}">true ↓</text>${labels.join('')}${cells.join('')}</svg>`;
}

/** Per-class F1 as horizontal bars. */
export function f1BarsSvg(metrics: ClassificationMetrics): string {
  const width = 360;
  const bar = 22;
  const pad = 90;
  const bars = metrics.perClass.map((c, i) => {
    const y = 10 + i * (bar + 8);
    return `<text x="${pad - 6}" y="${y + 16}" text-anchor="end">${escapeHtml(c.label)}</text>` +
      `<rect x="${pad}" y="${y}" width="${(width * c.f1).toFixed(1)}" height="${bar}" fill="#4c78a8"/>` +
      `<text x="${pad + width * c.f1 + 4}" y="${y + 16}">${c.f1.toFixed(3)}</text>`;
  });
  const height = 20 + metrics.perClass.length * (bar + 8);
  return `<svg class="chart" role="img" aria-label="per-class F1" xmlns="http://www.w3.org/2000/svg" width="${pad + width + 60}" height="${height}" font-family="sans-serif" font-size="13">${bars.join('')}</svg>`;
}

export const REPORT_CSS = `body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
td:first-child,th:first-child{text-align:left}tr.avg td{font-weight:600}.headline{font-size:1.4em}
.note{background:#fff7d6;border-left:4px solid #e0b000;padding:.5em 1em}code{font-size:.85em;word-break:break-all}`;
