/**
 * Histories recorded from a real Temporal dev server (`npm run histories:record`, see
 * workflows/testing/record-histories.ts) replay against the current workflow code: a pipeline, a grid
 * that continued as new, a nightly scrape whose scrape activity was retried (with an app that failed,
 * the combine step and the pipeline child), a night scored with a model (behind patch
 * ulasan-2026-12-nightly-scoring), a pipeline cancelled midway. A workflow change that would break the runs in flight when it is
 * deployed fails here; make it behind `patched()` (workflows/README.md) or, if no such run can exist,
 * re-record.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { HISTORIES_DIR, INDEX_FILE } from './testing/record-histories';

const workflowsPath = fileURLToPath(new URL('./index.ts', import.meta.url));
const silent = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Each scenario's files and how its last run ended. */
const EXPECTED: Record<string, string> = {
  'pipeline.json': 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'grid-continue-as-new-run1.json': 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
  'grid-continue-as-new-run2.json': 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'nightly-scrape-retried.json': 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'nightly-scrape-retried-app.json': 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'nightly-scrape-retried-missing-app.json': 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED',
  'nightly-scrape-retried-pipeline.json': 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'nightly-scoring.json': 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'nightly-scoring-score.json': 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'pipeline-cancelled.json': 'EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED',
};

interface RecordedHistory {
  file: string;
  workflowId: string;
  json: { events: Record<string, unknown>[] };
}

const files = (await readdir(HISTORIES_DIR)).filter((file) => file.endsWith('.json') && file !== INDEX_FILE).sort();
let recorded: RecordedHistory[];
let workflowBundle: { code: string };

beforeAll(async () => {
  const workflowIds = JSON.parse(await readFile(join(HISTORIES_DIR, INDEX_FILE), 'utf8')) as Record<string, string>;
  recorded = await Promise.all(
    files.map(async (file) => ({ file, workflowId: workflowIds[file] ?? `${file} (not in ${INDEX_FILE})`, json: JSON.parse(await readFile(join(HISTORIES_DIR, file), 'utf8')) })),
  );
  workflowBundle = { code: (await bundleWorkflowCode({ workflowsPath, logger: silent })).code };
}, 120_000);

/** A recorded history's commands in order: child workflow ids, activity types, `patch` markers, `memo` upserts. */
function commandsOf(file: string): (string | undefined)[] {
  return recorded
    .find((r) => r.file === file)!
    .json.events.flatMap((e) => {
      const child = e.startChildWorkflowExecutionInitiatedEventAttributes as { workflowId?: string } | undefined;
      const activity = e.activityTaskScheduledEventAttributes as { activityType?: { name?: string } } | undefined;
      if (child) return [child.workflowId];
      if (activity) return [activity.activityType?.name];
      if (e.markerRecordedEventAttributes) return ['patch'];
      return e.workflowPropertiesModifiedEventAttributes ? ['memo'] : [];
    });
}

describe('histories recorded from the dev server', () => {
  it('cover every scenario, as recorded: continue-as-new, a retried scrape attempt, a failed child, a cancellation', () => {
    expect(files).toEqual(Object.keys(EXPECTED).sort());
    for (const { file, json } of recorded) expect([file, json.events.at(-1)?.eventType]).toEqual([file, EXPECTED[file]]);
    const attempts = recorded
      .find((r) => r.file === 'nightly-scrape-retried-app.json')!
      .json.events.flatMap((e) => ((e.activityTaskStartedEventAttributes as { attempt?: number }) ?? {}).attempt ?? []);
    expect(attempts).toEqual([2]);
    // The night: three scrape children (one failed), the combine activity, then the pipeline child.
    expect(commandsOf('nightly-scrape-retried.json')).toEqual([
      'histories-nightly/com.example.app',
      'histories-nightly/com.example.other',
      'histories-nightly/com.example.missing',
      'combineScrapes',
      'histories-nightly/pipeline',
    ]);
    // The scored night (new path, behind its patch): the app's child, then the scoring child, which records its run; both end by upserting their memo.
    expect(commandsOf('nightly-scoring.json')).toEqual(['patch', 'histories-scored-night/com.example.drifted', 'histories-scored-night/score', 'memo']);
    expect(commandsOf('nightly-scoring-score.json')).toEqual(['patch', 'importReviews', 'clean', 'annotate', 'predict', 'driftCheck', 'writeRunRecord', 'memo']);
  });

  it('replay against the current workflows without a determinism violation', async () => {
    const histories = recorded.map(({ workflowId, json }) => ({ workflowId, history: historyFromJSON(json) }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  }, 120_000);

  it('fail to replay once two of the recorded activities trade places (the check can fail)', async () => {
    const pipeline = recorded.find((r) => r.file === 'pipeline.json')!;
    const events = structuredClone(pipeline.json.events);
    type Scheduled = { activityType: { name: string } };
    const [first, second] = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes as Scheduled] : []));
    expect([first!.activityType.name, second!.activityType.name]).toEqual(['importReviews', 'clean']);
    [first!.activityType, second!.activityType] = [second!.activityType, first!.activityType];
    await expect(Worker.runReplayHistory({ workflowBundle }, historyFromJSON({ events }), pipeline.workflowId)).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  }, 120_000);
});
