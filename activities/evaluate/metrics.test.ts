import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../data/canonical';
import { UlasanError } from '../../core/errors';
import { accuracyAndMacroF1, classificationMetrics, confusionCounts } from './metrics';

/** One case of fixtures/sklearn-vectors.json (made by fixtures/make-vectors.py with sklearn 1.2.1). */
interface SklearnCase {
  name: string;
  classes: string[];
  y_true: number[];
  y_pred: number[];
  gmean_correction: number;
  accuracy: number;
  balanced_accuracy: number;
  gmean: number;
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
  macro: [number, number, number];
  weighted: [number, number, number];
  confusion_matrix: number[][];
}

const vectors = JSON.parse(readFileSync(new URL('./fixtures/sklearn-vectors.json', import.meta.url), 'utf8')) as {
  cases: SklearnCase[];
};
const TOLERANCE = 1e-12;

function close(actual: number, expected: number, what: string): void {
  expect(Math.abs(actual - expected), `${what}: ${actual} vs sklearn ${expected}`).toBeLessThanOrEqual(TOLERANCE);
}

describe('classificationMetrics matches scikit-learn / imbalanced-learn', () => {
  it('has the committed vectors', () => {
    expect(vectors.cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(vectors.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const m = classificationMetrics(Int32Array.from(c.y_true), Int32Array.from(c.y_pred), c.classes, {
      gMeanCorrection: c.gmean_correction,
    });
    close(m.accuracy, c.accuracy, 'accuracy');
    close(m.balancedAccuracy, c.balanced_accuracy, 'balanced accuracy');
    close(m.gMean, c.gmean, 'G-mean');
    m.perClass.forEach((pc, i) => {
      close(pc.precision, c.precision[i] as number, `precision[${i}]`);
      close(pc.recall, c.recall[i] as number, `recall[${i}]`);
      close(pc.f1, c.f1[i] as number, `f1[${i}]`);
      expect(pc.support).toBe(c.support[i]);
      expect(pc.label).toBe(c.classes[i]);
    });
    for (const [avg, want] of [
      [m.macro, c.macro],
      [m.weighted, c.weighted],
    ] as const) {
      close(avg.precision, want[0], 'average precision');
      close(avg.recall, want[1], 'average recall');
      close(avg.f1, want[2], 'average f1');
      expect(avg.support).toBe(c.y_true.length);
    }
    expect(m.confusionMatrix).toEqual(c.confusion_matrix);
    expect(m.n).toBe(c.y_true.length);
    // canonical JSON refuses NaN/Infinity: every case must encode
    expect(() => canonicalJson(m)).not.toThrow();
  });
});

describe('warnings for ill-defined metrics', () => {
  it('names the class, the metric and the reason', () => {
    // class 'c' never predicted, class 'd' in neither vector, class 'b' predicted but never true
    const m = classificationMetrics(Int32Array.from([0, 0, 2, 2]), Int32Array.from([0, 1, 0, 0]), ['a', 'b', 'c', 'd']);
    expect(m.warnings).toEqual([
      "recall of class 'b' is ill-defined (no true rows); set to 0.0",
      "precision of class 'c' is ill-defined (no predicted rows); set to 0.0",
      "precision of class 'd' is ill-defined (no predicted rows); set to 0.0",
      "recall of class 'd' is ill-defined (no true rows); set to 0.0",
      "F1 of class 'd' is ill-defined (no true nor predicted rows); set to 0.0",
      "balanced accuracy leaves out classes predicted but absent from yTrue: 'b'",
      "G-mean uses 0 for the zero recall of 'b', 'c', 'd'",
    ]);
    expect(m.confusionMatrix).toEqual([
      [1, 1, 0, 0],
      [0, 0, 0, 0],
      [2, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('is empty when every metric is defined', () => {
    const m = classificationMetrics(Int32Array.from([0, 1, 1]), Int32Array.from([0, 1, 0]), ['n', 'p']);
    expect(m.warnings).toEqual([]);
  });
});

describe('input validation', () => {
  const classes = ['a', 'b'];
  it.each([
    [[0, 1], [0], classes, 'yTrue has 2 rows but yPred has 1'],
    [[], [], classes, 'no rows to score'],
    [[0, 2], [0, 1], classes, 'yTrue[1] = 2 is not a class index in [0, 2)'],
    [[0, 1], [-1, 1], classes, 'yPred[0] = -1 is not a class index in [0, 2)'],
    [[0], [0], [], 'at least one class name'],
    [[0], [0], ['a', 'a'], 'class names must be unique'],
  ])('refuses %j / %j with classes %j', (yTrue, yPred, names, message) => {
    const run = (): unknown => classificationMetrics(Int32Array.from(yTrue), Int32Array.from(yPred), names);
    expect(run).toThrow(UlasanError);
    expect(run).toThrow(message);
  });

  it('refuses a G-mean correction outside [0, 1]', () => {
    expect(() =>
      classificationMetrics(Int32Array.from([0]), Int32Array.from([0]), ['a'], { gMeanCorrection: -1 }),
    ).toThrow('gMeanCorrection must be in [0, 1]; got -1');
  });
});

describe('accuracyAndMacroF1', () => {
  it('agrees with the full report on every committed case', () => {
    for (const c of vectors.cases) {
      const yTrue = Int32Array.from(c.y_true);
      const yPred = Int32Array.from(c.y_pred);
      const fast = accuracyAndMacroF1(confusionCounts(yTrue, yPred, c.classes.length), c.classes.length);
      const full = classificationMetrics(yTrue, yPred, c.classes);
      expect(fast).toEqual({ accuracy: full.accuracy, macroF1: full.macro.f1 });
    }
  });

  it('counts only the listed rows, with repeats', () => {
    const rows = Int32Array.from([1, 1, 2]);
    const counts = confusionCounts(Int32Array.from([0, 1, 1]), Int32Array.from([0, 0, 1]), 2, rows);
    expect(Array.from(counts)).toEqual([0, 0, 2, 1]);
  });
});
