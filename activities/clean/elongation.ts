/**
 * Elongation squeezing: `bagusss` → `bagus`, `mantappp` → `mantap`, `kerennn` → `keren`.
 *
 * Decision on legitimate doubles: Indonesian has many words with a doubled letter (`tinggi`,
 * `maaf`, `saat`, `taat`, `sakkarin`), and nothing marks an elongation better than a run of three
 * or more. So runs of two are never touched, and each run of 3+ identical letters becomes one
 * letter, or two when the two-letter form is a known word (`maaaaf` → `maaf`, `saaat` → `saat`,
 * `tinggggi` → `tinggi`; `bagusss` → `bagus` since `baguss` is no word).
 * A doubled last letter is squeezed too when the word is unknown and the single form is known
 * (`mantapp`, `kasihh`, `membantuu`): reviews end words like that all the time.
 * Known words: the stemmer's root dictionary, stopwords and both sides of the slang lexicon (tried
 * first, doubles preferred), then words that merely stem to a root (`membantu`; weaker evidence,
 * singles preferred). The output never holds a run of three and never ends in an
 * unknown double whose single form is known, so squeezing is idempotent.
 */

/** Runs of 3+ identical letters (a letter and two or more repeats). */
const RUN = /(\p{L})\1{2,}/gu;
/** The same, not global: `test` on a global regex moves its `lastIndex`, which `matchAll` copies. */
const HAS_RUN = /(\p{L})\1{2,}/u;

/** More runs than this and only the all-single form is tried (2^k candidates otherwise). */
const MAX_RUNS_TRIED = 4;

/** How a squeezer tells words from non-words. */
export interface Vocabulary {
  /** Strong evidence: a root word or a lexicon word (`tinggi`, `maaf`). */
  isWord(word: string): boolean;
  /** Weak evidence: an inflected form of a root (`membantu`); also true of some non-words (`tingi`). */
  isDerived(word: string): boolean;
}

/** Returns a function squeezing one token, choosing among candidate forms with the vocabulary. */
export function createSqueezer(vocabulary: Vocabulary): (token: string) => string {
  const isKnown = (word: string): boolean => vocabulary.isWord(word) || vocabulary.isDerived(word);
  return (token) => {
    if (!hasRun(token)) return squeezeFinalDouble(token, isKnown);
    const parts = splitRuns(token);
    const runs = parts.filter((p) => p.run).length;
    const single = render(parts, 0);
    const masks = runs > MAX_RUNS_TRIED ? [0] : Array.from({ length: 1 << runs }, (_, i) => i);
    // A real word first, preferring doubled runs: when both `sat` and `saat`, `tingi` and `tinggi` are
    // dictionary words, a double-letter word is the rarer, more specific match. Then a derivable
    // form, preferring single runs (`membantuuu` → `membantu`).
    const moreDoubles = [...masks].sort((a, b) => popcount(b) - popcount(a) || a - b);
    const fewerDoubles = [...masks].sort((a, b) => popcount(a) - popcount(b) || a - b);
    for (const mask of moreDoubles) {
      const candidate = render(parts, mask);
      if (vocabulary.isWord(candidate)) return candidate;
    }
    for (const mask of fewerDoubles) {
      const candidate = render(parts, mask);
      if (vocabulary.isDerived(candidate)) return candidate;
    }
    return squeezeFinalDouble(single, isKnown);
  };
}

const FINAL_DOUBLE = /(\p{L})\1$/u;

function squeezeFinalDouble(token: string, isKnown: (word: string) => boolean): string {
  const match = FINAL_DOUBLE.exec(token);
  if (!match) return token;
  const single = token.slice(0, token.length - (match[1] ?? '').length);
  return !isKnown(token) && isKnown(single) ? single : token;
}

/** Whether the token has a run of 3+ identical letters. */
export function hasRun(token: string): boolean {
  return HAS_RUN.test(token);
}

interface Part {
  readonly text: string;
  readonly run: boolean;
}

function splitRuns(token: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of token.matchAll(RUN)) {
    if (match.index > last) parts.push({ text: token.slice(last, match.index), run: false });
    parts.push({ text: match[1] ?? '', run: true });
    last = match.index + match[0].length;
  }
  if (last < token.length) parts.push({ text: token.slice(last), run: false });
  return parts;
}

/** Bit i of `mask` set: the i-th run is rendered as two letters, else one. */
function render(parts: readonly Part[], mask: number): string {
  let out = '';
  let runIndex = 0;
  for (const part of parts) {
    if (!part.run) {
      out += part.text;
      continue;
    }
    out += mask & (1 << runIndex) ? part.text + part.text : part.text;
    runIndex++;
  }
  return out;
}

function popcount(n: number): number {
  let count = 0;
  for (let v = n; v; v &= v - 1) count++;
  return count;
}
