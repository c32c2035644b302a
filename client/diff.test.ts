import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitArtifact, writeFixtureLineage, type FixtureLineage } from '../activities/report/testing/fixture-store';
import { ArtifactStore } from '../data/store/artifact-store';
import { diffRuns, diffValues, formatRunDiff, readRunRecord } from './diff';

let root: string;
let store: ArtifactStore;
let f: FixtureLineage;
let trainB: string;
let evaluateB: string;

const planFor = (learningRate: number, name: string) => ({
  name,
  source: { kind: 'synthetic', rows: 62, seed: 3 },
  train: { model: { arch: 'cnn-small', filters: 8 }, epochs: 4, batchSize: 16, learningRate, seed: 3 },
  evaluate: { partition: 'test' },
  report: { title: name },
});

async function writeRun(runId: string, stages: [string, string][], plan: unknown): Promise<void> {
  await mkdir(join(root, 'runs'), { recursive: true });
  const record = { runId, metricsKey: stages.at(-1)![1], stages: stages.map(([stage, key]) => ({ stage, key, cache: 'miss', ms: 1 })), runner: 'local', plan };
  await writeFile(join(root, 'runs', `${runId}.json`), JSON.stringify(record));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-diff-'));
  store = new ArtifactStore(root);
  f = await writeFixtureLineage(store);
  const train = await commitArtifact(store, {
    stage: 'train',
    params: { model: { arch: 'cnn-small', filters: 8 }, epochs: 4, batchSize: 16, learningRate: 0.02, seed: 3 },
    inputs: { train: f.resampleKey, features: f.featuresKey },
  });
  const evaluate = await commitArtifact(store, { stage: 'evaluate', stageVersion: 2, params: { partition: 'test' }, inputs: { model: train.key, features: f.featuresKey } });
  trainB = train.key;
  evaluateB = evaluate.key;
  const upstream: [string, string][] = [
    ['import', f.importKey],
    ['clean', f.cleanKey],
    ['annotate', f.annotateKey],
    ['split', f.splitKey],
    ['features', f.featuresKey],
    ['resample', f.resampleKey],
  ];
  await writeRun('run-a', [...upstream, ['train', f.trainKey], ['evaluate', f.evaluationKey]], planFor(0.005, 'first'));
  await writeRun('run-b', [...upstream, ['train', trainB], ['evaluate', evaluateB]], planFor(0.02, 'second'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('diffValues', () => {
  it('lists differing leaves by dotted path, arrays element-wise, absent fields included', () => {
    expect(diffValues({ a: 1, b: { c: [1, 2] }, d: 'x' }, { a: 1, b: { c: [1, 3, 4] }, e: true })).toEqual([
      { path: 'b.c.1', a: 2, b: 3 },
      { path: 'b.c.2', a: undefined, b: 4 },
      { path: 'd', a: 'x', b: undefined },
      { path: 'e', a: undefined, b: true },
    ]);
    expect(diffValues({ a: [1] }, { a: [1] })).toEqual([]);
  });
});

describe('diffRuns', () => {
  it('names the shared artifacts, the stage whose params changed, and the one changed only by its inputs', async () => {
    const diff = await diffRuns(store, 'run-a', 'run-b');
    const kinds = Object.fromEntries(diff.stages.map((s) => [s.stage, s.kind]));
    expect(kinds).toEqual({ import: 'shared', clean: 'shared', annotate: 'shared', split: 'shared', features: 'shared', resample: 'shared', train: 'params', evaluate: 'inputs' });
    expect(diff.stages.find((s) => s.stage === 'train')!.changes).toEqual([{ path: 'learningRate', a: 0.005, b: 0.02 }]);
    expect(diff.sharedKeys).toEqual([f.importKey, f.cleanKey, f.annotateKey, f.splitKey, f.featuresKey, f.resampleKey]);
    const text = formatRunDiff(diff);
    expect(text).toContain(`train     params differ                  ${f.trainKey.slice(0, 12)} → ${trainB.slice(0, 12)}`);
    expect(text).toContain('            learningRate: 0.005 → 0.02');
    expect(text).toContain(`evaluate  same params, different inputs  ${f.evaluationKey.slice(0, 12)} → ${evaluateB.slice(0, 12)}`);
    expect(text).toContain('6 artifact(s) shared.');
    expect(text).toContain('plan name: "first" → "second"');
  });

  it('falls back to the plan when the store no longer has the manifests, and flags one-sided stages', async () => {
    await writeRun('run-c', [['train', 'f'.repeat(64)], ['report', 'e'.repeat(64)]], planFor(0.1, 'third'));
    const diff = await diffRuns(store, 'run-a', join(root, 'runs', 'run-c.json'));
    const train = diff.stages.find((s) => s.stage === 'train')!;
    expect(train).toMatchObject({ kind: 'params', changes: [{ path: 'learningRate', a: 0.005, b: 0.1 }] });
    expect(diff.stages.find((s) => s.stage === 'import')!.kind).toBe('only-in-a');
    expect(diff.stages.find((s) => s.stage === 'report')!.kind).toBe('only-in-b');
  });

  it('says where run records live when one is missing', async () => {
    await expect(readRunRecord(store, 'run-nope')).rejects.toMatchObject({
      type: 'NotFound',
      message: expect.stringContaining(`give a run id listed under ${join(root, 'runs')}`),
    });
  });
});
