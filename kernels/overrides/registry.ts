/** Registering wasm kernels once: new ones only where missing, overrides wrapping the stock kernel. */
import * as tf from '@tensorflow/tfjs';

const BACKEND = 'wasm';

/** Kernel functions this module installed, so a second call recognises them and does nothing. */
const installed = new WeakSet<tf.KernelFunc>();

/** Leaves a kernel that exists alone: ours from an earlier call, or a native one from a newer tfjs. */
export function registerIfMissing(kernelName: string, kernelFunc: tf.KernelFunc): void {
  if (findKernel(kernelName) !== undefined) return;
  installed.add(kernelFunc);
  tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
}

/** `tf.getKernel` is typed as always returning a config, but returns undefined for unknown kernels. */
function findKernel(kernelName: string): tf.KernelConfig | undefined {
  return tf.getKernel(kernelName, BACKEND) as tf.KernelConfig | undefined;
}

/**
 * Replaces a stock wasm kernel with `wrap(stock)`. The stock `setupFunc` is kept: it binds the C++ function that the
 * stock kernelFunc, still called by the wrapper, needs.
 */
export function overrideKernel(kernelName: string, wrap: (stock: tf.KernelFunc) => tf.KernelFunc): void {
  const stock = findKernel(kernelName);
  if (stock === undefined) throw new Error(`stock wasm kernel '${kernelName}' is not registered`);
  if (installed.has(stock.kernelFunc)) return;
  const kernelFunc = wrap(stock.kernelFunc);
  installed.add(kernelFunc);
  tf.unregisterKernel(kernelName, BACKEND);
  tf.registerKernel({ ...stock, kernelFunc });
}

export function requireKernel(kernelName: string): tf.KernelFunc {
  const kernel = findKernel(kernelName);
  if (kernel === undefined) throw new Error(`wasm kernel '${kernelName}' is not registered`);
  return kernel.kernelFunc;
}
