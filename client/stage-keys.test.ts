/**
 * Only what matters in a key: for every stage, the options in its key (listed, so a new option is a
 * deliberate choice), and every option the stage ignores flipped without the key moving. A flipped
 * option that the stage does use moves the key, so these checks can fail.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotateParamsFromSpec, annotateStage, annotateStageParams } from '../activities/annotate/annotate';
import { LabelSpecSchema } from '../activities/annotate/label-spec';
import { cleanStageParams } from '../activities/clean/clean';
import { cleanStage, evaluateStage, featuresStage, trainStage } from '../activities/stages';
import { importStage, resolveFileSource, resolveGeneratedParams } from '../activities/import/import';
import { reportStage } from '../activities/report/report';
import { resampleStage, resampleStageParams } from '../activities/resample/resample';
import { splitStage, splitStageParams } from '../activities/split/split';
import { trainStageParams } from '../activities/train/train';
import { syntheticReviewsCsv } from '../data/sample/synthetic';
import { stageKey, type StageDefinition } from '../data/store/stage';
import type { PipelinePlan } from '../workflows/plans/pipeline';
import { ExperimentSpecSchema, planFromSpec } from './spec';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-stage-keys-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

type Spec = Record<string, unknown>;
const BASE: Spec = { name: 'keys', seed: 1, source: { synthetic: { rows: 100 } }, model: { arch: 'cnn-small' } };
const planOf = (spec: Spec): PipelinePlan => planFromSpec(ExperimentSpecSchema.parse({ ...BASE, ...spec }));

const INPUT = { key: 'i'.repeat(64), stage: 'x' };
const inputsOf = (definition: StageDefinition<unknown>) => Object.fromEntries(definition.inputNames.map((name) => [name, INPUT]));
const keyOf = <P>(definition: StageDefinition<P>, params: P): string =>
  stageKey(definition as StageDefinition<unknown>, params, inputsOf(definition as StageDefinition<unknown>));

/** Each stage's key material, as its activity computes it from a plan. */
const KEYED: Record<string, (plan: PipelinePlan) => Promise<{ definition: StageDefinition<never>; params: unknown }>> = {
  import: async (plan) => {
    const params = plan.source.kind === 'file' ? (await resolveFileSource(plan.source)).params : resolveGeneratedParams(plan.source as never);
    return { definition: importStage as never, params };
  },
  clean: async (plan) => ({ definition: cleanStage as never, params: (await cleanStageParams(plan.clean)).params }),
  annotate: async (plan) => ({ definition: annotateStage as never, params: await annotateStageParams(plan.annotate) }),
  split: async (plan) => ({ definition: splitStage as never, params: (await splitStageParams(plan.split)).params }),
  features: async (plan) => ({ definition: featuresStage as never, params: plan.features }),
  resample: async (plan) => ({ definition: resampleStage as never, params: resampleStageParams(plan.resample) }),
  train: async (plan) => ({ definition: trainStage as never, params: trainStageParams(plan.train) }),
  evaluate: async (plan) => ({ definition: evaluateStage as never, params: plan.evaluate }),
  report: async (plan) => ({ definition: reportStage as never, params: plan.report }),
};

async function stageKeyOf(stage: string, spec: Spec): Promise<string> {
  const { definition, params } = await KEYED[stage]!(planOf(spec));
  return keyOf(definition, params as never);
}

/** Dotted paths of the leaves of a keyed params object (arrays and records of values count as one leaf). */
function optionPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const nested = ['config', 'model', 'rule', 'sampler', 'slang', 'stopwords', 'minClassSize', 'ratios', 'columns', 'embedding', 'word2vec'];
  return entries
    .flatMap(([k, v]) => (nested.includes(k) && v !== null && typeof v === 'object' && !Array.isArray(v) ? optionPaths(v, `${prefix}${k}.`) : [`${prefix}${k}`]))
    .sort();
}

async function keyedOptions(stage: string, spec: Spec): Promise<string[]> {
  const { params } = await KEYED[stage]!(planOf(spec));
  return optionPaths(params);
}

/** Asserts that every flip leaves the stage key as it is, and that `control` (an option the stage uses) moves it. */
async function expectIgnored(stage: string, base: Spec, flips: Spec[], control: Spec): Promise<void> {
  const key = await stageKeyOf(stage, base);
  for (const flip of flips) expect(await stageKeyOf(stage, { ...base, ...flip }), JSON.stringify(flip)).toBe(key);
  expect(await stageKeyOf(stage, { ...base, ...control })).not.toBe(key);
}

describe('which options are in each stage key', () => {
  it('lists them per stage, for a neural and a baseline experiment', async () => {
    const neural: Spec = {};
    const baseline: Spec = { features: { kind: 'tfidf' }, resample: { method: 'none' }, model: { arch: 'nb' } };
    const CLEAN_CONFIG = [
      'caseFold', 'collapseWhitespace', 'dedupeCleaned', 'dedupeExact', 'dropEmpty', 'expandReduplication', 'keepWordHyphens',
      'nonLetters', 'normalizeUnicode', 'removeDigits', 'removeEmoji', 'removeHashtags', 'removeMentions', 'removePunctuation',
      'removeUrls', 'slang.enabled', 'slang.lexicon', 'squeezeElongation', 'stem', 'stopwords.enabled', 'stopwords.keep',
      'stopwords.source', 'tokenize',
    ].map((option) => `config.${option}`);
    expect({
      import: await keyedOptions('import', neural),
      clean: await keyedOptions('clean', neural),
      annotate: await keyedOptions('annotate', neural),
      split: await keyedOptions('split', neural),
      features: await keyedOptions('features', neural),
      'features (tfidf)': await keyedOptions('features', baseline),
      resample: await keyedOptions('resample', neural),
      'resample (none)': await keyedOptions('resample', baseline),
      train: await keyedOptions('train', neural),
      'train (nb)': await keyedOptions('train', baseline),
      'train (linear-svm)': await keyedOptions('train', { ...baseline, model: { arch: 'linear-svm' } }),
      evaluate: await keyedOptions('evaluate', neural),
      report: await keyedOptions('report', neural),
    }).toEqual({
      import: ['app', 'kind', 'rows', 'seed'],
      clean: [...CLEAN_CONFIG, 'lexiconFingerprint'].sort(),
      annotate: [
        'lexiconSha256', 'minClassSize.mergeInto', 'minClassSize.minClassSize', 'minClassSize.policy',
        'rule.byRating', 'rule.classes', 'rule.name', 'rule.version', 'trainWindow', 'windows',
      ],
      split: ['ratios.test', 'ratios.train', 'ratios.val', 'seed', 'strategy'],
      features: ['kind', 'maxLen', 'maxVocab', 'minCount'],
      'features (tfidf)': ['kind', 'maxDf', 'maxFeatures', 'minDf', 'ngramRange', 'norm', 'smoothIdf', 'sublinearTf', 'useIdf'],
      resample: ['partition', 'sampler.method', 'sampler.samplingStrategy', 'sampler.shrinkage', 'seed'],
      'resample (none)': ['partition', 'sampler.method'],
      train: [
        'batchSize', 'epochs', 'learningRate', 'model.arch', 'model.dropout', 'model.embeddingDim', 'model.embeddingTrainable',
        'model.filters', 'model.fused', 'model.kernelSize', 'model.l2', 'optimizer', 'seed', 'threads',
      ],
      'train (nb)': ['model.alpha', 'model.arch'],
      'train (linear-svm)': ['model.C', 'model.arch', 'model.interceptScaling', 'model.maxIter', 'model.tol', 'seed'],
      evaluate: ['partition'],
      report: ['title'],
    });
  });

  it('import: a file is keyed by content and table options, never by its path', async () => {
    const csv = join(dir, 'a', 'reviews.csv');
    await mkdir(join(dir, 'a'), { recursive: true });
    await mkdir(join(dir, 'b', 'deeper'), { recursive: true });
    await writeFile(csv, syntheticReviewsCsv({ rows: 60, seed: 4, app: 'com.example' }));
    await copyFile(csv, join(dir, 'b', 'deeper', 'renamed.csv'));
    expect(await keyedOptions('import', { source: { file: csv } })).toEqual([
      'app', 'columns.app', 'columns.date', 'columns.id', 'columns.rating', 'columns.text', 'columns.user', 'encoding', 'format', 'kind', 'sha256',
    ]);
    await expectIgnored(
      'import',
      { source: { file: csv } },
      [{ source: { file: join(dir, 'b', 'deeper', 'renamed.csv') } }, { source: { file: join(dir, 'b', 'deeper', '..', 'deeper', 'renamed.csv') } }],
      { source: { file: csv, app: 'com.other' } },
    );
    const json = join(dir, 'reviews.json');
    await writeFile(json, JSON.stringify([{ text: 'bagus', rating: 5 }]));
    // JSON is always UTF-8: an encoding given for it changes nothing, so it is not in the key.
    await expectIgnored('import', { source: { file: json } }, [{ source: { file: json, encoding: 'latin-1' } }], { source: { file: json, app: 'x' } });
  });
});

describe('flipping an option a stage ignores keeps its key', () => {
  it('train: a baseline ignores every neural fit option, and NB its seed', async () => {
    const nb: Spec = { features: { kind: 'tfidf' }, model: { arch: 'nb' } };
    const fitOptions: Spec[] = [
      { train: { epochs: 50 } },
      { train: { batchSize: 7 } },
      { train: { learningRate: 0.1 } },
      { train: { optimizer: 'sgd' } },
      { train: { classWeight: 'balanced' } },
      { train: { earlyStopping: { patience: 1 } } },
      { train: { reduceLrOnPlateau: { factor: 0.5 } } },
      { train: { threads: 2 } },
      { train: { epochs: 2, batchSize: 8, learningRate: 0.2, optimizer: 'rmsprop' } },
    ];
    await expectIgnored('train', nb, [...fitOptions, { seed: 99 }], { model: { arch: 'nb', alpha: 0.5 } });
    const svm: Spec = { features: { kind: 'tfidf' }, model: { arch: 'linear-svm' } };
    await expectIgnored('train', svm, fitOptions, { seed: 99 }); // the SVM visits rows in a seeded order
  });

  it("train: classWeight and priorAdjustment 'none' are the absent options, so unweighted keys stay as they were", async () => {
    const svm: Spec = { features: { kind: 'tfidf' }, model: { arch: 'linear-svm' } };
    await expectIgnored('train', svm, [{ model: { arch: 'linear-svm', classWeight: 'none', priorAdjustment: 'none' } }], {
      model: { arch: 'linear-svm', classWeight: 'balanced' },
    });
    const lr: Spec = { features: { kind: 'tfidf' }, model: { arch: 'logistic-regression' } };
    await expectIgnored('train', lr, [{ model: { arch: 'logistic-regression', classWeight: 'none' } }], {
      model: { arch: 'logistic-regression', priorAdjustment: 'validation' },
    });
  });

  it('train: a neural model keys its fit options', async () => {
    const key = await stageKeyOf('train', {});
    for (const flip of [{ train: { epochs: 50 } }, { train: { batchSize: 7 } }, { train: { learningRate: 0.1 } }, { train: { optimizer: 'sgd' } }]) {
      expect(await stageKeyOf('train', flip)).not.toBe(key);
    }
  });

  it('features: TF-IDF ignores the seed and the model, token ids without Word2Vec ignore them too', async () => {
    const tfidf: Spec = { features: { kind: 'tfidf' }, model: { arch: 'nb' } };
    await expectIgnored('features', tfidf, [{ seed: 99 }, { model: { arch: 'linear-svm' } }, { train: { epochs: 9 } }], { features: { kind: 'tfidf', minDf: 2 } });
    await expectIgnored('features', {}, [{ seed: 99 }, { model: { arch: 'cnn-small', embeddingDim: 16 } }], { features: { maxLen: 20 } });
    // With a Word2Vec embedding, the model's width and the seed do shape the vectors.
    const w2v: Spec = { features: { embedding: { word2vec: {} } } };
    expect(await stageKeyOf('features', { ...w2v, model: { arch: 'cnn-small', embeddingDim: 16 } })).not.toBe(await stageKeyOf('features', w2v));
  });

  it('features: a word TF-IDF keys no analyzer and no character range; char_wb keys no word range', async () => {
    const word = await keyedOptions('features', { features: { kind: 'tfidf', charNgramRange: [3, 6] } });
    expect(word).toEqual(['kind', 'maxDf', 'maxFeatures', 'minDf', 'ngramRange', 'norm', 'smoothIdf', 'sublinearTf', 'useIdf']);
    await expectIgnored('features', { features: { kind: 'tfidf' } }, [{ features: { kind: 'tfidf', analyzer: 'word', charNgramRange: [3, 6] } }], {
      features: { kind: 'tfidf', analyzer: 'char_wb' },
    });
    await expectIgnored('features', { features: { kind: 'tfidf', analyzer: 'char_wb' } }, [{ features: { kind: 'tfidf', analyzer: 'char_wb', ngramRange: [1, 3] } }], {
      features: { kind: 'tfidf', analyzer: 'char_wb', charNgramRange: [1, 3] },
    });
    expect(await keyedOptions('features', { features: { kind: 'tfidf', analyzer: 'word+char_wb' } })).toEqual([...word, 'analyzer', 'charNgramRange'].sort());
  });

  it('resample: none ignores the seed', async () => {
    await expectIgnored('resample', { resample: { method: 'none' } }, [{ seed: 99 }], { resample: { method: 'random-over' } });
    expect(await stageKeyOf('resample', { seed: 99 })).not.toBe(await stageKeyOf('resample', {}));
  });

  it("clean: a switched-off step's options are ignored", async () => {
    const lexicon = join(dir, 'slang.csv');
    const stopwords = join(dir, 'stopwords.txt');
    await writeFile(lexicon, 'slang,formal\ngk,tidak\n');
    await writeFile(stopwords, 'yang\n');
    const off: Spec = { clean: { slang: { enabled: false }, stopwords: { enabled: false }, removePunctuation: false } };
    await expectIgnored(
      'clean',
      off,
      [
        { clean: { slang: { enabled: false, lexicon }, stopwords: { enabled: false }, removePunctuation: false } },
        { clean: { slang: { enabled: false }, stopwords: { enabled: false, source: stopwords, keep: ['x'] }, removePunctuation: false } },
        { clean: { slang: { enabled: false }, stopwords: { enabled: false }, removePunctuation: false, keepWordHyphens: false } },
        { seed: 99 },
      ],
      { clean: { slang: { enabled: true, lexicon }, stopwords: { enabled: false }, removePunctuation: false } },
    );
  });

  it('clean: a lexicon file is keyed by its content, never by its path', async () => {
    await mkdir(join(dir, 'lex', 'deeper'), { recursive: true });
    const slang = join(dir, 'lex', 'slang.csv');
    const stopwords = join(dir, 'lex', 'stopwords.txt');
    await writeFile(slang, 'slang,formal\ngk,tidak\nbgt,banget\n');
    await writeFile(stopwords, 'yang\ndan\n');
    await copyFile(slang, join(dir, 'lex', 'deeper', 'renamed.csv'));
    await copyFile(stopwords, join(dir, 'lex', 'deeper', 'renamed.txt'));
    const other = join(dir, 'lex', 'other.txt');
    await writeFile(other, 'yang\n');
    const using = (lexicon: string, source: string): Spec => ({ clean: { slang: { lexicon }, stopwords: { enabled: true, source } } });
    const { params, provenance } = await cleanStageParams(planOf(using(slang, stopwords)).clean);
    expect(JSON.stringify(params)).not.toContain(dir);
    expect(provenance).toEqual({ host: expect.any(String), files: { slang, stopwords } });
    const renamed = [join(dir, 'lex', 'deeper', 'renamed.csv'), join(dir, 'lex', 'deeper', 'renamed.txt')] as const;
    await expectIgnored(
      'clean',
      using(slang, stopwords),
      [using(renamed[0], stopwords), using(slang, renamed[1]), using(...renamed), using(join(dir, 'lex', 'deeper', '..', 'slang.csv'), stopwords)],
      using(slang, other),
    );
    // A built-in list is still told apart from a file, whose content the fingerprint carries.
    expect(await stageKeyOf('clean', using('builtin', stopwords))).not.toBe(await stageKeyOf('clean', using(slang, stopwords)));
  });

  it('annotate: with minClassSize 0 the small-class policy and merge targets are ignored, yet still checked', async () => {
    const ternary = (label: Spec): Spec => ({ label: { rule: 'ternary', ...label } });
    await expectIgnored(
      'annotate',
      ternary({}),
      [ternary({ smallClasses: 'merge' }), ternary({ mergeInto: { neutral: 'negative' } }), ternary({ smallClasses: 'merge', mergeInto: { neutral: 'positive' } })],
      ternary({ minClassSize: 5 }),
    );
    // Once the check is on, both matter.
    const on = await stageKeyOf('annotate', ternary({ minClassSize: 5 }));
    expect(await stageKeyOf('annotate', ternary({ minClassSize: 5, smallClasses: 'merge' }))).not.toBe(on);
    expect(await stageKeyOf('annotate', ternary({ minClassSize: 5, smallClasses: 'merge', mergeInto: { neutral: 'negative' } }))).not.toBe(
      await stageKeyOf('annotate', ternary({ minClassSize: 5, smallClasses: 'merge' })),
    );
    // A merge target that is no class of the rule is refused even when the check is off.
    const label = annotateParamsFromSpec(LabelSpecSchema.parse({ rule: 'binary' }));
    await expect(annotateStageParams({ ...label, minClassSize: { minClassSize: 0, policy: 'merge', mergeInto: { neutral: 'negative' } } })).rejects.toThrow(
      'mergeInto neutral → negative',
    );
  });

  it('split, evaluate and report ignore the model and fit options (those reach them only through input keys)', async () => {
    const flips: Spec[] = [{ model: { arch: 'lstm' } }, { train: { epochs: 40 } }, { resample: { method: 'none' } }];
    await expectIgnored('split', {}, flips, { split: { train: 0.8, test: 0.2 } });
    await expectIgnored('evaluate', {}, flips, { evaluate: { partition: 'val' } });
    await expectIgnored('report', {}, flips, { name: 'renamed' });
  });
});
