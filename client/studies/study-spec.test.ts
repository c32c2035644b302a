import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gridPlanFromSpec } from '../grid-spec';
import { loadStudyRun, RESULTS_INDEX, runStudies } from './run-studies';
import { expandStudy, readStudies, type Study } from './study-spec';

const STUDIES_DIR = resolve(import.meta.dirname, '../../experiments/studies');

describe('study files', () => {
  it('every study and every run validates as an experiment spec under both budgets, before anything runs', async () => {
    const studies = await readStudies(STUDIES_DIR);
    expect(studies.map((s) => s.id.split('-')[0])).toEqual(['1', '2', '3', '4', '5']);
    for (const study of studies) {
      for (const budget of ['smoke', 'full'] as const) {
        for (const run of expandStudy(study, budget)) expect(() => loadStudyRun(run, study)).not.toThrow();
      }
    }
  });

  it('runs a leaky study as published (mode leaky) and honestly, a study that did not leak once', async () => {
    const [leaky, honest] = await readStudies(STUDIES_DIR, ['1', '5']);
    const modes = (study: Study) => expandStudy(study, 'full').map((r) => `${r.variant}:${r.mode}:${String(r.raw.mode)}`);
    expect(modes(leaky!).slice(0, 2)).toEqual(['five-during:as-published:leaky', 'five-during:honest:honest']);
    expect(modes(honest!).every((m) => m.endsWith(':honest:honest'))).toBe(true);
    const plan = loadStudyRun(expandStudy(leaky!, 'full')[0]!, leaky!);
    expect(plan.kind).toBe('grid');
    if (plan.kind !== 'grid') return;
    // The leaky sampler runs once over every row; the cells train on the leaky split as it is.
    expect(plan.plan.leakyResample?.sampler.method).toBe('random-over');
    expect(plan.plan.cells.every((cell) => cell.onFeatures === true && cell.resample.sampler.method === 'none')).toBe(true);
    expect(plan.plan.cells).toHaveLength(9);
  });

  it('the smoke budget keeps the protocol but samples rows and shrinks epochs and grids; `null` removes a field', async () => {
    const [study] = await readStudies(STUDIES_DIR, ['ewallet-lstm-gru']);
    const full = expandStudy(study!, 'full');
    const smoke = expandStudy(study!, 'smoke');
    expect(full.map((r) => r.variant)).toEqual(smoke.map((r) => r.variant));
    expect((full[0]!.raw.grid as { values: Record<string, unknown[]> }).values['train.batchSize']).toEqual([128, 256, 512]);
    expect((smoke[0]!.raw.grid as { values: Record<string, unknown[]> }).values['train.batchSize']).toEqual([128]);
    expect((smoke[0]!.raw.source as { sampleRows?: number }).sampleRows).toBe(4000);
    expect((full[0]!.raw.source as { sampleRows?: number; file: string }).sampleRows).toBeUndefined();
    expect((full[0]!.raw.source as { file: string }).file).toMatch(/shared\/data\/reviews\/gopay_id_reviews\.csv$/);
    const semi = full.find((r) => r.variant === 'gru-semi')!;
    expect(semi.raw.grid).toBeUndefined();
    expect(semi.raw.semiSupervised).toEqual({ labelledFraction: 0.3 });
  });

  it('names an unknown study and lists the known ones', async () => {
    await expect(readStudies(STUDIES_DIR, ['7'])).rejects.toThrow(/No study named 7 in .*; known: 1-halodoc-cnn-bilstm, 2-/);
  });
});

describe('ulasan studies', () => {
  it('refuses, before running anything, to keep a study on the page whose metrics are not in the store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ulasan-studies-index-'));
    const home = process.env.ULASAN_HOME;
    try {
      process.env.ULASAN_HOME = join(dir, 'store');
      await mkdir(join(dir, 'out'));
      const entry = { id: '1-halodoc-cnn-bilstm', runs: [{ variant: 'five-during', mode: 'honest', metricsKey: 'a'.repeat(64) }] };
      await writeFile(join(dir, 'out', RESULTS_INDEX), JSON.stringify({ studies: [entry] }));
      const run = runStudies({ names: ['5'], budget: 'smoke', studiesDir: STUDIES_DIR, outDir: join(dir, 'out'), taskQueue: 'ulasan', log: () => undefined });
      await expect(run).rejects.toThrow(/results\.json lists 1-halodoc-cnn-bilstm, whose metrics are not in the store at .*: run those studies too/);
    } finally {
      if (home === undefined) delete process.env.ULASAN_HOME;
      else process.env.ULASAN_HOME = home;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('leaky grids', () => {
  const base = {
    name: 'g',
    source: { synthetic: { rows: 200 } },
    split: { train: 0.6, val: 0.2, test: 0.2 },
    model: { arch: 'cnn-small' },
    grid: { values: { 'train.learningRate': [0.01, 0.001] } },
  };

  it('leave an honest grid as it was (no leaky sampler)', () => {
    expect(gridPlanFromSpec(structuredClone(base), 'g.yaml').leakyResample).toBeUndefined();
  });

  it('refuse a grid over samplers or honest-vs-leaky in leaky mode, naming the field', () => {
    const samplers = { ...base, mode: 'leaky', grid: { values: { 'resample.method': ['none', 'random-over'] } } };
    expect(() => gridPlanFromSpec(samplers, 'g.yaml')).toThrow(/grid\.values: resample\.method cannot vary in a leaky grid/);
    expect(() => gridPlanFromSpec({ ...base, mode: 'honest-vs-leaky' }, 'g.yaml')).toThrow(/mode: a grid runs one mode; write two specs/);
  });

  it('select a leaky grid on validation (auto included), and refuse cv or features varying there, naming the field', () => {
    const leaky = gridPlanFromSpec({ ...structuredClone(base), mode: 'leaky' }, 'g.yaml');
    expect(leaky.selection?.method).toBe('validation');
    expect(leaky.cells.every((cell) => cell.onFeatures === true)).toBe(true);
    const cv = { ...structuredClone(base), mode: 'leaky', grid: { ...base.grid, selection: 'cv' } };
    expect(() => gridPlanFromSpec(cv, 'g.yaml')).toThrow(/grid\.selection\.method: a leaky grid cannot cross-validate/);
    const features = { ...structuredClone(base), mode: 'leaky', grid: { values: { 'features.maxLen': [16, 32] } } };
    expect(() => gridPlanFromSpec(features, 'g.yaml')).toThrow(/grid\.values: features\.maxLen cannot vary in a leaky grid/);
  });
});
