import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll } from 'vitest';
import { prepareHeapSimd } from '../heap-simd';
import { registerTrainingKernels } from '../training-kernels';

/** Runs the enclosing describe block on `backend` with every training kernel ready, and leaves cpu behind it. */
export function useTrainingBackend(backend: 'cpu' | 'wasm'): void {
  beforeAll(async () => {
    registerTrainingKernels();
    await prepareHeapSimd();
    await tf.setBackend(backend);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
}
