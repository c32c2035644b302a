/**
 * Conv1D → bias → ReLU → GlobalMaxPooling1D as one op with its own gradient, for the `cnn` (pooling 'global-max')
 * and `cnn-small` models.
 *
 * Why: as separate layers, the backward pass materialises a [B, W, F] gradient that is zero except at each
 * (sample, filter)'s winning position, then runs two full matmuls over it (the conv's filter and input gradients)
 * plus a dozen elementwise kernels for the pooling, ReLU and bias gradients: ~10 ms of a ~20 ms CNN step. Here the
 * forward pass keeps the winner's position, and the backward pass adds one row of taps per winner.
 *
 * Forward: the conv itself is tf.conv1d (the backend's matmul), then one pass for bias, ReLU and the maximum.
 * Backward: conv-max.wat on wasm (prepared first, like every heap SIMD kernel whose rounding differs from its JavaScript
 * twin); the same loops in JavaScript on cpu (the reference the tests compare against).
 * The gradient of a maximum reached at several positions goes to the first of them, as PyTorch's max does
 * (tfjs's Max gradient gives it to every tied position, which overcounts; ties are common where padding repeats).
 */
import * as tf from '@tensorflow/tfjs';
import { heapSimd, requireHeapSimd } from './heap-simd';
import { kernelInput, withArena, type Region } from './arena';

export const BIAS_RELU_MAX = 'UlasanBiasReluMax';
export const CONV_MAX_GRAD = 'UlasanConvMaxGrad';

export type ConvPadding = 'valid' | 'same';

/** max over positions of relu(conv1d(x, kernel) + bias): x [B, W, C], kernel [K, C, F], bias [F] → [B, F]. */
export function convGlobalMax(x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor, padding: ConvPadding): tf.Tensor {
  registerConvMaxKernels();
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, kernelIn, biasIn, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor, tf.GradSaveFunc];
    const z = tf.conv1d(xIn, kernelIn, 1, padding);
    const [y, argmax] = tf.engine().runKernel(BIAS_RELU_MAX, { z, bias: biasIn }) as tf.Tensor[];
    z.dispose();
    save([xIn, kernelIn, argmax as tf.Tensor]);
    return {
      value: y as tf.Tensor,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sKernel, sArgmax] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const padLeft = padding === 'same' ? Math.floor(((sKernel.shape[0] as number) - 1) / 2) : 0;
        const inputs = { x: sx, kernel: sKernel, argmax: sArgmax, dy: dy as tf.Tensor };
        return tf.engine().runKernel(CONV_MAX_GRAD, inputs, { padLeft }) as tf.Tensor[];
      },
    };
  });
  return op(x, kernel, bias);
}

let registered = false;

/** Registers both kernels for cpu and wasm. Idempotent. */
export function registerConvMaxKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of ['cpu', 'wasm']) {
    tf.registerKernel({ kernelName: BIAS_RELU_MAX, backendName, kernelFunc: biasReluMaxKernel });
    tf.registerKernel({ kernelName: CONV_MAX_GRAD, backendName, kernelFunc: convMaxGradKernel });
  }
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function named(inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  return kernelInput(inputs, name, 'conv-max kernel');
}

/** z [B, W, F], bias [F] → y [B, F] = max over w of relu(z + bias), argmax [B, F] (float32; −1 where y is 0). */
function biasReluMaxKernel({ inputs, backend }: KernelArgs): tf.TensorInfo[] {
  const z = named(inputs, 'z');
  const [B = 0, W = 0, F = 0] = z.shape;
  return withArena(backend as tf.KernelBackend, (arena) => {
    const zr = arena.input(z);
    const bias = arena.input(named(inputs, 'bias'));
    const y = arena.output([B, F]);
    const argmax = arena.output([B, F]);
    const simd = F % 4 === 0 ? heapSimd(backend as tf.KernelBackend) : undefined;
    if (simd === undefined) biasReluMax(arena.heap(), { z: zr, bias, y, argmax }, B, W, F);
    else simd.biasReluMax(4 * zr.off, 4 * bias.off, 4 * y.off, 4 * argmax.off, B, W, F);
  });
}

/**
 * The first position of the strict maximum above 0 wins: the ReLU floor is the starting maximum. z + bias is
 * rounded to float32 before the comparison, so this and conv-max.wat's SIMD version agree bit for bit.
 */
function biasReluMax(h: Float32Array, r: Record<'z' | 'bias' | 'y' | 'argmax', Region>, B: number, W: number, F: number) {
  const { z, bias, y, argmax } = { z: r.z.off, bias: r.bias.off, y: r.y.off, argmax: r.argmax.off };
  h.fill(0, y, y + B * F);
  h.fill(-1, argmax, argmax + B * F);
  for (let b = 0; b < B; b++) {
    const out = b * F;
    for (let w = 0; w < W; w++) {
      const row = z + (b * W + w) * F;
      for (let f = 0; f < F; f++) {
        const v = Math.fround((h[row + f] as number) + (h[bias + f] as number));
        if (v > (h[y + out + f] as number)) {
          h[y + out + f] = v;
          h[argmax + out + f] = w;
        }
      }
    }
  }
}

interface GradRegions {
  x: Region;
  wt: Region;
  argmax: Region;
  dy: Region;
  dx: Region;
  dwt: Region;
  dbias: Region;
}

interface GradDims {
  B: number;
  W: number;
  C: number;
  F: number;
  K: number;
  padLeft: number;
}

/** x [B, W, C], kernel [K, C, F], argmax and dy [B, F] → dx [B, W, C], dkernel [K, C, F], dbias [F]. */
function convMaxGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const x = named(inputs, 'x');
  const kernel = named(inputs, 'kernel');
  const [B = 0, W = 0, C = 0] = x.shape;
  const [K = 0, , F = 0] = kernel.shape;
  const d: GradDims = { B, W, C, F, K, padLeft: (attrs as unknown as { padLeft: number }).padLeft };
  return withArena(backend as tf.KernelBackend, (arena) => {
    const kernelRegion = arena.input(kernel);
    const r: GradRegions = {
      x: arena.input(x),
      argmax: arena.input(named(inputs, 'argmax')),
      dy: arena.input(named(inputs, 'dy')),
      dx: arena.output([B, W, C]),
      wt: arena.scratch(F * K * C),
      dwt: arena.scratch(F * K * C),
      dbias: arena.scratch(F),
    };
    const dKernel = arena.output([K, C, F]);
    const dBias = arena.output([F]);
    // [K·C, F] ⇄ [F, K·C]: each winner's taps are then one contiguous run of K·C floats in both.
    arena.transpose(kernelRegion, K * C, F, r.wt);
    const simd = requireHeapSimd(backend as tf.KernelBackend, CONV_MAX_GRAD);
    if (simd === undefined) convMaxGrad(arena.heap(), r, d);
    else {
      const offsets = [r.x, r.wt, r.argmax, r.dy, r.dx, r.dwt, r.dbias].map((region) => 4 * region.off);
      simd.convMaxGrad(...offsets, B, W, C, F, K, d.padLeft);
    }
    arena.transpose(r.dwt, F, K * C, dKernel);
    const h = arena.heap();
    h.copyWithin(dBias.off, r.dbias.off, r.dbias.off + F);
  });
}

/** conv-max.wat's loops, in JavaScript (float64 sums rounded per store, where conv-max.wat rounds every operation). */
function convMaxGrad(h: Float32Array, r: GradRegions, { B, W, C, F, K, padLeft }: GradDims): void {
  h.fill(0, r.dx.off, r.dx.off + r.dx.len);
  h.fill(0, r.dwt.off, r.dwt.off + r.dwt.len);
  h.fill(0, r.dbias.off, r.dbias.off + F);
  for (let b = 0; b < B; b++) {
    for (let f = 0; f < F; f++) {
      const t = h[r.argmax.off + b * F + f] as number;
      if (t < 0) continue;
      const g = h[r.dy.off + b * F + f] as number;
      h[r.dbias.off + f] = (h[r.dbias.off + f] as number) + g;
      const start = t - padLeft;
      const k0 = Math.max(0, -start);
      const k1 = Math.min(K, W - start);
      const xAt = (b * W + start + k0) * C;
      const wAt = (f * K + k0) * C;
      for (let j = 0; j < (k1 - k0) * C; j++) {
        h[r.dwt.off + wAt + j] = (h[r.dwt.off + wAt + j] as number) + g * (h[r.x.off + xAt + j] as number);
        h[r.dx.off + xAt + j] = (h[r.dx.off + xAt + j] as number) + g * (h[r.wt.off + wAt + j] as number);
      }
    }
  }
}
