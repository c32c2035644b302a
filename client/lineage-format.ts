/**
 * `ulasan lineage` output for auditors: the artifact graph behind a key as JSON (nodes and edges) or
 * as Graphviz DOT (`ulasan lineage <key> --dot | dot -Tsvg > lineage.svg`). Each node carries its
 * stage, params, row counts, code version and timestamps.
 */
import { describeProvenance } from '../data/store/lineage';
import type { Manifest } from '../data/store/types';

/** One artifact of the graph: its manifest without the file list, plus the file hashes. */
export interface LineageGraphNode {
  key: string;
  stage: string;
  stageVersion: number;
  params: unknown;
  /** Where a source file was read when the artifact was made (not part of its key). */
  provenance?: Manifest['provenance'];
  rowCounts: Record<string, number>;
  summary: Record<string, unknown>;
  codeVersion: string;
  createdAt: string;
  computeMs: number;
  files: Record<string, string>;
}

/** `from` was read by `to` as its input `input`. */
export interface LineageEdge {
  from: string;
  to: string;
  input: string;
}

export interface LineageGraph {
  /** The artifact asked about. */
  root: string;
  /** Sources first. */
  nodes: LineageGraphNode[];
  edges: LineageEdge[];
}

/** The graph of a lineage chain (as `collectLineage` returns it: sources first, the artifact last). */
export function lineageGraph(chain: readonly Manifest[]): LineageGraph {
  const nodes = chain.map((m) => ({
    key: m.key,
    stage: m.stage,
    stageVersion: m.stageVersion,
    params: m.params,
    ...(m.provenance ? { provenance: m.provenance } : {}),
    rowCounts: m.rowCounts,
    summary: m.summary,
    codeVersion: m.codeVersion,
    createdAt: m.createdAt,
    computeMs: m.timings.computeMs,
    files: Object.fromEntries(Object.entries(m.files).map(([name, f]) => [name, f.sha256])),
  }));
  const edges = chain.flatMap((m) => Object.entries(m.inputs).map(([input, from]) => ({ from, to: m.key, input })));
  return { root: chain.at(-1)?.key ?? '', nodes, edges };
}

/** A DOT string literal: quotes and backslashes escaped, newlines as left-justified line breaks. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\l')}"`;
}

/** Splits long text into lines of at most `width` characters (params JSON has no natural breaks). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (let at = 0; at < text.length; at += width) lines.push(text.slice(at, at + width));
  return lines.length > 0 ? lines : [''];
}

function nodeLabel(m: Manifest): string {
  const rows = Object.entries(m.rowCounts).map(([name, n]) => `${name}=${n}`).join(' ') || '-';
  return [
    `${m.stage} v${m.stageVersion}  ${m.key.slice(0, 16)}`,
    `rows: ${rows}`,
    ...wrap(`params: ${JSON.stringify(m.params)}`, 64),
    ...(m.provenance ? wrap(`read from: ${describeProvenance(m.provenance)}`, 64) : []),
    `code: ${m.codeVersion}`,
    `created: ${m.createdAt}  compute: ${m.timings.computeMs} ms`,
  ].join('\n') + '\n';
}

/** Graphviz DOT of a lineage chain: one box per artifact, edges from input to consumer labelled with the input name. */
export function formatLineageDot(chain: readonly Manifest[]): string {
  const root = chain.at(-1)?.key;
  const nodes = chain.map((m) => {
    const style = m.key === root ? ', style="bold,filled", fillcolor="#eef6ff"' : '';
    return `  ${dotString(m.key)} [label=${dotString(nodeLabel(m))}, tooltip=${dotString(m.key)}${style}];`;
  });
  const edges = chain.flatMap((m) =>
    Object.entries(m.inputs).map(([input, from]) => `  ${dotString(from)} -> ${dotString(m.key)} [label=${dotString(input)}];`),
  );
  return ['digraph lineage {', '  rankdir=TB;', '  node [shape=box, fontname="monospace", fontsize=10];', '  edge [fontname="monospace", fontsize=9];', ...nodes, ...edges, '}', ''].join('\n');
}
