/**
 * Text encodings of review files. DuckDB's reader fails on the first byte that is not UTF-8 (pointing
 * at the header), so a CSV/TSV/JSON file is decoded here: valid UTF-8 is read as it is; UTF-16 (by
 * BOM or by its zero bytes) and Latin-1/Windows-1252 are transcoded to a UTF-8 copy; UTF-8 with a few
 * broken bytes is copied with those bytes replaced by U+FFFD, and the import quarantines the rows that
 * hold them. Binary and compressed files are refused, saying what they look like.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput } from '../../core/errors';
import type { TextEncoding } from './columns';

/** What a file's bytes are decoded as (UTF-16 byte order comes from its BOM or its zero bytes). */
export type Decoded = 'utf-8' | 'utf-16le' | 'utf-16be' | 'latin-1';

/** What decoding found. `lossy`: some bytes were not valid in `encoding` and became U+FFFD. */
export interface Decoding {
  encoding: Decoded;
  lossy: boolean;
}

/** The marker a broken byte leaves in decoded text (rows holding it are quarantined when `lossy`). */
export const REPLACEMENT_CHAR = '\uFFFD';

const DECODER_LABEL: Record<Decoded, string> = { 'utf-8': 'utf-8', 'utf-16le': 'utf-16le', 'utf-16be': 'utf-16be', 'latin-1': 'windows-1252' };

const startsWith = (bytes: Uint8Array, ...prefix: number[]): boolean => prefix.every((b, i) => bytes[i] === b);

/** Zero bytes at even (big-endian) or odd (little-endian) offsets of mostly-ASCII UTF-16 text. */
function utf16WithoutBom(bytes: Uint8Array): Decoded | undefined {
  const n = Math.min(bytes.length, 4096) & ~1;
  if (n < 4) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenZeros++;
    if (bytes[i + 1] === 0) oddZeros++;
  }
  const pairs = n / 2;
  if (oddZeros > 0.4 * pairs && evenZeros < 0.05 * pairs) return 'utf-16le';
  if (evenZeros > 0.4 * pairs && oddZeros < 0.05 * pairs) return 'utf-16be';
  return undefined;
}

/** Refuses bytes that are not text at all, saying what they look like. */
function refuseNonText(bytes: Uint8Array, file: string): void {
  const what = startsWith(bytes, 0x50, 0x41, 0x52, 0x31)
    ? 'a Parquet file: pass --format parquet (or source.format: parquet)'
    : startsWith(bytes, 0x1f, 0x8b)
      ? 'gzip-compressed: decompress it first'
      : startsWith(bytes, 0x50, 0x4b, 0x03, 0x04)
        ? 'a zip archive (an .xlsx workbook?): export it as CSV first'
        : undefined;
  const zero = bytes.subarray(0, 8192).indexOf(0);
  if (what || zero >= 0) {
    throw badInput(`${file} is not a text review file: it looks ${what ? `like ${what}` : `binary (a zero byte at offset ${zero})`}. ` +
      'Give a CSV, TSV, JSON or Parquet file of reviews.', { stage: 'import', file, field: 'source.file' });
  }
}

/** True when `bytes` hold at least one well-formed multi-byte UTF-8 sequence. */
function hasUtf8Sequences(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const length = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0) continue;
    let ok = i + length <= bytes.length;
    for (let k = 1; ok && k < length; k++) ok = (bytes[i + k]! & 0xc0) === 0x80;
    if (ok) return true;
  }
  return false;
}

const isValid = (bytes: Uint8Array, encoding: Decoded): boolean => {
  try {
    new TextDecoder(DECODER_LABEL[encoding], { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
};

/**
 * Decides how to decode a file's bytes. `latin-1` and `utf-16` are taken as declared; `utf-8` (the
 * default) is checked: bytes that are not UTF-8 are detected instead (UTF-16 by BOM or zero bytes,
 * binary refused, Latin-1 when no multi-byte UTF-8 sequence is valid, else UTF-8 with losses).
 */
export function detectEncoding(bytes: Uint8Array, declared: TextEncoding, file: string): Decoding {
  if (declared === 'latin-1') return { encoding: 'latin-1', lossy: false };
  const utf16 = startsWith(bytes, 0xff, 0xfe) ? 'utf-16le' : startsWith(bytes, 0xfe, 0xff) ? 'utf-16be' : utf16WithoutBom(bytes);
  if (declared === 'utf-16' || utf16) {
    const order = utf16 ?? 'utf-16le';
    return { encoding: order, lossy: !isValid(bytes, order) };
  }
  refuseNonText(bytes, file);
  if (isValid(bytes, 'utf-8')) return { encoding: 'utf-8', lossy: false };
  // Invalid UTF-8 with no valid multi-byte sequence at all: a single-byte Western encoding.
  return hasUtf8Sequences(bytes) ? { encoding: 'utf-8', lossy: true } : { encoding: 'latin-1', lossy: false };
}

/** A file DuckDB can read (UTF-8), and how it was made from the source. */
export interface ReadableSource extends Decoding {
  path: string;
  /** Removes the UTF-8 copy, if one was made. */
  dispose(): Promise<void>;
}

/**
 * The source as DuckDB can read it: the file itself when it is valid UTF-8, else a UTF-8 copy in
 * `dir` (BOM dropped: DuckDB and the column names must not see it).
 */
export async function readableSource(path: string, declared: TextEncoding, dir: string): Promise<ReadableSource> {
  const bytes = await readFile(path);
  const decoding = detectEncoding(bytes, declared, path);
  if (decoding.encoding === 'utf-8' && !decoding.lossy) return { path, ...decoding, dispose: async () => undefined };
  const text = new TextDecoder(DECODER_LABEL[decoding.encoding], { ignoreBOM: false }).decode(bytes);
  const copy = join(dir, `.decoded-source-${process.pid}-${Date.now()}`);
  await writeFile(copy, text);
  return { path: copy, ...decoding, dispose: () => rm(copy, { force: true }) };
}
