/** Lineage: the graph of manifests reachable from an artifact through its input keys. */
import type { ArtifactStore } from './artifact-store';
import type { Manifest, Provenance } from './types';

/** `path on host` (or `role path, … on host`): where the files read were when the artifact was first made. */
export function describeProvenance(provenance: Provenance): string {
  const files = Object.entries(provenance.files ?? {}).map(([role, path]) => `${role} ${path}`);
  return `${[...(provenance.path ? [provenance.path] : []), ...files].join(', ')} on ${provenance.host}`;
}

/**
 * Every ancestor of `key` and the artifact itself, sources first (a topological order; ties in the
 * order inputs are declared), each exactly once. A manifest changed after it was written fails with
 * CorruptArtifact unless `trusted` is false.
 */
export async function collectLineage(store: ArtifactStore, key: string, options: { trusted: boolean } = { trusted: true }): Promise<Manifest[]> {
  const ordered: Manifest[] = [];
  const seen = new Set<string>();
  // `verify` walks untrusted manifests too, to say what is wrong with them; everything else refuses them.
  const read = (current: string) => (options.trusted ? store.manifest(current) : store.rawManifest(current));
  const visit = async (current: string): Promise<void> => {
    if (seen.has(current)) return;
    seen.add(current);
    const manifest = await read(current);
    for (const input of manifest.inputKeys) await visit(input);
    ordered.push(manifest);
  };
  await visit(key);
  return ordered;
}

/** One line per artifact: stage, short key, row counts and params, indented by depth from the source. */
export function formatLineage(chain: readonly Manifest[]): string {
  return chain
    .map((m, i) => {
      const rows = Object.entries(m.rowCounts)
        .map(([name, n]) => `${name}=${n}`)
        .join(' ');
      const inputs = m.inputKeys.map((k) => k.slice(0, 12)).join(', ') || 'none';
      return [
        `${i + 1}. ${m.stage} v${m.stageVersion}  ${m.key}`,
        `     inputs: ${inputs}`,
        `     rows: ${rows || '-'}`,
        `     params: ${JSON.stringify(m.params)}`,
        ...(m.provenance ? [`     read from: ${describeProvenance(m.provenance)} (not part of the key)`] : []),
        `     code: ${m.codeVersion}  created: ${m.createdAt}`,
      ].join('\n');
    })
    .join('\n');
}
