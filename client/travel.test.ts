/**
 * Keys that travel: the same review file and slang lexicon at two paths, run from two working
 * directories through specs that name them relative to themselves, land on the same artifact for every
 * stage. The paths are provenance in the import and clean manifests, never key material.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STAGES } from '../activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../data/store/artifact-store';
import { formatLineage } from '../data/store/lineage';
import { recomputeStage } from '../data/store/stage';
import { syntheticReviewsCsv } from '../data/sample/synthetic';
import { diffRuns, formatRunDiff } from './diff';
import { runExperiment } from './experiment-runner';
import type { RunSummary } from './records';

const SLANG = 'slang,formal\ngk,tidak\nbgt,banget\n';
let base: string;
let store: ArtifactStore;
const runs: RunSummary[] = [];
const saved = { cwd: process.cwd(), home: process.env.ULASAN_HOME };

const spec = (file: string, lexicon: string) => `
name: travel
seed: 5
source:
  file: ${file}
clean:
  slang:
    lexicon: ${lexicon}
features:
  kind: tfidf
resample:
  method: none
model:
  arch: nb
train:
  epochs: 3
evaluate:
  minSupport: 5 # 300 synthetic rows leave ~5 negative test rows; this test is about paths, not the score
`;

/** Runs the spec at `specPath` with `cwd` as the working directory and the shared store as ULASAN_HOME. */
async function runFrom(cwd: string, specPath: string): Promise<RunSummary> {
  process.chdir(cwd);
  try {
    return await runExperiment(specPath, { taskQueue: 'ulasan', log: () => undefined });
  } finally {
    process.chdir(saved.cwd);
  }
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'ulasan-travel-'));
  process.env.ULASAN_HOME = join(base, 'home');
  store = new ArtifactStore(process.env.ULASAN_HOME);
  const checkoutA = join(base, 'checkout-a');
  const checkoutB = join(base, 'elsewhere', 'checkout-b');
  await mkdir(join(checkoutA, 'experiments'), { recursive: true });
  await mkdir(join(checkoutB, 'specs'), { recursive: true });
  await mkdir(join(checkoutB, 'data'), { recursive: true });
  await writeFile(join(checkoutA, 'reviews.csv'), syntheticReviewsCsv({ rows: 300, seed: 11, app: 'com.example' }));
  await copyFile(join(checkoutA, 'reviews.csv'), join(checkoutB, 'data', 'copy-of-reviews.csv'));
  await writeFile(join(checkoutA, 'experiments', 'slang.csv'), SLANG);
  await writeFile(join(checkoutB, 'data', 'my-slang.csv'), SLANG);
  await writeFile(join(checkoutA, 'experiments', 'travel.yaml'), spec('../reviews.csv', 'slang.csv'));
  await writeFile(join(checkoutB, 'specs', 'travel.yaml'), spec('../data/copy-of-reviews.csv', '../data/my-slang.csv'));
  runs.push(await runFrom(checkoutA, 'experiments/travel.yaml'));
  runs.push(await runFrom(join(checkoutB, 'specs'), 'travel.yaml'));
}, 180_000);
afterAll(async () => {
  process.env.ULASAN_HOME = saved.home;
  if (saved.home === undefined) delete process.env.ULASAN_HOME;
  await rm(base, { recursive: true, force: true });
});

describe('the same file at two paths, run from two working directories', () => {
  it('gives one key per stage: the second run hits the cache everywhere', () => {
    const [a, b] = runs as [RunSummary, RunSummary];
    expect(b.stages.map((s) => [s.stage, s.key])).toEqual(a.stages.map((s) => [s.stage, s.key]));
    expect(b.stages.every((s) => s.cache === 'hit')).toBe(true);
  });

  it('diff says shared for every stage', async () => {
    const [a, b] = runs as [RunSummary, RunSummary];
    const diff = await diffRuns(store, a.runId, b.runId);
    expect(diff.stages.map((s) => s.kind)).toEqual(a.stages.map(() => 'shared'));
    expect(formatRunDiff(diff)).toContain(`${a.stages.length} artifact(s) shared.`);
  });

  it('keeps the path out of the import params and records where it was first read as provenance', async () => {
    const importKey = runs[0]!.stages.find((s) => s.stage === 'import')!.key;
    const manifest = await store.manifest(importKey);
    expect(JSON.stringify(manifest.params)).not.toContain(base);
    expect(manifest.params).toMatchObject({ kind: 'file', format: 'csv', encoding: 'utf-8', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(manifest.provenance).toMatchObject({ path: join(base, 'checkout-a', 'reviews.csv') });
    expect(typeof manifest.provenance?.host).toBe('string');
    expect(formatLineage([manifest])).toContain(`read from: ${join(base, 'checkout-a', 'reviews.csv')} on ${manifest.provenance!.host} (not part of the key)`);
  });

  it('keys the clean stage by lexicon content, records the lexicon path as provenance, and verifies from it', async () => {
    const cleanKey = runs[0]!.stages.find((s) => s.stage === 'clean')!.key;
    const manifest = await store.manifest(cleanKey);
    expect(JSON.stringify(manifest.params)).not.toContain(base);
    expect(manifest.params).toMatchObject({ config: { slang: { enabled: true, lexicon: 'file' } } });
    const lexicon = join(base, 'checkout-a', 'experiments', 'slang.csv');
    expect(manifest.provenance).toEqual({ host: expect.any(String), files: { slang: lexicon } });
    expect(formatLineage([manifest])).toContain(`read from: slang ${lexicon} on ${manifest.provenance!.host} (not part of the key)`);
    expect(await recomputeStage(store, STAGES, cleanKey)).toMatchObject({ identical: true });
    await writeFile(lexicon, 'slang,formal\ngk,enggak\n');
    await expect(recomputeStage(store, STAGES, cleanKey)).rejects.toThrow(`the lexicons of clean ${cleanKey} (${lexicon}) changed since it was made`);
  });
});
