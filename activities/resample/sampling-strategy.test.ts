import { describe, expect, it } from 'vitest';
import { UlasanError } from '../../core/errors';
import { loadVectors } from './fixtures/vectors';
import { classCounts } from './matrix';
import { resolveSamplingStrategy, type SamplingStrategy } from './sampling-strategy';

const vectors = loadVectors();

describe('resolveSamplingStrategy against imbalanced-learn check_sampling_strategy', () => {
  for (const [name, data] of Object.entries(vectors.datasets)) {
    const y = Int32Array.from(data.y);
    const counts = classCounts(y, Math.max(...data.y) + 1);
    for (const entry of data.strategies) {
      for (const kind of ['over-sampling', 'under-sampling'] as const) {
        const expected = entry.resolved[kind];
        it(`${name}: ${JSON.stringify(entry.strategy)} for ${kind} → ${expected.error ? 'refused' : JSON.stringify(expected.value)}`, () => {
          const run = () => resolveSamplingStrategy(entry.strategy as SamplingStrategy, counts, kind);
          if (expected.error !== undefined) {
            expect(run).toThrow(UlasanError);
            return;
          }
          expect(Object.fromEntries([...run()].map(([label, n]) => [String(label), n]))).toEqual(expected.value);
        });
      }
    }
  }

  it('explains a refused target with the class, its count and what to do', () => {
    expect(() => resolveSamplingStrategy({ '0': 3 }, [5, 20], 'over-sampling')).toThrow(
      'An over-sampler cannot reduce class 0 from 5 to 3 rows; ask for 5 or more, or use an under-sampler.',
    );
    expect(() => resolveSamplingStrategy({ '1': 30 }, [5, 20], 'under-sampling')).toThrow(
      'An under-sampler cannot grow class 1 from 20 to 30 rows; ask for 20 or fewer, or use an over-sampler.',
    );
    expect(() => resolveSamplingStrategy(0.5, [5, 20, 9], 'over-sampling')).toThrow(/needs binary labels; found 3 classes/);
  });

  it('takes the lowest label among classes tied for majority or minority, as Python max/min over np.unique', () => {
    expect([...resolveSamplingStrategy('not majority', [10, 10, 4], 'over-sampling')]).toEqual([
      [1, 0],
      [2, 6],
    ]);
    expect([...resolveSamplingStrategy('not minority', [4, 10, 4], 'under-sampling')]).toEqual([
      [1, 4],
      [2, 4],
    ]);
  });

  it('ignores labels with no rows and refuses fewer than two classes', () => {
    expect([...resolveSamplingStrategy('auto', [0, 8, 0, 3], 'over-sampling')]).toEqual([[3, 5]]);
    expect(() => resolveSamplingStrategy('auto', [0, 8], 'over-sampling')).toThrow(/at least 2 classes/);
  });
});
