import type { FailureType } from './failures';
import { FAILURE_TYPES, isRetryableFailureType } from './failures';

/** Where a failure happened, as precisely as known. */
export interface FailureContext {
  stage?: string;
  key?: string;
  file?: string;
  row?: number;
  field?: string;
}

/**
 * Every failure ulasan raises on purpose. `type` is one of the shared failure types; its message
 * says what was wrong, where, and what to do.
 */
export class UlasanError extends Error {
  override readonly name = 'UlasanError';

  constructor(
    readonly type: FailureType,
    message: string,
    readonly context: FailureContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return isRetryableFailureType(this.type);
  }
}

export const badInput = (message: string, context?: FailureContext): UlasanError =>
  new UlasanError('BadInput', message, context);

export const notFound = (message: string, context?: FailureContext): UlasanError =>
  new UlasanError('NotFound', message, context);

/** Node's codes for faults of the machine (not of the input) that retrying cannot mend. */
const ENVIRONMENT_CODES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
};
/** Codes of faults that may pass on their own (a busy device, a dropped connection, too many open files). */
const TRANSIENT_CODES = new Set(['EIO', 'EBUSY', 'EAGAIN', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'EAI_AGAIN']);
/** Codes that mean the named path is not what was asked for. */
const PATH_CODES: Record<string, string> = {
  ENOENT: 'does not exist',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'is not a directory',
};

type SystemError = Error & { code: string; path?: string; syscall?: string };

function isSystemError(error: unknown): error is SystemError {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** Errors that are not failures of the work: a cancellation must reach the runner as it is. */
const isCancellation = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'CancelledFailure' || error.name === 'AbortError');

const where = (context: FailureContext): string =>
  [context.stage && `stage ${context.stage}`, context.key && `artifact ${context.key}`].filter(Boolean).join(', ');

function systemFailure(error: SystemError, context: FailureContext): UlasanError {
  const path = error.path ?? context.file;
  const place = path ?? where(context);
  const at = place ? `${place}: ` : '';
  const ctx = { ...context, ...(path ? { file: path } : {}) };
  const environment = ENVIRONMENT_CODES[error.code];
  if (environment) {
    const fix = error.code === 'ENOSPC' || error.code === 'EDQUOT' ? 'free some space there' : 'make it writable by this user';
    const hint = `${fix}, or point ULASAN_HOME at a store that is writable; nothing half-written was kept in the store`;
    return new UlasanError('Environment', `${at}${environment} (${error.code}${error.syscall ? ` on ${error.syscall}` : ''}). ${capitalise(hint)}.`, ctx, { cause: error });
  }
  if (TRANSIENT_CODES.has(error.code)) return new UlasanError('Transient', `${at}${error.message}`, ctx, { cause: error });
  const pathProblem = PATH_CODES[error.code];
  if (pathProblem) return new UlasanError(error.code === 'ENOENT' ? 'NotFound' : 'BadInput', `${path ?? 'a path'} ${pathProblem}.`, ctx, { cause: error });
  return internalFailure(error, context);
}

const capitalise = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

function internalFailure(error: Error, context: FailureContext): UlasanError {
  const at = where(context);
  return new UlasanError(
    'Internal',
    `Internal error${at ? ` in ${at}` : ''}: ${error.message}. This is a bug in ulasan, not in your data: please report it with this ` +
      'message. The stage\'s inputs stay in the store, so the same command re-runs it (ULASAN_DEBUG=1 prints the stack).',
    context,
    { cause: error },
  );
}

/**
 * Any error as a typed ulasan failure, so both runners know whether to retry it: machine faults by
 * their Node code (read-only or full disk: `Environment`, never retried; a busy device: `Transient`),
 * everything unexpected as `Internal` (a bug: not retried, named with its stage and artifact).
 * Typed errors keep their type and gain the context they lacked; cancellations pass unchanged.
 */
export function classifyError(error: unknown, context: FailureContext = {}): unknown {
  if (isCancellation(error)) return error;
  if (error instanceof UlasanError) {
    const missing = Object.fromEntries(Object.entries(context).filter(([name]) => error.context[name as keyof FailureContext] === undefined));
    Object.assign(error.context, missing);
    return error;
  }
  if (isSystemError(error)) return systemFailure(error, context);
  const typed = typedCause(error);
  if (typed) return new UlasanError(typed.type, typed.message, context, { cause: error });
  return internalFailure(error instanceof Error ? error : new Error(String(error)), context);
}

/**
 * The typed failure inside a wrapper: a Temporal client gets `WorkflowFailedError` → `ActivityFailure`
 * → `ApplicationFailure` whose `type` is one of ours; the user should read that one, not "a bug".
 */
function typedCause(error: unknown): { type: FailureType; message: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && type in FAILURE_TYPES) return { type: type as FailureType, message: current.message };
    current = current.cause;
  }
  return undefined;
}
