/**
 * Test fixture: a small split artifact (`split.parquet` + `labels.json`) committed straight into a
 * store, so the features → resample → train → evaluate stages can be tested on real files in seconds.
 * Texts are made of class words (separable) plus shared filler; `testOnly` appears only in the test
 * split, so tests can check that nothing is fitted on it.
 */
import { join } from 'node:path';
import { Rng } from '../../../data/random';
import type { ArtifactStore } from '../../../data/store/artifact-store';
import type { ArtifactRef } from '../../../data/store/types';
import { commitArtifact, writeReviewsParquet, type ReviewRow } from '../../report/testing/fixture-store';

export const CLASS_WORDS = [
  ['buruk', 'lambat', 'gagal', 'error', 'kecewa'],
  ['bagus', 'cepat', 'mantap', 'mudah', 'membantu'],
  ['biasa', 'lumayan', 'cukup', 'standar', 'sedang'],
];
const FILLER = ['aplikasi', 'ini', 'sangat', 'saya', 'pakai', 'untuk', 'obat', 'dokter'];
/** A word that occurs only in test texts. */
export const TEST_ONLY_WORD = 'khususuji';

export interface SplitFixture {
  ref: ArtifactRef;
  rows: ReviewRow[];
}

/**
 * `perClass` rows per class (the first class gets half as many, for something to resample), 60% train,
 * 20% val, 20% test, with `nClasses` of 2 or 3.
 */
export async function writeSplitFixture(store: ArtifactStore, options: { perClass?: number; nClasses?: 2 | 3; seed?: number } = {}): Promise<SplitFixture> {
  const perClass = options.perClass ?? 30;
  const nClasses = options.nClasses ?? 2;
  const rng = new Rng(options.seed ?? 1);
  const rows: ReviewRow[] = [];
  for (let label = 0; label < nClasses; label++) {
    const count = label === 0 ? Math.ceil(perClass / 2) : perClass;
    for (let i = 0; i < count; i++) {
      const split = i % 5 === 3 ? 'val' : i % 5 === 4 ? 'test' : 'train';
      const words = CLASS_WORDS[label]!;
      const text = [FILLER[rng.int(FILLER.length)]!, words[rng.int(5)]!, FILLER[rng.int(FILLER.length)]!, words[rng.int(5)]!, words[rng.int(5)]!];
      if (split === 'test' && i % 2 === 0) text.push(TEST_ONLY_WORD);
      rows.push({ rating: label === 0 ? 1 : label === 1 ? 5 : 3, text: text.join(' '), label, split });
    }
  }
  const classes = ['negative', 'positive', 'neutral'].slice(0, nClasses);
  const manifest = await commitArtifact(store, {
    stage: 'split',
    params: { fixture: 'split', perClass, nClasses, seed: options.seed ?? 1 },
    files: { 'labels.json': JSON.stringify({ rule: 'fixture', version: 1, classes }) + '\n' },
    write: (dir) => writeReviewsParquet(join(dir, 'split.parquet'), rows),
  });
  return { ref: { key: manifest.key, stage: 'split' }, rows };
}

/** The fixture's texts of one split, in source_row order (the order the features stage reads them). */
export function textsOf(rows: readonly ReviewRow[], split: string): string[] {
  return rows.filter((r) => r.split === split).map((r) => r.text);
}
