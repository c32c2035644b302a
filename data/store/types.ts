/** Shapes shared by the artifact store, the stages and the runners. Pure types: workflows import them. */

/** A pointer to one artifact: what Temporal payloads carry between stages instead of data. */
export interface ArtifactRef {
  /** sha256 of the stage's canonical definition (stage, version, params, input keys). */
  key: string;
  stage: string;
}

/** Integrity record of one file in an artifact. */
export interface FileRecord {
  sha256: string;
  bytes: number;
}

/** The `manifest.json` beside every artifact's files: its whole lineage record. */
export interface Manifest {
  key: string;
  stage: string;
  stageVersion: number;
  /** Canonical params the key was computed from. */
  params: unknown;
  /** Named inputs (e.g. `{ table: key }`); `inputKeys` is their values in declaration order. */
  inputs: Record<string, string>;
  inputKeys: string[];
  /**
   * Where what the stage read came from, when that is not an artifact (a source file's path and
   * host). Recorded for lineage, never part of the key: the same bytes elsewhere are the same artifact.
   */
  provenance?: Provenance;
  files: Record<string, FileRecord>;
  codeVersion: string;
  rowCounts: Record<string, number>;
  /** Small stage-specific facts for reports and lineage (class counts, backend, flags). */
  summary: Record<string, unknown>;
  timings: { computeMs: number };
  createdAt: string;
  /** Which workflow, attempt, task queue and worker made it (Temporal runs only); outside the key. */
  execution?: Execution;
  /**
   * sha256 of the manifest's JSON without this field, so a changed or damaged manifest is
   * caught like a damaged file. Absent in manifests written before it existed (those are trusted as they are).
   */
  digest?: string;
}

/** Where an artifact was computed on Temporal. */
export interface Execution {
  workflowId: string;
  runId: string;
  activityId: string;
  attempt: number;
  taskQueue: string;
  workerIdentity: string;
}

/** A source file as the run that first stored an artifact saw it. */
export interface Provenance {
  /** Absolute path on `host` of the one file read (import, split); absent where `files` names several. */
  path?: string;
  host: string;
  /** Absolute paths on `host` of several files read, by role (clean: `slang`, `stopwords`). */
  files?: Record<string, string>;
}

export type CacheStatus = 'hit' | 'miss';

/** What every stage activity returns: where its artifact is and how it was obtained. */
export interface StageOutcome {
  ref: ArtifactRef;
  cache: CacheStatus;
  /** Why it missed: `absent`, `corrupt: <detail>`, `bypassed`. */
  reason?: string;
  ms: number;
  summary: Record<string, unknown>;
  /** What the run must tell its user about this outcome (e.g. too few test rows, allowed by --allow-small). */
  warnings?: string[];
}
