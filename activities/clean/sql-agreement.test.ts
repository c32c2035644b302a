import { DuckDBInstance, LIST, VARCHAR, listValue, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../data/random';
import { CASE_DIVERGENT_PIECES, noisyText } from './testing/noisy-text';
import {
  PEER_REFERENCE_RULE,
  createStepCounter,
  createTextCleaner,
  loadCleanLexicons,
  normaliseForDedupe,
  parseCleanConfig,
  sqlCleanExpression,
  sqlNormaliseForDedupe,
  sqlStepCountsQuery,
  type CleanConfig,
} from './steps';

/** Configs that switch the regex steps in different combinations. */
const CONFIGS: Record<string, CleanConfig> = {
  default: parseCleanConfig({}),
  peer: PEER_REFERENCE_RULE,
  lettersNoHyphens: parseCleanConfig({ nonLetters: 'letters', keepWordHyphens: false }),
  asciiKeepHyphens: parseCleanConfig({ nonLetters: 'ascii', keepWordHyphens: true }),
  caseKeptNoCollapse: parseCleanConfig({ caseFold: false, collapseWhitespace: false, removePunctuation: false }),
  onlyEmojiAndDigits: parseCleanConfig({
    normalizeUnicode: false,
    caseFold: false,
    removeUrls: false,
    removeMentions: false,
    removeHashtags: false,
    expandReduplication: false,
    removePunctuation: false,
  }),
};

const TEXTS = (() => {
  const rng = new Rng(20240501);
  return Array.from({ length: 400 }, () => noisyText(rng));
})();

let instance: DuckDBInstance;
let connection: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

/**
 * Runs `expression` (over column `t`) on every text in DuckDB, in order. The result is wrapped in
 * `|…|` because the node client's UTF-8 decoding drops a leading U+FEFF from strings it reads back.
 */
async function inDuckDb(expression: string, texts: readonly string[]): Promise<string[]> {
  const reader = await connection.runAndReadAll(
    `SELECT '|' || ${expression} || '|' AS cleaned FROM (SELECT unnest($1) AS t, unnest(range(len($1))) AS i) ORDER BY i`,
    [listValue([...texts])],
    [LIST(VARCHAR)],
  );
  return reader.getRowObjects().map((row) => String(row.cleaned).slice(1, -1));
}

const mismatches = (texts: readonly string[], sql: readonly string[], ts: readonly string[]) =>
  texts.flatMap((text, i) => (sql[i] === ts[i] ? [] : [{ text, sql: sql[i], ts: ts[i] }]));

describe('SQL and TypeScript agree on the character steps', () => {
  for (const [name, config] of Object.entries(CONFIGS)) {
    it(`${name}: ${TEXTS.length} generated strings`, async () => {
      const chars = createTextCleaner({ ...config, squeezeElongation: false, slang: { enabled: false, lexicon: 'builtin' }, stem: false, stopwords: { ...config.stopwords, enabled: false } });
      const sql = await inDuckDb(sqlCleanExpression('t', config), TEXTS);
      expect(mismatches(TEXTS, sql, TEXTS.map((t) => chars(t)))).toEqual([]);
    });
  }

  it('the plain cleaner gives what the step-by-step trace gives', async () => {
    for (const config of Object.values(CONFIGS)) {
      const clean = createTextCleaner(config, await loadCleanLexicons(config));
      expect(TEXTS.filter((t) => clean.trace(t).text !== clean(t))).toEqual([]);
    }
  });

  it('the token steps after SQL give the full TypeScript result', async () => {
    const config = parseCleanConfig({ stem: true, stopwords: { enabled: true } });
    const clean = createTextCleaner(config, await loadCleanLexicons(config));
    const sql = await inDuckDb(sqlCleanExpression('t', config), TEXTS);
    expect(mismatches(TEXTS, sql.map(clean.afterSql), TEXTS.map((t) => clean(t)))).toEqual([]);
  });

  it('normaliseForDedupe has a SQL twin', async () => {
    const sql = await inDuckDb(sqlNormaliseForDedupe('t'), TEXTS);
    expect(mismatches(TEXTS, sql, TEXTS.map(normaliseForDedupe))).toEqual([]);
  });

  it('per-step counts in SQL equal the counts from TypeScript traces', async () => {
    for (const config of [CONFIGS.default, CONFIGS.peer, CONFIGS.lettersNoHyphens] as CleanConfig[]) {
      const chars = createTextCleaner({ ...config, squeezeElongation: false, slang: { enabled: false, lexicon: 'builtin' } });
      const counter = createStepCounter();
      for (const text of TEXTS) counter.add(chars.trace(text));
      const expected = counter.counts();
      const reader = await connection.runAndReadAll(
        sqlStepCountsQuery('(SELECT unnest($1) AS t)', 't', config),
        [listValue([...TEXTS])],
        [LIST(VARCHAR)],
      );
      const row = reader.getRowObjectsJS()[0] ?? {};
      const fromSql = (prefix: string) =>
        Object.fromEntries(
          Object.entries(row)
            .filter(([key, n]) => key.startsWith(prefix) && Number(n) > 0)
            .map(([key, n]) => [key.slice(prefix.length), Number(n)]),
        );
      expect(Number(row.rows)).toBe(expected.rows);
      expect(fromSql('changed_')).toEqual(expected.changed);
      expect(fromSql('emptied_')).toEqual(expected.emptied);
    }
  });

  it('quotes the column name', () => {
    expect(sqlCleanExpression('Review "Text"', PEER_REFERENCE_RULE)).toContain('("Review ""Text""", ');
  });

  it('documents the one known difference: word-final sigma', async () => {
    const config = parseCleanConfig({});
    const chars = createTextCleaner({ ...config, squeezeElongation: false, slang: { enabled: false, lexicon: 'builtin' } });
    const sql = await inDuckDb(sqlCleanExpression('t', config), CASE_DIVERGENT_PIECES);
    expect(sql).toEqual(['ασ', 'σασ']);
    expect(CASE_DIVERGENT_PIECES.map((t) => chars(t))).toEqual(['ας', 'σας']);
  });
});
