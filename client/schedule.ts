/**
 * `ulasan schedule create|list|pause|unpause|delete`: a Temporal Schedule that starts
 * `nightlyScrapeWorkflow` on a cron, skipping a night while the previous one still runs and catching up
 * missed nights only within a window (a server down for a week does not fire seven scrapes at once).
 */
import { Client, Connection, ScheduleOverlapPolicy, type ScheduleOptions, type ScheduleSummary } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { badInput } from '../activities/errors';
import { validateNightlyPlan, type NightlyScrapePlan } from '../workflows/plans/scrape';

export const NIGHTLY_WORKFLOW_TYPE = 'nightlyScrapeWorkflow';
export const DEFAULT_SCHEDULE_TASK_QUEUE = 'ulasan';
export const DEFAULT_CATCHUP_WINDOW: Duration = '1 day';

export interface NightlyScheduleInput {
  /** Schedule id; each night's workflow id is derived from it, and each app's child id from that. */
  scheduleId: string;
  /** Cron expressions, e.g. `0 2 * * *` (02:00 every day). */
  cron: string[];
  plan: NightlyScrapePlan;
  /** Task queue of the workers. @default 'ulasan' */
  taskQueue?: string;
  /** How late a missed night may still run (after a server outage). @default '1 day' */
  catchupWindow?: Duration;
  /** IANA time zone the cron is read in. @default UTC */
  timezone?: string;
}

const SCHEDULE_ID = /^[\w.-]{1,200}$/;
const CRON_FIELD_COUNTS = [5, 6, 7];

function checkCron(expression: string): string | undefined {
  const body = expression.trim().replace(/^CRON_TZ=\S+\s+/, '');
  if (body.startsWith('@')) return undefined; // @daily, @every 24h, ...
  const fields = body.split(/\s+/).filter((field) => field !== '').length;
  if (CRON_FIELD_COUNTS.includes(fields)) return undefined;
  return `--cron ${JSON.stringify(expression)} has ${fields} fields; use 5 (minute hour day-of-month month day-of-week), e.g. "0 2 * * *", or @daily.`;
}

/** The options `client.schedule.create` gets; fails with one message naming every problem. */
export function nightlyScheduleOptions(input: NightlyScheduleInput): ScheduleOptions {
  const problems = validateNightlyPlan(input.plan);
  if (!SCHEDULE_ID.test(input.scheduleId)) {
    problems.unshift(`--id must be letters, digits, '.', '_' or '-', got ${JSON.stringify(input.scheduleId)}.`);
  }
  if (input.cron.length === 0) problems.push('--cron: give a cron expression such as "0 2 * * *".');
  for (const expression of input.cron) {
    const problem = checkCron(expression);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) throw badInput(`ulasan schedule create: ${problems.join(' ')}`, { field: 'schedule' });
  return {
    scheduleId: input.scheduleId,
    spec: { cronExpressions: input.cron, ...(input.timezone ? { timezone: input.timezone } : {}) },
    action: {
      type: 'startWorkflow',
      workflowType: NIGHTLY_WORKFLOW_TYPE,
      // Temporal appends the scheduled time, so each night gets its own id: `<scheduleId>-<time>`.
      workflowId: input.scheduleId,
      args: [input.plan],
      taskQueue: input.taskQueue ?? DEFAULT_SCHEDULE_TASK_QUEUE,
    },
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: input.catchupWindow ?? DEFAULT_CATCHUP_WINDOW,
    },
    memo: { createdBy: 'ulasan schedule create', apps: input.plan.apps },
  };
}

export interface TemporalTarget {
  /** @default process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' */
  address?: string;
  /** @default process.env.TEMPORAL_NAMESPACE ?? 'default' */
  namespace?: string;
}

/** Connects, runs `work` with a client, and always closes the connection. */
export async function withScheduleClient<T>(work: (client: Client) => Promise<T>, target: TemporalTarget = {}): Promise<T> {
  const address = target.address ?? process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const connection = await Connection.connect({ address });
  try {
    return await work(new Client({ connection, namespace: target.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default' }));
  } finally {
    await connection.close();
  }
}

export async function createNightlySchedule(client: Client, input: NightlyScheduleInput): Promise<string> {
  const handle = await client.schedule.create(nightlyScheduleOptions(input));
  return handle.scheduleId;
}

/** One schedule as `ulasan schedule list` shows it. */
export interface ScheduleLine {
  scheduleId: string;
  workflowType: string | null;
  paused: boolean;
  note: string | null;
  nextRunAt: string | null;
}

export function scheduleLine(summary: ScheduleSummary): ScheduleLine {
  const next = summary.info.nextActionTimes[0];
  return {
    scheduleId: summary.scheduleId,
    workflowType: summary.action?.workflowType ?? null,
    paused: summary.state.paused,
    note: summary.state.note ?? null,
    nextRunAt: next ? next.toISOString() : null,
  };
}

/** Every schedule in the namespace (ulasan's and others'), by id. */
export async function listSchedules(client: Client): Promise<ScheduleLine[]> {
  const lines: ScheduleLine[] = [];
  for await (const summary of client.schedule.list()) lines.push(scheduleLine(summary));
  return lines.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

export function formatSchedules(lines: readonly ScheduleLine[]): string {
  if (lines.length === 0) return 'No schedules.';
  return lines
    .map((l) => `${l.scheduleId}  ${l.workflowType ?? '-'}  ${l.paused ? `paused${l.note ? ` (${l.note})` : ''}` : `next ${l.nextRunAt ?? '-'}`}`)
    .join('\n');
}

export async function pauseSchedule(client: Client, scheduleId: string, note = 'paused with ulasan schedule pause'): Promise<void> {
  await client.schedule.getHandle(scheduleId).pause(note);
}

export async function unpauseSchedule(client: Client, scheduleId: string, note = 'unpaused with ulasan schedule unpause'): Promise<void> {
  await client.schedule.getHandle(scheduleId).unpause(note);
}

export async function deleteSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule.getHandle(scheduleId).delete();
}
