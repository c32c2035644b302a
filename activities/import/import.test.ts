import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquet, queryRows, withConnection } from '../../data/duckdb';
import { ArtifactStore } from '../../data/store/artifact-store';
import { recomputeStage } from '../../data/store/stage';
import { createImportActivity, csvDelimiterOf, importStage } from './import';

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

  it('imports reviews to predict without a rating column, or with unreadable ratings, keeping every row with a null rating', async () => {
    const unlabelled = join(dir, 'unlabelled.csv');
    await writeFile(unlabelled, 'id,review\nu1,mantap\nu2,"lemot, parah"\n');
    await expect(importReviews()({ source: { kind: 'file', path: unlabelled } })).rejects.toMatchObject({
      type: 'BadInput',
      context: { field: 'columns.rating', file: unlabelled },
      message: expect.stringContaining('give the file to `ulasan predict`'),
    });
    const outcome = await importReviews()({ source: { kind: 'file', path: unlabelled, ratings: 'optional' } });
    expect(outcome.summary).toMatchObject({ rows: 2, quarantined: 0, ratings: {}, unrated: 2 });
    expect(await rowsOf(store.path(outcome.ref.key, 'reviews.parquet'), 'SELECT review_id, rating, text FROM t ORDER BY source_row')).toEqual([
      { review_id: 'u1', rating: null, text: 'mantap' },
      { review_id: 'u2', rating: null, text: 'lemot, parah' },
    ]);
    const mixed = join(dir, 'mixed.csv');
    await writeFile(mixed, 'content,score\nbagus,5\njelek,\nlumayan,lima\nok,7\n');
    const labelled = await importReviews()({ source: { kind: 'file', path: mixed } });
    const optional = await importReviews()({ source: { kind: 'file', path: mixed, ratings: 'optional' } });
    expect(labelled.summary).toMatchObject({ rows: 1, quarantined: 3 });
    expect(labelled.summary).not.toHaveProperty('unrated');
    expect(optional.ref.key).not.toBe(labelled.ref.key);
    expect(optional.summary).toMatchObject({ rows: 4, quarantined: 0, ratings: { 5: 1 }, unrated: 3 });
  });

  it('refuses a file with no text column before reading its rows, naming the file, its columns and what to name it', async () => {
    const file = join(dir, 'no-text.jsonl');
    await writeFile(file, '{"id": "a", "score": 5, "komentar": "x"}\n');
    for (const ratings of ['required', 'optional'] as const) {
      await expect(importReviews()({ source: { kind: 'file', path: file, ratings } })).rejects.toMatchObject({
        type: 'BadInput',
        context: { field: 'columns.text', file },
        message: expect.stringMatching(/^No text column found in .*no-text\.jsonl \(columns: id, score, komentar\); name it one of content, text, .*or set columns\.text\.$/),
      });
    }
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

  it('keeps a seeded sample of the data rows: the same rows for the same seed, counted with the quarantine', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `r${i},ulasan ${i},${i % 7 === 0 ? 'x' : (i % 5) + 1}`);
    const file = join(dir, 'many.csv');
    await writeFile(file, ['id,content,score', ...lines].join('\n') + '\n');
    const sampled = (rows: number, seed: number) => importReviews()({ source: { kind: 'file', path: file, sample: { rows, seed } } });
    const ids = async (key: string) =>
      (await rowsOf(store.path(key, 'reviews.parquet'), 'SELECT source_row FROM t')).map((r) => Number(r.source_row));
    const a = await sampled(50, 1);
    expect(Number(a.summary.rows) + Number(a.summary.quarantined)).toBe(50);
    expect(await recomputeStage(store, { import: importStage } as never, a.ref.key)).toMatchObject({ identical: true });
    const b = await sampled(50, 2);
    expect(b.ref.key).not.toBe(a.ref.key);
    const rowsA = await ids(a.ref.key);
    expect(rowsA).not.toEqual(await ids(b.ref.key));
    expect(Math.max(...rowsA)).toBeGreaterThan(100); // spread over the file, not its first rows
    const whole = await importReviews()({ source: { kind: 'file', path: file } });
    expect(Number(whole.summary.rows) + Number(whole.summary.quarantined)).toBe(200);
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

describe('import of files that are not plain UTF-8, or not review files', () => {
  const CSV = 'reviewId,content,score\nr1,kafé bagus sekali,5\nr2,pelayanan buruk ñ,1\nr3,biasa saja,4\n';
  const texts = async (key: string) => (await rowsOf(store.path(key, 'reviews.parquet'), 'SELECT text FROM t ORDER BY source_row')).map((r) => r.text);

  it.each([
    ['latin-1', Buffer.from(CSV, 'latin1'), 'latin-1'],
    ['UTF-16 LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(CSV, 'utf16le')]), 'utf-16le'],
    ['UTF-16 LE without BOM', Buffer.from(CSV, 'utf16le'), 'utf-16le'],
    ['UTF-16 BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(CSV, 'utf16le').swap16()]), 'utf-16be'],
  ])('detects %s and reads every row as written', async (name, bytes, encoding) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.csv`);
    await writeFile(file, bytes);
    const outcome = await importReviews()({ source: { kind: 'file', path: file } });
    expect(outcome.summary).toMatchObject({ rows: 3, quarantined: 0, encoding, lossy: false });
    expect(await texts(outcome.ref.key)).toEqual(['kafé bagus sekali', 'pelayanan buruk ñ', 'biasa saja']);
  });

  it('quarantines the rows of a UTF-8 file that hold undecodable bytes, with the reason', async () => {
    const file = join(dir, 'broken-bytes.csv');
    await writeFile(file, Buffer.concat([Buffer.from('reviewId,content,score\nr1,kafé bagus,5\nr2,rusak '), Buffer.from([0xff, 0xfe]), Buffer.from(',1\nr3,oke,4\n')]));
    const outcome = await importReviews()({ source: { kind: 'file', path: file } });
    expect(outcome.summary).toMatchObject({ rows: 2, quarantined: 1, encoding: 'utf-8', lossy: true });
    const [row] = await rowsOf(store.path(outcome.ref.key, 'quarantine.parquet'), 'SELECT source_row, reason FROM t');
    expect(row).toEqual({ source_row: 1, reason: expect.stringMatching(/^bytes not valid in the encoding of the file .*--encoding$/) });
  });

  it('honours a declared encoding (and keys it)', async () => {
    const file = join(dir, 'declared.csv');
    await writeFile(file, Buffer.from(CSV, 'latin1'));
    const declared = await importReviews()({ source: { kind: 'file', path: file, encoding: 'latin-1' } });
    const detected = await importReviews()({ source: { kind: 'file', path: file } });
    expect(declared.ref.key).not.toBe(detected.ref.key);
    expect(await texts(declared.ref.key)).toEqual(await texts(detected.ref.key));
  });

  it.each([
    ['a binary file', 'random.csv', Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919) % 256)), {}, /random\.csv is not a text review file: it looks binary \(a zero byte at offset \d+\)/],
    ['Parquet bytes named .csv', 'table.csv', Buffer.from('PAR1\u0015\u0004'), {}, /table\.csv is not a text review file: it looks like a Parquet file: pass --format parquet/],
    ['gzip bytes', 'reviews.csv.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]), {}, /looks like gzip-compressed: decompress it first/],
    ['an unknown format', 'plain.csv', Buffer.from(CSV), { format: 'xml' }, /format 'xml' is not one ulasan reads; allowed: csv, tsv, json, parquet/],
    ['JSON that is not JSON', 'bad.json', Buffer.from('{"content": "bagus", "score": '), {}, /bad\.json cannot be read as json.*--format/],
  ])('refuses %s, typed and naming the file', async (_, name, bytes, extra, message) => {
    const file = join(dir, name);
    await writeFile(file, bytes);
    await expect(importReviews()({ source: { kind: 'file', path: file, ...extra } as never })).rejects.toMatchObject({ type: 'BadInput', message: expect.stringMatching(message) });
  });

  it('refuses a directory, naming it', async () => {
    await expect(importReviews()({ source: { kind: 'file', path: dir } })).rejects.toMatchObject({
      type: 'BadInput',
      message: `source.path: ${dir} is a directory, not a review file; give the path of a CSV, TSV, JSON or Parquet file.`,
    });
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

describe('csvDelimiterOf', () => {
  const name = fc.stringMatching(/^[a-z_][a-z0-9_ ]{0,11}$/);
  it('reads the delimiter a header joins its names with, and "," for a one-column header', () => {
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 8 }), fc.constantFrom(',', ';', '\t', '|'), fc.boolean(), (names, delimiter, quote) => {
        const header = names.map((n) => (quote ? `"${n}"` : n)).join(delimiter);
        expect(csvDelimiterOf(header)).toBe(names.length > 1 ? delimiter : ',');
      }),
    );
  });
  it('ignores delimiters inside quoted names', () => {
    expect(csvDelimiterOf('"a;b;c",text')).toBe(',');
    expect(csvDelimiterOf('"review, text"')).toBe(',');
    expect(csvDelimiterOf('"x|y";"z"')).toBe(';');
  });
});
