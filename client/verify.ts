/** `ulasan verify`: recompute artifacts from their recorded inputs and compare bytes. */
import { STAGES } from '../activities';
import type { ArtifactStore } from '../data/store/artifact-store';
import { collectLineage } from '../data/store/lineage';
import { recomputeStage, type VerifyResult } from '../data/store/stage';

/** Verifies `key` alone, or with `deep` every ancestor too (sources first). */
export async function verifyArtifact(store: ArtifactStore, key: string, deep: boolean): Promise<VerifyResult[]> {
  const keys = deep ? (await collectLineage(store, key, { trusted: false })).map((m) => m.key) : [key];
  const results: VerifyResult[] = [];
  for (const current of keys) results.push(await recomputeStage(store, STAGES, current));
  return results;
}

export function formatVerify(result: VerifyResult): string {
  if (result.identical) return `identical  ${result.stage.padEnd(9)} ${result.key}`;
  const why = [result.problem, result.differing.length > 0 ? `differs in ${result.differing.join(', ')}` : undefined].filter(Boolean).join('; ');
  return `DIFFERENT  ${result.stage.padEnd(9)} ${result.key}: ${why}`;
}
