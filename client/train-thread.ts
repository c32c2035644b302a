/** A worker thread that trains grid cells: its own tfjs backend, the shared store on disk. */
import { parentPort, workerData } from 'node:worker_threads';
import { createActivities } from '../activities';
import { UlasanError } from '../activities/errors';
import type { TrainInput } from '../activities/train/train';
import { ArtifactStore } from '../data/store/artifact-store';

const { storeRoot } = workerData as { storeRoot: string };
const activities = createActivities({ store: new ArtifactStore(storeRoot), heartbeat: () => undefined, warn: () => undefined });

parentPort!.on('message', async ({ id, input }: { id: number; input: TrainInput }) => {
  try {
    parentPort!.postMessage({ id, outcome: await activities.trainModel(input) });
  } catch (error) {
    const type = error instanceof UlasanError ? error.type : undefined;
    parentPort!.postMessage({ id, error: { type, message: (error as Error)?.message ?? String(error) } });
  }
});
