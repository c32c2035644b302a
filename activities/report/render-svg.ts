/**
 * Vega-Lite → Vega → SVG in Node, with no DOM and no canvas (`renderer: 'none'`), so the report
 * inlines finished pictures. Vega numbers clip paths and gradients with process-wide counters; the
 * ids are renamed after the chart so the same spec gives the same bytes in any process, and two
 * charts on one page never share an id.
 */
import type { ChartSpec } from './charts';
import { escapeHtml } from './html';

export interface RenderedChart {
  id: string;
  title: string;
  svg: string;
  /** What Vega-Lite or Vega warned about while compiling and rendering (empty for a sound spec). */
  warnings: string[];
}

/** Renames every `id` in an SVG to `<prefix>-<n>` in order of appearance, references included. */
export function normaliseSvgIds(svg: string, prefix: string): string {
  const ids = [...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
  const renamed = new Map([...new Set(ids)].map((id, i) => [id, `${prefix}-${i + 1}`]));
  if (renamed.size === 0) return svg;
  const escaped = [...renamed.keys()].map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(`(\\sid="|#)(${escaped.join('|')})(?=["')])`, 'g');
  return svg.replace(pattern, (_match, lead: string, id: string) => `${lead}${renamed.get(id)}`);
}

/** Marks the root element as a report chart: class `chart`, its id, an accessible name. */
function labelRoot(svg: string, chart: ChartSpec): string {
  const attributes = `class="marks chart" id="chart-${chart.id}" role="img" aria-label="${escapeHtml(chart.title)}"`;
  return svg.replace(/^<svg([^>]*?) class="marks"/, `<svg$1 ${attributes}`);
}

interface CollectingLogger {
  level(): number;
  level(level: number): CollectingLogger;
  error(...args: readonly unknown[]): CollectingLogger;
  warn(...args: readonly unknown[]): CollectingLogger;
  info(...args: readonly unknown[]): CollectingLogger;
  debug(...args: readonly unknown[]): CollectingLogger;
}

/** A Vega logger that keeps warnings and errors instead of printing them. */
function collectingLogger(sink: string[]): CollectingLogger {
  let current = 2;
  const logger: CollectingLogger = {
    level: ((level?: number) => {
      if (level === undefined) return current;
      current = level;
      return logger;
    }) as CollectingLogger['level'],
    error: (...args) => (sink.push(`error: ${args.map(String).join(' ')}`), logger),
    warn: (...args) => (sink.push(`warn: ${args.map(String).join(' ')}`), logger),
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/** Compiles and renders one chart to a standalone SVG string. */
export async function renderChart(chart: ChartSpec): Promise<RenderedChart> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const warnings: string[] = [];
  const logger = collectingLogger(warnings);
  const compiled = vegaLite.compile(chart.spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
  try {
    const svg = await view.toSVG();
    return { id: chart.id, title: chart.title, svg: labelRoot(normaliseSvgIds(svg, `chart-${chart.id}`), chart), warnings };
  } finally {
    view.finalize();
  }
}

/** Renders charts one after another (Vega views are cheap; order keeps the output stable). */
export async function renderCharts(charts: readonly ChartSpec[]): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const chart of charts) out.push(await renderChart(chart));
  return out;
}
