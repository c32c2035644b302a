import type { FailureType } from '../workflows/plans/failures';
import { isRetryableFailureType } from '../workflows/plans/failures';

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
