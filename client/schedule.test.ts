/**
 * `ulasan schedule`: the Schedule options built for the nightly scrape (always), and create / list /
 * pause / unpause / delete against a real Temporal dev server (worker/testing/dev-server.ts).
 */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NightlyScrapePlan } from '../workflows/plans/scrape';
import {
  createNightlySchedule,
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
      action: { type: 'startWorkflow', workflowType: 'nightlyScrapeWorkflow', workflowId: 'nightly-id', args: [plan], taskQueue: 'ulasan' },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      memo: { createdBy: 'ulasan schedule create', apps: plan.apps },
    });
  });

  it('passes the task queue, catch-up window and time zone through', () => {
    const options = nightlyScheduleOptions({
      scheduleId: 'n',
      cron: ['30 1 * * MON-FRI', '@daily'],
      plan,
      taskQueue: 'scrape',
      catchupWindow: '6 hours',
      timezone: 'Asia/Jakarta',
    });
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
  });

  it('formats the list', () => {
    expect(formatSchedules([])).toBe('No schedules.');
    expect(
      formatSchedules([
        { scheduleId: 'a', workflowType: 'nightlyScrapeWorkflow', paused: false, note: null, nextRunAt: '2025-01-02T02:00:00.000Z' },
        { scheduleId: 'b', workflowType: 'nightlyScrapeWorkflow', paused: true, note: 'maintenance', nextRunAt: null },
      ]),
    ).toBe('a  nightlyScrapeWorkflow  next 2025-01-02T02:00:00.000Z\nb  nightlyScrapeWorkflow  paused (maintenance)');
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
