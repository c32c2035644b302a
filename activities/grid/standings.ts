/**
 * What a grid found, in a few lines: how cells were compared, the winner and the runner-up with their
 * selection scores (cv: mean ± sd over folds), and each family's best cell with its gain over the first
 * family listed (the baseline a user would otherwise have run alone). Pure: the CLI and the report read
 * the same figures from the grid artifact.
 */
import type { SelectionMetric } from '../../workflows/plans/grid';

/** The parts of a recorded grid cell the standings read. */
export interface StandingCell {
  id: string;
  /** How the cell is named (else from its params). */
  label?: string;
  val?: Partial<Record<SelectionMetric, number>>;
  sd?: Partial<Record<SelectionMetric, number>>;
  params?: { family?: string; train?: { model?: { arch?: string } }; resample?: { sampler?: { method?: string } }; features?: { kind?: string } };
}

export interface Standing {
  id: string;
  /** `family: arch + sampler (features kind)`. */
  label: string;
  score: number;
  sd?: number;
}

export interface FamilyStanding extends Standing {
  family: string;
  /** Best score minus the first family's best (0 for the first family). */
  gain: number;
}

export interface GridStandings {
  method: 'validation' | 'cv';
  folds?: number;
  metric: SelectionMetric;
  winner?: Standing;
  runnerUp?: Standing;
  families: FamilyStanding[];
}

function labelOf(cell: StandingCell): string {
  if (cell.label) return cell.label;
  const p = cell.params ?? {};
  const what = `${p.train?.model?.arch ?? '?'} + ${p.resample?.sampler?.method ?? '?'}${p.features?.kind ? ` (${p.features.kind})` : ''}`;
  return p.family ? `${p.family}: ${what}` : what;
}

function standing(cell: StandingCell, metric: SelectionMetric): Standing {
  const sd = cell.sd?.[metric];
  return { id: cell.id, label: labelOf(cell), score: cell.val![metric]!, ...(sd !== undefined ? { sd } : {}) };
}

/** Cells by score (best first; ties keep the grid's order, as selection does). */
export function gridStandings(grid: {
  metric: SelectionMetric;
  selected: string;
  selection?: { method: string; folds?: number };
  cells: StandingCell[];
  ensemble?: { members: string[]; val: Partial<Record<SelectionMetric, number>>; sd?: Partial<Record<SelectionMetric, number>> };
}): GridStandings {
  const { metric } = grid;
  const vote = grid.ensemble && { id: 'ensemble', label: `ensemble: soft vote of ${grid.ensemble.members.join(', ')}`, val: grid.ensemble.val, ...(grid.ensemble.sd ? { sd: grid.ensemble.sd } : {}), params: { family: 'ensemble' } };
  const scored = [...grid.cells, ...(vote ? [vote] : [])].filter((c) => typeof c.val?.[metric] === 'number');
  const ranked = scored.map((c, i) => ({ c, i })).sort((a, b) => b.c.val![metric]! - a.c.val![metric]! || a.i - b.i).map(({ c }) => c);
  const winnerCell = scored.find((c) => c.id === grid.selected) ?? ranked[0];
  const runnerUpCell = ranked.find((c) => c.id !== winnerCell?.id);
  const familyNames = [...new Set(scored.flatMap((c) => (c.params?.family ? [c.params.family] : [])))];
  const bests = familyNames.map((family) => ranked.find((c) => c.params?.family === family)!);
  const baseline = bests[0] ? bests[0].val![metric]! : 0;
  const families = bests.map((cell, i) => ({ ...standing(cell, metric), family: familyNames[i]!, gain: cell.val![metric]! - baseline }));
  const cv = grid.selection?.method === 'cv';
  return {
    method: cv ? 'cv' : 'validation',
    ...(cv && grid.selection?.folds ? { folds: grid.selection.folds } : {}),
    metric,
    ...(winnerCell ? { winner: standing(winnerCell, metric) } : {}),
    ...(runnerUpCell ? { runnerUp: standing(runnerUpCell, metric) } : {}),
    families,
  };
}

const score = (s: Standing) => `${s.score.toFixed(3)}${s.sd !== undefined ? ` ± ${s.sd.toFixed(3)}` : ''}`;

/** The standings as console/report lines. */
export function standingsLines(s: GridStandings): string[] {
  const how = s.method === 'cv' ? `${s.folds ?? ''}-fold cross-validation of the training split (mean ± sd)` : 'the validation split';
  const lines = [`selection: ${s.metric} on ${how}`];
  if (s.winner) lines.push(`winner:    ${s.winner.id} ${s.winner.label}: ${score(s.winner)}`);
  if (s.runnerUp) lines.push(`runner-up: ${s.runnerUp.id} ${s.runnerUp.label}: ${score(s.runnerUp)}`);
  for (const f of s.families) {
    const gain = f === s.families[0] ? 'baseline' : `${f.gain >= 0 ? '+' : ''}${f.gain.toFixed(3)} vs ${s.families[0]!.family}`;
    lines.push(`family ${f.family}: best ${f.id} ${score(f)} (${gain})`);
  }
  return lines;
}
