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
import { CleanConfigSchema, type CleanConfig } from './config';
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

/** Defaults of the sub-options that a switched-off step ignores. */
const DEFAULTS = CleanConfigSchema.parse({});

/**
 * The config as keyed: options of a switched-off step (a disabled slang step's lexicon, a disabled
 * stopword step's list and keep words, hyphen keeping when nothing removes punctuation) take their
 * defaults, so flipping them changes no key. The compute reads this same config, so it is what ran.
 */
export function cleanKeyConfig(config: CleanConfig): CleanConfig {
  const hyphensMatter = config.removePunctuation || config.nonLetters !== 'off';
  return {
    ...config,
    keepWordHyphens: hyphensMatter ? config.keepWordHyphens : DEFAULTS.keepWordHyphens,
    slang: config.slang.enabled ? config.slang : { ...DEFAULTS.slang, enabled: false },
    stopwords: config.stopwords.enabled ? config.stopwords : { ...DEFAULTS.stopwords, enabled: false },
  };
}

export const cleanStage: StageDefinition<CleanParams> = {
  stage: 'clean',
  // 4: options of switched-off steps take their defaults in the key (cleanKeyConfig).
  version: 4,
  inputNames: ['table'],
  async compute(ctx) {
    // DuckDB and the cleaning steps load only here, on a cache miss.
    const { computeClean } = await import('./clean-run');
    return computeClean(ctx);
  },
};

export function createCleanActivity(deps: ActivityDeps) {
  return async function clean(input: CleanInput): Promise<StageOutcome> {
    const config = cleanKeyConfig(input.config);
    const { fingerprint } = await loadCleanLexicons(config);
    return runStage(deps.store, cleanStage, { config, lexiconFingerprint: fingerprint }, { table: input.table }, deps);
  };
}
