import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../data/random';
import { prepareHeapSimd } from './heap-simd';
import { denseConvCalls, setSimdConvGrad } from './overrides/conv-backprop';
import { registerTrainingKernels } from './training-kernels';

const TOLERANCE = 1e-4;

interface Result {
  shape: number[];
  values: number[];
}

function uniform(rng: Rng, size: number): Float32Array {
  return Float32Array.from({ length: size }, () => rng.next() * 2 - 1);
}

function ints(rng: Rng, size: number, below: number): Int32Array {
  return Int32Array.from({ length: size }, () => rng.int(below));
}

/** Runs `build` on one backend, inside a tidy, and reads every returned tensor back. */
async function runOn(backend: 'cpu' | 'wasm', build: () => tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend(backend);
  const tensors = tf.tidy(build);
  const results = tensors.map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
  tf.dispose(tensors);
  return results;
}

/** `build` creates its own input tensors, so each backend computes from the same plain arrays. */
async function expectWasmMatchesCpu(build: () => tf.Tensor[]): Promise<void> {
  expectClose(await runOn('wasm', build), await runOn('cpu', build));
}

function expectClose(actual: Result[], expected: Result[], label = ''): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((result, i) => {
    const want = expected[i] as Result;
    expect(result.shape).toEqual(want.shape);
    result.values.forEach((value, j) => {
      const target = want.values[j] as number;
      expect(Math.abs(value - target), `${label}element ${j} of output ${i}`).toBeLessThanOrEqual(
        TOLERANCE * Math.max(1, Math.abs(target)),
      );
    });
  });
}

/** Counts engine tensors and wasm heap buffers: kernel-internal intermediates only show up in the latter. */
function liveCounts(): { tensors: number; buffers: number } {
  return { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
}

const VOCAB = 40;
const LENGTH = 12;
const SAMPLES = 64;

/** Label 1 iff token 7 occurs: something an Embedding → Conv1D → max-pool model can pick up in a few steps. */
function tokenData(rng: Rng): { tokens: Int32Array; labels: Int32Array } {
  const tokens = ints(rng, SAMPLES * LENGTH, VOCAB);
  const labels = new Int32Array(SAMPLES);
  for (let s = 0; s < SAMPLES; s++) {
    if (s % 2 === 0) tokens[s * LENGTH + rng.int(LENGTH)] = 7;
    labels[s] = tokens.subarray(s * LENGTH, (s + 1) * LENGTH).includes(7) ? 1 : 0;
  }
  return { tokens, labels };
}

/** Seeded initialisers keep the test reproducible: without a seed, tfjs draws initial weights unseeded. */
function textCnn(activation: 'relu' | 'linear'): tf.Sequential {
  const model = tf.sequential();
  model.add(
    tf.layers.embedding({
      inputDim: VOCAB,
      outputDim: 8,
      inputLength: LENGTH,
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 1 }),
    }),
  );
  model.add(
    tf.layers.conv1d({
      filters: 6,
      kernelSize: 3,
      padding: 'same',
      activation,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  model.add(tf.layers.globalMaxPooling1d());
  model.add(
    tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
  );
  return model;
}

/** Trains on wasm and always frees the model, optimizer and data, even when fit throws. */
async function fitTextCnn(): Promise<number[]> {
  await tf.setBackend('wasm');
  const { tokens, labels } = tokenData(new Rng(11));
  const xs = tf.tensor2d(tokens, [SAMPLES, LENGTH], 'int32');
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
  const optimizer = tf.train.adam(0.02);
  const model = textCnn('relu');
  try {
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const history = await model.fit(xs, ys, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });
    return history.history.loss as number[];
  } finally {
    model.dispose();
    optimizer.dispose();
    tf.dispose([xs, ys]);
  }
}

describe('wasm training kernels', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('stock wasm cannot train an Embedding + Conv1D model', async () => {
    await expect(fitTextCnn()).rejects.toThrow(
      /Kernel '(UnsortedSegmentSum|Conv2DBackpropFilter)' not registered for backend 'wasm'/,
    );
  });

  describe('once registered', () => {
    beforeAll(() => {
      registerTrainingKernels();
      registerTrainingKernels(); // idempotent: no duplicate-registration warnings or double wrapping
    });

    it('unsortedSegmentSum matches cpu for repeated ids and 2-D / 3-D data', async () => {
      const rng = new Rng(1);
      const data2d = uniform(rng, 9 * 4);
      const data3d = uniform(rng, 6 * 2 * 3);
      const ids = Int32Array.from([3, 0, 3, 3, 1, 0, 4, 1, 3]);
      await expectWasmMatchesCpu(() => [
        tf.unsortedSegmentSum(tf.tensor2d(data2d, [9, 4]), tf.tensor1d(ids), 6),
        tf.unsortedSegmentSum(tf.tensor3d(data3d, [6, 2, 3]), tf.tensor1d(ids.subarray(0, 6)), 5),
        tf.unsortedSegmentSum(tf.tensor1d(data2d.subarray(0, 9)), tf.tensor1d(ids), 5),
      ]);
    });

    it('unsortedSegmentSum sums int32 data exactly and keeps the dtype', async () => {
      await tf.setBackend('wasm');
      const summed = tf.unsortedSegmentSum(tf.tensor1d([5, 7, -2, 4], 'int32'), tf.tensor1d([2, 0, 2, 2], 'int32'), 4);
      expect(summed.dtype).toBe('int32');
      expect(Array.from(summed.dataSync())).toEqual([7, 0, 7, 0]);
      summed.dispose();
    });

    it('the gradient of an Embedding-like gather matches cpu', async () => {
      const rng = new Rng(2);
      const params = uniform(rng, 10 * 3);
      const indices = ints(rng, 4 * 6, 10);
      const weights = uniform(rng, 4 * 6 * 3);
      await expectWasmMatchesCpu(() => {
        const ids = tf.tensor2d(indices, [4, 6], 'int32');
        const loss = (p: tf.Tensor) => tf.gather(p, ids).mul(tf.tensor3d(weights, [4, 6, 3])).sum();
        return [tf.grad(loss)(tf.tensor2d(params, [10, 3]))];
      });
    });

    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        it(`conv1d filter and input gradients match cpu (stride ${stride}, ${pad})`, async () => {
          const rng = new Rng(3 + stride);
          const x = uniform(rng, 2 * 11 * 3);
          const w = uniform(rng, 3 * 3 * 4);
          const loss = (input: tf.Tensor, filter: tf.Tensor) =>
            tf.conv1d(input as tf.Tensor3D, filter as tf.Tensor3D, stride, pad).square().sum();
          await expectWasmMatchesCpu(() => tf.grads(loss)([tf.tensor3d(x, [2, 11, 3]), tf.tensor3d(w, [3, 3, 4])]));
        });
      }
    }

    it('conv2d gradients match cpu for a 2-D filter and uneven strides', async () => {
      const rng = new Rng(6);
      const x = uniform(rng, 2 * 5 * 7 * 2);
      const w = uniform(rng, 2 * 3 * 2 * 3);
      const loss = (input: tf.Tensor, filter: tf.Tensor) =>
        tf.conv2d(input as tf.Tensor4D, filter as tf.Tensor4D, [2, 1], 'same').square().sum();
      await expectWasmMatchesCpu(() => tf.grads(loss)([tf.tensor4d(x, [2, 5, 7, 2]), tf.tensor4d(w, [2, 3, 2, 3])]));
    });

    // The stock wasm Conv2D forward corrupts the heap with numeric padding and strides > 1, so these padding
    // forms are checked on the gradient kernels alone, with a random dy.
    for (const pad of [1, [[0, 0], [1, 0], [2, 1], [0, 0]]] as const) {
      it(`conv2d gradient kernels match cpu for padding ${JSON.stringify(pad)}`, async () => {
        const rng = new Rng(10);
        const xShape: [number, number, number, number] = [2, 5, 7, 2];
        const filterShape: [number, number, number, number] = [2, 3, 2, 3];
        const strides: [number, number] = [2, 1];
        const explicitPad = pad as tf.backend_util.ExplicitPadding;
        const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, explicitPad);
        const x = uniform(rng, 2 * 5 * 7 * 2);
        const w = uniform(rng, 2 * 3 * 2 * 3);
        const dy = uniform(rng, info.outShape.reduce((size, dim) => size * dim, 1));
        const attrs = { strides, pad, dataFormat: 'NHWC' } as unknown as tf.NamedAttrMap;
        await expectWasmMatchesCpu(() => {
          const dyTensor = tf.tensor4d(dy, info.outShape);
          const filterInputs = { x: tf.tensor4d(x, xShape), dy: dyTensor };
          const inputInputs = { dy: dyTensor, filter: tf.tensor4d(w, filterShape) };
          return [
            tf.engine().runKernel(tf.Conv2DBackpropFilter, filterInputs, { ...attrs, filterShape }) as tf.Tensor,
            tf.engine().runKernel(tf.Conv2DBackpropInput, inputInputs, { ...attrs, inputShape: xShape }) as tf.Tensor,
          ];
        });
      });
    }

    it('Conv2DBackpropFilter rejects NCHW with a clear error', async () => {
      await tf.setBackend('wasm');
      const run = () =>
        tf.tidy(() =>
          tf.engine().runKernel(
            tf.Conv2DBackpropFilter,
            { x: tf.zeros([1, 2, 1, 4]), dy: tf.zeros([1, 3, 1, 4]) },
            { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [1, 1, 2, 3] },
          ),
        );
      expect(run).toThrow(/only dataFormat NHWC is supported, got NCHW/);
    });

    it('matMul and fused matMul with transposed operands match cpu', async () => {
      const rng = new Rng(7);
      const a = uniform(rng, 2 * 4 * 5);
      const b = uniform(rng, 2 * 5 * 3);
      const bias = uniform(rng, 3);
      await expectWasmMatchesCpu(() => {
        const a3 = tf.tensor3d(a, [2, 4, 5]);
        const b3 = tf.tensor3d(b, [2, 5, 3]);
        const aT = a3.transpose([0, 2, 1]);
        const bT = b3.transpose([0, 2, 1]);
        const a2 = a3.reshape([8, 5]);
        const loss = (p: tf.Tensor, q: tf.Tensor) => tf.matMul(p, q).sum();
        return [
          tf.matMul(a3, b3),
          tf.matMul(aT, b3, true, false),
          tf.matMul(a3, bT, false, true),
          tf.matMul(aT, bT, true, true),
          tf.fused.matMul({ a: a2.transpose(), b: b3.slice([0], [1]).reshape([5, 3]), transposeA: true, bias }),
          ...tf.grads(loss)([a3, b3]),
        ];
      });
    });

    it('a full Embedding → Conv1D → GlobalMaxPooling1D → Dense gradient matches cpu', async () => {
      const { tokens, labels } = tokenData(new Rng(8));
      await tf.setBackend('cpu');
      const model = textCnn('linear');
      const loss = () =>
        tf.losses.softmaxCrossEntropy(
          tf.oneHot(tf.tensor1d(labels, 'int32'), 2),
          model.apply(tf.tensor2d(tokens, [SAMPLES, LENGTH], 'int32')) as tf.Tensor,
        ) as tf.Scalar;
      try {
        await expectWasmMatchesCpu(() => Object.values(tf.variableGrads(loss).grads));
      } finally {
        model.dispose();
      }
    });

    it('an Embedding + Conv1D model trains on wasm and its loss decreases', async () => {
      const losses = await fitTextCnn();
      expect(losses).toHaveLength(2);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[1] as number).toBeLessThan(losses[0] as number);
    });

    it('gather (the Embedding lookup) matches cpu for vector and matrix indices, float and int data', async () => {
      const rng = new Rng(12);
      const params = uniform(rng, 7 * 3);
      const ids = ints(rng, 2 * 5, 7);
      await expectWasmMatchesCpu(() => [
        tf.gather(tf.tensor2d(params, [7, 3]), tf.tensor2d(ids, [2, 5], 'int32')),
        tf.gather(tf.tensor1d(params.subarray(0, 7)), tf.tensor1d(ids, 'int32')),
        tf.gather(tf.tensor2d(ids.subarray(0, 6), [3, 2], 'int32'), tf.tensor1d([2, 0, 2], 'int32')).toFloat(),
        tf.gather(tf.tensor2d(params, [7, 3]), tf.tensor1d([2, 0], 'int32'), 1),
      ]);
    });

    it('gather rejects an index outside the table, naming it', async () => {
      await tf.setBackend('wasm');
      const run = () => tf.tidy(() => tf.gather(tf.zeros([4, 2]), tf.tensor1d([1, 4], 'int32')));
      expect(run).toThrow(/GatherV2: index 4 at position 1 is not in \[0, 4\)/);
    });

    it('equal with broadcasting, and the max / global-max-pool gradient built on it, match cpu', async () => {
      const rng = new Rng(13);
      const x = Float32Array.from(ints(rng, 2 * 5 * 3, 4)); // small integers: many ties
      await expectWasmMatchesCpu(() => {
        const t = tf.tensor3d(x, [2, 5, 3]);
        return [
          tf.equal(t, t.max(1, true)).toFloat(),
          tf.equal(tf.tensor1d([1, 2, 3]), tf.tensor2d([[1], [3]])).toFloat(),
          tf.grad((v: tf.Tensor) => v.max(1).mul(tf.tensor2d([[1, 2, 3], [4, 5, 6]])).sum())(t),
        ];
      });
    });

    for (const [pool, pad] of [
      [2, 'valid'],
      [3, 'same'],
    ] as const) {
      it(`max-pool gradient matches cpu (pool ${pool}, ${pad}, odd length, ties)`, async () => {
        const rng = new Rng(14);
        const x = Float32Array.from(ints(rng, 2 * 7 * 3, 3));
        const w = uniform(rng, 2 * 7 * 3);
        await expectWasmMatchesCpu(() => [
          tf.grad((v: tf.Tensor) =>
            tf.maxPool(v.reshape([2, 1, 7, 3]) as tf.Tensor4D, [1, pool], [1, pool], pad).reshape([-1]).mul(
              tf.tensor1d(w.subarray(0, tf.maxPool(tf.zeros([2, 1, 7, 3]) as tf.Tensor4D, [1, pool], [1, pool], pad).size)),
            ).sum(),
          )(tf.tensor3d(x, [2, 7, 3])),
        ]);
      });
    }

    it('identity shares the buffer and frees it with the last reference', async () => {
      await tf.setBackend('wasm');
      const before = liveCounts();
      const a = tf.tensor1d([1, 2, 3]);
      const b = tf.clone(a);
      expect(liveCounts().buffers).toBe(before.buffers + 1);
      a.dispose();
      expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
      b.dispose();
      expect(liveCounts()).toEqual(before);
    });

    it('a transpose that keeps every axis in place shares the buffer; a real one still transposes', async () => {
      await tf.setBackend('wasm');
      const before = liveCounts();
      const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
      const same = tf.transpose(a, [0, 1]);
      expect(liveCounts().buffers).toBe(before.buffers + 1);
      const swapped = tf.transpose(a, [1, 0]);
      a.dispose();
      expect(Array.from(same.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
      expect(Array.from(swapped.dataSync())).toEqual([1, 4, 2, 5, 3, 6]);
      tf.dispose([same, swapped]);
      expect(liveCounts()).toEqual(before);
    });

    it('repeated kernel calls leak neither tensors nor wasm buffers', async () => {
      await tf.setBackend('wasm');
      const rng = new Rng(9);
      const x = uniform(rng, 2 * 9 * 3);
      const w = uniform(rng, 3 * 3 * 4);
      const params = uniform(rng, 10 * 3);
      const convLoss = (input: tf.Tensor, filter: tf.Tensor) =>
        tf.conv1d(input as tf.Tensor3D, filter as tf.Tensor3D, 2, 'same').sum();
      const gatherLoss = (p: tf.Tensor) => tf.gather(p, [1, 4, 4, 9]).sum();
      const callAll = () =>
        tf.tidy(() => {
          tf.grads(convLoss)([tf.tensor3d(x, [2, 9, 3]), tf.tensor3d(w, [3, 3, 4])]);
          tf.grad(gatherLoss)(tf.tensor2d(params, [10, 3]));
          tf.unsortedSegmentSum(tf.tensor2d(params, [10, 3]), tf.tensor1d([0, 1, 1, 0, 2, 2, 0, 1, 1, 0], 'int32'), 3);
          tf.matMul(tf.tensor2d(params, [10, 3]), tf.tensor2d(params, [10, 3]), true, false);
          tf.fused.matMul({ a: tf.tensor2d(params, [10, 3]), b: tf.tensor2d(params, [10, 3]), transposeB: true });
        });
      callAll();
      const before = liveCounts();
      for (let i = 0; i < 5; i++) callAll();
      expect(liveCounts()).toEqual(before);
    });
  });

  /**
   * Conv2DBackpropFilter or Conv2DBackpropInput as Conv1D runs them, on a dense random dy (no zeros: the sparse path
   * stays out) and a random x or filter.
   */
  function convGradOf(kind: 'filter' | 'input') {
    return (shape: number[], kernel: number, pad: 'valid' | 'same', seed: number): (() => tf.Tensor[]) => {
      const [batch = 0, width = 0, cin = 0, cout = 0] = shape;
      const xShape: [number, number, number, number] = [batch, 1, width, cin];
      const filterShape: [number, number, number, number] = [1, kernel, cin, cout];
      const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, 1, 1, pad);
      const rng = new Rng(seed);
      const operand = uniform(rng, kind === 'filter' ? batch * width * cin : kernel * cin * cout);
      const dy = uniform(rng, info.outShape.reduce((size, dim) => size * dim, 1));
      const common = { strides: 1, pad, dataFormat: 'NHWC' };
      return () => {
        const dyTensor = tf.tensor4d(dy, info.outShape);
        const [name, inputs, attrs] =
          kind === 'filter'
            ? [tf.Conv2DBackpropFilter, { x: tf.tensor4d(operand, xShape), dy: dyTensor }, { ...common, filterShape }]
            : [tf.Conv2DBackpropInput, { dy: dyTensor, filter: tf.tensor4d(operand, filterShape) }, { ...common, inputShape: xShape }];
        return [tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor];
      };
    };
  }

  /** One SIMD conv gradient of transpose-scatter-conv-grads.wat and how to build, switch and count it. */
  interface SimdConvGradient {
    name: string;
    gradOf: ReturnType<typeof convGradOf>;
    setEnabled: (enabled: boolean) => boolean;
    counter: 'simdFilter' | 'simdInput';
    /** [batch, width, Cin, Cout] */
    shapes: number[][];
    /** The cnn-bilstm's batch to check: the batch only repeats the same loops, and 64 is slow to compare. */
    bilstmBatch: number;
    seed: number;
  }

  // [batch, width, Cin, Cout]: the kernels' native widths (Cin % 4, and Cout % 8 or Cin % 8, zero), a 4-channel
  // tail, odd widths (padded copies), widths shorter than the kernel, and no full tile of 4 rows.
  const shapes = [
    [2, 16, 8, 16],
    [3, 11, 7, 5],
    [5, 9, 12, 3],
    [1, 7, 4, 8],
    [4, 13, 10, 12],
  ];
  const gradients: SimdConvGradient[] = [
    {
      name: 'filter gradient (transpose-scatter-conv-grads.wat convFilterGrad)',
      gradOf: convGradOf('filter'),
      setEnabled: (enabled) => setSimdConvGrad('filter', enabled),
      counter: 'simdFilter',
      shapes,
      bilstmBatch: 64,
      seed: 20,
    },
    {
      name: 'input gradient (transpose-scatter-conv-grads.wat convInputGrad)',
      gradOf: convGradOf('input'),
      setEnabled: (enabled) => setSimdConvGrad('input', enabled),
      counter: 'simdInput',
      shapes: [...shapes, [2, 3, 4, 1], [3, 6, 20, 7]],
      bilstmBatch: 4,
      seed: 60,
    },
  ];

  // Runs after the blocks above, which leave heap SIMD unprepared: their conv gradients took the matmul route.
  describe.each(gradients)('dense Conv1D $name on heap SIMD', (g) => {
    beforeAll(async () => {
      registerTrainingKernels();
      await tf.setBackend('wasm');
      await prepareHeapSimd();
    });
    afterAll(() => {
      g.setEnabled(true);
    });

    /** Runs `build` on wasm with the SIMD gradient on or off; returns the results and how often it ran. */
    async function onWasm(simd: boolean, build: () => tf.Tensor[]): Promise<{ results: Result[]; simdCalls: number }> {
      const previous = g.setEnabled(simd);
      const before = denseConvCalls[g.counter];
      try {
        const results = await runOn('wasm', build);
        return { results, simdCalls: denseConvCalls[g.counter] - before };
      } finally {
        g.setEnabled(previous);
      }
    }

    for (const pad of ['valid', 'same'] as const) {
      for (const kernel of [3, 5]) {
        it(`matches cpu and the matmul route (${pad}, kernel ${kernel})`, async () => {
          for (const [s, shape] of g.shapes.entries()) {
            if (pad === 'valid' && (shape[1] ?? 0) < kernel) continue;
            const build = g.gradOf(shape, kernel, pad, g.seed + s);
            const label = `[${shape}] `;
            const simd = await onWasm(true, build);
            const matmul = await onWasm(false, build);
            expect(simd.simdCalls, label).toBe(1);
            expect(matmul.simdCalls, label).toBe(0);
            expectClose(simd.results, await runOn('cpu', build), label);
            expectClose(simd.results, matmul.results, label);
          }
        });
      }
    }

    it('is the path the cnn-bilstm shapes take, and agrees with the matmul route there', async () => {
      const build = g.gradOf([g.bilstmBatch, 64, 100, 64], 3, 'valid', g.seed + 10);
      const simd = await onWasm(true, build);
      const matmul = await onWasm(false, build);
      expect(simd.simdCalls).toBe(1);
      expectClose(simd.results, matmul.results);
    });

    for (const [pad, kernel] of [
      ['valid', 3],
      ['same', 5],
    ] as const) {
      it(`tf.grads through conv1d → max pool match cpu (${pad}, kernel ${kernel})`, async () => {
        const rng = new Rng(g.seed + 20 + kernel);
        const x = uniform(rng, 3 * 10 * 6);
        const w = uniform(rng, kernel * 6 * 5);
        const loss = (input: tf.Tensor, filter: tf.Tensor) => {
          const y = tf.relu(tf.conv1d(input as tf.Tensor3D, filter as tf.Tensor3D, 1, pad));
          return tf.maxPool(y.expandDims(1) as tf.Tensor4D, [1, 2], [1, 2], 'valid').square().sum();
        };
        const before = denseConvCalls[g.counter];
        await expectWasmMatchesCpu(() => tf.grads(loss)([tf.tensor3d(x, [3, 10, 6]), tf.tensor3d(w, [kernel, 6, 5])]));
        expect(denseConvCalls[g.counter] - before).toBe(1);
      });
    }

    it('an Embedding → Conv1D → MaxPooling1D → Dense gradient matches cpu', async () => {
      const { tokens, labels } = tokenData(new Rng(g.seed + 21));
      await tf.setBackend('cpu');
      const model = tf.sequential();
      model.add(
        tf.layers.embedding({
          inputDim: VOCAB,
          outputDim: 8,
          inputLength: LENGTH,
          embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: g.seed }),
        }),
      );
      model.add(
        tf.layers.conv1d({
          filters: 5,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: g.seed + 1 }),
        }),
      );
      model.add(tf.layers.maxPooling1d({ poolSize: 2 }));
      model.add(tf.layers.flatten());
      model.add(
        tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: g.seed + 2 }) }),
      );
      const loss = () =>
        tf.losses.softmaxCrossEntropy(
          tf.oneHot(tf.tensor1d(labels, 'int32'), 2),
          model.apply(tf.tensor2d(tokens, [SAMPLES, LENGTH], 'int32')) as tf.Tensor,
        ) as tf.Scalar;
      const before = denseConvCalls[g.counter];
      try {
        await expectWasmMatchesCpu(() => Object.values(tf.variableGrads(loss).grads));
      } finally {
        model.dispose();
      }
      expect(denseConvCalls[g.counter] - before).toBe(1);
    });

    it('leaks neither tensors nor wasm buffers, padded widths included', async () => {
      await tf.setBackend('wasm');
      const native = g.gradOf([2, 16, 8, 16], 3, 'valid', g.seed + 30);
      const padded = g.gradOf([3, 11, 7, 5], 5, 'same', g.seed + 31);
      const callAll = () => tf.dispose([...tf.tidy(native), ...tf.tidy(padded)]);
      callAll();
      const before = liveCounts();
      for (let i = 0; i < 5; i++) callAll();
      expect(liveCounts()).toEqual(before);
    });
  });
});
