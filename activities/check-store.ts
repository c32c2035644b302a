/** `checkStore`: a worker refuses work from a client whose store is not its own (ids differ: not one shared store). */
import { join } from 'node:path';
import { STORE_ID_FILE } from '../data/store/artifact-store';
import type { ActivityDeps } from './context';
import { badInput } from '../core/errors';

export function createCheckStoreActivity(deps: ActivityDeps) {
  return async function checkStore(input: { storeId: string }): Promise<void> {
    const id = await deps.store.id();
    if (id === input.storeId) return;
    throw badInput(
      `This worker's store ${deps.store.root} (id ${id}) is not the client's (id ${input.storeId}): ` +
        'set ULASAN_HOME of the client and of every worker to one shared directory.',
      { file: join(deps.store.root, STORE_ID_FILE) },
    );
  };
}
