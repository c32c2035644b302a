/**
 * The tfjs runtime for the train and evaluate stages in this process. The backend is chosen once per
 * process by `selectBackend` (tfjs-node-gpu, else tfjs-node, else wasm with the project's training
 * kernels, else cpu; `ULASAN_TF_BACKEND` forces one), and the choice is what manifests record.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type TfBackend } from '../kernels/backend';
// Registers the custom layers (FusedRnn, SeededDropout), so every model built by models/builders.ts loads back.
import './fused-layers';

let ready: Promise<TfBackend> | undefined;

/** Initialises tfjs once per process; the backend, with why earlier candidates were skipped. */
export function tfBackend(): Promise<TfBackend> {
  ready ??= selectBackend();
  return ready;
}

/** Initialises tfjs once per process and returns the backend name (recorded in manifests). */
export async function tfReady(): Promise<string> {
  return (await tfBackend()).name;
}

export { tf };
