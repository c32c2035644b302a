import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureLineage, type FixtureLineage } from '../activities/report/testing/fixture-store';
import { ArtifactStore } from '../data/store/artifact-store';
import { collectLineage } from '../data/store/lineage';
import type { Manifest } from '../data/store/types';
import { dotString, formatLineageDot, lineageGraph } from './lineage-format';

let root: string;
let fixture: FixtureLineage;
let chain: Manifest[];
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ulasan-lineage-'));
  const store = new ArtifactStore(root);
  fixture = await writeFixtureLineage(store);
  chain = await collectLineage(store, fixture.evaluationKey);
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('lineage graph', () => {
  it('has every artifact back to the import, with one edge per recorded input', () => {
    const graph = lineageGraph(chain);
    expect(graph.root).toBe(fixture.evaluationKey);
    expect(graph.nodes.map((n) => n.stage)).toEqual(['import', 'clean', 'annotate', 'split', 'features', 'resample', 'train', 'evaluate']);
    expect(graph.nodes[0]).toMatchObject({ params: { kind: 'synthetic', rows: 62 }, rowCounts: { rows: 62 }, codeVersion: '0.0.0+fixture', createdAt: '2026-01-01T00:00:00.000Z' });
    expect(graph.nodes[0]!.files['reviews.parquet']).toMatch(/^[0-9a-f]{64}$/);
    expect(graph.edges).toHaveLength(9);
    expect(graph.edges).toContainEqual({ from: fixture.featuresKey, to: fixture.trainKey, input: 'features' });
    expect(graph.edges).toContainEqual({ from: fixture.resampleKey, to: fixture.trainKey, input: 'train' });
  });
});

describe('DOT output', () => {
  it('escapes quotes and backslashes and turns newlines into left-justified breaks', () => {
    expect(dotString('a "b" \\ c\nd')).toBe('"a \\"b\\" \\\\ c\\ld"');
  });

  it('draws one box per artifact with stage, rows, params, code and time, and labelled edges', () => {
    const dot = formatLineageDot(chain);
    expect(dot.startsWith('digraph lineage {\n')).toBe(true);
    expect(dot.trimEnd().endsWith('}')).toBe(true);
    const nodes = dot.split('\n').filter((l) => / \[label=/.test(l) && !l.includes('->'));
    expect(nodes).toHaveLength(8);
    const importNode = nodes[0]!;
    expect(importNode).toContain(`"${fixture.importKey}" [label="import v1  ${fixture.importKey.slice(0, 16)}\\lrows: rows=62 quarantined=0\\lparams: {\\"kind\\":\\"synthetic\\"`);
    expect(importNode).toContain('code: 0.0.0+fixture\\lcreated: 2026-01-01T00:00:00.000Z  compute: 5 ms\\l"');
    expect(dot).toContain(`"${fixture.featuresKey}" -> "${fixture.trainKey}" [label="features"];`);
    expect(nodes.at(-1)).toContain('style="bold,filled"');
    // Every line is either structure, a node or an edge: nothing unescaped leaks into the syntax.
    for (const line of dot.trim().split('\n').slice(4, -1)) expect(line).toMatch(/^ {2}"[0-9a-f]{64}"( -> "[0-9a-f]{64}")? \[.*\];$/);
  });
});
