/**
 * `--temporal` hands workers no client path: the client imports a file source into the shared store
 * and the plan carries the import key (`withSourceImported`); a worker resolves that key in its own
 * store, and one that does not share the client's store says so instead of reading something else.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImportActivity } from '../activities/import/import';
import type { ImportInput } from '../activities/import/import';
import { UlasanError } from '../core/errors';
import { ArtifactStore } from '../data/store/artifact-store';
import { syntheticReviewsCsv } from '../data/sample/synthetic';
import { runStage, type StageDefinition } from '../data/store/stage';
import type { StageOutcome } from '../data/store/types';
import { withSourceImported, type PipelinePlan } from '../workflows/plans/pipeline';
import { ExperimentSpecSchema, planFromSpec } from './spec';

let dir: string;
let file: string;
const deps = (store: ArtifactStore) => ({ store, heartbeat: () => undefined, warn: () => undefined });

const planWith = (source: unknown): PipelinePlan =>
  planFromSpec(ExperimentSpecSchema.parse({ name: 'workers', source, model: { arch: 'cnn-small' } }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-workers-'));
  file = join(dir, 'client-only', 'reviews.csv');
  await mkdir(join(dir, 'client-only'));
  await writeFile(file, syntheticReviewsCsv({ rows: 120, seed: 2, app: 'com.example' }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('withSourceImported', () => {
  it('imports a file source once on the client and hands on only its key', async () => {
    const calls: ImportInput[] = [];
    const importReviews = async (input: ImportInput): Promise<StageOutcome> => {
      calls.push(input);
      return { ref: { key: 'k'.repeat(64), stage: 'import' }, cache: 'miss', ms: 1, summary: {} };
    };
    const { plan, imported } = await withSourceImported(planWith({ file }), importReviews);
    expect(calls).toEqual([{ source: expect.objectContaining({ kind: 'file', path: file }) }]);
    expect(plan.source).toEqual({ kind: 'stored', key: 'k'.repeat(64) });
    expect(JSON.stringify(plan)).not.toContain('client-only');
    expect(imported?.ref.key).toBe('k'.repeat(64));
  });

  it('leaves synthetic and scrape sources alone (nothing to read on the client)', async () => {
    const importReviews = async (): Promise<StageOutcome> => {
      throw new Error('must not be called');
    };
    const synthetic = planWith({ synthetic: { rows: 100 } });
    expect((await withSourceImported(synthetic, importReviews)).plan).toBe(synthetic);
    const scrape = { ...synthetic, source: { kind: 'scrape' as const, key: 's'.repeat(64) } };
    expect((await withSourceImported(scrape, importReviews)).plan).toBe(scrape);
  });

  it('gives workers sharing the store the same import artifact, and names ULASAN_HOME to a worker that does not', async () => {
    const shared = new ArtifactStore(join(dir, 'shared-home'));
    const client = createImportActivity(deps(shared));
    const { plan, imported } = await withSourceImported(planWith({ file }), client);
    const worker = createImportActivity(deps(new ArtifactStore(shared.root)));
    const onWorker = await worker({ source: plan.source });
    expect(onWorker).toMatchObject({ ref: { key: imported!.ref.key, stage: 'import' }, cache: 'hit' });

    const elsewhere = createImportActivity(deps(new ArtifactStore(join(dir, 'other-home'))));
    const failure = await elsewhere({ source: plan.source }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(UlasanError);
    expect(failure).toMatchObject({ type: 'NotFound', context: { stage: 'import', key: imported!.ref.key, field: 'source.key' } });
    expect((failure as Error).message).toMatch(/is not there in the store at .*other-home.*same ULASAN_HOME/);
  });

  it('refuses a stored key that is not an import artifact', async () => {
    const shared = new ArtifactStore(join(dir, 'shared-home'));
    const note: StageDefinition<{ text: string }> = {
      stage: 'note',
      version: 1,
      inputNames: [],
      async compute({ params, outDir }) {
        await writeFile(join(outDir, 'note.txt'), params.text);
        return {};
      },
    };
    const other = await runStage(shared, note, { text: 'not reviews' }, {});
    const failure = await createImportActivity(deps(shared))({ source: { kind: 'stored', key: other.ref.key } }).catch((err: unknown) => err);
    expect((failure as Error).message).toMatch(/import artifact .* is a note artifact in the store/);
  });
});
