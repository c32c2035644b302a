/**
 * `ulasan verify`: recompute artifacts from their recorded inputs and compare bytes. A model is re-derived only on the
 * TensorFlow.js backend that trained it (its manifest records it): GPU, native and wasm kernels round differently, so
 * comparing a wasm retrain with GPU bytes would report a difference that says nothing about the artifact.
 */
import { STAGES } from '../activities';
import { manifestProblem, type ArtifactStore } from '../data/store/artifact-store';
import { collectLineage } from '../data/store/lineage';
import { recomputeStage, type VerifyResult } from '../data/store/stage';
import type { Manifest } from '../data/store/types';
import { BACKEND_ENV, TF_BACKENDS, type TfBackendName } from '../kernels/backend';

/** Verifies `key` alone, or with `deep` every ancestor too (sources first). */
export async function verifyArtifact(store: ArtifactStore, key: string, deep: boolean): Promise<VerifyResult[]> {
  const keys = deep ? (await collectLineage(store, key, { trusted: false })).map((m) => m.key) : [key];
  const results: VerifyResult[] = [];
  for (const current of keys) {
    // Read untrusted: a tampered manifest is for recomputeStage to report, not to end the verify.
    const manifest = await store.rawManifest(current);
    const mismatch = manifestProblem(manifest, current) ? undefined : await backendMismatch(manifest);
    results.push(mismatch ?? (await recomputeStage(store, STAGES, current)));
  }
  return results;
}

/** A result without recomputing when the artifact's model was trained on another TF backend than this process has. */
async function backendMismatch(manifest: Manifest): Promise<VerifyResult | undefined> {
  const recorded = manifest.summary.backend;
  if (!(TF_BACKENDS as readonly unknown[]).includes(recorded)) return undefined; // baselines ('js'), stages without a model
  const { tfBackend } = await import('../models/tf-runtime');
  const current = (await tfBackend()).name;
  if (current === recorded) return undefined;
  const problem =
    `trained on the ${recorded as TfBackendName} TensorFlow.js backend, but this process runs ${current}: their bytes differ by design, ` +
    `so they are not compared. Verify on a machine with ${recorded as string} (${BACKEND_ENV}=${recorded as string}).`;
  return { key: manifest.key, stage: manifest.stage, identical: false, differing: [], problem };
}

export function formatVerify(result: VerifyResult): string {
  if (result.identical) return `identical  ${result.stage.padEnd(9)} ${result.key}`;
  const why = [result.problem, result.differing.length > 0 ? `differs in ${result.differing.join(', ')}` : undefined].filter(Boolean).join('; ');
  return `DIFFERENT  ${result.stage.padEnd(9)} ${result.key}: ${why}`;
}
