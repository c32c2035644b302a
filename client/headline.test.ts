import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitArtifact } from '../activities/report/testing/fixture-store';
import { ArtifactStore } from '../data/store/artifact-store';
import { epochReporter, formatEpoch } from './epoch-progress';
import { formatHeadline, runHeadline } from './headline';

const roots: string[] = [];
afterAll(async () => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

async function storeWithMetrics(trainedOn: string, warnings: string[] = []) {
  const root = await mkdtemp(join(tmpdir(), 'ulasan-headline-'));
  roots.push(root);
  const store = new ArtifactStore(root);
  const train = await commitArtifact(store, { stage: trainedOn, params: {} });
  const model = await commitArtifact(store, { stage: 'train', params: { seed: 1 }, inputs: { train: train.key, features: train.key } });
  const metrics = {
    partition: 'test',
    n: 191,
    accuracy: 0.9267,
    macro: { f1: 0.8577 },
    bootstrap: { confidence: 0.95, macroF1: { estimate: 0.8577, low: 0.7843, high: 0.9209 }, accuracy: { estimate: 0.9267, low: 0.89, high: 0.96 } },
    warnings,
  };
  const evaluation = await commitArtifact(store, { stage: 'evaluate', params: {}, inputs: { model: model.key, features: train.key }, files: { 'metrics.json': JSON.stringify(metrics) } });
  return { store, metricsKey: evaluation.key };
}

describe('run headline', () => {
  it('gives the metric with its interval, n and the partition, then the selected cell and every warning', async () => {
    const { store, metricsKey } = await storeWithMetrics('resample', ["precision of class 'negative' is ill-defined (no predicted rows); set to 0.0"]);
    const cells = [
      { id: 'cell-a' },
      { id: 'cell-b', error: { type: 'Internal', message: 'out of memory' } },
    ];
    const lines = formatHeadline(await runHeadline(store, { metricsKey, selected: 'cell-a', cells }));
    expect(lines).toEqual([
      'result:  macro-F1 0.858 [0.784, 0.921] (95% bootstrap), accuracy 0.927, n=191 test',
      '         selected cell cell-a (chosen on validation, scored once on test)',
      "WARNING: precision of class 'negative' is ill-defined (no predicted rows); set to 0.0",
      'WARNING: grid cell cell-b failed (Internal): out of memory',
    ]);
  });

  it('says so when the model was trained on a leaky split', async () => {
    const { store, metricsKey } = await storeWithMetrics('leaky-split');
    const lines = formatHeadline(await runHeadline(store, { metricsKey }));
    expect(lines[1]).toMatch(/^WARNING: LEAKY evaluation/);
  });
});

describe('epoch progress', () => {
  const beat = (epoch: number, durationMs: number) => ({ epoch, epochs: 4, checkpointKey: `k/epoch-${epoch}`, loss: 0.5 / (epoch + 1), valMacroF1: 0.7 + epoch / 100, durationMs });

  it('prints a plain line per epoch with loss, validation macro-F1 and an ETA from the mean epoch time', () => {
    const lines: string[] = [];
    const report = epochReporter({ log: (l) => lines.push(l) });
    report({ epoch: 0, checkpointKey: 'k/epoch-0' }); // a heartbeat without logs (a resumed fit's first beat): ignored
    report(beat(0, 2000));
    report(beat(1, 4000));
    report('scrape page 3');
    expect(lines).toEqual(['train epoch 1/4  loss 0.5000  val macro-F1 0.7000  ETA 6s', 'train epoch 2/4  loss 0.2500  val macro-F1 0.7100  ETA 6s']);
  });

  it('rewrites one line on a TTY and ends it after the last epoch', () => {
    let out = '';
    const report = epochReporter({ log: () => undefined, tty: { write: (t: string) => (out += t) } });
    for (let e = 0; e < 4; e++) report(beat(e, 1000));
    expect(out.split('\r\x1b[K')).toHaveLength(5);
    expect(out.endsWith('ETA 0s\n')).toBe(true);
    expect(formatEpoch({ ...beat(0, 1), valMacroF1: undefined }, 125)).toBe('train epoch 1/4  loss 0.5000  ETA 2m05s');
  });
});
