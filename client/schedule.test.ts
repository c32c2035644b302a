/**
 * `ulasan schedule`: the Schedule options built for the nightly scrape (always), and against a real
 * Temporal dev server (worker/testing/dev-server.ts): create-or-update, update, pause, unpause, delete,
 * backfill, and a stuck night ended by its run timeout, as `list` shows it. The nightly scrape itself
 * (trigger, worker killed, manual scrape alongside) is in nightly-scrape.test.ts.
 */
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NightlyScrapePlan } from '../workflows/plans/scrape';
import { UlasanError } from '../core/errors';
import { waitUntil } from '../worker/testing/processes';
import {
  backfillRange,
  backfillSchedule,
  deleteSchedule,
  describeSchedule,
  formatSchedules,
  listSchedules,
  nightlyScheduleOptions,
  pauseSchedule,
  saveNightlySchedule,
  triggerSchedule,
  unpauseSchedule,
  updateNightlySchedule,
  withScheduleClient,
} from './schedule';
import { devServerAvailable, startDevServer } from '../worker/testing/dev-server';

const plan: NightlyScrapePlan = { apps: ['com.a.app', 'com.b.app'], lang: 'id', country: 'id', sort: 'newest', max: 5000 };

describe('nightlyScheduleOptions', () => {
  it('starts nightlyScrapeWorkflow on the cron, skipping overlaps, catching up within a day by default', () => {
    expect(nightlyScheduleOptions({ scheduleId: 'nightly-id', cron: ['0 2 * * *'], plan })).toEqual({
      scheduleId: 'nightly-id',
      spec: { cronExpressions: ['0 2 * * *'] },
      action: {
        type: 'startWorkflow',
        workflowType: 'nightlyScrapeWorkflow',
        workflowId: 'nightly-id',
        args: [plan],
        taskQueue: 'ulasan',
        workflowRunTimeout: '12 hours',
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      memo: { createdBy: 'ulasan schedule create', apps: plan.apps },
    });
  });

  it('passes the task queue, catch-up window, run timeout and time zone through', () => {
    const options = nightlyScheduleOptions({
      scheduleId: 'n',
      cron: ['30 1 * * MON-FRI', '@daily'],
      plan,
      taskQueue: 'scrape',
      catchupWindow: '6 hours',
      runTimeout: '3h',
      timezone: 'Asia/Jakarta',
    });
    expect(options.action.workflowRunTimeout).toBe('3h');
    expect(options.spec).toEqual({ cronExpressions: ['30 1 * * MON-FRI', '@daily'], timezone: 'Asia/Jakarta' });
    expect(options.action.taskQueue).toBe('scrape');
    expect(options.policies).toEqual({ overlap: 'SKIP', catchupWindow: '6 hours' });
  });

  it('refuses a bad id, cron or plan with one message naming each problem', () => {
    expect(() => nightlyScheduleOptions({ scheduleId: 'a b', cron: ['0 2 * *'], plan: { ...plan, apps: [] } })).toThrow(
      'ulasan schedule create: --id must be letters, digits, \'.\', \'_\' or \'-\', got "a b". ' +
        'apps: give at least one app id (--app com.example.app). ' +
        '--cron "0 2 * *" has 4 fields; use 5 (minute hour day-of-month month day-of-week), e.g. "0 2 * * *", or @daily.',
    );
    expect(() => nightlyScheduleOptions({ scheduleId: 'n', cron: [], plan })).toThrow('--cron: give a cron expression');
    expect(() => nightlyScheduleOptions({ scheduleId: 'n', cron: ['@daily'], plan, runTimeout: 'soon', catchupWindow: '0s' })).toThrow(
      'ulasan schedule create: --catchup-window must be a positive duration such as "6 hours" or "30m", got "0s". ' +
        '--run-timeout must be a positive duration such as "6 hours" or "30m", got "soon".',
    );
  });

  it('refuses an update that changes nothing, before reaching the server', async () => {
    const client = {} as Client; // never used: the check comes first
    await expect(updateNightlySchedule(client, 'n', {})).rejects.toThrow(
      'ulasan schedule update: give what to change: --cron, --timezone, --catchup-window, --run-timeout, --task-queue, or --app (the whole plan).',
    );
  });

  it('reads a backfill range, refusing dates that do not parse or do not ascend', () => {
    expect(backfillRange('2025-01-01', '2025-01-08T00:00:00Z')).toEqual({ start: new Date('2025-01-01T00:00:00Z'), end: new Date('2025-01-08T00:00:00Z') });
    expect(() => backfillRange('yesterday', '2025-01-08')).toThrow('ulasan schedule backfill: <from> must be an ISO date or time such as 2025-01-01, got "yesterday".');
    expect(() => backfillRange('2025-01-08', '2025-01-01')).toThrow('<from> (2025-01-08T00:00:00.000Z) must be before <to> (2025-01-01T00:00:00.000Z).');
  });

  it('formats the list: next or paused, the last night and its status, counts, and each failed night', () => {
    expect(formatSchedules([])).toBe('No schedules.');
    const night = (at: string, status: string) => ({ workflowId: `a-${at}`, scheduledAt: at, status });
    const counts = { taken: 0, skippedOverlap: 0, missedCatchup: 0 };
    expect(
      formatSchedules([
        {
          scheduleId: 'a', workflowType: 'nightlyScrapeWorkflow', paused: false, note: null, nextRunAt: '2025-01-03T02:00:00.000Z',
          lastRun: night('2025-01-02T02:00:00Z', 'COMPLETED'), taken: 3, skippedOverlap: 1, missedCatchup: 2, failed: [night('2025-01-01T02:00:00Z', 'TIMED_OUT')],
        },
        { scheduleId: 'b', workflowType: 'nightlyScrapeWorkflow', paused: true, note: 'maintenance', nextRunAt: null, lastRun: null, ...counts, failed: [] },
      ]),
    ).toBe(
      'a  nightlyScrapeWorkflow  next 2025-01-03T02:00:00.000Z  last 2025-01-02T02:00:00Z COMPLETED  runs 3, skipped 1 (overlap), missed 2 (catch-up), failed 1\n' +
        '    TIMED_OUT  2025-01-01T02:00:00Z  a-2025-01-01T02:00:00Z\n' +
        'b  nightlyScrapeWorkflow  paused (maintenance)  last -  runs 0, skipped 0 (overlap), missed 0 (catch-up), failed 0',
    );
  });
});

describe.skipIf(!devServerAvailable('ulasan schedule against a Temporal server'))('ulasan schedule against a Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await startDevServer();
  }, 120_000);
  afterAll(() => env?.teardown());
  const onServer = <T>(work: (client: Client) => Promise<T>) => withScheduleClient(work, { address: env.address });

  it('create is create-or-update; update changes only what it is given and keeps the pause; pause, unpause, delete', async () => {
    const scheduleId = `ulasan-test-${Date.now()}`;
    await onServer(async (client) => {
      const handle = client.schedule.getHandle(scheduleId);
      expect(await saveNightlySchedule(client, { scheduleId, cron: ['0 2 * * *'], plan })).toBe('created');
      try {
        const first = await handle.describe();
        expect(first.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 86_400_000 });
        expect(first.action).toMatchObject({ workflowType: 'nightlyScrapeWorkflow', args: [plan], workflowRunTimeout: 12 * 3_600_000 });
        // The same create again, then with another cron and run timeout: no error, one schedule, updated.
        expect(await saveNightlySchedule(client, { scheduleId, cron: ['0 2 * * *'], plan })).toBe('updated');
        expect(await saveNightlySchedule(client, { scheduleId, cron: ['30 3 * * *'], plan, runTimeout: '2 hours' })).toBe('updated');
        const second = await handle.describe();
        expect(second.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 3, end: 3, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] })]);
        expect(second.action).toMatchObject({ workflowRunTimeout: 2 * 3_600_000, args: [plan] });

        await pauseSchedule(client, scheduleId, 'test pause');
        const otherPlan = { ...plan, apps: ['com.c.app'] };
        await updateNightlySchedule(client, scheduleId, { runTimeout: '90 minutes', plan: otherPlan });
        const third = await handle.describe();
        expect(third.state).toMatchObject({ paused: true, note: 'test pause' });
        expect(third.spec.calendars).toEqual(second.spec.calendars);
        expect(third.action).toMatchObject({ workflowRunTimeout: 90 * 60_000, args: [otherPlan], taskQueue: 'ulasan' });
        await unpauseSchedule(client, scheduleId);
        expect((await handle.describe()).state.paused).toBe(false);
        const listed = await waitUntil('the schedule in the list', async () => (await listSchedules(client)).find((s) => s.scheduleId === scheduleId), 20_000, 500);
        expect(listed).toMatchObject({ paused: false, lastRun: null, taken: 0, failed: [] });
      } finally {
        await deleteSchedule(client, scheduleId);
      }
      await expect(handle.describe()).rejects.toThrow();
      const missing = updateNightlySchedule(client, scheduleId, { runTimeout: '1h' });
      await expect(missing).rejects.toBeInstanceOf(UlasanError);
      await expect(missing).rejects.toMatchObject({ type: 'NotFound', message: expect.stringContaining(`There is no schedule "${scheduleId}"`) });
      await expect(triggerSchedule(client, scheduleId)).rejects.toMatchObject({ type: 'NotFound' });
    });
  }, 60_000);

  it('a stuck night ends at its run timeout and the next one runs; list shows the last night, skipped and failed ones', async () => {
    const scheduleId = `ulasan-stuck-${Date.now()}`;
    // No worker polls this queue: every night is stuck until its run timeout.
    const input = { scheduleId, cron: ['0 2 * * *'], plan, taskQueue: `nobody-${Date.now()}`, runTimeout: '3s' as const };
    await onServer(async (client) => {
      await saveNightlySchedule(client, input);
      try {
        await backfillSchedule(client, scheduleId, '2025-01-01T00:00:00Z', '2025-01-02T12:00:00Z'); // the nights of Jan 1 and Jan 2
        const handle = client.schedule.getHandle(scheduleId);
        await waitUntil('the first backfilled night to run', async () => ((await handle.describe()).info.runningActions.length > 0 ? true : undefined), 10_000);
        await handle.trigger(ScheduleOverlapPolicy.SKIP); // while a night runs: skipped, and counted
        const line = await waitUntil(
          'both nights to time out',
          async () => {
            const current = await describeSchedule(client, scheduleId);
            return current.failed.length === 2 ? current : undefined;
          },
          30_000,
          500,
        );
        expect(line.failed.map((run) => [run.scheduledAt, run.status])).toEqual([
          ['2025-01-01T02:00:00.000Z', 'TIMED_OUT'],
          ['2025-01-02T02:00:00.000Z', 'TIMED_OUT'],
        ]);
        expect(line).toMatchObject({ taken: 2, skippedOverlap: 1, lastRun: { scheduledAt: '2025-01-02T02:00:00.000Z', status: 'TIMED_OUT' } });
        expect(line.failed[0]!.workflowId).toMatch(new RegExp(`^${scheduleId}-2025-01-01T02:00:00Z$`));
        expect(formatSchedules([line])).toContain('skipped 1 (overlap), missed 0 (catch-up), failed 2');
      } finally {
        await deleteSchedule(client, scheduleId);
      }
    });
  }, 60_000);
});
