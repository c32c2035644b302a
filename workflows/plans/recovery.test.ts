/**
 * The plan's recovery from unreadable inputs, as both runners see failures: the local runner's
 * UlasanError, and Temporal's ActivityFailure wrapping an ApplicationFailure with the context as detail.
 */
import { describe, expect, it } from 'vitest';
import { UlasanError } from '../../core/errors';
import type { StageOutcome } from '../../activities/context';
import { PlanFailure } from '../../core/failures';
import { Producers, corruptInputOf } from './recovery';

const outcome = (key: string, stage: string): StageOutcome => ({ ref: { key, stage }, cache: 'miss', ms: 1, summary: {} });
const localFailure = () => new UlasanError('CorruptInput', 'train could not read train.arrow', { stage: 'resample', key: 'r1', file: '/s/r1/train.arrow' });
/** The shape a workflow sees on Temporal: ActivityFailure → ApplicationFailure { type, details: [context] }. */
const temporalFailure = () => ({
  message: 'Activity task failed',
  cause: { type: 'CorruptInput', message: 'train could not read train.arrow', details: [{ stage: 'resample', key: 'r1' }] },
});

describe('recovery from an unreadable input', () => {
  it('reads the producing stage and key from either runner', () => {
    expect(corruptInputOf(localFailure())).toEqual({ stage: 'resample', key: 'r1' });
    expect(corruptInputOf(temporalFailure())).toEqual({ stage: 'resample', key: 'r1' });
    expect(corruptInputOf(new UlasanError('BadInput', 'no'))).toBeUndefined();
  });

  for (const [runner, failure] of [['local', localFailure], ['Temporal', temporalFailure]] as const) {
    it(`recomputes the producer once, then runs the consumer again (${runner})`, async () => {
      const producers = new Producers();
      const calls: string[] = [];
      await producers.run(async () => (calls.push('resample'), outcome('r1', 'resample')));
      let failures = 1;
      const trained = await producers.run(async () => {
        calls.push('train');
        if (failures-- > 0) throw failure();
        return outcome('t1', 'train');
      });
      expect(trained.ref.key).toBe('t1');
      expect(calls).toEqual(['resample', 'train', 'resample', 'train']);
    });
  }

  it('stops with a bug error naming the producer when the recomputed input is still unreadable (no loop)', async () => {
    const producers = new Producers();
    let produced = 0;
    await producers.run(async () => (produced++, outcome('r1', 'resample')));
    const consumer = producers.run(async () => {
      throw localFailure();
    });
    await expect(consumer).rejects.toBeInstanceOf(PlanFailure);
    await expect(consumer).rejects.toMatchObject({
      type: 'Internal',
      context: { stage: 'resample', key: 'r1' },
      message: expect.stringContaining('Bug in stage resample: its artifact r1 was recomputed and is still unreadable'),
    });
    expect(produced).toBe(2);
  });

  it("leaves other failures, and unreadable inputs this run did not produce, as they are", async () => {
    const producers = new Producers();
    const bad = new UlasanError('BadInput', 'spec is wrong');
    await expect(producers.run(async () => Promise.reject(bad))).rejects.toBe(bad);
    const foreign = localFailure();
    await expect(producers.run(async () => Promise.reject(foreign))).rejects.toBe(foreign);
  });

  it("lets a grid cell recompute the run's features (a parent scope)", async () => {
    const run = new Producers();
    let features = 0;
    await run.run(async () => (features++, outcome('f1', 'features')));
    const cell = new Producers(run);
    let failures = 1;
    const failure = new UlasanError('CorruptInput', 'resample could not read train.arrow', { stage: 'features', key: 'f1' });
    await cell.run(async () => {
      if (failures-- > 0) throw failure;
      return outcome('r1', 'resample');
    });
    expect(features).toBe(2);
  });
});
