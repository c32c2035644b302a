/**
 * A tfjs model's class probabilities on padded token ids: the one predict path, for the predict and evaluate
 * stages (activities/predict/score-model.ts, which loads this lazily) and the fit loop's validation.
 */
import { argmax, type RowScores } from './baselines/matrix';
import { tf } from './tf-runtime';

/** Rows scored per tfjs call by default, so memory stays flat whatever the input size. */
const TFJS_BATCH = 512;

/**
 * Class probabilities of a tfjs model on padded token ids, in fixed-size batches. A 1-unit sigmoid head
 * (binary models from models/builders.ts) gives [1 − p, p] and class 1 when p > 0.5; a softmax head its outputs
 * and their argmax (ties to the lowest class, as tf.argMax).
 */
export function scoreTokenIds(model: tf.LayersModel, ids: Int32Array, rows: number, seqLen: number, batchRows = TFJS_BATCH): RowScores {
  const labels = new Int32Array(rows);
  let scores = new Float64Array(0);
  let k = 0;
  for (let start = 0; start < rows; start += batchRows) {
    const end = Math.min(rows, start + batchRows);
    const output = tf.tidy(() => {
      const x = tf.tensor2d(ids.subarray(start * seqLen, end * seqLen), [end - start, seqLen], 'int32');
      return model.predict(x) as tf.Tensor2D;
    });
    const units = output.shape[1];
    const values = output.dataSync() as Float32Array;
    output.dispose();
    if (k === 0) {
      k = Math.max(2, units);
      scores = new Float64Array(rows * k);
    }
    for (let r = 0; r < end - start; r++) {
      const row = start + r;
      if (units === 1) {
        const p = values[r] as number;
        scores[row * 2] = 1 - p;
        scores[row * 2 + 1] = p;
        labels[row] = p > 0.5 ? 1 : 0;
      } else {
        for (let c = 0; c < k; c++) scores[row * k + c] = values[r * k + c] as number;
        labels[row] = argmax(values, r * k, k);
      }
    }
  }
  return { labels, scores, k: Math.max(2, k), kind: 'probability' };
}
