import type { Rng } from '../../../data/random';

/**
 * Pieces of what makes Play Store text hard to clean, for generated test strings: slang,
 * elongations, reduplication, emoji sequences (ZWJ, skin tones, flags, keycaps), URLs with
 * punctuation, mentions, hashtags, digits, every kind of dash and quote, Unicode whitespace,
 * accents (composed and not), other scripts, and letters whose lower case differs between engines.
 */
export const NOISY_PIECES: readonly string[] = [
  'bagus', 'Bagusss', 'BAGUS', 'gak', 'gk', 'ga', 'GAK', 'nggak', 'bgt', 'yg', 'udh', 'mantul', 'apk', 'tinggi',
  'maaaf', 'maaf', 'saaat', 'kasihh', 'membantuu', 'sehari-hari', 'hati2', 'anak2', 'a2b2', 'x2', 'kerennn',
  'wkwkwk', 'hmmm', 'aaaa', 'dokternya', 'pelayanannya', 'sangat membantu', 'terima kasih', 'tidak',
  '👍', '👍🏻', '😀', '❤️', '👨‍👩‍👧', '🇮🇩', '1️⃣', '🙏🏽', '©', '™', '°', '⭐',
  'https://halodoc.com/x?y=1&z=2,', 'http://a.b', 'www.Halodoc.com.', 'HTTPS://X.Y/', 'https://', 'www.',
  '@admin_1', '@', '#HalodocCare', '#', '#1', '@budi.s',
  '0', '12', '50rb', '3.5', '²', '½', '٣',
  '.', ',', '!', '?', '...', '…', '-', '--', '–', '—', '―', '_', "'", '"', '“', '”', '(', ')', '[', ']', ':', ';',
  '/', '\\', '*', '&', '^', '%', '$', '~', '`', '|', '<', '>', '+', '=', '¡', '¿', '«', '»', '·',
  ' ', '  ', '\t', '\n', '\r\n', '\u000b', '\u000c', '\u00a0', '\u2003', '\u3000', '\u0085', '\u001c', '\u200b', '\ufeff',
  'café', 'cafe\u0301', 'É', 'ü', 'ñ', 'ß', 'ǅ', 'Ǆ', 'İ', 'I', 'ı', 'K', 'Å', 'ﬁ', 'ｂａｇｕｓ',
  '中文', 'العربية', 'ไทย', 'e\u0301', '\u0301', 'Ω',
];

/** Pieces whose lower case differs between JavaScript and DuckDB (final sigma). Kept apart: see char-steps.ts. */
export const CASE_DIVERGENT_PIECES: readonly string[] = ['ΑΣ', 'ΣΑΣ'];

/** A random string of up to `maxPieces` pieces, joined directly or with a space. */
export function noisyText(rng: Rng, maxPieces = 12): string {
  const count = rng.int(maxPieces + 1);
  let text = '';
  for (let i = 0; i < count; i++) {
    if (i > 0 && rng.next() < 0.5) text += ' ';
    text += NOISY_PIECES[rng.int(NOISY_PIECES.length)] ?? '';
  }
  return text;
}
