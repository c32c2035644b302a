import type { ArtifactStore } from '../data/store/artifact-store';
import type { Execution } from '../data/store/types';

/** What every activity needs from its host (the worker or the local runner), created once per process
 * (per job in an activity thread, where cancellation, resume details and execution are the job's). */
export interface ActivityDeps {
  store: ArtifactStore;
  /** Progress for long stages: Temporal heartbeat on a worker, a no-op or log locally. */
  heartbeat: (details?: unknown) => void;
  /** Where cache decisions worth a human's attention go (a corrupt entry recomputed). */
  warn: (message: string) => void;
  /** Hash every file of every cache hit instead of trusting matching stamps (`ulasan run --verify-hashes`). @default false */
  verifyHashes?: boolean;
  /** Throws when the run was cancelled; long stages call it between units of work (batches). */
  throwIfCancelled?: () => void;
  /** The last progress an earlier attempt of this activity heartbeated (Temporal's heartbeat details). */
  resumeFrom?: () => unknown;
  /** Who ran the activity, recorded in manifests beside (never in) the key. */
  execution?: () => Execution | undefined;
}

export type { ArtifactRef, Execution, StageOutcome } from '../data/store/types';
