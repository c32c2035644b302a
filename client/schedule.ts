/**
 * `ulasan schedule create|update|trigger|backfill|pause|unpause|delete|list`: a Temporal Schedule that
 * starts `nightlyScrapeWorkflow` on a cron. `create` is create-or-update, so a deploy script can run it
 * every time. Overlap policy SKIP (a night never starts while the previous one still runs) with a run
 * timeout on every night: a stuck night ends at its timeout instead of silently skipping every later
 * one. Missed nights are caught up only within a window (a server down for a week does not fire seven
 * scrapes at once); `backfill` runs chosen nights on demand, one after another.
 */
import {
  Client,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import type { Duration, Workflow } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { badInput, notFound } from '../core/errors';
import { withTemporalClient, type TemporalConnectionOptions } from './temporal-runner';
import { validateNightlyPlan, type NightlyScrapePlan } from '../workflows/plans/scrape';

export const NIGHTLY_WORKFLOW_TYPE = 'nightlyScrapeWorkflow';
export const DEFAULT_SCHEDULE_TASK_QUEUE = 'ulasan';
export const DEFAULT_CATCHUP_WINDOW: Duration = '1 day';
/** Well under a day, so a stuck night ends before the next one is due. */
export const DEFAULT_RUN_TIMEOUT: Duration = '12 hours';

export interface NightlyScheduleInput {
  /** Schedule id; each night's workflow id is derived from it, and each app's child id from that. */
  scheduleId: string;
  /** Cron expressions, e.g. `0 2 * * *` (02:00 every day). */
  cron: string[];
  plan: NightlyScrapePlan;
  /** Task queue of the workers that run the nightly workflow. @default 'ulasan' */
  taskQueue?: string;
  /** How late a missed night may still run (after a server outage). @default '1 day' */
  catchupWindow?: Duration;
  /** How long one night may run before Temporal times it out (and the next night may start). @default '12 hours' */
  runTimeout?: Duration;
  /** IANA time zone the cron is read in. @default UTC */
  timezone?: string;
}

/** What `ulasan schedule update` may change; anything left out keeps its current value. */
export type NightlyScheduleChanges = Partial<Omit<NightlyScheduleInput, 'scheduleId'>>;

const SCHEDULE_ID = /^[\w.-]{1,200}$/;
const CRON_FIELD_COUNTS = [5, 6, 7];

function checkCron(expression: string): string | undefined {
  const body = expression.trim().replace(/^CRON_TZ=\S+\s+/, '');
  if (body.startsWith('@')) return undefined; // @daily, @every 24h, ...
  const fields = body.split(/\s+/).filter((field) => field !== '').length;
  if (CRON_FIELD_COUNTS.includes(fields)) return undefined;
  return `--cron ${JSON.stringify(expression)} has ${fields} fields; use 5 (minute hour day-of-month month day-of-week), e.g. "0 2 * * *", or @daily.`;
}

function checkDuration(option: string, value: Duration | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    if (msToNumber(value) > 0) return undefined;
  } catch {
    // not a duration: reported below
  }
  return `${option} must be a positive duration such as "6 hours" or "30m", got ${JSON.stringify(value)}.`;
}

/** Every problem with the given fields (those left out are not checked). */
function scheduleProblems(scheduleId: string, fields: NightlyScheduleChanges): string[] {
  const problems = fields.plan ? validateNightlyPlan(fields.plan) : [];
  if (!SCHEDULE_ID.test(scheduleId)) {
    problems.unshift(`--id must be letters, digits, '.', '_' or '-', got ${JSON.stringify(scheduleId)}.`);
  }
  if (fields.cron) {
    if (fields.cron.length === 0) problems.push('--cron: give a cron expression such as "0 2 * * *".');
    for (const problem of fields.cron.map(checkCron)) if (problem) problems.push(problem);
  }
  for (const problem of [checkDuration('--catchup-window', fields.catchupWindow), checkDuration('--run-timeout', fields.runTimeout)]) {
    if (problem) problems.push(problem);
  }
  return problems;
}

function failOnProblems(command: string, problems: string[]): void {
  if (problems.length > 0) throw badInput(`ulasan schedule ${command}: ${problems.join(' ')}`, { field: 'schedule' });
}

function nightlyAction(input: NightlyScheduleInput): ScheduleOptionsStartWorkflowAction<Workflow> {
  return {
    type: 'startWorkflow',
    workflowType: NIGHTLY_WORKFLOW_TYPE,
    // Temporal appends the scheduled time, so each night gets its own id: `<scheduleId>-<time>`.
    workflowId: input.scheduleId,
    args: [input.plan],
    taskQueue: input.taskQueue ?? DEFAULT_SCHEDULE_TASK_QUEUE,
    workflowRunTimeout: input.runTimeout ?? DEFAULT_RUN_TIMEOUT,
  };
}

/** The options `client.schedule.create` gets; fails with one message naming every problem. */
export function nightlyScheduleOptions(input: NightlyScheduleInput): ScheduleOptions {
  failOnProblems('create', scheduleProblems(input.scheduleId, input));
  return {
    scheduleId: input.scheduleId,
    spec: { cronExpressions: input.cron, ...(input.timezone ? { timezone: input.timezone } : {}) },
    action: nightlyAction(input),
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: input.catchupWindow ?? DEFAULT_CATCHUP_WINDOW,
    },
    memo: {
      createdBy: 'ulasan schedule create',
      apps: input.plan.apps,
      ...(input.plan.score ? { scoreWith: { model: input.plan.score.model, ...(input.plan.score.modelRef ? { modelRef: input.plan.score.modelRef } : {}) } } : {}),
    },
  };
}

/** Where the schedules live: address and namespace, defaulting to TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE. */
export type TemporalTarget = TemporalConnectionOptions;

/** Connects, runs `work` with a client, and always closes the connection (the one connection helper, temporal-runner's). */
export async function withScheduleClient<T>(work: (client: Client) => Promise<T>, target: TemporalTarget = {}): Promise<T> {
  return withTemporalClient(target, work);
}

/** Runs `act` on the schedule; a schedule that does not exist is a typed NotFound naming it. */
async function onSchedule<T>(client: Client, scheduleId: string, act: (handle: ReturnType<Client['schedule']['getHandle']>) => Promise<T>): Promise<T> {
  try {
    return await act(client.schedule.getHandle(scheduleId));
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    throw notFound(`There is no schedule ${JSON.stringify(scheduleId)}; see \`ulasan schedule list\`, or make it with \`ulasan schedule create\`.`, {
      field: 'scheduleId',
    });
  }
}

/** The update that turns `previous` into the schedule `input` describes (its pause state is kept). */
function replaceWith(input: NightlyScheduleInput, previous: ScheduleDescription): ScheduleUpdateOptions {
  const options = nightlyScheduleOptions(input);
  return { ...previous, spec: options.spec, action: options.action, policies: { ...previous.policies, ...options.policies } };
}

/**
 * Creates the schedule, or, when one with that id exists, replaces its cron, plan and policies (its
 * paused state and history stay): running `ulasan schedule create` twice is the same as once.
 */
export async function saveNightlySchedule(client: Client, input: NightlyScheduleInput): Promise<'created' | 'updated'> {
  const options = nightlyScheduleOptions(input);
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(input.scheduleId).update((previous) => replaceWith(input, previous));
  return 'updated';
}

/** The input an existing nightly schedule was made from (cron expressions are not kept by the server). */
function currentInput(scheduleId: string, previous: ScheduleDescription): Omit<NightlyScheduleInput, 'cron'> {
  const action = previous.action;
  if (action.type !== 'startWorkflow' || action.workflowType !== NIGHTLY_WORKFLOW_TYPE) {
    throw badInput(`Schedule ${scheduleId} does not start ${NIGHTLY_WORKFLOW_TYPE}; ulasan changes only its own schedules.`, { field: 'scheduleId' });
  }
  return {
    scheduleId,
    plan: action.args?.[0] as NightlyScrapePlan,
    taskQueue: action.taskQueue,
    catchupWindow: previous.policies.catchupWindow,
    ...(action.workflowRunTimeout !== undefined ? { runTimeout: action.workflowRunTimeout } : {}),
    ...(previous.spec.timezone ? { timezone: previous.spec.timezone } : {}),
  };
}

/** Changes an existing schedule: only the given fields; the rest (and its pause state) stay. */
export async function updateNightlySchedule(client: Client, scheduleId: string, changes: NightlyScheduleChanges): Promise<void> {
  const problems = scheduleProblems(scheduleId, changes);
  if (Object.keys(changes).length === 0) problems.push('give what to change: --cron, --timezone, --catchup-window, --run-timeout, --task-queue, or --app (the whole plan).');
  failOnProblems('update', problems);
  await onSchedule(client, scheduleId, (handle) =>
    handle.update((previous) => {
      const input = { ...currentInput(scheduleId, previous), ...changes };
      const timezone = input.timezone ? { timezone: input.timezone } : {};
      // The server keeps a cron as calendars: without a new --cron the previous spec stays.
      const spec = changes.cron ? { cronExpressions: changes.cron, ...timezone } : { ...previous.spec, ...timezone };
      const catchupWindow = input.catchupWindow ?? DEFAULT_CATCHUP_WINDOW;
      return { ...previous, spec, action: nightlyAction({ ...input, cron: [] }), policies: { ...previous.policies, catchupWindow } };
    }),
  );
}

/** Starts a night now, even while another runs (a manual scrape loses nothing: the scrape index is locked). */
export async function triggerSchedule(client: Client, scheduleId: string): Promise<void> {
  await onSchedule(client, scheduleId, (handle) => handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL));
}

/** Parses `backfill <from> <to>`: two ISO times, the first before the second. */
export function backfillRange(from: string, to: string): { start: Date; end: Date } {
  const start = new Date(from);
  const end = new Date(to);
  const problems: string[] = [];
  if (Number.isNaN(start.getTime())) problems.push(`<from> must be an ISO date or time such as 2025-01-01, got ${JSON.stringify(from)}.`);
  if (Number.isNaN(end.getTime())) problems.push(`<to> must be an ISO date or time such as 2025-01-08, got ${JSON.stringify(to)}.`);
  if (problems.length === 0 && !(start < end)) problems.push(`<from> (${start.toISOString()}) must be before <to> (${end.toISOString()}).`);
  failOnProblems('backfill', problems);
  return { start, end };
}

/**
 * Runs every night the cron names between `from` and `to`, one after another (BUFFER_ALL: under the
 * schedule's SKIP policy all but the first would be skipped). Each night is incremental, so the first
 * catches up and the later ones find little new.
 */
export async function backfillSchedule(client: Client, scheduleId: string, from: string, to: string): Promise<void> {
  const range = backfillRange(from, to);
  await onSchedule(client, scheduleId, (handle) => handle.backfill({ ...range, overlap: ScheduleOverlapPolicy.BUFFER_ALL }));
}

export async function pauseSchedule(client: Client, scheduleId: string, note = 'paused with ulasan schedule pause'): Promise<void> {
  await onSchedule(client, scheduleId, (handle) => handle.pause(note));
}

export async function unpauseSchedule(client: Client, scheduleId: string, note = 'unpaused with ulasan schedule unpause'): Promise<void> {
  await onSchedule(client, scheduleId, (handle) => handle.unpause(note));
}

export async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  await onSchedule(client, scheduleId, (handle) => handle.delete());
}

/** One night a schedule started, and how it is doing. */
export interface ScheduleRun {
  workflowId: string;
  scheduledAt: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TIMED_OUT, CANCELLED, TERMINATED, ... */
  status: string;
  /** A scored night's outcome from its memo: ok, drift, skipped or failed. */
  scoring?: string;
}

/** One schedule as `ulasan schedule list` shows it. */
export interface ScheduleLine {
  scheduleId: string;
  workflowType: string | null;
  paused: boolean;
  note: string | null;
  nextRunAt: string | null;
  /** The most recent night, if any. */
  lastRun: ScheduleRun | null;
  /** Nights started (scheduled, triggered or backfilled). */
  taken: number;
  /** Nights skipped because the previous one still ran. */
  skippedOverlap: number;
  /** Nights missed because the server was down longer than the catch-up window. */
  missedCatchup: number;
  /** Recent nights (the server keeps the last 10) that failed, timed out, or were cancelled or terminated. */
  failed: ScheduleRun[];
}

const FAILED_STATUSES = new Set(['FAILED', 'TIMED_OUT', 'CANCELLED', 'TERMINATED']);

async function runOf(client: Client, action: ScheduleDescription['info']['recentActions'][number]): Promise<ScheduleRun> {
  const { workflowId, firstExecutionRunId } = action.action.workflow;
  const { status, scoring } = await client.workflow
    .getHandle(workflowId, firstExecutionRunId)
    .describe()
    .then((d) => ({ status: d.status.name as string, scoring: d.memo?.scoringStatus as string | undefined }))
    .catch(() => ({ status: 'UNKNOWN', scoring: undefined })); // retention may have removed it
  return { workflowId, scheduledAt: action.scheduledAt.toISOString(), status, ...(scoring ? { scoring } : {}) };
}

/** A schedule's state and its recent nights, with each night's outcome. */
export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleLine> {
  const description = await onSchedule(client, scheduleId, (handle) => handle.describe());
  const runs = await Promise.all(description.info.recentActions.map((action) => runOf(client, action)));
  const next = description.info.nextActionTimes[0];
  return {
    scheduleId,
    workflowType: description.action.type === 'startWorkflow' ? description.action.workflowType : null,
    paused: description.state.paused,
    note: description.state.note ?? null,
    nextRunAt: next ? next.toISOString() : null,
    lastRun: runs.at(-1) ?? null,
    taken: description.info.numActionsTaken,
    skippedOverlap: description.info.numActionsSkippedOverlap,
    missedCatchup: description.info.numActionsMissedCatchupWindow,
    failed: runs.filter((run) => FAILED_STATUSES.has(run.status)),
  };
}

/** Every schedule in the namespace (ulasan's and others'), by id. */
export async function listSchedules(client: Client): Promise<ScheduleLine[]> {
  const ids: string[] = [];
  for await (const summary of client.schedule.list()) ids.push(summary.scheduleId);
  const lines = await Promise.all(ids.map((id) => describeSchedule(client, id).catch(() => undefined))); // deleted meanwhile
  return lines.filter((line): line is ScheduleLine => line !== undefined).sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

function formatLine(l: ScheduleLine): string {
  const state = l.paused ? `paused${l.note ? ` (${l.note})` : ''}` : `next ${l.nextRunAt ?? '-'}`;
  const last = l.lastRun ? `last ${l.lastRun.scheduledAt} ${l.lastRun.status}${l.lastRun.scoring ? ` scoring ${l.lastRun.scoring.toUpperCase()}` : ''}` : 'last -';
  const counts = `runs ${l.taken}, skipped ${l.skippedOverlap} (overlap), missed ${l.missedCatchup} (catch-up), failed ${l.failed.length}`;
  const failures = l.failed.map((run) => `\n    ${run.status.padEnd(10)} ${run.scheduledAt}  ${run.workflowId}`).join('');
  return `${l.scheduleId}  ${l.workflowType ?? '-'}  ${state}  ${last}  ${counts}${failures}`;
}

export function formatSchedules(lines: readonly ScheduleLine[]): string {
  if (lines.length === 0) return 'No schedules.';
  return lines.map(formatLine).join('\n');
}
