/** Column mapping for review files: which source column holds each field, auto-detected from common names. */
import { badInput } from '../../core/errors';

/** Text encodings DuckDB's CSV reader decodes (CSV and TSV only; JSON is UTF-8, Parquet carries its own). */
export const TEXT_ENCODINGS = ['utf-8', 'utf-16', 'latin-1'] as const;
export type TextEncoding = (typeof TEXT_ENCODINGS)[number];

export interface ColumnMapping {
  text: string;
  /** Absent only in a file imported for prediction (`ratings: 'optional'`): its rows have no rating, so no label. */
  rating?: string;
  id?: string;
  date?: string;
  user?: string;
  app?: string;
}

/** Known spellings, in preference order: google-play-scraper's, then variants seen in published datasets. */
const CANDIDATES: Record<keyof ColumnMapping, string[]> = {
  text: ['content', 'text', 'review_text', 'review text', 'review', 'ulasan'],
  rating: ['score', 'rating', 'stars', 'star'],
  id: ['reviewid', 'review_id', 'review id', 'review_uid', 'id'],
  date: ['at', 'date', 'review_date', 'time', 'created_at'],
  user: ['username', 'user_name', 'user'],
  app: ['app', 'app_id', 'appid', 'app_name'],
};

/**
 * Fills unmapped fields from the header; fails naming the field when the text cannot be found, or the rating
 * when `ratings` is 'required' (training needs star ratings; prediction does not).
 */
export function resolveColumns(header: string[], given: Partial<ColumnMapping>, file: string, ratings: 'required' | 'optional' = 'required'): ColumnMapping {
  const byLower = new Map(header.map((name) => [name.trim().toLowerCase(), name]));
  const pick = (field: keyof ColumnMapping): string | undefined => {
    const explicit = given[field];
    if (explicit !== undefined) {
      if (!header.includes(explicit)) {
        throw badInput(`columns.${field}: '${explicit}' is not a column of ${file} (columns: ${header.join(', ')}).`, {
          file,
          field: `columns.${field}`,
        });
      }
      return explicit;
    }
    for (const candidate of CANDIDATES[field]) {
      const found = byLower.get(candidate);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const text = pick('text');
  const rating = pick('rating');
  const missing = text === undefined ? 'text' : rating === undefined && ratings === 'required' ? 'rating' : undefined;
  if (missing) {
    const known = CANDIDATES[missing].join(', ');
    const unlabelled = missing === 'rating' ? '; to label reviews that have no rating, give the file to `ulasan predict` (or `ulasan import --unlabelled`)' : '';
    throw badInput(
      `No ${missing} column found in ${file} (columns: ${header.join(', ')}); name it one of ${known} (any case), or set columns.${missing}${unlabelled}.`,
      { file, field: `columns.${missing}` },
    );
  }
  return { text: text!, rating, id: pick('id'), date: pick('date'), user: pick('user'), app: pick('app') };
}
