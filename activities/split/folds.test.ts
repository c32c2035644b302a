/**
 * Cross-validation folds: every training row is held out exactly once, identical texts stay in one
 * fold, classes spread evenly, and a fold artifact holds only training rows of its split, never mixing
 * a row (or a text) across its two sides.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyToParquet, parquet, queryRows, quoteLiteral, withConnection } from '../../data/duckdb';
import { ArtifactStore } from '../../data/store/artifact-store';
import { LABELS_FILE } from '../annotate/annotate';
import { commitArtifact } from '../report/testing/fixture-store';
import { assignFolds, createFoldActivity, foldSplits } from './folds';
import { SPLIT_FILE } from './split';
import { straddlingTexts, type SplitName, type SplitRow } from './stratified';
import { syntheticRows } from './testing/tables';

const rowsArbitrary = fc
  .record({
    sizes: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 2, maxLength: 3 }),
    duplicateShare: fc.double({ min: 0, max: 0.6, noNaN: true }),
    mixed: fc.integer({ min: 0, max: 3 }),
    seed: fc.nat(),
  })
  .map(({ sizes, duplicateShare, mixed, seed }) => ({ rows: syntheticRows(sizes, seed, { duplicateShare, mixed }), seed }));

describe('assignFolds', () => {
  it('holds every row out exactly once, keeps identical texts in one fold, and spreads each class evenly', () => {
    fc.assert(
      fc.property(rowsArbitrary, fc.integer({ min: 2, max: 10 }), ({ rows, seed }, k) => {
        const folds = assignFolds(rows, k, seed);
        expect(folds).toHaveLength(rows.length);
        expect(folds.every((f) => Number.isInteger(f) && f >= 0 && f < k)).toBe(true);
        for (let held = 0; held < k; held++) expect(straddlingTexts(rows, foldSplits(folds, held)).trainVal).toBe(0);
        // Groups are placed whole into the emptiest fold, so per class no fold exceeds another by more than its largest group.
        const largest = Math.max(...[...countTexts(rows).values()]);
        for (const label of new Set(rows.map((r) => r.label))) {
          const perFold = Array.from({ length: k }, (_, f) => rows.filter((r, i) => r.label === label && folds[i] === f).length);
          expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(largest + 1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('is a pure function of rows, folds and seed', () => {
    const rows = syntheticRows([40, 12, 30], 5, { duplicateShare: 0.3 });
    expect(assignFolds(rows, 5, 9)).toEqual(assignFolds(rows, 5, 9));
    expect(assignFolds(rows, 5, 9)).not.toEqual(assignFolds(rows, 5, 10));
  });
});

function countTexts(rows: readonly SplitRow[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.text, (counts.get(row.text) ?? 0) + 1);
  return counts;
}

describe('fold stage', () => {
  let dir: string;
  let store: ArtifactStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ulasan-folds-'));
    store = new ArtifactStore(join(dir, 'store'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** A split artifact of `rows`, each row's split given. */
  async function splitArtifact(rows: readonly SplitRow[], splits: readonly SplitName[], tag: number) {
    const values = rows.map((r, i) => `(${i}, ${quoteLiteral(r.text)}, ${r.label}, ${quoteLiteral(splits[i]!)})`);
    const manifest = await commitArtifact(store, {
      stage: 'split',
      params: { fixture: 'folds', tag },
      write: async (out) => {
        await withConnection((c) => copyToParquet(c, `SELECT * FROM (VALUES ${values.join(', ')}) t(source_row, text, label, split) ORDER BY source_row`, join(out, SPLIT_FILE)));
        await writeFile(join(out, LABELS_FILE), JSON.stringify({ classes: ['a', 'b', 'c'] }));
      },
    });
    return { key: manifest.key, stage: 'split' };
  }

  it('writes only the split\'s training rows, each fold\'s two sides disjoint in rows and texts, every training row held out once', async () => {
    const fold = createFoldActivity({ store, heartbeat: () => undefined, warn: () => undefined, verifyHashes: false });
    let tag = 0;
    await fc.assert(
      fc.asyncProperty(rowsArbitrary, fc.integer({ min: 2, max: 5 }), async ({ rows, seed }, k) => {
        const splits = rows.map((_, i): SplitName => (['train', 'train', 'train', 'val', 'test'] as const)[(i * 7 + seed) % 5]!);
        const split = await splitArtifact(rows, splits, tag++);
        const trainRows = new Set(rows.flatMap((_, i) => (splits[i] === 'train' ? [i] : [])));
        const heldOut = new Map<number, number>();
        for (let f = 0; f < k; f++) {
          const outcome = await fold({ split, params: { folds: k, fold: f, seed } });
          const written = await withConnection((c) => queryRows(c, `SELECT source_row, text, split FROM ${parquet(store.path(outcome.ref.key, SPLIT_FILE))}`));
          const sides = { train: new Set<number>(), val: new Set<number>() } as Record<string, Set<number>>;
          const textSides = new Map<string, Set<string>>();
          for (const row of written) {
            const id = Number(row.source_row);
            expect(trainRows.has(id)).toBe(true);
            expect(['train', 'val']).toContain(row.split);
            sides[String(row.split)]!.add(id);
            textSides.set(String(row.text), (textSides.get(String(row.text)) ?? new Set()).add(String(row.split)));
          }
          expect(written).toHaveLength(trainRows.size);
          expect([...sides.val!].some((id) => sides.train!.has(id))).toBe(false);
          expect([...textSides.values()].every((s) => s.size === 1)).toBe(true);
          for (const id of sides.val!) heldOut.set(id, (heldOut.get(id) ?? 0) + 1);
          expect(outcome.summary.straddlingTexts).toEqual({ trainTest: 0, trainVal: 0, valTest: 0 });
        }
        expect([...trainRows].every((id) => heldOut.get(id) === 1)).toBe(true);
      }),
      { numRuns: 8 },
    );
  }, 120_000);

  it('refuses a fold that is not one, before reading anything', async () => {
    const fold = createFoldActivity({ store, heartbeat: () => undefined, warn: () => undefined, verifyHashes: false });
    const split = await splitArtifact(syntheticRows([5, 5], 1), new Array<SplitName>(10).fill('train'), -1);
    await expect(fold({ split, params: { folds: 3, fold: 3, seed: 1 } })).rejects.toThrow('fold 3 of 3 is not a fold');
  });
});
