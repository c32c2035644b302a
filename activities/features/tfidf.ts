/**
 * TF-IDF over word n-grams with scikit-learn's `TfidfVectorizer` semantics, fitted on the training
 * split only; `transformTfidf` then maps validation and test texts with the training vocabulary and
 * idf. Documents arrive already tokenised (the clean stage owns tokenisation), which matches
 * `TfidfVectorizer(tokenizer=str.split, lowercase=False, token_pattern=None)` on space-joined tokens.
 *
 * Parity with sklearn (checked against vectors it produced, `tfidf.sklearn.json`):
 * - features sorted by code point, as Python sorts strings;
 * - `minDf`/`maxDf` prune by document frequency first, then `maxFeatures` keeps the terms with the
 *   largest corpus counts; ties there go to the alphabetically first term (numpy's argsort is not
 *   guaranteed stable, so sklearn may break such ties differently);
 * - idf = ln((1 + n) / (1 + df)) + 1 with `smoothIdf`, ln(n / df) + 1 without, in float64;
 * - tf is the raw count, or 1 + ln(count) with `sublinearTf`; rows are then l2- (or l1-) normalised,
 *   and an all-zero row stays zero.
 * Output values are float32 (computed in float64), column indices sorted within each row.
 */
import type { CsrMatrix } from '../../data/matrix';
import { badInput } from '../../core/errors';

export type { CsrMatrix };

export interface TfidfOptions {
  /** Smallest and largest n-gram length, in words. @default [1, 1] */
  ngramRange?: [number, number];
  /**
   * Drop terms in fewer documents: an integer >= 1 is a document count, a number in (0, 1) a fraction.
   * @default 1
   */
  minDf?: number;
  /** Drop terms in more documents: a number in (0, 1] is a fraction, an integer > 1 a count. @default 1 (no limit) */
  maxDf?: number;
  /** Keep at most this many terms, by corpus count; null keeps all. @default null */
  maxFeatures?: number | null;
  /** Weight terms by inverse document frequency. @default true */
  useIdf?: boolean;
  /** Add one to document counts, as if one extra document held every term once. @default true */
  smoothIdf?: boolean;
  /** Use 1 + ln(tf) instead of tf. @default false */
  sublinearTf?: boolean;
  /** Row normalisation. @default 'l2' */
  norm?: 'l2' | 'l1' | 'none';
}

export type ResolvedTfidfOptions = Required<TfidfOptions>;

/** A fitted vectoriser: column `j` is `vocabulary[j]`, weighted by `idf[j]`. */
export interface TfidfModel {
  vocabulary: string[];
  idf: Float64Array;
  options: ResolvedTfidfOptions;
  /** Training documents the model was fitted on. */
  documents: number;
}

const DEFAULTS: ResolvedTfidfOptions = {
  ngramRange: [1, 1],
  minDf: 1,
  maxDf: 1,
  maxFeatures: null,
  useIdf: true,
  smoothIdf: true,
  sublinearTf: false,
  norm: 'l2',
};

const STAGE = 'features';

/** Learns the vocabulary and idf from training documents (token arrays). */
export function fitTfidf(documents: readonly (readonly string[])[], options: TfidfOptions = {}): TfidfModel {
  const opts = resolveTfidfOptions(options);
  const df = new Map<string, number>();
  const total = new Map<string, number>();
  for (const doc of documents) {
    for (const [term, count] of termCounts(doc, opts.ngramRange)) {
      df.set(term, (df.get(term) ?? 0) + 1);
      total.set(term, (total.get(term) ?? 0) + count);
    }
  }
  if (df.size === 0) {
    throw badInput(`tfidf: the ${documents.length} training documents hold no tokens; check the clean stage output`, {
      stage: STAGE,
    });
  }
  const n = documents.length;
  const minCount = opts.minDf >= 1 ? opts.minDf : opts.minDf * n;
  const maxCount = opts.maxDf > 1 ? opts.maxDf : opts.maxDf * n;
  let terms = [...df.keys()].filter((term) => {
    const d = df.get(term) as number;
    return d >= minCount && d <= maxCount;
  });
  terms.sort(compareCodePoints);
  if (opts.maxFeatures !== null && terms.length > opts.maxFeatures) {
    // Stable sort over alphabetical order: equal counts keep the alphabetically first term.
    const kept = new Set(
      [...terms].sort((a, b) => (total.get(b) as number) - (total.get(a) as number)).slice(0, opts.maxFeatures),
    );
    terms = terms.filter((term) => kept.has(term));
  }
  if (terms.length === 0) {
    throw badInput(
      `tfidf: after pruning (minDf ${opts.minDf}, maxDf ${opts.maxDf}) no terms remain of ${df.size}; lower minDf or raise maxDf`,
      { stage: STAGE, field: 'minDf' },
    );
  }
  const smooth = opts.smoothIdf ? 1 : 0;
  const idf = Float64Array.from(terms, (term) =>
    opts.useIdf ? Math.log((n + smooth) / ((df.get(term) as number) + smooth)) + 1 : 1,
  );
  return { vocabulary: terms, idf, options: opts, documents: n };
}

/** Maps documents into the fitted vocabulary; unknown n-grams are ignored. */
export function transformTfidf(model: TfidfModel, documents: readonly (readonly string[])[]): CsrMatrix {
  const column = new Map(model.vocabulary.map((term, j) => [term, j]));
  const { ngramRange, sublinearTf, norm } = model.options;
  const indptr = new Int32Array(documents.length + 1);
  const indices: number[] = [];
  const values: number[] = [];
  documents.forEach((doc, r) => {
    const row: [number, number][] = [];
    for (const [term, count] of termCounts(doc, ngramRange)) {
      const j = column.get(term);
      if (j === undefined) continue;
      const tf = sublinearTf ? Math.log(count) + 1 : count;
      row.push([j, tf * (model.idf[j] as number)]);
    }
    row.sort((a, b) => a[0] - b[0]);
    const scale = normScale(row, norm);
    for (const [j, value] of row) {
      indices.push(j);
      values.push(value * scale);
    }
    indptr[r + 1] = indices.length;
  });
  return {
    indptr,
    indices: Int32Array.from(indices),
    data: Float32Array.from(values),
    rows: documents.length,
    cols: model.vocabulary.length,
  };
}

/** `fitTfidf` then `transformTfidf` on the same (training) documents. */
export function fitTransformTfidf(
  documents: readonly (readonly string[])[],
  options: TfidfOptions = {},
): { model: TfidfModel; matrix: CsrMatrix } {
  const model = fitTfidf(documents, options);
  return { model, matrix: transformTfidf(model, documents) };
}

/** Plain JSON for a fitted model (idf as numbers, which JSON round-trips exactly). */
export function tfidfModelToJson(model: TfidfModel): {
  vocabulary: string[];
  idf: number[];
  options: ResolvedTfidfOptions;
  documents: number;
} {
  const { vocabulary, options, documents } = model;
  return { vocabulary, idf: Array.from(model.idf), options, documents };
}

export function tfidfModelFromJson(json: ReturnType<typeof tfidfModelToJson>): TfidfModel {
  if (json.vocabulary.length !== json.idf.length) {
    throw badInput(
      `tfidf model JSON has ${json.vocabulary.length} terms but ${json.idf.length} idf values; the artifact is damaged, recompute it`,
      { stage: STAGE, field: 'idf' },
    );
  }
  return {
    vocabulary: json.vocabulary,
    idf: Float64Array.from(json.idf),
    options: resolveTfidfOptions(json.options),
    documents: json.documents,
  };
}

function normScale(row: [number, number][], norm: ResolvedTfidfOptions['norm']): number {
  if (norm === 'none') return 1;
  let sum = 0;
  for (const [, value] of row) sum += norm === 'l2' ? value * value : Math.abs(value);
  const length = norm === 'l2' ? Math.sqrt(sum) : sum;
  return length > 0 ? 1 / length : 1;
}

/** Counts the document's word n-grams (n-gram = tokens joined by one space, as sklearn does). */
export function termCounts(doc: readonly string[], [minN, maxN]: [number, number]): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = minN; n <= maxN; n++) {
    for (let i = 0; i + n <= doc.length; i++) {
      const term = n === 1 ? (doc[i] as string) : doc.slice(i, i + n).join(' ');
      counts.set(term, (counts.get(term) ?? 0) + 1);
    }
  }
  return counts;
}

/** Orders strings by Unicode code point, as Python does (JS `<` compares UTF-16 units, which differs past U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    // A surrogate starts a code point above U+FFFF, so it outranks any BMP unit from U+E000 up.
    if (xSurrogate && !ySurrogate && y >= 0xe000) return 1;
    if (ySurrogate && !xSurrogate && x >= 0xe000) return -1;
    return x - y;
  }
  return a.length - b.length;
}

function resolveTfidfOptions(options: TfidfOptions): ResolvedTfidfOptions {
  const opts: ResolvedTfidfOptions = { ...DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (opts as Record<string, unknown>)[key] = value;
  }
  const [minN, maxN] = opts.ngramRange;
  if (!Number.isInteger(minN) || !Number.isInteger(maxN) || minN < 1 || maxN < minN) {
    throw badInput(`tfidf ngramRange must be two integers 1 <= min <= max, got [${minN}, ${maxN}]`, {
      stage: STAGE,
      field: 'ngramRange',
    });
  }
  if (!(opts.minDf > 0) || (opts.minDf >= 1 && !Number.isInteger(opts.minDf))) {
    throw badInput(`tfidf minDf must be an integer >= 1 or a fraction in (0, 1), got ${opts.minDf}`, {
      stage: STAGE,
      field: 'minDf',
    });
  }
  if (!(opts.maxDf > 0) || (opts.maxDf > 1 && !Number.isInteger(opts.maxDf))) {
    throw badInput(`tfidf maxDf must be a fraction in (0, 1] or an integer > 1, got ${opts.maxDf}`, {
      stage: STAGE,
      field: 'maxDf',
    });
  }
  if (opts.maxFeatures !== null && (!Number.isInteger(opts.maxFeatures) || opts.maxFeatures < 1)) {
    throw badInput(`tfidf maxFeatures must be null or an integer >= 1, got ${opts.maxFeatures}`, {
      stage: STAGE,
      field: 'maxFeatures',
    });
  }
  if (!['l2', 'l1', 'none'].includes(opts.norm)) {
    throw badInput(`tfidf norm must be 'l2', 'l1' or 'none', got ${String(opts.norm)}`, {
      stage: STAGE,
      field: 'norm',
    });
  }
  return opts;
}
