/**
 * Per-epoch training checkpoints under the store root: `<root>/.checkpoints/<train key>/epoch-<n>/`
 * holds `model.json`, `weights.bin`, `optimizer.bin` and `checkpoint.json` (epochs done, trainer
 * state, optimizer specs). The directory is keyed by the train stage key, so a restarted attempt of
 * the same stage (another process, another worker sharing the store) finds it. Each epoch's
 * checkpoint is written to a temp dir and renamed into place, so a crash mid-write leaves the previous
 * one intact; older ones are then removed, and the whole directory once the model is committed.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renameUnlessTaken } from '../data/store/artifact-store';
import type { FitCheckpoint, TrainerState } from './fit';

export const CHECKPOINTS_DIR = '.checkpoints';

interface CheckpointJson {
  trainKey: string;
  epoch: number;
  state: TrainerState;
  optimizer: { specsJson: string; adamBetaPowers?: [number, number] };
}

const EPOCH_DIR = /^epoch-(\d+)$/;
const epochDir = (epoch: number): string => `epoch-${String(epoch).padStart(4, '0')}`;

/** A checkpoint read back, and the key naming it. */
export interface StoredCheckpoint {
  checkpoint: FitCheckpoint;
  checkpointKey: string;
}

export class CheckpointDir {
  readonly dir: string;

  /** Names this attempt's temp dirs. */
  private readonly attempt = randomUUID();

  constructor(
    storeRoot: string,
    private readonly trainKey: string,
  ) {
    this.dir = join(storeRoot, CHECKPOINTS_DIR, trainKey);
  }

  /** `<train key>/epoch-<n>`: what the activity heartbeats. */
  keyOf(epoch: number): string {
    return `${this.trainKey}/${epochDir(epoch)}`;
  }

  /** Stores a checkpoint (after `checkpoint.epoch` epochs) atomically and drops older ones; returns its key. */
  async save(checkpoint: FitCheckpoint): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    // Named per attempt, not per process: a timed-out attempt and its retry may share a worker process.
    const temp = join(this.dir, `.tmp-${this.attempt}-${checkpoint.epoch}`);
    await rm(temp, { recursive: true, force: true });
    await mkdir(temp);
    const json: CheckpointJson = {
      trainKey: this.trainKey,
      epoch: checkpoint.epoch,
      state: checkpoint.state,
      optimizer: { specsJson: checkpoint.optimizer.specsJson, adamBetaPowers: checkpoint.optimizer.adamBetaPowers },
    };
    await writeFile(join(temp, 'model.json'), checkpoint.model.modelJson);
    await writeFile(join(temp, 'weights.bin'), checkpoint.model.weights);
    await writeFile(join(temp, 'optimizer.bin'), checkpoint.optimizer.weights);
    // Written last: a directory without it is incomplete and never read.
    await writeFile(join(temp, 'checkpoint.json'), JSON.stringify(json) + '\n');
    await this.publish(temp, join(this.dir, epochDir(checkpoint.epoch)));
    for (const epoch of await this.epochs()) {
      if (epoch < checkpoint.epoch) await rm(join(this.dir, epochDir(epoch)), { recursive: true, force: true });
    }
    return this.keyOf(checkpoint.epoch);
  }

  /**
   * The checkpoint to resume from: the one `hint` (heartbeat details `{checkpointKey}`) names when it
   * is still there, else the newest stored. Undefined when there is none.
   */
  async load(hint?: unknown): Promise<StoredCheckpoint | undefined> {
    const named = this.epochFromHint(hint);
    const available = await this.epochs();
    const epoch = named !== undefined && available.includes(named) ? named : available.at(-1);
    if (epoch === undefined) return undefined;
    // Another attempt may drop this checkpoint for a newer one while it is read: then start from the newest.
    return this.read(epoch).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      const newest = (await this.epochs()).at(-1);
      return newest !== undefined && newest !== epoch ? this.read(newest) : undefined;
    });
  }

  private async read(epoch: number): Promise<StoredCheckpoint> {
    const dir = join(this.dir, epochDir(epoch));
    const json = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointJson;
    const modelJson = await readFile(join(dir, 'model.json'), 'utf8');
    const weights = new Uint8Array(await readFile(join(dir, 'weights.bin')));
    const optimizerWeights = new Uint8Array(await readFile(join(dir, 'optimizer.bin')));
    const checkpoint: FitCheckpoint = {
      epoch: json.epoch,
      state: json.state,
      model: { modelJson, weights },
      optimizer: {
        specsJson: json.optimizer.specsJson,
        weights: optimizerWeights,
        ...(json.optimizer.adamBetaPowers ? { adamBetaPowers: json.optimizer.adamBetaPowers } : {}),
      },
    };
    return { checkpoint, checkpointKey: this.keyOf(epoch) };
  }

  /**
   * Renames a finished temp dir into place. Another attempt of the same key may publish the same epoch at the same
   * time: training is deterministic, so its checkpoint is the same, and whichever lands is kept.
   */
  private async publish(temp: string, target: string): Promise<void> {
    await rm(target, { recursive: true, force: true }).catch((err: unknown) => {
      // The other attempt renamed its (identical) checkpoint in while we removed the old one: keep theirs.
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw err;
    });
    await renameUnlessTaken(temp, target);
  }

  /** Removes every checkpoint of this key (after the model is saved). */
  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Epochs with a complete checkpoint, ascending. */
  private async epochs(): Promise<number[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const epochs: number[] = [];
    for (const name of names) {
      const match = EPOCH_DIR.exec(name);
      if (!match) continue;
      const complete = await readdir(join(this.dir, name)).then((files) => files.includes('checkpoint.json'), () => false);
      if (complete) epochs.push(Number(match[1]));
    }
    return epochs.sort((a, b) => a - b);
  }

  private epochFromHint(hint: unknown): number | undefined {
    const key = (hint as { checkpointKey?: unknown } | undefined)?.checkpointKey;
    if (typeof key !== 'string' || !key.startsWith(`${this.trainKey}/`)) return undefined;
    const match = EPOCH_DIR.exec(key.slice(this.trainKey.length + 1));
    return match ? Number(match[1]) : undefined;
  }
}
