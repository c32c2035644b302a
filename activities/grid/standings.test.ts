/** Grid standings: the winner is the selected cell, the runner-up the next best, each family's gain is over the first family. */
import { describe, expect, it } from 'vitest';
import { gridStandings, standingsLines, type StandingCell } from './standings';

const cell = (id: string, family: string, arch: string, macroF1: number | undefined, sd?: number): StandingCell => ({
  id,
  ...(macroF1 === undefined ? {} : { val: { macroF1 } }),
  ...(sd === undefined ? {} : { sd: { macroF1: sd } }),
  params: { family, train: { model: { arch } }, resample: { sampler: { method: 'none' } }, features: { kind: 'tfidf' } },
});

describe('gridStandings', () => {
  const cells = [cell('c0', 'word', 'linear-svm', 0.6, 0.02), cell('c1', 'word', 'nb', 0.62, 0.03), cell('c2', 'neural', 'cnn-small', 0.65, 0.05), cell('c3', 'neural', 'cnn-small', undefined)];

  it('names the winner, the runner-up and each family\'s best with its gain over the first family', () => {
    const s = gridStandings({ metric: 'macroF1', selected: 'c2', selection: { method: 'cv', folds: 5 }, cells });
    expect(s).toMatchObject({ method: 'cv', folds: 5, winner: { id: 'c2', score: 0.65, sd: 0.05 }, runnerUp: { id: 'c1', score: 0.62 } });
    expect(s.families.map((f) => [f.family, f.id, Number(f.gain.toFixed(3))])).toEqual([
      ['word', 'c1', 0],
      ['neural', 'c2', 0.03],
    ]);
    expect(standingsLines(s)).toEqual([
      'selection: macroF1 on 5-fold cross-validation of the training split (mean ± sd)',
      'winner:    c2 neural: cnn-small + none (tfidf): 0.650 ± 0.050',
      'runner-up: c1 word: nb + none (tfidf): 0.620 ± 0.030',
      'family word: best c1 0.620 ± 0.030 (baseline)',
      'family neural: best c2 0.650 ± 0.050 (+0.030 vs word)',
    ]);
  });

  it('keeps validation grids without families to a winner and runner-up, ties to the cell listed first', () => {
    const plain = [{ id: 'a', val: { macroF1: 0.7 } }, { id: 'b', val: { macroF1: 0.7 } }, { id: 'c', val: { macroF1: 0.5 } }];
    const s = gridStandings({ metric: 'macroF1', selected: 'a', cells: plain });
    expect(s).toMatchObject({ method: 'validation', winner: { id: 'a' }, runnerUp: { id: 'b' }, families: [] });
  });
});
