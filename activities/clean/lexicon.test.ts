import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UlasanError } from '../../core/errors';
import {
  BUILTIN_SLANG_LEXICON_PATH,
  loadCleanLexicons,
  loadSlangLexicon,
  loadStopwords,
  parseCleanConfig,
  parseSlangLexicon,
  parseWordList,
  stopwordsIsoIndonesian,
} from './steps';

/** The shape of colloquial-indonesian-lexicon.csv: extra columns, quoted contexts, repeated slang. */
const COLLOQUIAL_SAMPLE = [
  'slang,formal,In-dictionary,context,category1,category2,category3',
  'woww,wow,1,wow,elongasi,0,0',
  'gk,enggak,1,"Keren gk no, @someone ""quoted""",abreviasi,0,0',
  'gk,tidak,1,a later context,abreviasi,0,0',
  'yg,yang,1,"multi',
  'line context",abreviasi,0,0',
].join('\r\n');

describe('slang lexicon formats', () => {
  it('reads slang,formal CSV', () => {
    const map = parseSlangLexicon('slang,formal\ngak,tidak\nbgt,banget\n\n', 'x.csv');
    expect([...map]).toEqual([
      ['gak', 'tidak'],
      ['bgt', 'banget'],
    ]);
  });

  it('reads the colloquial lexicon layout: extra columns ignored, first row of a repeated slang wins', () => {
    const map = parseSlangLexicon(`\uFEFF${COLLOQUIAL_SAMPLE}`, 'colloquial.csv');
    expect([...map]).toEqual([
      ['woww', 'wow'],
      ['gk', 'enggak'],
      ['yg', 'yang'],
    ]);
  });

  it('reads the JSON object form', () => {
    const map = parseSlangLexicon('{"abis": "habis", "gak papa": "tidak apa-apa"}', 'x.json');
    expect(map.get('abis')).toBe('habis');
    expect(map.size).toBe(2);
  });

  it('fails with the file and row on a broken lexicon', () => {
    expect(() => parseSlangLexicon('word,meaning\na,b', 'bad.csv')).toThrow(
      'slang lexicon bad.csv needs a header row with "slang" and "formal" columns; found "word,meaning"',
    );
    try {
      parseSlangLexicon('slang,formal\ngak,tidak\nbgt,\n', 'bad.csv');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UlasanError);
      expect((err as UlasanError).type).toBe('BadInput');
      expect((err as UlasanError).context).toEqual({ file: 'bad.csv', row: 3, field: 'formal' });
    }
    expect(() => parseSlangLexicon('{"a": 1}', 'bad.json')).toThrow('the value of "a" is not a string');
  });

  it('ships a built-in lexicon with the common review slang', async () => {
    const map = await loadSlangLexicon(BUILTIN_SLANG_LEXICON_PATH);
    expect(map.size).toBeGreaterThanOrEqual(150);
    for (const slang of ['gak', 'ga', 'gk', 'nggak']) expect(map.get(slang)).toBe('tidak');
    expect(map.get('bgt')).toBe('banget');
    expect(map.get('yg')).toBe('yang');
    expect(map.get('udh')).toBe('sudah');
    expect(map.get('mantul')).toBe('mantap');
    expect(map.get('apk')).toBe('aplikasi');
  });
});

describe('word lists and loading by path', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ulasan-lexicon-'));
    await writeFile(join(dir, 'stop.txt'), 'Yang\r\ndan\r\n# comment\r\n\r\ndi');
    await writeFile(join(dir, 'slang.json'), '{"gpp": "tidak apa-apa"}');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('parses one word per line, CRLF and comments tolerated', () => {
    expect([...parseWordList('a\r\nB\n\n# x\n c \r')]).toEqual(['a', 'b', 'c']);
  });

  it('loads stopwords from stopwords-iso or a file', async () => {
    const iso = stopwordsIsoIndonesian();
    expect(iso.size).toBeGreaterThan(700);
    expect(iso.has('yang')).toBe(true);
    expect([...(await loadStopwords(join(dir, 'stop.txt')))]).toEqual(['yang', 'dan', 'di']);
  });

  it('resolves relative paths against a base directory and fingerprints the content', async () => {
    const config = parseCleanConfig({ slang: { lexicon: 'slang.json' }, stopwords: { enabled: true, source: 'stop.txt' } });
    const loaded = await loadCleanLexicons(config, dir);
    expect(loaded.slang?.get('gpp')).toBe('tidak apa-apa');
    expect(loaded.stopwords?.size).toBe(3);
    expect(loaded.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    await writeFile(join(dir, 'slang.json'), '{"gpp": "tidak apa apa"}');
    expect((await loadCleanLexicons(config, dir)).fingerprint).not.toBe(loaded.fingerprint);
  });

  it('says which file is missing', async () => {
    const config = parseCleanConfig({ slang: { lexicon: 'nope.csv' } });
    await expect(loadCleanLexicons(config, dir)).rejects.toThrow(`slang lexicon ${join(dir, 'nope.csv')} does not exist`);
  });
});
