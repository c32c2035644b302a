/** Class predictions of a stored tfjs model on a token matrix (loaded on demand, with tfjs). */
import type { TokenMatrix } from '../features/token-matrix';
import { predictClasses } from '../evaluate/evaluate-run';
import { loadModel } from '../train/model-io';
import { tfReady } from '../train/tf-runtime';

export async function predictTokenMatrix(modelDir: string, matrix: TokenMatrix): Promise<Int32Array> {
  await tfReady();
  const model = await loadModel(modelDir);
  try {
    return predictClasses(model, matrix.ids, matrix.rows, matrix.seqLen);
  } finally {
    model.dispose();
  }
}
