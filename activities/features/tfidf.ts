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
import { hstackCsr, type CsrMatrix } from '../../data/matrix';
import { badInput } from '../../core/errors';

export type { CsrMatrix };

/** `word`: word n-grams; `char_wb`: character n-grams inside word boundaries (sklearn's `analyzer='char_wb'`). */
export type TfidfAnalyzer = 'word' | 'char_wb';

export interface TfidfOptions {
  /** What a term is. @default 'word' */
  analyzer?: TfidfAnalyzer;
  /** Smallest and largest n-gram length, in words (`word`) or characters (`char_wb`). @default [1, 1] */
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
  analyzer: 'word',
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
  const stats = countTerms(documents, opts);
  if (stats.terms.length === 0) {
    throw badInput(`tfidf: the ${documents.length} training documents hold no tokens; check the clean stage output`, {
      stage: STAGE,
    });
  }
  const n = documents.length;
  const minCount = opts.minDf >= 1 ? opts.minDf : opts.minDf * n;
  const maxCount = opts.maxDf > 1 ? opts.maxDf : opts.maxDf * n;
  let kept: number[] = [];
  stats.terms.forEach((_, id) => {
    const d = stats.df[id] as number;
    if (d >= minCount && d <= maxCount) kept.push(id);
  });
  kept.sort((a, b) => compareCodePoints(stats.terms[a] as string, stats.terms[b] as string));
  if (opts.maxFeatures !== null && kept.length > opts.maxFeatures) {
    // Stable sort over alphabetical order: equal counts keep the alphabetically first term.
    const top = new Set([...kept].sort((a, b) => (stats.total[b] as number) - (stats.total[a] as number)).slice(0, opts.maxFeatures));
    kept = kept.filter((id) => top.has(id));
  }
  if (kept.length === 0) {
    throw badInput(
      `tfidf: after pruning (minDf ${opts.minDf}, maxDf ${opts.maxDf}) no terms remain of ${stats.terms.length}; lower minDf or raise maxDf`,
      { stage: STAGE, field: 'minDf' },
    );
  }
  const smooth = opts.smoothIdf ? 1 : 0;
  const idf = Float64Array.from(kept, (id) => (opts.useIdf ? Math.log((n + smooth) / ((stats.df[id] as number) + smooth)) + 1 : 1));
  return { vocabulary: kept.map((id) => stats.terms[id] as string), idf, options: opts, documents: n };
}

/** Every distinct term of the documents, interned to an id, with its document frequency and corpus count. */
interface TermStats {
  terms: string[];
  df: Int32Array;
  total: Float64Array;
}

function countTerms(documents: readonly (readonly string[])[], opts: ResolvedTfidfOptions): TermStats {
  const ids = new Map<string, number>();
  const terms: string[] = [];
  let df = new Int32Array(1024);
  let total = new Float64Array(1024);
  // The last document each term was counted in, so df counts a document once however often the term recurs.
  let lastDoc = new Int32Array(1024).fill(-1);
  documents.forEach((doc, d) => {
    forEachTerm(doc, opts, (term) => {
      let id = ids.get(term);
      if (id === undefined) {
        id = terms.length;
        ids.set(term, id);
        terms.push(term);
        if (id === df.length) [df, total, lastDoc] = [grow(df, 0), grow(total, 0), grow(lastDoc, -1)];
      }
      total[id]! += 1;
      if (lastDoc[id] !== d) {
        lastDoc[id] = d;
        df[id]! += 1;
      }
    });
  });
  return { terms, df, total };
}

function grow<T extends Int32Array | Float64Array>(array: T, fill: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(array.length * 2);
  bigger.set(array);
  bigger.fill(fill, array.length);
  return bigger;
}

/** Maps documents into the fitted vocabulary; unknown n-grams are ignored. */
export function transformTfidf(model: TfidfModel, documents: readonly (readonly string[])[]): CsrMatrix {
  const column = new Map(model.vocabulary.map((term, j) => [term, j]));
  const { sublinearTf, norm } = model.options;
  const counts = new Float64Array(model.vocabulary.length); // per column, for the current document; reset after it
  const row = { columns: new Int32Array(64), values: new Float64Array(64), length: 0 };
  const indptr = new Int32Array(documents.length + 1);
  let indices = new Int32Array(Math.max(64, documents.length * 8));
  let data = new Float32Array(indices.length);
  documents.forEach((doc, r) => {
    forEachTerm(doc, model.options, (term) => {
      const j = column.get(term);
      if (j === undefined || counts[j]!++ !== 0) return;
      if (row.length === row.columns.length) [row.columns, row.values] = [grown(row.columns, row.length * 2), grown(row.values, row.length * 2)];
      row.columns[row.length++] = j;
    });
    sortAscending(row.columns, row.length);
    for (let t = 0; t < row.length; t++) {
      const j = row.columns[t]!;
      row.values[t] = (sublinearTf ? Math.log(counts[j]!) + 1 : counts[j]!) * model.idf[j]!;
      counts[j] = 0;
    }
    const scale = normScale(row.values, row.length, norm);
    let nnz = indptr[r]!;
    if (nnz + row.length > indices.length) [indices, data] = [grown(indices, 2 * (nnz + row.length)), grown(data, 2 * (nnz + row.length))];
    for (let t = 0; t < row.length; t++, nnz++) {
      indices[nnz] = row.columns[t]!;
      data[nnz] = row.values[t]! * scale;
    }
    indptr[r + 1] = nnz;
    row.length = 0;
  });
  const nnz = indptr[documents.length]!;
  return { indptr, indices: indices.slice(0, nnz), data: data.slice(0, nnz), rows: documents.length, cols: model.vocabulary.length };
}

/** A copy of `array` with room for `length` values. */
function grown<T extends Int32Array | Float32Array | Float64Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}

/** Sorts `values[0 .. length)` ascending in place: insertion sort for short rows (most), where a subarray sort would allocate per row. */
function sortAscending(values: Int32Array, length: number): void {
  if (length > 32) {
    values.subarray(0, length).sort();
    return;
  }
  for (let i = 1; i < length; i++) {
    const v = values[i]!;
    let k = i - 1;
    for (; k >= 0 && values[k]! > v; k--) values[k + 1] = values[k]!;
    values[k + 1] = v;
  }
}

/** `fitTfidf` then `transformTfidf` on the same (training) documents. */
export function fitTransformTfidf(
  documents: readonly (readonly string[])[],
  options: TfidfOptions = {},
): { model: TfidfModel; matrix: CsrMatrix } {
  const model = fitTfidf(documents, options);
  return { model, matrix: transformTfidf(model, documents) };
}

/**
 * Plain JSON for a fitted model (idf as numbers, which JSON round-trips exactly). The `word` analyzer is
 * left out of the options, so a word model's file has the bytes it had before `char_wb` existed.
 */
export function tfidfModelToJson(model: TfidfModel): {
  vocabulary: string[];
  idf: number[];
  options: TfidfOptions;
  documents: number;
} {
  const { vocabulary, documents } = model;
  const { analyzer, ...rest } = model.options;
  const options = analyzer === 'word' ? rest : { analyzer, ...rest };
  return { vocabulary, idf: Array.from(model.idf), options, documents };
}

export function tfidfModelFromJson(json: TfidfModelJson): TfidfModel {
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

/**
 * Several fitted models over the same documents, side by side (sklearn's `FeatureUnion` of vectorizers):
 * each block is weighted and normalised on its own, then the blocks are stacked column-wise in order.
 */
export function transformTfidfBlocks(models: readonly TfidfModel[], documents: readonly (readonly string[])[]): CsrMatrix {
  return models.length === 1 ? transformTfidf(models[0] as TfidfModel, documents) : hstackCsr(models.map((model) => transformTfidf(model, documents)));
}

type TfidfModelJson = ReturnType<typeof tfidfModelToJson>;

/** `tfidf.json`: one model as `tfidfModelToJson` writes it (the file's shape before unions), or `{blocks}`. */
export function tfidfBlocksToJson(models: readonly TfidfModel[]): TfidfModelJson | { blocks: TfidfModelJson[] } {
  return models.length === 1 ? tfidfModelToJson(models[0] as TfidfModel) : { blocks: models.map(tfidfModelToJson) };
}

export function tfidfBlocksFromJson(json: TfidfModelJson | { blocks: TfidfModelJson[] }): TfidfModel[] {
  return 'blocks' in json ? json.blocks.map(tfidfModelFromJson) : [tfidfModelFromJson(json)];
}

/** 1 / the row's norm over its first `length` values, summed in column order; 1 for 'none' or an all-zero row. */
function normScale(values: Float64Array, length: number, norm: ResolvedTfidfOptions['norm']): number {
  if (norm === 'none') return 1;
  let sum = 0;
  for (let t = 0; t < length; t++) sum += norm === 'l2' ? values[t]! * values[t]! : Math.abs(values[t]!);
  const total = norm === 'l2' ? Math.sqrt(sum) : sum;
  return total > 0 ? 1 / total : 1;
}

/** Calls `visit` with every term of the document, once per occurrence, as the analyzer cuts them. */
export function forEachTerm(doc: readonly string[], options: Pick<ResolvedTfidfOptions, 'analyzer' | 'ngramRange'>, visit: (term: string) => void): void {
  if (options.analyzer === 'char_wb') charWbNgrams(doc, options.ngramRange, visit);
  else wordNgrams(doc, options.ngramRange, visit);
}

/** Word n-grams: tokens joined by one space, as sklearn does. */
function wordNgrams(doc: readonly string[], [minN, maxN]: [number, number], visit: (term: string) => void): void {
  for (let n = minN; n <= maxN; n++) {
    for (let i = 0; i + n <= doc.length; i++) visit(n === 1 ? (doc[i] as string) : doc.slice(i, i + n).join(' '));
  }
}

/** What Python's `str.split()` (and `re`'s `\s` on str) treats as whitespace: `str.isspace()`. */
const PYTHON_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/**
 * scikit-learn's `_char_wb_ngrams` on the space-joined document: every whitespace-separated word padded
 * with one space each side, its n-grams taken in code points (Python's string indexing, not UTF-16
 * units); a padded word no longer than n is one term, once, and stops the larger n for that word.
 */
function charWbNgrams(doc: readonly string[], [minN, maxN]: [number, number], visit: (term: string) => void): void {
  for (const token of doc) {
    for (const word of token.split(PYTHON_WHITESPACE)) {
      if (word === '') continue;
      const padded = ` ${word} `;
      const chars = Array.from(padded);
      const bmp = chars.length === padded.length; // one UTF-16 unit per code point: slice the string itself
      const slice = (from: number, n: number): string => (bmp ? padded.slice(from, from + n) : chars.slice(from, from + n).join(''));
      for (let n = minN; n <= maxN; n++) {
        let offset = 0;
        visit(slice(0, n));
        while (offset + n < chars.length) visit(slice(++offset, n));
        if (offset === 0) break;
      }
    }
  }
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
  if (!['word', 'char_wb'].includes(opts.analyzer)) {
    throw badInput(`tfidf analyzer must be 'word' or 'char_wb', got ${String(opts.analyzer)}`, { stage: STAGE, field: 'analyzer' });
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
