/**
 * Training kernels the stock tfjs wasm backend (4.22) lacks or runs slowly.
 *
 * - `UnsortedSegmentSum` is missing, and it is the gradient of `gather`, so no model with an Embedding trains.
 * - `Conv2DBackpropFilter` is missing, and it is the filter gradient of Conv1D/Conv2D. For a dense stride-1 Conv1D
 *   it is one SIMD pass over x and dy in place (transpose-scatter-conv-grads.wat's convFilterGrad), ~2x faster than the matmul route,
 *   whose matmul alone costs about the forward conv, plus half as much again to pack its [B·W, K·Cout] operand.
 * - The stock `Conv2DBackpropInput` (the Conv1D input gradient, needed below an Embedding) is ~10x slower than the
 *   matmul + col2im replacement here.
 * - Behind GlobalMaxPooling1D, the Conv1D output gradient is ~98% zeros: both conv gradients then walk only the
 *   nonzeros (sparse-conv.ts), ~3x faster than the dense matmuls.
 * - `BatchMatMul` / `_FusedMatMul` with `transposeA`/`transposeB` are 4-17x slower than transposing first, and
 *   backprop through every Dense/LSTM matmul uses transposed operands.
 * - `GatherV2` (the Embedding lookup) takes ~15 ms for 4,096 rows of 100 floats; row copies take well under 1 ms.
 * - `Equal` with broadcasting (the gradient of max / GlobalMaxPooling1D) takes ~20 ms for 250k elements.
 * - `MaxPoolGrad` (the MaxPooling1D gradient) is a slow generic loop; the positions of the maxima suffice.
 * - `Identity` copies its input, where sharing the buffer (as the cpu backend and wasm's own Reshape do) is enough;
 *   so does a `Transpose` that keeps every axis in place (two per Embedding gradient, one of the whole table).
 *
 * The cpu backend's kernels are no fallback: they take seconds to minutes per batch at realistic sizes.
 */
import * as tf from '@tensorflow/tfjs';
// Importing the backend registers its stock kernels, which the replacements below wrap or call.
import '@tensorflow/tfjs-backend-wasm';
import { conv2DBackpropFilter, conv2DBackpropInputOr } from './overrides/conv-backprop';
import { broadcastEqualOr } from './overrides/equal';
import { gatherRowsOr } from './overrides/gather';
import { noOpTransposeOr, sharedIdentity } from './overrides/identity';
import { transposingMatMul } from './overrides/mat-mul';
import { maxPoolGradOr } from './overrides/max-pool-grad';
import { overrideKernel, registerIfMissing } from './overrides/registry';
import { unsortedSegmentSum } from './overrides/unsorted-segment-sum';

/**
 * Registers the wasm training kernels. Idempotent, and safe before or after `await tf.setBackend('wasm')`: the new
 * kernels need no setup, and the replaced stock kernels keep their `setupFunc`, which already ran if wasm is active
 * and otherwise runs when it becomes active.
 */
export function registerTrainingKernels(): void {
  registerIfMissing(tf.UnsortedSegmentSum, unsortedSegmentSum);
  registerIfMissing(tf.Conv2DBackpropFilter, conv2DBackpropFilter);
  overrideKernel(tf.Conv2DBackpropInput, conv2DBackpropInputOr);
  overrideKernel(tf.BatchMatMul, transposingMatMul);
  overrideKernel(tf._FusedMatMul, transposingMatMul);
  overrideKernel(tf.GatherV2, gatherRowsOr);
  overrideKernel(tf.Equal, broadcastEqualOr);
  overrideKernel(tf.MaxPoolGrad, maxPoolGradOr);
  overrideKernel(tf.Identity, () => sharedIdentity);
  overrideKernel(tf.Transpose, noOpTransposeOr);
}
