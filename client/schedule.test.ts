/**
 * `ulasan schedule`: the Schedule options built for the nightly scrape (always), and create / list /
 * pause / unpause / delete against a real Temporal dev server (worker/testing/dev-server.ts).
 */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NightlyScrapePlan } from '../workflows/plans/scrape';
import {
  backfillRange,
  deleteSchedule,
  formatSchedules,
  listSchedules,
  nightlyScheduleOptions,
  pauseSchedule,
  unpauseSchedule,
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
  });
  afterAll(() => env?.teardown());

  it('creates, lists, pauses, unpauses and deletes a nightly schedule', async () => {
    const scheduleId = `ulasan-test-${Date.now()}`;
    await withScheduleClient(async (client) => {
      expect(await createNightlySchedule(client, { scheduleId, cron: ['0 2 * * *'], plan })).toBe(scheduleId);
      try {
        const described = await client.schedule.getHandle(scheduleId).describe();
        expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 86_400_000 });
        expect(described.action).toMatchObject({ workflowType: 'nightlyScrapeWorkflow', args: [plan] });
        await pauseSchedule(client, scheduleId, 'test pause');
        expect((await client.schedule.getHandle(scheduleId).describe()).state).toMatchObject({ paused: true, note: 'test pause' });
        await unpauseSchedule(client, scheduleId);
        expect((await client.schedule.getHandle(scheduleId).describe()).state.paused).toBe(false);
        // The list is eventually consistent (visibility store): poll briefly.
        let listed = false;
        for (let i = 0; i < 20 && !listed; i++) {
          listed = (await listSchedules(client)).some((s) => s.scheduleId === scheduleId);
          if (!listed) await new Promise((resolve) => setTimeout(resolve, 500));
        }
        expect(listed).toBe(true);
      } finally {
        await deleteSchedule(client, scheduleId);
      }
      await expect(client.schedule.getHandle(scheduleId).describe()).rejects.toThrow();
    }, { address: env.address });
  }, 60_000);
});
