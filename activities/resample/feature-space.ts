/**
 * Which samplers make sense in which feature space. Interpolating between token-id sequences
 * yields fractional, meaningless ids: only random over/under-sampling is sound there, and SMOTE
 * and friends run on token ids only when the spec says `allowOnTokenIds: true` to reproduce a
 * published setup, with a flag the reports show.
 */
import { badInput } from '../../core/errors';
import type { FeatureMatrix } from './matrix';
import { isCsr } from './matrix';
import type { ResampleFlag } from './result';
import {
  INTERPOLATING_METHODS,
  parseSamplerSpec,
  type SamplerSpec,
  type SamplerSpecInput,
  type SingleSamplerSpec,
} from './spec';

/** token-ids: padded id sequences; embedded: flattened embedded sequences; doc-vectors: dense; tfidf: CSR or dense. */
export const FEATURE_SPACES = ['token-ids', 'embedded', 'doc-vectors', 'tfidf'] as const;
export type FeatureSpace = (typeof FEATURE_SPACES)[number];

const isInterpolating = (spec: SingleSamplerSpec): boolean =>
  (INTERPOLATING_METHODS as readonly string[]).includes(spec.method);

/**
 * Refuses a sampler that does not fit the feature space (BadInput, naming the step); returns the
 * flag to carry when an interpolating sampler is allowed on token ids.
 */
export function checkSamplerForFeatureSpace(
  written: SamplerSpec | SamplerSpecInput,
  space: FeatureSpace,
  x?: FeatureMatrix,
): ResampleFlag | undefined {
  const spec = parseSamplerSpec(written);
  if (!(FEATURE_SPACES as readonly string[]).includes(space)) {
    throw badInput(
      `Unknown feature space '${space}'; use one of ${FEATURE_SPACES.join(', ')}.`,
      { field: 'featureSpace' },
    );
  }
  const steps = spec.method === 'chain' ? spec.steps : [spec];
  let flagged = false;
  steps.forEach((step, i) => {
    const where = spec.method === 'chain' ? `chain step ${i} (${step.method})` : step.method;
    const field = { field: spec.method === 'chain' ? `steps.${i}.method` : 'method' };
    if (isInterpolating(step) && space === 'token-ids') {
      if (!('allowOnTokenIds' in step) || !step.allowOnTokenIds) {
        throw badInput(
          `${where} interpolates between rows, which turns token ids into fractional, meaningless ids. Use random-over or random-under on token ids, resample document vectors or TF-IDF instead, or set allowOnTokenIds: true to reproduce a published setup (the report will flag it).`,
          field,
        );
      }
      flagged = true;
    }
    if (step.method === 'smote-nc' && (space === 'tfidf' || (x && isCsr(x)))) {
      throw badInput(
        `${where} needs dense continuous + categorical columns; TF-IDF/sparse features have no categorical columns. Use smote instead.`,
        field,
      );
    }
    const noiseRefused = space === 'token-ids' || space === 'tfidf' || (x !== undefined && isCsr(x));
    if (step.method === 'random-over' && step.shrinkage !== null && noiseRefused) {
      throw badInput(
        `${where} with shrinkage adds Gaussian noise to every column, which corrupts token ids and densifies TF-IDF; drop shrinkage (plain bootstrap) for ${space}.`,
        { field: spec.method === 'chain' ? `steps.${i}.shrinkage` : 'shrinkage' },
      );
    }
  });
  if (!flagged) return undefined;
  return {
    code: 'interpolated-token-ids',
    message:
      'Interpolating sampler applied to token-id sequences (allowOnTokenIds): synthetic rows hold fractional token ids. Kept only to reproduce a published setup; not a sound feature space for SMOTE.',
  };
}
