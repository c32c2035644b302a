import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  DRIFT_WORDS,
  SYNTHETIC_CSV_HEADER,
  SYNTHETIC_LABEL,
  csvField,
  generateAnnotatedSyntheticReviews,
  generateDriftedReviews,
  generateSyntheticReviews,
  syntheticReviewsCsv,
} from './synthetic';

/** Minimal RFC 4180 reader: quoted fields may hold commas, doubled quotes, CR and LF. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else {
      field += ch;
    }
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/** True when `word` is `target` with one letter dropped, doubled or swapped with its neighbour. */
function oneEditAway(word: string, target: string): boolean {
  for (let i = 0; i < target.length; i++) {
    if (word === target.slice(0, i) + target.slice(i + 1)) return true;
    if (word === target.slice(0, i) + target.charAt(i) + target.slice(i)) return true;
    const swapped = target.slice(0, i) + target.charAt(i + 1) + target.charAt(i) + target.slice(i + 2);
    if (word === swapped && word !== target) return true;
  }
  return false;
}

const share = (count: number, total: number): number => count / total;
const words = (text: string): number => text.trim().split(/\s+/).length;

const N = 5000;
const annotated = generateAnnotatedSyntheticReviews({ rows: N, seed: 20240501 });
const rows = annotated.map((row) => row.review);
const texts = rows.map((row) => row.text);

describe('generateSyntheticReviews: determinism', () => {
  it('gives the same CSV for the same options and a different one for another seed', () => {
    const a = syntheticReviewsCsv({ rows: 300, seed: 1 });
    expect(syntheticReviewsCsv({ rows: 300, seed: 1 })).toBe(a);
    expect(syntheticReviewsCsv({ rows: 300, seed: 2 })).not.toBe(a);
  });

  it('makes a smaller request a prefix of a larger one', () => {
    expect(generateSyntheticReviews({ rows: 200, seed: 9 }).slice(0, 50)).toEqual(
      generateSyntheticReviews({ rows: 50, seed: 9 }),
    );
  });

  it('keeps texts and ratings when only the date range or app changes', () => {
    const a = generateSyntheticReviews({ rows: 100, seed: 3 });
    const b = generateSyntheticReviews({ rows: 100, seed: 3, app: 'id.example.other', startDate: '2020-05-01' });
    expect(b.map((r) => [r.text, r.rating, r.reviewId])).toEqual(a.map((r) => [r.text, r.rating, r.reviewId]));
    expect(b.every((r) => r.app === 'id.example.other')).toBe(true);
  });

  it('does not depend on the host timezone', () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Jakarta';
      const jakarta = syntheticReviewsCsv({ rows: 200, seed: 5, startDate: '2024-03-30T22:00:00' });
      process.env.TZ = 'America/Los_Angeles';
      const losAngeles = syntheticReviewsCsv({ rows: 200, seed: 5, startDate: '2024-03-30T22:00:00' });
      expect(losAngeles).toBe(jakarta);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe('generateSyntheticReviews: shape', () => {
  it('fills every field', () => {
    expect(rows).toHaveLength(N);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const isoDate = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
    const bad = rows.filter(
      (row) =>
        row.text.trim().length === 0 ||
        ![1, 2, 3, 4, 5].includes(row.rating) ||
        !uuid.test(row.reviewId) ||
        !isoDate.test(row.date) ||
        row.date < '2023-01-01T00:00:00' ||
        row.date > '2024-12-31T23:59:59' ||
        row.app !== 'com.example.synthetic' ||
        row.userName.trim().length === 0,
    );
    expect(bad).toEqual([]);
    expect(new Set(rows.map((r) => r.reviewId)).size).toBe(N);
    expect(share(rows.filter((r) => r.userName === 'Pengguna Google').length, N)).toBeGreaterThan(0.8);
  });

  it('spreads dates over the whole range, inclusive', () => {
    const years = new Set(rows.map((r) => r.date.slice(0, 4)));
    expect([...years].sort()).toEqual(['2023', '2024']);
    const firstHalf = rows.filter((r) => r.date < '2024-01-01').length;
    expect(share(firstHalf, N)).toBeGreaterThan(0.45);
    expect(share(firstHalf, N)).toBeLessThan(0.55);

    const oneDay = generateSyntheticReviews({ rows: 200, seed: 4, startDate: '2024-02-29', endDate: '2024-02-29' });
    expect(oneDay.every((r) => r.date.startsWith('2024-02-29T'))).toBe(true);
    const window = generateSyntheticReviews({
      rows: 200,
      seed: 4,
      startDate: '2024-06-01T10:00:00',
      endDate: '2024-06-01T10:00:05',
    });
    expect(window.every((r) => r.date >= '2024-06-01T10:00:00' && r.date <= '2024-06-01T10:00:05')).toBe(true);
  });

  it('rejects bad options', () => {
    expect(() => generateSyntheticReviews({ rows: -1, seed: 1 })).toThrow(RangeError);
    expect(() => generateSyntheticReviews({ rows: 1.5, seed: 1 })).toThrow(RangeError);
    expect(() => generateSyntheticReviews({ rows: 1, seed: Number.NaN })).toThrow(RangeError);
    expect(() => generateSyntheticReviews({ rows: 1, seed: 1, startDate: '2023-02-30' })).toThrow(RangeError);
    expect(() => generateSyntheticReviews({ rows: 1, seed: 1, endDate: '31/12/2024' })).toThrow(RangeError);
    expect(() => generateSyntheticReviews({ rows: 1, seed: 1, startDate: '2025-01-01' })).toThrow(RangeError);
    expect(generateSyntheticReviews({ rows: 0, seed: 1 })).toEqual([]);
  });

  it('labels the data as synthetic', () => {
    expect(SYNTHETIC_LABEL).toMatch(/synthetic/i);
    expect(SYNTHETIC_LABEL).toMatch(/ulasan/);
    expect(SYNTHETIC_LABEL).toMatch(/not real/i);
  });
});

describe('generateSyntheticReviews: realism', () => {
  it('draws ratings like Play Store data', () => {
    const expected = [0.1, 0.03, 0.04, 0.08, 0.75];
    for (let star = 1; star <= 5; star++) {
      const observed = share(rows.filter((r) => r.rating === star).length, N);
      expect(Math.abs(observed - (expected[star - 1] as number)), `${star}★ share ${observed}`).toBeLessThan(0.02);
    }
  });

  it('has short duplicated texts and contradicting ratings at about the intended rates', () => {
    const short = annotated.filter((r) => r.annotation.short).length;
    expect(share(short, N)).toBeGreaterThan(0.11);
    expect(share(short, N)).toBeLessThan(0.19);

    const counts = new Map<string, number>();
    for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1);
    const duplicated = texts.filter((t) => (counts.get(t) ?? 0) > 1).length;
    expect(share(duplicated, N)).toBeGreaterThan(0.1);
    expect(share(duplicated, N)).toBeLessThan(0.3);
    for (const text of ['mantap', 'sangat membantu', 'good', 'ok']) expect(counts.get(text) ?? 0).toBeGreaterThan(10);

    const contradictions = annotated.filter((r) => r.annotation.contradicts);
    expect(share(contradictions.length, N)).toBeGreaterThan(0.03);
    expect(share(contradictions.length, N)).toBeLessThan(0.08);
    for (const { review, annotation } of contradictions) {
      expect(annotation.textSentiment).toBe(review.rating >= 4 ? 'negative' : 'positive');
    }
    expect(annotated.filter((r) => r.review.rating === 3).every((r) => r.annotation.textSentiment === 'mixed')).toBe(
      true,
    );
  });

  it('roughens texts with slang, emoji, elongation, typos, English and web noise', () => {
    const rate = (pattern: RegExp): number => share(texts.filter((t) => pattern.test(t)).length, N);
    const slang = /(^|\P{L})(gak|ga|gk|nggak|bgt|udh|udah|yg|tp|dgn|mantul|anjay|sih|deh|dong|nih|apk|aja)(?!\p{L})/iu;
    expect(rate(slang)).toBeGreaterThan(0.25);
    expect(rate(slang)).toBeLessThan(0.75);
    const emoji = rate(/\p{Extended_Pictographic}/u);
    expect(emoji).toBeGreaterThan(0.1);
    expect(emoji).toBeLessThan(0.45);
    expect(rate(/\p{L}\p{Extended_Pictographic}/u)).toBeGreaterThan(0.03); // glued: 'mantap👍'
    expect(rate(/(\p{L})\1\1/u)).toBeGreaterThan(0.03); // elongation: 'bagusss'
    expect(rate(/\b(good|update|error|nice|best|recommended|bug|loading|worth it)\b/i)).toBeGreaterThan(0.05);
    expect(rate(/https?:\/\/|www\./)).toBeGreaterThan(0.003);
    expect(rate(/(^|\s)@\w/)).toBeGreaterThan(0.005);
    expect(rate(/#\w/)).toBeGreaterThan(0.01);
    expect(rate(/\d/)).toBeGreaterThan(0.03);
    expect(rate(/!!!/)).toBeGreaterThan(0.02);
    expect(rate(/\.\.\./)).toBeGreaterThan(0.02);
    expect(rate(/\n/)).toBeGreaterThan(0.01);
    expect(rate(/"/)).toBeGreaterThan(0);
    // Typos: common template words at one edit (drop, double, swap) from their spelling, at a small rate.
    const targets = ['konsultasi', 'pengiriman', 'pelayanan', 'pelayanannya', 'aplikasinya', 'terjangkau', 'membantu'];
    let exact = 0;
    let misspelt = 0;
    for (const text of texts) {
      for (const word of text.toLowerCase().match(/\p{L}+/gu) ?? []) {
        if (targets.includes(word)) exact++;
        else if (targets.some((target) => Math.abs(word.length - target.length) <= 1 && oneEditAway(word, target))) {
          misspelt++;
        }
      }
    }
    expect(share(misspelt, exact + misspelt)).toBeGreaterThan(0.005);
    expect(share(misspelt, exact + misspelt)).toBeLessThan(0.15);
    expect(rate(/^[^\p{Ll}]*\p{Lu}{4,}[^\p{Ll}]*$/u)).toBeGreaterThan(0.02); // ALL CAPS
  });

  it('makes 3★ texts mix praise and complaint', () => {
    const mixed = texts.filter((_, i) => rows[i]?.rating === 3 && !annotated[i]?.annotation.short);
    const hasBut = mixed.filter((t) => /(^|[^\p{L}])(tapi|tp|tpi|cuma|namun|sayangnya|walaupun)(?!\p{L})/iu.test(t));
    expect(share(hasBut.length, mixed.length)).toBeGreaterThan(0.4);
  });

  it('has realistic lengths', () => {
    const lengths = texts.map(words).sort((a, b) => a - b);
    const median = lengths[Math.floor(N / 2)] as number;
    expect(median).toBeGreaterThanOrEqual(6);
    expect(median).toBeLessThanOrEqual(10);
    const long = share(lengths.filter((n) => n >= 30).length, N);
    expect(long).toBeGreaterThan(0.02);
    expect(long).toBeLessThan(0.15);
  });

  it('carries real but not trivial signal for a bag-of-words classifier', () => {
    // Multinomial naive Bayes, positive (4-5★) vs negative (1-2★), trained on 80% and scored on the rest.
    const binary = rows.filter((r) => r.rating !== 3);
    const cut = Math.floor(binary.length * 0.8);
    const tokens = (text: string): string[] => text.toLowerCase().match(/\p{L}+/gu) ?? [];
    const counts = [new Map<string, number>(), new Map<string, number>()];
    const totals = [0, 0];
    const docs = [0, 0];
    for (const r of binary.slice(0, cut)) {
      const c = r.rating >= 4 ? 1 : 0;
      docs[c] = (docs[c] as number) + 1;
      for (const w of tokens(r.text)) {
        counts[c]?.set(w, (counts[c]?.get(w) ?? 0) + 1);
        totals[c] = (totals[c] as number) + 1;
      }
    }
    const vocabulary = new Set([...(counts[0]?.keys() ?? []), ...(counts[1]?.keys() ?? [])]).size;
    const logLikelihood = (c: number, w: string): number =>
      Math.log(((counts[c]?.get(w) ?? 0) + 1) / ((totals[c] as number) + vocabulary));
    const recall = [0, 0];
    const support = [0, 0];
    for (const r of binary.slice(cut)) {
      const y = r.rating >= 4 ? 1 : 0;
      let score = Math.log((docs[1] as number) / (docs[0] as number));
      for (const w of tokens(r.text)) score += logLikelihood(1, w) - logLikelihood(0, w);
      support[y] = (support[y] as number) + 1;
      if ((score > 0 ? 1 : 0) === y) recall[y] = (recall[y] as number) + 1;
    }
    const recallNegative = (recall[0] as number) / (support[0] as number);
    const recallPositive = (recall[1] as number) / (support[1] as number);
    const balanced = (recallNegative + recallPositive) / 2;
    expect(balanced).toBeGreaterThan(0.7);
    expect(balanced).toBeLessThan(0.97);
  });

  it('generates 5000 rows quickly', () => {
    const started = performance.now();
    generateSyntheticReviews({ rows: 5000, seed: 77 });
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('syntheticReviewsCsv', () => {
  it('quotes fields with commas, quotes and newlines (RFC 4180)', () => {
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField(5)).toBe('5');
    const tricky = 'bagus, tapi "lemot"\nbanget';
    expect(csvField(tricky)).toBe('"bagus, tapi ""lemot""\nbanget"');
    expect(parseCsv(`a,${csvField(tricky)},c\n`)).toEqual([['a', tricky, 'c']]);
  });

  it('round-trips through an RFC 4180 parser', () => {
    const options = { rows: 2000, seed: 11 };
    const csv = syntheticReviewsCsv(options);
    expect(csv.startsWith(`${SYNTHETIC_CSV_HEADER}\n`)).toBe(true);
    expect(SYNTHETIC_CSV_HEADER).toBe('review_id,user_name,rating,text,date,app');
    const [header, ...records] = parseCsv(csv);
    expect(header).toEqual(['review_id', 'user_name', 'rating', 'text', 'date', 'app']);
    const expected = generateSyntheticReviews(options).map((r) => [
      r.reviewId,
      r.userName,
      String(r.rating),
      r.text,
      r.date,
      r.app,
    ]);
    expect(records).toEqual(expected);
    // The sample exercises the quoting paths.
    expect(expected.some((r) => /\n/.test(r[3] as string))).toBe(true);
    expect(expected.some((r) => /,/.test(r[3] as string))).toBe(true);
  });
});

describe('generateDriftedReviews', () => {
  it('gives complaints only, each naming 2-3 drift words the usual reviews never use; seeded, prefix-stable, ids unique', () => {
    const usual = generateSyntheticReviews({ rows: 3000, seed: 1 }).map((r) => r.text.toLowerCase()).join(' ');
    for (const word of DRIFT_WORDS) expect(usual).not.toContain(word);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (rows, seed) => {
        const drifted = generateDriftedReviews({ rows, seed });
        expect(drifted).toHaveLength(rows);
        expect(new Set(drifted.map((r) => r.reviewId)).size).toBe(rows);
        for (const review of drifted) {
          expect(review.rating).toBeLessThanOrEqual(2);
          const named = review.text.split(' ').filter((w) => (DRIFT_WORDS as readonly string[]).includes(w));
          expect(named.length).toBeGreaterThanOrEqual(2);
        }
        expect(generateDriftedReviews({ rows, seed })).toEqual(drifted);
        expect(generateDriftedReviews({ rows: rows + 5, seed }).slice(0, rows)).toEqual(drifted);
      }),
      { numRuns: 25 },
    );
  });
});
