/**
 * Recovery from unreadable inputs, the same on both runners. A stage that cannot read one of its inputs
 * moves it aside and fails with CorruptInput naming the input's producing stage and key (data/store/stage.ts).
 * The plan then runs that producer's step again (now a cache miss, so it recomputes), once, and the
 * consumer after it. If the consumer still cannot read the recomputed input, its producer writes bytes
 * its consumers cannot read: a bug, reported with the producer's stage and key, and not retried.
 *
 * Pure plan code: no Temporal, no Node.
 */
import type { StageOutcome } from '../../activities/context';
import { PlanFailure } from '../../core/failures';

/** One activity call of the plan, as a function so that it can be made again; told why when it is a recovery. */
export type Step = (recovery?: string) => Promise<StageOutcome>;

/** The reason recorded for a producer redone because its consumer could not read its artifact. */
export const RECOVERY_REASON = 'unreadable to the next stage: moved to .corrupt/ and recomputed';

/** The producing stage and key of the unreadable input a CorruptInput failure names, or undefined. */
export function corruptInputOf(error: unknown): { stage: string; key: string } | undefined {
  // Locally the UlasanError itself; on Temporal an ActivityFailure whose cause is an ApplicationFailure
  // carrying the error's context as its first detail.
  for (let node = error as FailureNode | undefined, depth = 0; node && depth < 8; node = node.cause, depth++) {
    if (node.type !== 'CorruptInput') continue;
    const context = node.context ?? node.details?.[0];
    if (typeof context?.key === 'string') return { stage: String(context.stage ?? 'unknown'), key: context.key };
  }
  return undefined;
}

interface FailureNode {
  type?: unknown;
  context?: { stage?: unknown; key?: unknown };
  details?: { stage?: unknown; key?: unknown }[];
  cause?: FailureNode;
}

/** Remembers the step that produced each artifact of a run, and redoes one (once) when a consumer cannot read it. */
export class Producers {
  private readonly steps = new Map<string, Step>();
  private readonly recomputed = new Set<string>();

  /** Falls back to `parent` for artifacts made outside this scope (a grid cell's features). */
  constructor(private readonly parent?: Producers) {}

  /** Runs `step`, recovering from unreadable inputs, and records it as its artifact's producer. */
  async run(step: Step): Promise<StageOutcome> {
    for (;;) {
      try {
        const outcome = await step();
        this.steps.set(outcome.ref.key, step);
        return outcome;
      } catch (error) {
        await this.recover(error);
      }
    }
  }

  private producerOf(key: string): Producers | undefined {
    return this.steps.has(key) ? this : this.parent?.producerOf(key);
  }

  /** Recomputes the unreadable input `error` names, or rethrows when there is nothing (more) to do. */
  private async recover(error: unknown): Promise<void> {
    const corrupt = corruptInputOf(error);
    const owner = corrupt && this.producerOf(corrupt.key);
    if (!corrupt || !owner) throw error;
    if (owner.recomputed.has(corrupt.key)) {
      throw new PlanFailure(
        'Internal',
        `Bug in stage ${corrupt.stage}: its artifact ${corrupt.key} was recomputed and is still unreadable to the stage ` +
          `that consumes it (${(error as Error)?.message ?? String(error)}). Both copies are under .corrupt/ in the store; ` +
          'please report this with the spec.',
        { stage: corrupt.stage, key: corrupt.key },
      );
    }
    owner.recomputed.add(corrupt.key);
    const producer = owner.steps.get(corrupt.key)!;
    await owner.run(() => producer(RECOVERY_REASON));
  }
}
