/**
 * Clean stage: the configured, ordered cleaning steps over the imported reviews. Character steps run
 * in DuckDB SQL (one expression); token steps (elongation, slang, stemming, stopwords) in TypeScript,
 * streamed in batches so large tables never sit in one JS array. Repeated review ids, blank inputs,
 * duplicate texts and rows emptied by cleaning go to `quarantine.parquet` with the reason; per-step
 * row counts go into the manifest.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { runStage, type StageDefinition, type StageIdentity } from '../../data/store/stage';
import type { ArtifactRef, Provenance, StageOutcome } from '../../data/store/types';
import type { ActivityDeps } from '../context';
import { badInput } from '../../core/errors';
import { CleanConfigSchema, type CleanConfig } from './config';
import { loadCleanLexicons, type LoadedCleanLexicons } from './lexicon';

export interface CleanParams {
  config: CleanConfig;
  /** Content hash of the lexicons the config uses, so editing a lexicon changes the key (their paths do not: see `LEXICON_FILE`). */
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
 * Stands in the key for a lexicon file (`slang.lexicon`, `stopwords.source` given as a path): its
 * content is in `lexiconFingerprint`, its path in the manifest's provenance (`files.slang`,
 * `files.stopwords`), so the same lexicon elsewhere gives the same key.
 */
export const LEXICON_FILE = 'file';

/**
 * The config as keyed: options of a switched-off step (a disabled slang step's lexicon, a disabled
 * stopword step's list and keep words, hyphen keeping when nothing removes punctuation) take their
 * defaults, so flipping them changes no key; a lexicon file's path becomes `LEXICON_FILE`.
 */
export function cleanKeyConfig(config: CleanConfig): CleanConfig {
  const hyphensMatter = config.removePunctuation || config.nonLetters !== 'off';
  const { slang, stopwords } = config;
  return {
    ...config,
    keepWordHyphens: hyphensMatter ? config.keepWordHyphens : DEFAULTS.keepWordHyphens,
    slang: slang.enabled ? { ...slang, lexicon: slang.lexicon === 'builtin' ? 'builtin' : LEXICON_FILE } : { ...DEFAULTS.slang, enabled: false },
    stopwords: stopwords.enabled
      ? { ...stopwords, source: stopwords.source === 'stopwords-iso' ? 'stopwords-iso' : LEXICON_FILE }
      : { ...DEFAULTS.stopwords, enabled: false },
  };
}

/**
 * The stage params of a config (keyed config and lexicon fingerprint), and the lexicon files it reads
 * by role, as absolute paths: the manifest's provenance, absent when it reads only built-in lists.
 */
export async function cleanStageParams(config: CleanConfig): Promise<{ params: CleanParams; provenance?: Provenance }> {
  const keyed = cleanKeyConfig(config);
  const params = { config: keyed, lexiconFingerprint: (await loadCleanLexicons(config)).fingerprint };
  const files: Record<string, string> = {
    ...(keyed.slang.lexicon === LEXICON_FILE ? { slang: resolve(config.slang.lexicon) } : {}),
    ...(keyed.stopwords.source === LEXICON_FILE ? { stopwords: resolve(config.stopwords.source) } : {}),
  };
  return Object.keys(files).length > 0 ? { params, provenance: { host: hostname(), files } } : { params };
}

/**
 * The config a clean artifact ran with: its keyed config with the lexicon files put back from its
 * provenance. Refused when the provenance lacks one (a manifest edited by hand).
 */
export function cleanConfigOf(keyed: CleanConfig, provenance: Provenance | undefined, key: string): CleanConfig {
  const file = (role: string): string => {
    const path = provenance?.files?.[role];
    if (path) return path;
    throw badInput(`clean ${key} keys a ${role} lexicon file but its manifest records no path for it; run the experiment again.`, {
      stage: 'clean',
      key,
      field: `provenance.files.${role}`,
    });
  };
  return {
    ...keyed,
    slang: keyed.slang.lexicon === LEXICON_FILE ? { ...keyed.slang, lexicon: file('slang') } : keyed.slang,
    stopwords: keyed.stopwords.source === LEXICON_FILE ? { ...keyed.stopwords, source: file('stopwords') } : keyed.stopwords,
  };
}

/** The config and lexicons a clean artifact ran with, refused if a lexicon's content changed since its key was made. */
export async function cleanLexiconsOf(
  params: CleanParams,
  provenance: Provenance | undefined,
  key: string,
  whatToDo: string,
): Promise<{ config: CleanConfig; lexicons: LoadedCleanLexicons }> {
  const config = cleanConfigOf(params.config, provenance, key);
  const lexicons = await loadCleanLexicons(config);
  if (lexicons.fingerprint !== params.lexiconFingerprint) {
    const files = Object.values(provenance?.files ?? {}).join(', ') || 'the built-in lexicons';
    throw badInput(`the lexicons of clean ${key} (${files}) changed since it was made; ${whatToDo}`, { stage: 'clean', key });
  }
  return { config, lexicons };
}

/** What keys the clean stage; its work is clean-compute.ts (joined in activities/stages.ts). */
export const cleanIdentity: StageIdentity = {
  stage: 'clean',
  // 4: options of switched-off steps take their defaults in the key (cleanKeyConfig).
  // 5: a lexicon file is keyed by content only; its path is the manifest's provenance.
  version: 5,
  inputNames: ['table'],
};

/** The clean activity over `stage` (activities/stages.ts `cleanStage`: this identity and its compute). */
export function createCleanActivity(deps: ActivityDeps, stage: StageDefinition<CleanParams>) {
  return async function clean(input: CleanInput): Promise<StageOutcome> {
    const { params, provenance } = await cleanStageParams(input.config);
    return runStage(deps.store, stage, params, { table: input.table }, { ...deps, ...(provenance ? { provenance } : {}) });
  };
}
