/**
 * The one list of failure types. Activities throw `UlasanError`s carrying one of these types; the
 * Temporal retry profiles mark the non-retryable ones (`nonRetryableErrorTypes`) and the local runner
 * reads the same list, so both runners give up on the same failures.
 *
 * Pure data: workflow code imports it.
 */
export const FAILURE_TYPES = {
  /** The input (spec, file, rows, artifact) is wrong; retrying cannot help. */
  BadInput: { retryable: false },
  /** A named file, app or artifact does not exist. */
  NotFound: { retryable: false },
  /** A stage was asked to do something that would leak test data into training. */
  LeakageRefused: { retryable: false },
  /** A cached artifact's files do not match their recorded hashes. */
  CorruptArtifact: { retryable: true },
  /**
   * A stage could not read one of its input artifacts; the input was moved aside. Retrying the stage
   * cannot help: the plan recomputes the input's producer once (see recovery.ts), then runs the stage again.
   */
  CorruptInput: { retryable: false },
  /** A remote service asked us to slow down (HTTP 429, 503). */
  RateLimited: { retryable: true },
  /** A network or service fault that may pass (timeouts, resets, 5xx). */
  Transient: { retryable: true },
  /**
   * The machine refuses: no permission, a read-only or full disk. Retrying cannot help until someone
   * frees space or fixes permissions; the message names the path.
   */
  Environment: { retryable: false },
  /** A remote payload no longer has the shape we parse: needs a code change, alert someone. */
  LayoutChanged: { retryable: false },
  /** An internal invariant broke: a bug. */
  Internal: { retryable: false },
  /** No worker took an activity from its task queue in time (a mistyped queue, or no GPU worker running). */
  NoWorker: { retryable: false },
  /** An attempt ran out of time (heartbeat or start-to-close) on every retry, or the run hit its execution timeout. */
  TimedOut: { retryable: false },
  /** The run was cancelled (`ulasan cancel`). */
  Cancelled: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type FailureType = keyof typeof FAILURE_TYPES;

export const NON_RETRYABLE_FAILURE_TYPES: FailureType[] = (Object.keys(FAILURE_TYPES) as FailureType[]).filter(
  (type) => !FAILURE_TYPES[type].retryable,
);

export function isRetryableFailureType(type: string | undefined): boolean {
  if (type === undefined || !(type in FAILURE_TYPES)) return true; // unknown errors: retry, as Temporal does
  return FAILURE_TYPES[type as FailureType].retryable;
}

/**
 * A failure the plan itself decides on (not an activity's), with one of the failure types above. Pure:
 * the Temporal workflows turn it into a non-retryable ApplicationFailure, the CLI prints it like a UlasanError.
 */
export class PlanFailure extends Error {
  override readonly name = 'PlanFailure';

  constructor(
    readonly type: FailureType,
    message: string,
    readonly context: { stage?: string; key?: string; file?: string } = {},
  ) {
    super(message);
  }
}

/** A failure as the run records it: the failure type when known, and the innermost message. */
export interface FailureSummary {
  type: string | null;
  message: string;
}

/**
 * The type and innermost message of a failure. Temporal wraps an activity's ApplicationFailure in an
 * ActivityFailure inside a ChildWorkflowFailure; the first `type` on the cause chain is ours.
 */
export function describeFailure(error: unknown): FailureSummary {
  let type: string | null = null;
  let message = String(error);
  for (let current: unknown = error, depth = 0; current && depth < 8; depth++) {
    const node = current as { type?: unknown; message?: unknown; cause?: unknown };
    if (type === null && typeof node.type === 'string') type = node.type;
    if (typeof node.message === 'string' && node.message !== '') message = node.message;
    current = node.cause;
  }
  return { type, message };
}
