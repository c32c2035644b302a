/** MaxPoolGrad: dy goes to the first maximum of each window (the cpu kernel's rule). */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView, input } from './heap-ops';

export function maxPoolGradOr(stock: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const dy = input(args.inputs, 'dy');
    const x = input(args.inputs, 'input');
    if (x.dtype !== 'float32' || x.shape.length !== 4) return stock(args);
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const wasm = args.backend as BackendWasm;
    const dx = wasm.makeOutput([...x.shape], 'float32');
    const out = heapView(wasm, dx);
    out.fill(0);
    const xv = heapView(wasm, x);
    const dyv = heapView(wasm, dy);
    const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, filterHeight, filterWidth } = info;
    const { strideHeight, strideWidth, padInfo } = info;
    let o = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let r = 0; r < outHeight; r++) {
        const r0 = r * strideHeight - padInfo.top;
        for (let c = 0; c < outWidth; c++, o += C) {
          const c0 = c * strideWidth - padInfo.left;
          for (let d = 0; d < C; d++) {
            let best = -Infinity;
            let at = -1;
            for (let xr = Math.max(r0, 0); xr < Math.min(r0 + filterHeight, inHeight); xr++) {
              for (let xc = Math.max(c0, 0); xc < Math.min(c0 + filterWidth, inWidth); xc++) {
                const idx = ((b * inHeight + xr) * inWidth + xc) * C + d;
                if ((xv[idx] as number) > best) {
                  best = xv[idx] as number;
                  at = idx;
                }
              }
            }
            if (at >= 0) out[at] = (out[at] as number) + (dyv[o + d] as number);
          }
        }
      }
    }
    return dx;
  };
}
