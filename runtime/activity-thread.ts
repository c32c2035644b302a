/**
 * A worker thread of the activity pool (activity-pool.ts): its own tfjs backend and DuckDB, the shared store on disk.
 * Runs one job at a time, with that job's resume details, execution and cancellation flag as its activity deps.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createActivities } from '../activities';
import { UlasanError } from '../core/errors';
import { ArtifactStore } from '../data/store/artifact-store';
import type { ThreadReply, ThreadRequest } from './activity-pool';

const { storeRoot } = workerData as { storeRoot: string };
const store = new ArtifactStore(storeRoot);

/** Thrown inside the thread when its job's flag says cancelled; the pool answers with the activity's own cancellation. */
class JobCancelled extends Error {
  // AbortError: runStage's classifyError passes cancellations through untyped (it would make anything else Internal).
  override readonly name = 'AbortError';
}

const reply = (message: ThreadReply) => parentPort!.postMessage(message);

async function runJob({ id, name, input, resume, execution, cancelFlag }: ThreadRequest): Promise<unknown> {
  const flag = new Int32Array(cancelFlag);
  const activities = createActivities({
    store,
    heartbeat: (details) => reply({ id, heartbeat: details }),
    warn: (message) => reply({ id, warn: message }),
    throwIfCancelled: () => {
      if (Atomics.load(flag, 0) === 1) throw new JobCancelled(`${name} cancelled`);
    },
    ...(resume !== undefined ? { resumeFrom: () => resume } : {}),
    ...(execution ? { execution: () => execution } : {}),
  });
  return (activities[name] as (input: unknown) => Promise<unknown>)(input);
}

parentPort!.on('message', async (request: ThreadRequest) => {
  try {
    reply({ id: request.id, result: await runJob(request) });
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    const type = error instanceof UlasanError ? error.type : undefined;
    const context = error instanceof UlasanError ? error.context : undefined;
    reply({ id: request.id, error: { type, name: err.name, message: err.message, context, cancelled: error instanceof JobCancelled } });
  }
});
