/**
 * Reading a workflow's real history back from the server in tests: every run of a workflow id
 * (continue-as-new makes several), activities scheduled and how many were in flight at once, and the
 * size of every payload the history carries.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

/** The histories of every run with this workflow id, oldest first. */
export async function runHistories(client: Client, workflowId: string): Promise<History[]> {
  const runs: { runId: string; startTime: Date }[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(execution);
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  return Promise.all(runs.map((run) => client.workflow.getHandle(workflowId, run.runId).fetchHistory()));
}

const events = (histories: History[]): HistoryEvent[] => histories.flatMap((h) => h.events ?? []);

/** Activity types scheduled, in order, across the runs. */
export function scheduledActivities(histories: History[]): string[] {
  return events(histories).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? ''] : []));
}

/** The most activities of `type` scheduled and not yet closed at any point of one run: what the sliding window allows. */
export function maxInFlight(history: History, type: string): number {
  const open = new Set<string>();
  let max = 0;
  for (const e of history.events ?? []) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === type) {
      open.add(String(e.eventId));
      max = Math.max(max, open.size);
    }
    const closed =
      e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
    if (closed?.scheduledEventId) open.delete(String(closed.scheduledEventId));
  }
  return max;
}

/** Byte sizes of every payload anywhere in the histories' events (inputs, results, continue-as-new args, failures). */
export function payloadSizes(histories: History[]): number[] {
  const sizes: number[] = [];
  const visit = (value: unknown): void => {
    if (!value || typeof value !== 'object') return;
    if (value instanceof Uint8Array) return;
    const record = value as Record<string, unknown>;
    if (record.data instanceof Uint8Array && 'metadata' in record) {
      sizes.push(record.data.byteLength);
      return;
    }
    for (const child of Object.values(record)) visit(child);
  };
  for (const event of events(histories)) visit(event);
  return sizes;
}
