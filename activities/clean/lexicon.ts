import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalJson, sha256Hex } from '../../data/canonical';
import { badInput, notFound } from '../../core/errors';
import type { CleanConfig } from './config';
import { parseCsv } from './csv';

/** The project's own slang lexicon (`slang,formal`), used when a config says `lexicon: builtin`. */
export const BUILTIN_SLANG_LEXICON_PATH = fileURLToPath(new URL('../../data/lexicons/slang-id.csv', import.meta.url));

/** A slang → formal mapping as read from a file, before the cleaner normalises it. */
export type SlangLexicon = ReadonlyMap<string, string>;

/**
 * Parses a slang lexicon in either accepted form:
 * - CSV with a header naming `slang` and `formal` columns (any position, any other columns ignored,
 *   e.g. the colloquial-indonesian-lexicon's `In-dictionary,context,category1..3`). The same slang
 *   may repeat (that lexicon lists one row per example context): the first row wins, later ones are
 *   ignored, so the file order decides.
 * - JSON object `{ "slang": "formal", ... }`.
 * Keys and values are trimmed; blank lines are skipped; a row without a slang or a formal is an error.
 */
export function parseSlangLexicon(text: string, file: string): Map<string, string> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return body.trimStart().startsWith('{') ? parseJsonLexicon(body, file) : parseCsvLexicon(body, file);
}

function parseJsonLexicon(text: string, file: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw badInput(`slang lexicon ${file} is not valid JSON (${(err as Error).message}); fix the file or use CSV "slang,formal"`, { file });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badInput(`slang lexicon ${file} must be a JSON object {"slang": "formal"}`, { file });
  }
  const map = new Map<string, string>();
  for (const [slang, formal] of Object.entries(parsed)) {
    if (typeof formal !== 'string') {
      throw badInput(`slang lexicon ${file}: the value of "${slang}" is not a string`, { file, field: slang });
    }
    addEntry(map, slang, formal, file);
  }
  return map;
}

function parseCsvLexicon(text: string, file: string): Map<string, string> {
  const rows = parseCsv(text);
  const header = (rows[0] ?? []).map((name) => name.trim().toLowerCase());
  const slangAt = header.indexOf('slang');
  const formalAt = header.indexOf('formal');
  if (slangAt < 0 || formalAt < 0) {
    throw badInput(
      `slang lexicon ${file} needs a header row with "slang" and "formal" columns; found "${(rows[0] ?? []).join(',')}"`,
      { file, row: 1 },
    );
  }
  const map = new Map<string, string>();
  rows.slice(1).forEach((row, i) => {
    if (row.length === 1 && row[0]?.trim() === '') return;
    addEntry(map, row[slangAt] ?? '', row[formalAt] ?? '', file, i + 2);
  });
  return map;
}

function addEntry(map: Map<string, string>, slang: string, formal: string, file: string, row?: number): void {
  const key = slang.trim();
  const value = formal.trim();
  if (key === '' || value === '') {
    const where = row === undefined ? `entry "${slang}"` : `row ${row}`;
    throw badInput(`slang lexicon ${file}, ${where}: empty ${key === '' ? 'slang' : 'formal'}; fill it or delete the row`, {
      file,
      row,
      field: key === '' ? 'slang' : 'formal',
    });
  }
  if (!map.has(key)) map.set(key, value);
}

/** Reads a slang lexicon file (CSV or JSON, see `parseSlangLexicon`). */
export async function loadSlangLexicon(path: string): Promise<Map<string, string>> {
  return parseSlangLexicon(await readText(path, 'slang lexicon'), path);
}

/** One word per line; CRLF tolerated; blank lines and `#` comments skipped; lower-cased. */
export function parseWordList(text: string): Set<string> {
  const words = new Set<string>();
  for (const line of text.split(/\r?\n|\r/)) {
    const word = line.replace(/^\uFEFF/, '').trim().toLowerCase();
    if (word !== '' && !word.startsWith('#')) words.add(word);
  }
  return words;
}

const requireCjs = createRequire(import.meta.url);

/** The Indonesian list of the `stopwords-iso` package (758 words, the Tala list). */
export function stopwordsIsoIndonesian(): Set<string> {
  const all = requireCjs('stopwords-iso') as Record<string, string[] | undefined>;
  return new Set((all.id ?? []).map((word) => word.toLowerCase()));
}

/** `stopwords-iso` or a path to a word list. */
export async function loadStopwords(source: string): Promise<Set<string>> {
  if (source === 'stopwords-iso') return stopwordsIsoIndonesian();
  return parseWordList(await readText(source, 'stopword list'));
}

/** What `createTextCleaner` needs beyond the config. */
export interface CleanLexicons {
  /** Raw slang lexicon; required when `config.slang.enabled`. */
  readonly slang?: SlangLexicon;
  /** Stopwords; required when `config.stopwords.enabled`. */
  readonly stopwords?: ReadonlySet<string>;
}

/** Lexicons as loaded for a config, with a fingerprint of their content for the artifact key. */
export interface LoadedCleanLexicons extends CleanLexicons {
  /**
   * sha256 of the canonical content of the lexicons the config uses (not their paths), so editing a
   * lexicon file changes the clean stage's key. Include it in the stage params.
   */
  readonly fingerprint: string;
}

/**
 * Loads the lexicons a config asks for. Relative paths resolve against `baseDir` (the spec's
 * directory, typically); `builtin` is the project's slang lexicon.
 */
export async function loadCleanLexicons(config: CleanConfig, baseDir = process.cwd()): Promise<LoadedCleanLexicons> {
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(baseDir, path));
  const slang = config.slang.enabled
    ? await loadSlangLexicon(config.slang.lexicon === 'builtin' ? BUILTIN_SLANG_LEXICON_PATH : at(config.slang.lexicon))
    : undefined;
  const stopwords = config.stopwords.enabled
    ? await loadStopwords(config.stopwords.source === 'stopwords-iso' ? 'stopwords-iso' : at(config.stopwords.source))
    : undefined;
  const fingerprint = sha256Hex(
    canonicalJson({
      slang: slang ? [...slang.entries()] : null,
      stopwords: stopwords ? [...stopwords].sort() : null,
    }),
  );
  return { slang, stopwords, fingerprint };
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw notFound(`${what} ${path} does not exist; check the path in the clean config`, { file: path });
    }
    throw err;
  }
}
