import { sqlLowerCase } from './char-steps';
import { sqlIdentifier, sqlString } from './patterns';

/**
 * A dedupe key independent of the cleaning config: NFC, lower case, every run of characters that is
 * neither a letter nor a digit becomes one space, trimmed. `Sangat membantu!!` and `sangat
 * membantu 👍` share a key. (Elongation is left alone: RE2 cannot express it, and SQL and TypeScript
 * must agree.)
 */
export function normaliseForDedupe(text: string): string {
  return text
    .normalize('NFC')
    .toLowerCase()
    .replace(NOT_WORD, ' ')
    .replace(/^ | $/g, '');
}

const NOT_WORD_BODY = `[^\\p{L}\\p{M}\\p{N}]+`;
const NOT_WORD = new RegExp(NOT_WORD_BODY, 'gu');

/** The DuckDB twin of `normaliseForDedupe` on a column. */
export function sqlNormaliseForDedupe(column: string): string {
  return `trim(regexp_replace(${sqlLowerCase(`nfc_normalize(${sqlIdentifier(column)})`)}, ${sqlString(NOT_WORD_BODY)}, ' ', 'g'))`;
}
