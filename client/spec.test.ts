import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExperiment } from './experiment';
import { loadSpec, planFromSpec } from './spec';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-spec-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const VALID = `name: t
source:
  synthetic:
    rows: 100
model:
  arch: cnn-small
`;

async function specFile(text: string): Promise<string> {
  const path = join(dir, `spec-${Math.abs(hash(text))}.yaml`);
  await writeFile(path, text);
  return path;
}
const hash = (text: string) => [...text].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7);

describe('loadSpec', () => {
  it('fills defaults and resolves a plan', async () => {
    const spec = await loadSpec(await specFile(VALID));
    expect(spec).toMatchObject({ seed: 42, split: { train: 0.7, val: 0.15, test: 0.15 }, label: { rule: 'binary' } });
    const plan = planFromSpec(spec);
    expect(plan.resample).toEqual({ sampler: { method: 'random-over', samplingStrategy: 'auto', shrinkage: null }, seed: 42, partition: 'train' });
    expect(plan.annotate.rule.byRating[3]).toBeNull();
  });

  it('names an unknown model and lists what is allowed', async () => {
    const path = await specFile(VALID.replace('cnn-small', 'transformer'));
    await expect(loadSpec(path)).rejects.toThrow(/model\.arch: unknown model arch "transformer"; allowed: cnn-small/);
  });

  it('refuses split ratios that do not sum to 1, naming the field and the sum', async () => {
    const path = await specFile(`${VALID}split:\n  train: 0.8\n  val: 0.2\n  test: 0.2\n`);
    await expect(loadSpec(path)).rejects.toThrow(/split: split ratios must sum to 1 \(train 0\.8 \+ val 0\.2 \+ test 0\.2 = 1\.2/);
  });

  it('refuses a ratio above 1', async () => {
    const path = await specFile(`${VALID}split:\n  train: 1.5\n  test: 0.2\n`);
    await expect(loadSpec(path)).rejects.toThrow(/split\.train: .*1/);
  });

  it('names a missing source file before any work', async () => {
    const path = await specFile(VALID.replace('  synthetic:\n    rows: 100', '  file: no-such-reviews.csv'));
    await expect(loadSpec(path)).rejects.toThrow(/source\.file: .*no-such-reviews\.csv does not exist/);
  });

  it('names unknown fields', async () => {
    const path = await specFile(`${VALID}trian:\n  epochs: 3\n`);
    await expect(loadSpec(path)).rejects.toThrow(/trian/);
  });

  it.each([
    ['label.rule', 'label:\n  rule: quaternary\n', `label.rule: "quaternary" is not a label rule; allowed: 'binary', 'ternary', 'five', a pinned built-in`],
    ['label.rule (object)', 'label:\n  rule: {name: harsh}\n', `label.rule: {"name":"harsh"} is not a label rule; allowed: 'binary'`],
    ['features.maxLen', 'features:\n  maxLen: long\n', 'features.maxLen: "long" is not allowed; give a whole number of tokens (e.g. 64) or {percentile: 1..100}'],
  ])('an invalid %s lists what is allowed', async (_, extra, message) => {
    await expect(loadSpec(await specFile(`${VALID}${extra}`))).rejects.toThrow(message);
  });

  it('a grid path that cannot vary says which can', async () => {
    const path = await specFile(`${VALID}grid:\n  values:\n    label.rule: [binary, ternary]\n`);
    await expect(loadExperiment(path)).rejects.toThrow(
      'grid.values.label.rule: only model, features, resample, train and paths under them (model.*, features.*, ...) can vary in a grid (e.g. model.arch, train.learningRate, resample.method, features)',
    );
  });
});
