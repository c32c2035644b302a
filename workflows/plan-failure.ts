/** The plan's own failures as Temporal sees them: a PlanFailure fails the workflow, not retried (a thrown plain Error would only fail the workflow task, again and again). */
import { ApplicationFailure } from '@temporalio/workflow';
import { PlanFailure } from './plans/failures';

export function asWorkflowFailure(error: unknown): unknown {
  if (!(error instanceof PlanFailure)) return error;
  return ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: true, details: [error.context] });
}
