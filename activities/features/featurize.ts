/**
 * New texts through a stored features artifact's fitted transform, in the layout its partitions have:
 * padded token ids from `vocab.json`, TF-IDF from `tfidf.json`, or document vectors from
 * `word-vectors.arrow`. The same functions the features stage applies to the val and test splits
 * (encodePadded, transformTfidfBlocks, documentVectors), so a text gets the same row wherever it comes from.
 * Loads apache-arrow: import lazily.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { UlasanError } from '../../core/errors';
import { readDense } from './arrow-io';
import { TFIDF_FILE, VOCAB_FILE, WORD_VECTORS_FILE } from './features';
import type { FeaturePartition } from './partition';
import { tfidfBlocksFromJson, transformTfidfBlocks } from './tfidf';
import { encodePadded, tokenize } from './vocabulary';
import { documentVectors } from './word2vec';

/** A features artifact as far as featurising needs it: a way to name its files, and its key for errors. */
export interface FeaturesSource {
  key: string;
  file(name: string): string;
}

/** The token vocabulary of a token-ids features artifact. */
export interface StoredVocabulary {
  seqLen: number;
  tokens: string[];
}

export async function readVocabulary(features: FeaturesSource): Promise<StoredVocabulary | undefined> {
  const path = features.file(VOCAB_FILE);
  return existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as StoredVocabulary) : undefined;
}

/**
 * One feature row per text (cleaned texts: space-separated tokens). `sourceRows` numbers the rows (the
 * input's own row numbers); labels are -1, unknown.
 */
export async function featurizeTexts(features: FeaturesSource, texts: readonly string[], sourceRows: Int32Array): Promise<FeaturePartition> {
  const rows = texts.length;
  const info = { labels: new Int32Array(rows).fill(-1), sourceRows, rows };
  const vocab = await readVocabulary(features);
  if (vocab) {
    const ids = encodePadded(texts, vocab, vocab.seqLen);
    return { layout: 'token-ids', matrix: { ids, labels: info.labels, sourceRows, rows, seqLen: vocab.seqLen }, ...info };
  }
  const tokens = texts.map(tokenize);
  const tfidfPath = features.file(TFIDF_FILE);
  if (existsSync(tfidfPath)) {
    const models = tfidfBlocksFromJson(JSON.parse(await readFile(tfidfPath, 'utf8')) as Parameters<typeof tfidfBlocksFromJson>[0]);
    return { layout: 'csr', x: transformTfidfBlocks(models, tokens), metadata: { fittedOn: 'train' }, ...info };
  }
  const vectorsPath = features.file(WORD_VECTORS_FILE);
  if (existsSync(vectorsPath)) {
    const { data: values, cols: dim, words } = await readDense(vectorsPath);
    const data = documentVectors({ vocab: words ?? [], vectors: values, dim }, tokens);
    return { layout: 'dense', x: { data, rows, cols: dim }, metadata: { fittedOn: 'train' }, ...info };
  }
  throw new UlasanError('CorruptArtifact', `features artifact ${features.key} has none of ${VOCAB_FILE}, ${TFIDF_FILE}, ${WORD_VECTORS_FILE}; recompute it.`, {
    key: features.key,
  });
}
