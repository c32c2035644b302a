/**
 * No stage commits what it cannot read: each kind of stage output is read back before commit, and an
 * unreadable one fails the producing stage with a bug error naming the file, leaving nothing under its key.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csrToIPC } from '../../activities/features/arrow-io';
import { writeReviewsParquet } from '../../activities/report/testing/fixture-store';
import { ArtifactStore } from './artifact-store';
import { runStage, type StageDefinition } from './stage';

let root: string;
let store: ArtifactStore;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-read-back-'));
  store = new ArtifactStore(root);
});
afterEach(() => rm(root, { recursive: true, force: true }));

type Writer = (dir: string) => Promise<void>;

/** A stage that writes whatever `write` writes (its key differs per `name` param). */
const writing = (write: Writer): StageDefinition<{ name: string }> => ({
  stage: 'writer',
  version: 1,
  inputNames: [],
  compute: async ({ outDir }) => {
    await write(outDir);
    return {};
  },
});

const run = (name: string, write: Writer) => runStage(store, writing(write), { name }, {});

const csrBytes = () =>
  csrToIPC({ indptr: Int32Array.from([0, 2, 2, 4]), indices: Int32Array.from([1, 3, 0, 2]), data: Float32Array.from([0.5, 0.5, 1, 2]), rows: 3, cols: 4 });

/** Valid Arrow bytes with `n` bytes cut out of the record batch body: the header and body disagree, as in issue 19. */
const bodyCut = (bytes: Uint8Array, n: number) => {
  const at = bytes.length - 400;
  return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + n)]);
};

const weightsJson = (shape: number[]) =>
  JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['weights.bin'], weights: [{ name: 'w', shape, dtype: 'float32' }] }] });

describe('read-back before commit', () => {
  it('commits files that read back: Arrow, Parquet, JSON, a model whose weights match its manifest, other text', async () => {
    const outcome = await run('good', async (dir) => {
      await writeFile(join(dir, 'train.arrow'), csrBytes());
      await writeReviewsParquet(join(dir, 'rows.parquet'), [{ rating: 5, text: 'bagus', label: 1, split: 'train' }]);
      await writeFile(join(dir, 'summary.json'), '{"ok":true}\n');
      await writeFile(join(dir, 'model.json'), weightsJson([2, 3]));
      await writeFile(join(dir, 'weights.bin'), new Uint8Array(2 * 3 * 4));
      await writeFile(join(dir, 'report.html'), '<p>hi</p>');
    });
    expect(await store.check(outcome.ref.key)).toMatchObject({ status: 'ok' });
  });

  const broken: [string, string, Writer][] = [
    ['an Arrow file whose body is shorter than its header says', 'train.arrow', (dir) => writeFile(join(dir, 'train.arrow'), bodyCut(csrBytes(), 16))],
    ['a truncated Arrow file', 'ids.arrow', (dir) => writeFile(join(dir, 'ids.arrow'), csrBytes().subarray(0, 300))],
    ['a truncated Parquet file', 'rows.parquet', (dir) => writeFile(join(dir, 'rows.parquet'), Buffer.from('PAR1 not a footer'))],
    ['invalid JSON', 'metrics.json', (dir) => writeFile(join(dir, 'metrics.json'), '{"macroF1": 0.6')],
    [
      'model weights shorter than their manifest',
      'model.json',
      async (dir) => {
        await writeFile(join(dir, 'model.json'), weightsJson([2, 3]));
        await writeFile(join(dir, 'weights.bin'), new Uint8Array(20));
      },
    ],
  ];
  for (const [what, file, write] of broken) {
    it(`fails the producing stage on ${what}, naming ${file}; nothing is committed`, async () => {
      const failure = run(what, write);
      await expect(failure).rejects.toMatchObject({
        type: 'Internal',
        message: expect.stringMatching(new RegExp(`Bug in stage writer: it wrote ${file.replace('.', '\\.')} but the file cannot be read back`)),
        context: { stage: 'writer', file: expect.stringContaining(file) },
      });
      expect(await readdir(root)).toEqual(['.tmp']);
      expect(await readdir(join(root, '.tmp'))).toEqual([]);
    });
  }
});
