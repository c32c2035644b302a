import { beforeAll, describe, expect, it } from 'vitest';
import {
  CleanConfigSchema,
  PEER_REFERENCE_RULE,
  createStepCounter,
  createTextCleaner,
  loadCleanLexicons,
  needsTokenSteps,
  normaliseForDedupe,
  parseCleanConfig,
  tokenize,
  type CleanConfig,
  type CleanConfigInput,
  type TextCleaner,
} from './steps';

async function cleanerFor(input: CleanConfigInput = {}): Promise<TextCleaner> {
  const config = parseCleanConfig(input);
  return createTextCleaner(config, await loadCleanLexicons(config));
}

describe('default cleaning rule on tricky strings', () => {
  let clean: TextCleaner;
  beforeAll(async () => {
    clean = await cleanerFor();
  });

  it('separates words glued by an emoji instead of joining them', () => {
    expect(clean('bagus👍banget')).toBe('bagus banget');
    expect(clean('mantap👍🏻👍🏽sekali')).toBe('mantap sekali');
    expect(clean('👨‍👩‍👧keluarga❤️sehat')).toBe('keluarga sehat');
  });

  it('removes URLs together with the punctuation glued to them', () => {
    expect(clean('cek (https://halodoc.com/promo?id=1&x=2), bagus')).toBe('cek bagus');
    expect(clean('Lihat WWW.Halodoc.com/artikel... ok')).toBe('lihat oke');
    expect(clean('HTTPS://A.B/c')).toBe('');
  });

  it('keeps word-internal hyphens (sehari-hari) and drops stray dashes', () => {
    expect(clean('sangat dibutuhkan untuk kehidupan sehari-hari')).toBe('sangat dibutuhkan untuk kehidupan sehari-hari');
    expect(clean('- obat -- murah —  cepat-')).toBe('obat murah cepat');
    expect(clean('a—b')).toBe('a-b');
  });

  it('expands reduplication written with a 2 before digits go', () => {
    expect(clean('hati2 ya, anak2 sehat')).toBe('hati-hati ya anak-anak sehat');
    expect(clean('harga 50rb')).toBe('harga rb');
  });

  it('normalises gk/gak/ga and other slang through the built-in lexicon', () => {
    expect(clean('gk bisa')).toBe('tidak bisa');
    expect(clean('GAK bisa')).toBe('tidak bisa');
    expect(clean('ga bs login, udh update apk')).toBe('tidak bisa login sudah update aplikasi');
    expect(clean('mantul bgt yg ini')).toBe('mantap banget yang ini');
  });

  it('squeezes elongations and keeps legitimate doubles', () => {
    expect(clean('bagusss bangettt')).toBe('bagus banget');
    expect(clean('tinggi maaf saat')).toBe('tinggi maaf saat');
    expect(clean('maaaaf saaat tinggggi')).toBe('maaf saat tinggi');
    expect(clean('terima kasihh membantuu')).toBe('terima kasih membantu');
    expect(clean('gakkk mantappp')).toBe('tidak mantap');
  });

  it('removes mentions and hashtags with their words', () => {
    expect(clean('@admin_1 tolong #HalodocCare dibalas')).toBe('tolong dibalas');
  });

  it('treats Unicode whitespace as whitespace', () => {
    expect(clean('obat\u00a0murah\u3000cepat\tsekali\nya')).toBe('obat murah cepat sekali ya');
  });

  it('composes accents (NFC) and folds case', () => {
    expect(clean('CAFE\u0301 café')).toBe('café café');
    expect(clean('İYİ')).toBe('i\u0307yi\u0307');
  });

  it('returns the empty string for null, blank and fully removed text', () => {
    expect(clean(null)).toBe('');
    expect(clean('   ')).toBe('');
    expect(clean('😀😀 123 !!!')).toBe('');
  });
});

describe('traces', () => {
  let clean: TextCleaner;
  beforeAll(async () => {
    clean = await cleanerFor({ stopwords: { enabled: true } });
  });

  it('names the step that emptied a text', () => {
    expect(clean.trace('😀😀').emptiedBy).toBe('emoji');
    expect(clean.trace('12345').emptiedBy).toBe('digits');
    expect(clean.trace('!!!???').emptiedBy).toBe('punctuation');
    expect(clean.trace('https://x.y').emptiedBy).toBe('urls');
    expect(clean.trace('@budi').emptiedBy).toBe('mentions');
    expect(clean.trace('#sehat').emptiedBy).toBe('hashtags');
    expect(clean.trace('yang dan di').emptiedBy).toBe('stopwords');
    expect(clean.trace(null)).toEqual({ text: '', emptiedBy: 'input', changedBy: [] });
    expect(clean.trace(' \t ').emptiedBy).toBe('input');
  });

  it('lists the steps that changed a text and agrees with the plain cleaner', () => {
    const text = 'Bagusss bgt!! https://a.b/c';
    const trace = clean.trace(text);
    expect(trace.text).toBe(clean(text));
    expect(trace.emptiedBy).toBeNull();
    expect(trace.changedBy).toEqual(['case', 'urls', 'punctuation', 'whitespace', 'elongation', 'slang']);
  });

  it('counts rows per step', () => {
    const counter = createStepCounter();
    for (const text of ['😀', 'bagus!', 'ok', null, '123']) counter.add(clean.trace(text));
    expect(counter.counts()).toEqual({
      rows: 5,
      changed: { emoji: 1, digits: 1, punctuation: 1, whitespace: 3, slang: 1 },
      emptied: { input: 1, emoji: 1, digits: 1 },
    });
  });

  it('splits cleaning into SQL-side and token-side steps', () => {
    expect(clean.charSteps).toContain('urls');
    expect(clean.tokenSteps).toEqual(['elongation', 'slang', 'stopwords']);
    const sqlSide = createTextCleaner({ ...parseCleanConfig({}), squeezeElongation: false, slang: { enabled: false, lexicon: 'builtin' } });
    expect(sqlSide.tokenSteps).toEqual([]);
  });
});

describe('stemming and stopwords', () => {
  it('stems with Sastrawi and removes stopwords but keeps negations', async () => {
    const clean = await cleanerFor({ stem: true, stopwords: { enabled: true } });
    expect(clean('Pelayanannya sangat memuaskan dan dokternya ramah')).toBe('layan sangat muas dokter ramah');
    expect(clean('aplikasinya tidak bisa dibuka')).toBe('aplikasi tidak buka');
    expect(clean('gak bisa dibuka')).toBe('tidak buka');
  });

  it('honours a custom keep list', async () => {
    const clean = await cleanerFor({ stopwords: { enabled: true, keep: [] } });
    expect(clean('tidak bagus')).toBe('bagus');
  });
});

describe('peer reference rule', () => {
  const clean = createTextCleaner(PEER_REFERENCE_RULE);

  it('keeps only a-z like reference.py', () => {
    expect(clean('Bagusss bgt!! 👍 https://x.com/a, sehari-hari café 5⭐')).toBe('bagusss bgt sehari hari caf');
    expect(clean('@user halo #tag ok')).toBe('halo ok');
    // Python lower-cases İ to i + combining dot, and the dot becomes a space.
    expect(clean('İyi')).toBe('i yi');
  });

  it('needs no TypeScript pass', () => {
    expect(needsTokenSteps(PEER_REFERENCE_RULE)).toBe(false);
    expect(clean.tokenSteps).toEqual([]);
  });
});

describe('config', () => {
  it('fills defaults and rejects unknown keys with the key named', () => {
    const config: CleanConfig = parseCleanConfig(undefined);
    expect(config.caseFold).toBe(true);
    expect(config.slang).toEqual({ enabled: true, lexicon: 'builtin' });
    expect(config.stopwords.enabled).toBe(false);
    expect(config.stopwords.keep).toContain('tidak');
    const result = CleanConfigSchema.safeParse({ removeEmojis: true });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('removeEmojis');
  });

  it('refuses a token step whose lexicon was not loaded', () => {
    expect(() => createTextCleaner(parseCleanConfig({}))).toThrow(/slang\.enabled but no slang lexicon was given/);
  });
});

describe('helpers', () => {
  it('tokenizes on any whitespace', () => {
    expect(tokenize(' a  b\u00a0c\n')).toEqual(['a', 'b', 'c']);
    expect(tokenize('')).toEqual([]);
  });

  it('normalises for dedupe', () => {
    expect(normaliseForDedupe('Sangat membantu!!')).toBe('sangat membantu');
    expect(normaliseForDedupe('  sangat   MEMBANTU 👍')).toBe('sangat membantu');
  });
});
