// Builds Temporal workflow histories from recorded activity calls, so tests can prove workflow
// determinism with Worker.runReplayHistory without a Temporal server (see DESIGN.md).
//
// Histories are built in Temporal's JSON history format (what `temporal workflow show --output json`
// writes) and parsed with the SDK's own historyFromJSON: one representation, validated by the SDK.
import { createHash } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  historyFromJSON,
  historyToJSON as historyToJSONString,
  payloadToJSON,
  type History,
} from '@temporalio/common/lib/proto-utils.js';
import { SdkFlags } from '@temporalio/workflow/lib/flags.js';

export type { History };

export interface RecordedActivityCall {
  activityType: string;
  taskQueue: string;
  args: unknown[];
  result: unknown;
}

/** A child workflow started by the recorded run, with how it ended. */
export interface RecordedChildCall {
  kind: 'child';
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  result?: unknown;
  /** The child failed with this ApplicationFailure instead of returning `result`. */
  failure?: { type: string; message: string };
}

export interface RecordedRun {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  /** Each inner array holds the activities (and child workflows) scheduled together in one workflow task. */
  steps: (RecordedActivityCall | RecordedChildCall)[][];
  result: unknown;
  /** The run ended in continue-as-new with these arguments for the next run (instead of completing). */
  continuedAsNew?: { args: unknown[] };
}

/** A history in Temporal's JSON format: int64 fields are strings, enums are their names. */
export interface HistoryJSON {
  events: Record<string, unknown>[];
}

const IDENTITY = 'ulasan-history-builder';
const NAMESPACE = 'default';
const TASK_TIMEOUT = '10s';
// A fixed clock keeps built histories identical from run to run, so they can be diffed or stored.
const START_TIME_MS = Date.UTC(2024, 0, 1);
const EVENT_SPACING_MS = 10;
// Core compares activity ids and types on replay only when the history says the original worker
// did (flag 1, IdAndTypeDeterminismChecks); 2 and 3 are the other flags a current core records.
const CORE_FLAGS = [1, 2, 3];
// Declaring the SDK's default-on lang flags makes replay take the code paths a live worker takes.
const LANG_FLAGS = Object.values(SdkFlags)
  .filter((flag) => flag.default)
  .map((flag) => flag.id);

/** A history for Worker.runReplayHistory, as a server would have recorded the run. */
export function buildHistory(run: RecordedRun): History {
  return historyFromJSON(buildHistoryJSON(run));
}

/** The JSON form of a history; historyFromJSON (and runReplayHistory) read it back. */
export function historyToJSON(history: History): HistoryJSON {
  return JSON.parse(historyToJSONString(history)) as HistoryJSON;
}

/** The same history in Temporal's JSON format, e.g. to store as a fixture. */
export function buildHistoryJSON(run: RecordedRun): HistoryJSON {
  const log = new EventLog();
  log.add('WORKFLOW_EXECUTION_STARTED', startedAttributes(run));
  // The SDK numbers activities 1, 2, ... across the whole run and uses the number as activity id.
  let nextActivitySeq = 1;
  run.steps.forEach((step, index) => {
    if (step.length === 0) throw new Error(`Step ${index} of ${run.workflowId} has no activity calls`);
    const taskCompletedId = addWorkflowTask(log, run.taskQueue, index === 0);
    const activities = step.filter((call): call is RecordedActivityCall => !('kind' in call));
    const children = step.filter((call): call is RecordedChildCall => 'kind' in call);
    if (activities.length > 0) addActivities(log, activities, nextActivitySeq, taskCompletedId);
    if (children.length > 0) addChildren(log, children, taskCompletedId);
    nextActivitySeq += activities.length;
  });
  const taskCompletedId = addWorkflowTask(log, run.taskQueue, run.steps.length === 0);
  if (run.continuedAsNew) {
    log.add('WORKFLOW_EXECUTION_CONTINUED_AS_NEW', {
      newExecutionRunId: runIdFor(`${run.workflowId}/next`),
      workflowType: { name: run.workflowType },
      taskQueue: taskQueue(run.taskQueue),
      input: payloads(run.continuedAsNew.args),
      workflowTaskTimeout: TASK_TIMEOUT,
      workflowTaskCompletedEventId: taskCompletedId,
      initiator: 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW',
    });
    return { events: log.events };
  }
  log.add('WORKFLOW_EXECUTION_COMPLETED', {
    result: payloads([run.result]),
    workflowTaskCompletedEventId: taskCompletedId,
  });
  return { events: log.events };
}

/** Appends events with sequential ids and increasing times. */
class EventLog {
  readonly events: Record<string, unknown>[] = [];

  /** Adds an event of `type` (EventType without its EVENT_TYPE_ prefix); returns its id. */
  add(type: string, attributes: Record<string, unknown>): string {
    const eventId = String(this.events.length + 1);
    this.events.push({
      eventId,
      eventTime: new Date(START_TIME_MS + this.events.length * EVENT_SPACING_MS).toISOString(),
      eventType: `EVENT_TYPE_${type}`,
      [attributesKey(type)]: attributes,
    });
    return eventId;
  }
}

/** WORKFLOW_TASK_SCHEDULED -> workflowTaskScheduledEventAttributes. */
function attributesKey(type: string): string {
  const camel = type.toLowerCase().replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
  return `${camel}EventAttributes`;
}

function startedAttributes(run: RecordedRun): Record<string, unknown> {
  const runId = runIdFor(run.workflowId);
  return {
    workflowType: { name: run.workflowType },
    taskQueue: taskQueue(run.taskQueue),
    input: payloads(run.args),
    workflowTaskTimeout: TASK_TIMEOUT,
    originalExecutionRunId: runId,
    firstExecutionRunId: runId,
    attempt: 1,
    identity: IDENTITY,
    workflowId: run.workflowId,
  };
}

/** Adds a scheduled/started/completed workflow task and returns the completed event's id. */
function addWorkflowTask(log: EventLog, queue: string, first: boolean): string {
  const scheduledEventId = log.add('WORKFLOW_TASK_SCHEDULED', {
    taskQueue: taskQueue(queue),
    startToCloseTimeout: TASK_TIMEOUT,
    attempt: 1,
  });
  const startedEventId = log.add('WORKFLOW_TASK_STARTED', { scheduledEventId, identity: IDENTITY });
  return log.add('WORKFLOW_TASK_COMPLETED', {
    scheduledEventId,
    startedEventId,
    identity: IDENTITY,
    // Workers record the internal flags they used on the first task; replay honours only those.
    ...(first && { sdkMetadata: { coreUsedFlags: CORE_FLAGS, langUsedFlags: LANG_FLAGS } }),
  });
}

/**
 * The server writes all of a task's ActivityTaskScheduled events together when the task completes,
 * so a parallel step's activities are all scheduled before any of them starts.
 */
function addActivities(
  log: EventLog,
  step: RecordedActivityCall[],
  firstSeq: number,
  taskCompletedId: string,
): void {
  const scheduled = step.map((call, index) => ({
    call,
    scheduledEventId: log.add('ACTIVITY_TASK_SCHEDULED', {
      activityId: String(firstSeq + index),
      activityType: { name: call.activityType },
      taskQueue: taskQueue(call.taskQueue),
      input: payloads(call.args),
      workflowTaskCompletedEventId: taskCompletedId,
    }),
  }));
  for (const { call, scheduledEventId } of scheduled) {
    const startedEventId = log.add('ACTIVITY_TASK_STARTED', { scheduledEventId, identity: IDENTITY, attempt: 1 });
    log.add('ACTIVITY_TASK_COMPLETED', {
      result: payloads([call.result]),
      scheduledEventId,
      startedEventId,
      identity: IDENTITY,
    });
  }
}

/** Children a task started: initiated together, then each started and completed (or failed). */
function addChildren(log: EventLog, children: RecordedChildCall[], taskCompletedId: string): void {
  const initiated = children.map((child) => ({
    child,
    initiatedEventId: log.add('START_CHILD_WORKFLOW_EXECUTION_INITIATED', {
      namespace: NAMESPACE,
      workflowId: child.workflowId,
      workflowType: { name: child.workflowType },
      taskQueue: taskQueue(child.taskQueue),
      input: payloads(child.args),
      workflowTaskCompletedEventId: taskCompletedId,
      parentClosePolicy: 'PARENT_CLOSE_POLICY_TERMINATE',
      workflowIdReusePolicy: 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE',
    }),
  }));
  for (const { child, initiatedEventId } of initiated) {
    const execution = { workflowId: child.workflowId, runId: runIdFor(child.workflowId) };
    const common = { namespace: NAMESPACE, workflowExecution: execution, workflowType: { name: child.workflowType }, initiatedEventId };
    const startedEventId = log.add('CHILD_WORKFLOW_EXECUTION_STARTED', common);
    if (child.failure) {
      log.add('CHILD_WORKFLOW_EXECUTION_FAILED', {
        ...common,
        startedEventId,
        retryState: 'RETRY_STATE_NON_RETRYABLE_FAILURE',
        failure: {
          message: child.failure.message,
          source: 'TypeScriptSDK',
          applicationFailureInfo: { type: child.failure.type, nonRetryable: true },
        },
      });
    } else {
      log.add('CHILD_WORKFLOW_EXECUTION_COMPLETED', { ...common, startedEventId, result: payloads([child.result]) });
    }
  }
}

function taskQueue(name: string): Record<string, unknown> {
  return { name, kind: 'TASK_QUEUE_KIND_NORMAL' };
}

/** Payloads as the SDK's default converter writes them (undefined becomes binary/null). */
function payloads(values: unknown[]): Record<string, unknown> {
  return { payloads: values.map((value) => payloadToJSON(defaultPayloadConverter.toPayload(value))) };
}

/** A UUID-shaped run id derived from the workflow id, so the same run always builds the same history. */
function runIdFor(workflowId: string): string {
  const hex = createHash('sha256').update(workflowId).digest('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20, 32)].join('-');
}
