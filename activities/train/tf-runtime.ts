/**
 * The tfjs runtime for the train and evaluate stages in this process. The worker chooses the backend
 * at start (see worker/); here the stages just need one that can train, so wasm with the project's
 * training kernels is the default, and `ULASAN_TF_BACKEND=cpu` forces the pure-JS one.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasm-kernels';

let ready: Promise<string> | undefined;

/** Initialises tfjs once per process and returns the backend name (recorded in manifests). */
export function tfReady(): Promise<string> {
  ready ??= (async () => {
    const wanted = process.env.ULASAN_TF_BACKEND === 'cpu' ? 'cpu' : 'wasm';
    if (!(await tf.setBackend(wanted))) throw new Error(`tfjs backend '${wanted}' could not start`);
    await tf.ready();
    if (wanted === 'wasm') registerWasmTrainingKernels();
    return tf.getBackend();
  })();
  return ready;
}

export { tf };
