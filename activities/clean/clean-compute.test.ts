/**
 * The clean stage on inputs where cleaning empties no row: nothing to trace, so the list of emptied
 * rows is empty (DuckDB cannot bind an empty untyped list; this crashed every such file once).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../data/store/artifact-store';
import { createActivities } from '../index';
import { CleanConfigSchema } from './config';

let dir: string;
let activities: ReturnType<typeof createActivities>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ulasan-clean-'));
  activities = createActivities({ store: new ArtifactStore(join(dir, 'store')), heartbeat: () => undefined, warn: () => undefined });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function cleanFile(name: string, csv: string, config: Record<string, unknown> = {}) {
  const path = join(dir, name);
  await writeFile(path, csv);
  const imported = await activities.importReviews({ source: { kind: 'file', path } });
  return activities.clean({ table: imported.ref, config: CleanConfigSchema.parse(config) });
}

describe('clean where cleaning empties no row', () => {
  it('keeps 300 ordinary unique reviews', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `r${i},aplikasi bagus nomor ${i},${(i % 5) + 1}`);
    const outcome = await cleanFile('ordinary.csv', `reviewId,content,score\n${lines.join('\n')}\n`);
    expect(outcome.summary).toMatchObject({ rows: 300, quarantined: 0 });
  });

  it('cleans a header-only file to an empty table', async () => {
    const outcome = await cleanFile('header-only.csv', 'reviewId,content,score\n');
    expect(outcome.summary).toMatchObject({ rows: 0, quarantined: 0 });
  });

  it('cleans the synthetic quickstart with removeEmoji off', async () => {
    const imported = await activities.importReviews({ source: { kind: 'synthetic', rows: 200, seed: 3 } });
    const outcome = await activities.clean({ table: imported.ref, config: CleanConfigSchema.parse({ removeEmoji: false }) });
    const summary = outcome.summary as { rows: number; quarantined: number; byReason: Record<string, number> };
    expect(summary.rows).toBeGreaterThan(100);
    expect(Object.keys(summary.byReason).filter((r) => r.startsWith('emptied by'))).toEqual([]);
  });
});
