import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../data/store/artifact-store';
import { runStage, type StageDefinition } from '../../data/store/stage';
import { readTokenMatrix, writeTokenMatrix } from '../features/token-matrix';
import { labelFractionStage, UNLABELLED_FILE } from './semi';

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

/** A features-shaped artifact: 40 training rows (30 of class 1, 10 of class 0). */
const fakeFeatures: StageDefinition<Record<string, never>> = {
  stage: 'features',
  version: 1,
  inputNames: [],
  async compute({ outDir }) {
    const labels = Int32Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 0 : 1));
    const matrix = (rows: number) => ({ ids: Int32Array.from({ length: rows * 2 }, (_, i) => i + 2), labels: labels.slice(0, rows), sourceRows: Int32Array.from({ length: rows }, (_, i) => i), rows, seqLen: 2 });
    await writeTokenMatrix(join(outDir, 'train.arrow'), matrix(40));
    await writeTokenMatrix(join(outDir, 'val.arrow'), matrix(8));
    await writeTokenMatrix(join(outDir, 'test.arrow'), matrix(8));
    await writeFile(join(outDir, 'vocab.json'), '{"seqLen":2,"tokens":[]}');
    await writeFile(join(outDir, 'labels.json'), '{"classes":["negative","positive"]}');
    return {};
  },
};

describe('label-fraction', () => {
  it('keeps a seeded, stratified fraction of training labels and holds the rest back', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ulasan-semi-'));
    roots.push(root);
    const store = new ArtifactStore(root);
    const features = await runStage(store, fakeFeatures, {}, {});
    const outcome = await runStage(store, labelFractionStage, { fraction: 0.3, seed: 5 }, { features: features.ref });
    const kept = await readTokenMatrix(store.path(outcome.ref.key, 'train.arrow'));
    const held = await readTokenMatrix(store.path(outcome.ref.key, UNLABELLED_FILE));
    expect([...kept.labels].filter((l) => l === 0)).toHaveLength(3);
    expect([...kept.labels].filter((l) => l === 1)).toHaveLength(9);
    expect(kept.rows + held.rows).toBe(40);
    expect(new Set([...kept.sourceRows, ...held.sourceRows]).size).toBe(40);
    const again = await runStage(store, labelFractionStage, { fraction: 0.3, seed: 5 }, { features: features.ref }, { bypassCache: true });
    expect(again.ref.key).toBe(outcome.ref.key);
    expect((await readTokenMatrix(store.path(again.ref.key, 'train.arrow'))).sourceRows).toEqual(kept.sourceRows);
  });
});
