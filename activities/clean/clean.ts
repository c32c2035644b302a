/**
 * Clean stage: the configured, ordered cleaning steps over the imported reviews. Character steps run
 * in DuckDB SQL (one expression); token steps (elongation, slang, stemming, stopwords) in TypeScript,
 * streamed in batches so large tables never sit in one JS array. Repeated review ids, blank inputs,
 * duplicate texts and rows emptied by cleaning go to `quarantine.parquet` with the reason; per-step
 * row counts go into the manifest.
 */
import { runStage, type StageDefinition } from '../../data/store/stage';
import type { ArtifactRef, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import type { CleanConfig } from './config';
import { loadCleanLexicons } from './lexicon';

export interface CleanParams {
  config: CleanConfig;
  /** Content hash of the lexicons the config uses, so editing a lexicon changes the key. */
  lexiconFingerprint: string;
}

export interface CleanInput {
  table: ArtifactRef;
  /** The `clean:` config; lexicon paths already absolute. */
  config: CleanConfig;
}

export const cleanStage: StageDefinition<CleanParams> = {
  stage: 'clean',
  version: 3,
  inputNames: ['table'],
  async compute(ctx) {
    // DuckDB and the cleaning steps load only here, on a cache miss.
    const { computeClean } = await import('./clean-run');
    return computeClean(ctx);
  },
};

export function createCleanActivity(deps: ActivityDeps) {
  return async function clean(input: CleanInput): Promise<StageOutcome> {
    const { fingerprint } = await loadCleanLexicons(input.config);
    return runStage(deps.store, cleanStage, { config: input.config, lexiconFingerprint: fingerprint }, { table: input.table }, deps);
  };
}
