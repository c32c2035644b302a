/**
 * `ulasan run` as a user meets it, on review files the test writes: unique run ids, options and splits
 * refused before any stage runs, small data refused or flagged, `status` of an unknown run.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError, type UlasanError } from '../core/errors';
import { newRunId } from './records';
import { parseParallel, runExperiment, runStatus } from './experiment-runner';
import { stageWarnings } from '../workflows/plans/pipeline';

let dir: string;
let home: string; // reassigned by tests that need a store of their own
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-run-'));
  home = join(dir, 'store');
  process.env.ULASAN_HOME = home;
  await writeFile(join(dir, 'reviews.csv'), reviewsCsv(300));
  await writeFile(join(dir, 'small.csv'), reviewsCsv(40));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const WORDS = ['bagus', 'jelek', 'cepat', 'lambat', 'ramah', 'mahal', 'murah', 'dokter', 'obat', 'aplikasi', 'mantap', 'kecewa'];

/** `rows` unique reviews, none of which cleaning empties, ratings 1, 2, 4, 5 in turn. */
function reviewsCsv(rows: number): string {
  const text = (i: number) => [0, 1, 2].map((d) => WORDS[Math.floor(i / WORDS.length ** d) % WORDS.length]).join(' ');
  const lines = Array.from({ length: rows }, (_, i) => `r${i},ulasan ${text(i)},${[1, 2, 4, 5][i % 4]}`);
  return `reviewId,content,score\n${lines.join('\n')}\n`;
}

async function spec(name: string, body: string): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(path, `name: ${name}\n${body}`);
  return path;
}

const BASELINE = 'features: {kind: tfidf}\nmodel: {arch: nb}\n';
const options = { taskQueue: 'ulasan', log: () => undefined };
const artifactFile = (key: string, name: string) => join(home, key.slice(0, 2), key, name);
/** Stages that have artifacts in the store. */
async function storedStages(): Promise<Set<string>> {
  const { readdir } = await import('node:fs/promises');
  const stages = new Set<string>();
  for (const prefix of (await readdir(home)).filter((name) => /^[0-9a-f]{2}$/.test(name))) {
    for (const key of await readdir(join(home, prefix))) stages.add(JSON.parse(await readFile(artifactFile(key, 'manifest.json'), 'utf8')).stage);
  }
  return stages;
}

describe('run ids', () => {
  it('differ for two runs of one plan started in the same second', () => {
    const now = new Date('2026-01-02T03:04:05.000Z');
    const plan = { name: 'p' } as never;
    expect(newRunId(plan, now)).not.toBe(newRunId(plan, now));
    expect(newRunId(plan, now)).toMatch(/^run-20260102T030405Z-[0-9a-f]{8}-[0-9a-f]{8}$/);
  });

  it('two runs started together both keep their record, and a file of 300 plain reviews runs end to end', async () => {
    const path = await spec('together', `source: {file: reviews.csv}\n${BASELINE}`);
    const [a, b] = await Promise.all([runExperiment(path, options), runExperiment(path, options)]);
    expect(a.runId).not.toBe(b.runId);
    expect(a.metricsKey).toBe(b.metricsKey);
    for (const run of [a, b]) {
      expect(JSON.parse(await readFile(join(home, 'runs', `${run.runId}.json`), 'utf8')).runId).toBe(run.runId);
      expect(existsSync(run.runReportPath)).toBe(true);
    }
    const metrics = JSON.parse(await readFile(artifactFile(a.metricsKey, 'metrics.json'), 'utf8'));
    const split = JSON.parse(await readFile(artifactFile(a.stages.find((s) => s.stage === 'split')!.key, 'manifest.json'), 'utf8'));
    expect(split.rowCounts).toMatchObject({ train: expect.any(Number), test: metrics.n });
    expect(split.rowCounts.train + split.rowCounts.val + metrics.n).toBe(300);
    expect(await runStatus(a.runId)).toContain(`Run ${a.runId} finished: metrics ${a.metricsKey}`);
  }, 120_000);
});

describe('refused before any stage runs', () => {
  it.each(['abc', '0', '-1', '1.5', '65', ''])('--parallel %j', (value) => {
    expect(() => parseParallel(value)).toThrow(expect.objectContaining({ type: 'BadInput', message: expect.stringContaining('1 to 64') }));
  });

  it('accepts --parallel 1..64', () => {
    expect([parseParallel('1'), parseParallel('64'), parseParallel(3)]).toEqual([1, 64, 3]);
  });

  it('a grid with --parallel NaN', async () => {
    const path = await spec('grid-nan', `source: {file: reviews.csv}\n${BASELINE}grid: {values: {train.seed: [1]}}\n`);
    await expect(runExperiment(path, { ...options, parallel: Number.NaN })).rejects.toMatchObject({ type: 'BadInput', context: { field: '--parallel' } });
  });

  it.each([
    ['split.test: 0', 'split: {train: 1, test: 0}\n', 'split.test: must be greater than 0'],
    ['split.train: 0', 'split: {train: 0, val: 0.5, test: 0.5}\n', 'split.train: must be greater than 0'],
    ['split.val: 0 in a grid selecting on validation', 'split: {train: 0.8, val: 0, test: 0.2}\ngrid: {selection: validation, values: {model.alpha: [0.5, 1]}}\n', 'split.val: must be greater than 0 because grid.selection is validation'],
    ['split.val: 0 scored on val', 'split: {train: 0.8, val: 0, test: 0.2}\nevaluate: {partition: val}\n', 'split.val: must be greater than 0 because evaluate.partition is val'],
  ])('%s', async (name, body, message) => {
    const path = await spec(name.replace(/\W+/g, '-'), `source: {file: reviews.csv}\n${BASELINE}${body}`);
    const fresh = join(dir, `store-${name.replace(/\W+/g, '-')}`);
    process.env.ULASAN_HOME = fresh;
    try {
      await expect(runExperiment(path, options)).rejects.toMatchObject({ type: 'BadInput', message: expect.stringContaining(message) });
      expect(existsSync(fresh)).toBe(false);
    } finally {
      process.env.ULASAN_HOME = home;
    }
  });

  it('split.val: 0 with a prior adjustment tuned on it', async () => {
    const body = 'features: {kind: tfidf}\nmodel: {arch: nb, priorAdjustment: validation}\nsplit: {train: 0.8, val: 0, test: 0.2}\n';
    const path = await spec('prior-no-val', `source: {file: reviews.csv}\n${body}`);
    await expect(runExperiment(path, options)).rejects.toMatchObject({
      type: 'BadInput',
      message: expect.stringContaining('split.val: must be greater than 0 because model.priorAdjustment is validation'),
    });
  });
});

describe('small data', () => {
  it('is refused after the split, naming the classes and the way out', async () => {
    const path = await spec('small', `source: {file: small.csv}\n${BASELINE}`);
    process.env.ULASAN_HOME = home = join(dir, 'store-small');
    const error = await runExperiment(path, options).catch((err: unknown) => err);
    expect(error).toMatchObject({ type: 'BadInput', context: { stage: 'split', field: 'evaluate.minSupport' } });
    expect((error as Error).message).toMatch(/test split has only \d 'negative' rows.*minimum 10 per class.*--allow-small/);
    expect([...(await storedStages())].sort()).toEqual(['annotate', 'clean', 'import', 'split']);
  });

  it('with --allow-small runs, and the warning reaches the summary and the report headline', async () => {
    const path = await spec('small', `source: {file: small.csv}\n${BASELINE}`);
    const run = await runExperiment(path, { ...options, allowSmall: true });
    const [warning] = stageWarnings(run.stages);
    expect(warning).toMatch(/^SMALL DATA: test split has only \d 'negative' rows/);
    const html = await readFile(run.reportPath, 'utf8');
    expect(html.indexOf('id="data-warning"')).toBeGreaterThan(0);
    expect(html.indexOf('id="data-warning"')).toBeLessThan(html.indexOf('class="headline"'));
  }, 60_000);

  it('a class absent from test is never silent, even with --allow-small', async () => {
    const path = await spec('absent', `source: {file: small.csv}\n${BASELINE}label: {rule: five}\nevaluate: {minSupport: 1}\nsplit: {train: 0.8, test: 0.2}\n`);
    await writeFile(join(dir, 'small.csv'), reviewsCsv(40).replace(/,4\n/, ',3\n'));
    const run = await runExperiment(path, { ...options, allowSmall: true });
    expect(stageWarnings(run.stages).join(' ')).toMatch(/test split has no '3' rows/);
  }, 60_000);

  it('a class with no training row is refused, even with --allow-small, naming it', async () => {
    const path = await spec('untrained', `source: {file: small.csv}\n${BASELINE}label: {rule: five}\n`);
    await writeFile(join(dir, 'small.csv'), reviewsCsv(40));
    await expect(runExperiment(path, { ...options, allowSmall: true })).rejects.toMatchObject({
      type: 'BadInput',
      message: expect.stringContaining("class '3' has no rows in the train split: a model cannot learn a class it never sees"),
    });
  });
});

describe('sampler errors', () => {
  it('name the class and give advice that can work', async () => {
    const lines = reviewsCsv(80).trimEnd().split('\n');
    lines[5] = lines[5]!.replace(/,\d$/, ',3');
    lines[9] = lines[9]!.replace(/,\d$/, ',3');
    await writeFile(join(dir, 'two-neutral.csv'), lines.join('\n') + '\n');
    const split = 'split: {strategy: per-class-test-counts, test: {negative: 10, neutral: 1, positive: 10}}';
    const path = await spec('smote-one', `source: {file: two-neutral.csv}\n${BASELINE}label: {rule: ternary}\n${split}\nevaluate: {minSupport: 1}\nresample: {method: smote}\n`);
    const error = (await runExperiment(path, { ...options, allowSmall: true }).catch((err: unknown) => err)) as Error;
    expect(error).toMatchObject({ type: 'BadInput', context: { stage: 'resample', field: 'kNeighbors' } });
    expect(error.message).toBe(
      "kNeighbors=5 needs at least 6 rows in class 'neutral' (the sample and 5 neighbours), which has 1; interpolating needs at least 2 rows: " +
        'use resample.method random-over, merge or drop the class (label.minClassSize), or add reviews.',
    );
  }, 60_000);
});

describe('a grid whose every cell fails', () => {
  it('fails typed as its cells did, and status says it stopped instead of running forever', async () => {
    // Three positive reviews to one negative: SMOTE must synthesise negatives, from far fewer rows than kNeighbors.
    await writeFile(join(dir, 'imbalanced.csv'), reviewsCsv(300).replace(/,2\n/g, ',5\n'));
    const body = `source: {file: imbalanced.csv}\nfeatures: {kind: tfidf}\nresample: {method: smote, kNeighbors: 400}\nmodel: {arch: nb}\ngrid: {values: {model.alpha: [0.5, 1]}}\n`;
    const path = await spec('grid-fails', body);
    const error = (await runExperiment(path, options).catch((err: unknown) => err)) as Error;
    const typed = classifyError(error) as UlasanError;
    expect(typed).toMatchObject({ type: 'BadInput', message: expect.stringMatching(/^Every cell of grid 'grid-fails' failed \(2 of 2\): .*kNeighbors=400 needs/) });
    const { readdir } = await import('node:fs/promises');
    const progress = (await readdir(join(home, 'runs'))).find((name) => name.endsWith('.progress.json'))!;
    const status = await runStatus(progress.replace('.progress.json', ''));
    expect(status).toMatch(/2\/2 cells: 0 done, 0 cached, 2 failed, 0 running, .* FAILED: Every cell of grid 'grid-fails' failed/);
  }, 60_000);
});

describe('status', () => {
  it('of an unknown run fails naming where it looked', async () => {
    await expect(runStatus('run-nope')).rejects.toMatchObject({ type: 'NotFound', message: expect.stringContaining('No run run-nope under') });
  });
});
