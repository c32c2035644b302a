/**
 * The per-run copy of a report: the content-addressed report page plus what only this run knows
 * (which stages hit the cache, how long each took, when each artifact was made, training, resampling
 * and inference times). Written to `<store>/runs/<runId>/report.html`; the artifact itself never
 * holds run-specific facts, so its bytes stay a function of its inputs.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore } from '../../data/store/artifact-store';
import type { Manifest } from '../../data/store/types';
import { badInput } from '../../core/errors';
import { RUN_SECTION_MARKER, escapeHtml } from './html';
import type { GridCell } from './report-model';

/** How one stage went in a run (the shape the pipeline records in `runs/<runId>.json`). */
export interface RunStageRecord {
  stage: string;
  key: string;
  cache: 'hit' | 'miss';
  reason?: string;
  ms: number;
}

/** The parts of a run record the per-run report needs. */
export interface RunRecordLike {
  runId: string;
  stages: readonly RunStageRecord[];
  /** `local` or `temporal`. */
  runner?: string;
}

const code = (text: string): string => `<code>${escapeHtml(text)}</code>`;
const ms = (value: number): string => `${Math.round(value).toLocaleString('en-US')} ms`;

async function manifestOrUndefined(store: ArtifactStore, key: string): Promise<Manifest | undefined> {
  return store.manifest(key).catch(() => undefined);
}

function stageRows(stages: readonly RunStageRecord[], manifests: readonly (Manifest | undefined)[]): string {
  const longest = Math.max(1, ...stages.map((s) => s.ms), ...manifests.map((m) => m?.timings.computeMs ?? 0));
  const bar = (value: number): string => `<span class="bar" style="width:${Math.max(1, Math.round((160 * value) / longest))}px"></span>`;
  return stages
    .map((s, i) => {
      const m = manifests[i];
      const computed = m ? `${ms(m.timings.computeMs)} ${bar(m.timings.computeMs)}` : '-';
      const reason = s.cache === 'miss' && s.reason ? ` (${escapeHtml(s.reason)})` : '';
      return `<tr class="${s.cache}"><td>${escapeHtml(s.stage)}</td><td class="l">${code(s.key.slice(0, 12))}</td>` +
        `<td class="l">${s.cache}${reason}</td><td>${ms(s.ms)} ${bar(s.ms)}</td><td>${computed}</td><td class="l">${escapeHtml(m?.createdAt ?? '-')}</td></tr>`;
    })
    .join('\n');
}

/** Training, resampling and inference times as recorded in the manifests of this run's artifacts. */
function timingFacts(stages: readonly RunStageRecord[], manifests: readonly (Manifest | undefined)[]): string[] {
  const facts: string[] = [];
  stages.forEach((s, i) => {
    const m = manifests[i];
    if (!m) return;
    if (s.stage === 'train') facts.push(`Training: ${ms(m.timings.computeMs)} (${code(s.key.slice(0, 12))}, backend ${escapeHtml(String(m.summary.backend ?? '?'))}).`);
    if (s.stage === 'resample') facts.push(`Resampling: ${ms(m.timings.computeMs)} (${code(s.key.slice(0, 12))}).`);
    if (s.stage === 'evaluate' && typeof m.summary.inferenceMsPer1000 === 'number') {
      facts.push(`Inference: ${m.summary.inferenceMsPer1000} ms per 1,000 reviews (${m.rowCounts.scored ?? '?'} rows scored, ${code(s.key.slice(0, 12))}).`);
    }
  });
  return facts;
}

function gridTimings(manifest: Manifest | undefined): string {
  const grid = (manifest?.params as { grid?: { cells?: GridCell[] } } | undefined)?.grid;
  const cells = (grid?.cells ?? []).filter((c) => c.timings && Object.keys(c.timings).length > 0);
  if (cells.length === 0) return '';
  const names = [...new Set(cells.flatMap((c) => Object.keys(c.timings!)))].sort();
  const rows = cells.map((c) => `<tr><td class="l">${code(c.key.slice(0, 12))}</td>${names.map((n) => `<td>${c.timings![n] ?? ''}</td>`).join('')}</tr>`);
  return `<h3>Grid cell timings</h3><table><thead><tr><th class="l">cell</th>${names.map((n) => `<th>${escapeHtml(n)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The run section's HTML (exported for tests). */
export function renderRunSection(run: RunRecordLike, manifests: readonly (Manifest | undefined)[]): string {
  const hits = run.stages.filter((s) => s.cache === 'hit').length;
  const total = run.stages.reduce((sum, s) => sum + s.ms, 0);
  const report = run.stages.findIndex((s) => s.stage === 'report');
  const facts = timingFacts(run.stages, manifests);
  return `<section id="run">
<h2>This run</h2>
<p>Run ${code(run.runId)}${run.runner ? ` (${escapeHtml(run.runner)} runner)` : ''}: ${hits} of ${run.stages.length} stages were cache hits; ${ms(total)} in all.
Times are wall-clock readings of this run and of the run that first computed each artifact; they are kept out of the artifacts themselves.</p>
${facts.length > 0 ? `<ul>${facts.map((f) => `<li>${f}</li>`).join('')}</ul>` : ''}
<table id="run-stages"><thead><tr><th>stage</th><th class="l">artifact</th><th class="l">cache</th><th>this run</th><th>compute (when made)</th><th class="l">made at</th></tr></thead><tbody>
${stageRows(run.stages, manifests)}
</tbody></table>
${gridTimings(report >= 0 ? manifests[report] : undefined)}
</section>`;
}

/** Where the per-run report of `runId` lives. */
export const runReportPath = (store: ArtifactStore, runId: string): string => join(store.root, 'runs', runId, 'report.html');

/**
 * Writes `<store>/runs/<runId>/report.html`: the run's report artifact with a section on this run's
 * cache hits and misses and times. Returns the path.
 */
export async function writeRunReport(store: ArtifactStore, run: RunRecordLike): Promise<string> {
  const reportStage = run.stages.find((s) => s.stage === 'report');
  if (!reportStage) {
    throw badInput(`Run ${run.runId} has no report stage; a per-run report copies the run's report artifact.`, { stage: 'report' });
  }
  const page = await readFile(store.path(reportStage.key, 'report.html'), 'utf8');
  const manifests = await Promise.all(run.stages.map((s) => manifestOrUndefined(store, s.key)));
  const section = renderRunSection(run, manifests);
  const html = page.includes(RUN_SECTION_MARKER) ? page.replace(RUN_SECTION_MARKER, () => section) : page.replace('</body>', () => `${section}\n</body>`);
  const path = runReportPath(store, run.runId);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, html);
  return path;
}
