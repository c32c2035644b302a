import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquet, queryRows, withConnection } from '../../data/duckdb';
import { ArtifactStore } from '../../data/store/artifact-store';
import { recomputeStage } from '../../data/store/stage';
import { createImportActivity, importStage } from './import';

let dir: string;
let store: ArtifactStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-import-'));
  store = new ArtifactStore(join(dir, 'store'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const importReviews = () => createImportActivity({ store, heartbeat: () => undefined, warn: () => undefined });
const rowsOf = (path: string, sql = 'SELECT * FROM t') =>
  withConnection((c) => queryRows(c, sql.replace('FROM t', `FROM ${parquet(path)}`)));

describe('import', () => {
  it('maps scraper-style columns, keeps every row, and quarantines unreadable ratings and dates with the reason', async () => {
    const csv =
      '\ufeffreviewId,userName,content,score,at\r\n' +
      'a1,Budi,"Bagus, mantap!",5,2024-01-02 10:00:00\r\n' +
      'a2,Sari,"jelek\r\nsekali",1,2024-01-03 11:00:00\r\n' +
      'a3,Andi,lumayan,lima,2024-01-04 12:00:00\r\n' +
      'a4,Rina,ok,7,2024-01-05 12:00:00\r\n' +
      'a5,Dewi,sip,4,kemarin\r\n' +
      'a6,Eko,,3,2024-01-06 12:00:00\r\n';
    const file = join(dir, 'reviews.csv');
    await writeFile(file, csv);
    const outcome = await importReviews()({ source: { kind: 'file', path: file, app: 'com.example' } });
    expect(outcome.summary).toMatchObject({ rows: 3, quarantined: 3 });
    const kept = await rowsOf(store.path(outcome.ref.key, 'reviews.parquet'), 'SELECT review_id, app, rating, text FROM t ORDER BY source_row');
    expect(kept).toEqual([
      { review_id: 'a1', app: 'com.example', rating: 5, text: 'Bagus, mantap!' },
      { review_id: 'a2', app: 'com.example', rating: 1, text: 'jelek\r\nsekali' },
      { review_id: 'a6', app: 'com.example', rating: 3, text: null },
    ]);
    const quarantined = await rowsOf(store.path(outcome.ref.key, 'quarantine.parquet'), 'SELECT source_row, reason FROM t ORDER BY source_row');
    expect(quarantined).toEqual([
      { source_row: 2, reason: 'rating is not a number: lima' },
      { source_row: 3, reason: 'rating is not an integer 1..5: 7' },
      { source_row: 4, reason: 'unparseable date: kemarin' },
    ]);
  });

  it('reads JSON with an explicit column mapping, and names a wrong mapping', async () => {
    const file = join(dir, 'reviews.json');
    await writeFile(file, JSON.stringify([{ ulasan_teks: 'mantul', bintang: 5 }, { ulasan_teks: 'lemot', bintang: 2 }]));
    const outcome = await importReviews()({ source: { kind: 'file', path: file, columns: { text: 'ulasan_teks', rating: 'bintang' } } });
    expect(outcome.summary).toMatchObject({ rows: 2, quarantined: 0 });
    await expect(importReviews()({ source: { kind: 'file', path: file, columns: { text: 'isi', rating: 'bintang' } } })).rejects.toThrow(
      /columns\.text: 'isi' is not a column of .*reviews\.json \(columns: ulasan_teks, bintang\)/,
    );
  });

  it('decodes a latin-1 CSV when told, and keys the encoding', async () => {
    const file = join(dir, 'latin1.csv');
    await writeFile(file, Buffer.from('text,rating\ncafé enak,5\n', 'latin1'));
    const latin1 = await importReviews()({ source: { kind: 'file', path: file, encoding: 'latin-1' } });
    const [row] = await rowsOf(store.path(latin1.ref.key, 'reviews.parquet'), 'SELECT text FROM t');
    expect(row).toEqual({ text: 'café enak' });
    expect((await store.manifest(latin1.ref.key)).params).toMatchObject({ encoding: 'latin-1' });
    const utf16 = join(dir, 'utf16.csv');
    await writeFile(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('text,rating\ncafé enak,5\n', 'utf16le')]));
    const fromUtf16 = await importReviews()({ source: { kind: 'file', path: utf16, encoding: 'utf-16' } });
    expect(await rowsOf(store.path(fromUtf16.ref.key, 'reviews.parquet'), 'SELECT text FROM t')).toEqual([{ text: 'café enak' }]);
  });

  it('recomputes from the recorded path for verify, and refuses a file whose bytes changed since', async () => {
    const file = join(dir, 'to-verify.csv');
    await writeFile(file, 'text,rating\nbagus,5\njelek,1\n');
    const outcome = await importReviews()({ source: { kind: 'file', path: file } });
    expect(await recomputeStage(store, { import: importStage } as never, outcome.ref.key)).toMatchObject({ identical: true });
    await writeFile(file, 'text,rating\nbagus,4\n');
    await expect(recomputeStage(store, { import: importStage } as never, outcome.ref.key)).rejects.toThrow(
      new RegExp(`source file .*to-verify\\.csv now has sha256 [0-9a-f]{64}, but import ${outcome.ref.key} was made from sha256`),
    );
  });

  it('changes its key when the file content changes', async () => {
    const file = join(dir, 'changing.csv');
    await writeFile(file, 'text,rating\nbagus,5\n');
    const first = await importReviews()({ source: { kind: 'file', path: file } });
    await writeFile(file, 'text,rating\nbagus,4\n');
    const second = await importReviews()({ source: { kind: 'file', path: file } });
    expect(second.ref.key).not.toBe(first.ref.key);
  });
});

/** Data rows per file, as SOURCES.md gives them. */
const SHARED_REVIEWS: Record<string, number> = {
  'halodoc_id_reviews.csv': 30000,
  'gopay_id_reviews.csv': 25000,
  'tokopedia_id_reviews.csv': 25000,
  'shopee_id_reviews.csv': 25000,
  'mytelkomsel_id_reviews.csv': 25000,
  'grab_id_reviews.csv': 25000,
  'bumn_brimo_livin_mytelkomsel_id_reviews.csv': 3000,
  'dana_id_reviews_raw.csv': 1000,
  'chatgpt_en_reviews.csv': 800,
};
const sharedDir = resolve(process.env.ULASAN_SHARED_DATA ?? '../shared/data', 'reviews');
const haveShared = existsSync(sharedDir);
if (!haveShared) console.warn(`SKIPPED: real-data import checks (${sharedDir} not found; set ULASAN_SHARED_DATA).`);

describe.skipIf(!haveShared)('importing the shared real datasets', () => {
  it.each(Object.entries(SHARED_REVIEWS))('%s imports every row (kept + quarantined = %i)', async (name, expected) => {
    const outcome = await importReviews()({ source: { kind: 'file', path: join(sharedDir, name) } });
    const { rows, quarantined } = outcome.summary as { rows: number; quarantined: number };
    expect(rows + quarantined).toBe(expected);
    expect(quarantined).toBe(0);
  });
});
