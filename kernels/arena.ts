/**
 * A small "heap + BLAS" for writing whole-sequence training kernels once and running them on the wasm and cpu
 * backends.
 *
 * Why: the stock tfjs recurrent layers run ~15 engine ops per time step forward and ~40 backward (9,000 kernel
 * calls per CNN-BiLSTM batch), and per-op overhead, not arithmetic, dominates. A fused kernel instead calls the
 * wasm matmul (XNNPACK) directly on slices of one buffer and does the pointwise cell math in between, so a time
 * step costs one matmul call plus a few cheap calls.
 *
 * Every buffer is a `Region` of one float heap: on wasm the real wasm heap (no copies in or out), on cpu a JS
 * array that grows like it (inputs copied in, outputs copied out; cpu is the reference and fallback path, not the
 * fast one). A view from `heap()` goes stale when the heap grows (any allocation or matmul may grow it), so kernels
 * take a fresh view after each such call.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapSimd } from './heap-simd';

type TensorInfo = tf.TensorInfo;

/** `len` floats starting at float index `off` of the arena heap. */
export interface Region {
  readonly off: number;
  readonly len: number;
}

export function sub(region: Region, start: number, len: number): Region {
  if (start < 0 || start + len > region.len) {
    throw new RangeError(`sub-region [${start}, ${start + len}) outside a region of ${region.len} floats`);
  }
  return { off: region.off + start, len };
}

export interface Arena {
  /** The whole heap as floats; take a fresh one after any allocation or matmul. */
  heap(): Float32Array;
  /** A float32 input tensor's data as a region (read only). */
  input(info: TensorInfo): Region;
  /** Uninitialised working memory, freed by `done()`. */
  scratch(len: number): Region;
  /** Memory of an output tensor, returned by `done()` in creation order. */
  output(shape: readonly number[]): Region;
  /** out[m×n] = a[m×k] · b[k×n] (+ bias[n]); row-major; out must not overlap a or b. */
  gemm(a: Region, b: Region, out: Region, m: number, k: number, n: number, bias?: Region): void;
  /** out = 1 / (1 + exp(-x)) elementwise; out may be x. */
  sigmoid(x: Region, out: Region): void;
  /** out = a + b elementwise (equal lengths); out may be a or b. */
  add(a: Region, b: Region, out: Region): void;
  /** out[cols×rows] = transpose of x[rows×cols]. */
  transpose(x: Region, rows: number, cols: number, out: Region): void;
  /** Frees scratch memory and returns the outputs. */
  done(): TensorInfo[];
  /** Frees everything, outputs included (on error). */
  abort(): void;
}

/** A kernel's named input, or an error naming the kernel and the missing input. */
export function kernelInput(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): TensorInfo {
  const info = inputs[name];
  if (info === undefined) throw new Error(`${kernel}: missing input '${name}'`);
  return info;
}

/** The wasm heap as floats; stale after any allocation on it (heap growth detaches the buffer). */
export function floatHeap(backend: BackendWasm): Float32Array {
  return new Float32Array((backend.wasm as unknown as WasmModule).HEAPU8.buffer);
}

/** Runs a kernel body in a fresh arena: its outputs on success; on error everything is freed and the error rethrown. */
export function withArena(backend: tf.KernelBackend, run: (arena: Arena) => void): TensorInfo[] {
  const arena = createArena(backend);
  try {
    run(arena);
    return arena.done();
  } catch (err) {
    arena.abort();
    throw err;
  }
}

/** The arena for the active kernel's backend. */
export function createArena(backend: tf.KernelBackend): Arena {
  if ('wasm' in backend && 'dataIdMap' in backend) return new WasmArena(backend as BackendWasm);
  return new CpuArena(backend);
}

// ---------------------------------------------------------------------------------------------------------------
// wasm: regions are slices of the real wasm heap, named to the C++ side by registered tensor ids

/** The parts of the Emscripten module used here; the stock kernels call the same exports through `cwrap`. */
interface WasmModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
  _BatchMatMul(aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number, ...rest: number[]): void;
  __FusedMatMul(aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number, ...rest: number[]): void;
  _Sigmoid(xId: number, outId: number): void;
  _Add(aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number, dtype: number, outId: number): void;
  _Transpose(xId: number, xShape: number, rank: number, dtype: number, outId: number, perm: number, permRank: number): void;
}

const FLOAT32 = 0; // CppDType.float32
const LINEAR = 0; // FusableActivation.linear

class WasmArena implements Arena {
  private readonly wasm: WasmModule;
  private readonly outputs: TensorInfo[] = [];
  private readonly scratches: TensorInfo[] = [];
  /** Registered ids of heap slices, by float offset then length. */
  private readonly ids = new Map<number, Map<number, number>>();
  private readonly viewIds: number[] = [];
  /** Eight int32 slots for the shape and perm arguments of the C++ kernels. */
  private readonly args: number;
  private cachedHeap: Float32Array | undefined;

  constructor(private readonly backend: BackendWasm) {
    this.wasm = backend.wasm as unknown as WasmModule;
    this.args = this.wasm._malloc(8 * 4) >>> 0;
  }

  heap(): Float32Array {
    const buffer = this.wasm.HEAPU8.buffer;
    if (this.cachedHeap === undefined || this.cachedHeap.buffer !== buffer) this.cachedHeap = new Float32Array(buffer);
    return this.cachedHeap;
  }

  input(info: TensorInfo): Region {
    if (info.dtype !== 'float32') throw new Error(`fused kernel input must be float32, got ${info.dtype}`);
    const data = this.backend.dataIdMap.get(info.dataId);
    if (data === undefined) throw new Error('fused kernel input is not on the wasm backend');
    return this.remember({ off: data.memoryOffset / 4, len: sizeOf(info.shape) }, data.id);
  }

  scratch(len: number): Region {
    const info = this.backend.makeOutput([Math.max(len, 1)], 'float32');
    this.scratches.push(info);
    return this.regionOf(info, len);
  }

  output(shape: readonly number[]): Region {
    const info = this.backend.makeOutput([...shape], 'float32');
    this.outputs.push(info);
    return this.regionOf(info, sizeOf(shape));
  }

  gemm(a: Region, b: Region, out: Region, m: number, k: number, n: number, bias?: Region): void {
    checkGemm(a, b, out, m, k, n, bias);
    if (m === 0 || n === 0) return;
    const aId = this.idOf(a);
    const bId = this.idOf(b);
    const outId = this.idOf(out);
    this.writeArgs([1, m, k, 1, k, n]);
    const { args } = this;
    // XNNPACK caches its packed copy of b (and bias) by tensor id: callers never change a region's contents
    // while it serves as b, and `done()` disposes the ids, which drops the cached operators.
    if (bias === undefined) this.wasm._BatchMatMul(aId, args, 3, bId, args + 12, 3, 0, 0, outId);
    else this.wasm.__FusedMatMul(aId, args, 3, bId, args + 12, 3, 0, 0, LINEAR, this.idOf(bias), 0, 0, outId);
  }

  sigmoid(x: Region, out: Region): void {
    sameLength(x, out);
    if (x.len > 0) this.wasm._Sigmoid(this.idOf(x), this.idOf(out));
  }

  add(a: Region, b: Region, out: Region): void {
    sameLength(a, b);
    sameLength(a, out);
    if (a.len === 0) return;
    this.writeArgs([a.len, a.len]);
    this.wasm._Add(this.idOf(a), this.args, 1, this.idOf(b), this.args + 4, 1, FLOAT32, this.idOf(out));
  }

  transpose(x: Region, rows: number, cols: number, out: Region): void {
    if (x.len !== rows * cols || out.len !== rows * cols) throw new RangeError('transpose: region sizes differ');
    if (rows === 0 || cols === 0) return;
    if (rows === 1 || cols === 1) {
      this.heap().copyWithin(out.off, x.off, x.off + x.len);
      return;
    }
    if (aliasingTranspose(rows)) {
      transposeOnHeap(this.backend, x.off, out.off, rows, cols);
      return;
    }
    this.writeArgs([rows, cols, 1, 0]);
    this.wasm._Transpose(this.idOf(x), this.args, 2, FLOAT32, this.idOf(out), this.args + 8, 2);
  }

  done(): TensorInfo[] {
    this.release();
    return this.outputs;
  }

  abort(): void {
    this.release();
    for (const info of this.outputs) this.backend.disposeData(info.dataId);
  }

  private release(): void {
    for (const id of this.viewIds) this.wasm.tfjs.disposeData(id);
    this.viewIds.length = 0;
    this.ids.clear();
    for (const info of this.scratches) this.backend.disposeData(info.dataId);
    this.scratches.length = 0;
    this.wasm._free(this.args);
  }

  private regionOf(info: TensorInfo, len: number): Region {
    const data = this.backend.dataIdMap.get(info.dataId);
    return this.remember({ off: data.memoryOffset / 4, len }, data.id);
  }

  private remember(region: Region, id: number): Region {
    let byLength = this.ids.get(region.off);
    if (byLength === undefined) this.ids.set(region.off, (byLength = new Map()));
    byLength.set(region.len, id);
    return region;
  }

  /** The tensor id naming this slice to C++, registering a view the first time. */
  private idOf(region: Region): number {
    const known = this.ids.get(region.off)?.get(region.len);
    if (known !== undefined) return known;
    const id = nextDataId(this.backend);
    this.wasm.tfjs.registerTensor(id, region.len, region.off * 4);
    this.viewIds.push(id);
    this.remember(region, id);
    return id;
  }

  private writeArgs(values: number[]): void {
    new Int32Array(this.wasm.HEAPU8.buffer, this.args, values.length).set(values);
  }
}

/** Tensor ids must not collide with the backend's own, so they come from its counter. */
function nextDataId(backend: BackendWasm): number {
  const counter = backend as unknown as { dataIdNextNumber: number };
  return counter.dataIdNextNumber++;
}

// ---------------------------------------------------------------------------------------------------------------
// cpu: the same operations over a growable JS array (reference semantics, small inputs)

interface CpuBackend {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): TensorInfo;
}

class CpuArena implements Arena {
  private data = new Float32Array(1024);
  private used = 0;
  private readonly outputs: { region: Region; shape: number[] }[] = [];

  constructor(private readonly backend: tf.KernelBackend) {}

  heap(): Float32Array {
    return this.data;
  }

  input(info: TensorInfo): Region {
    if (info.dtype !== 'float32') throw new Error(`fused kernel input must be float32, got ${info.dtype}`);
    const values = (this.backend as unknown as CpuBackend).readSync(info.dataId) as Float32Array;
    const region = this.scratch(values.length);
    this.data.set(values, region.off);
    return region;
  }

  scratch(len: number): Region {
    if (this.used + len > this.data.length) {
      const grown = new Float32Array(Math.max(this.used + len, this.data.length * 2));
      grown.set(this.data.subarray(0, this.used));
      this.data = grown;
    }
    const region = { off: this.used, len };
    this.used += len;
    return region;
  }

  output(shape: readonly number[]): Region {
    const region = this.scratch(sizeOf(shape));
    this.outputs.push({ region, shape: [...shape] });
    return region;
  }

  gemm(a: Region, b: Region, out: Region, m: number, k: number, n: number, bias?: Region): void {
    checkGemm(a, b, out, m, k, n, bias);
    const h = this.data;
    for (let i = 0; i < m; i++) {
      const o = out.off + i * n;
      for (let j = 0; j < n; j++) h[o + j] = bias === undefined ? 0 : (h[bias.off + j] as number);
      for (let p = 0; p < k; p++) {
        const av = h[a.off + i * k + p] as number;
        const bo = b.off + p * n;
        for (let j = 0; j < n; j++) h[o + j] = (h[o + j] as number) + av * (h[bo + j] as number);
      }
    }
  }

  sigmoid(x: Region, out: Region): void {
    sameLength(x, out);
    const h = this.data;
    for (let i = 0; i < x.len; i++) h[out.off + i] = 1 / (1 + Math.exp(-(h[x.off + i] as number)));
  }

  add(a: Region, b: Region, out: Region): void {
    sameLength(a, b);
    sameLength(a, out);
    const h = this.data;
    for (let i = 0; i < a.len; i++) h[out.off + i] = (h[a.off + i] as number) + (h[b.off + i] as number);
  }

  transpose(x: Region, rows: number, cols: number, out: Region): void {
    if (x.len !== rows * cols || out.len !== rows * cols) throw new RangeError('transpose: region sizes differ');
    transposeStreams(this.data, x.off, out.off, rows, cols);
  }

  done(): TensorInfo[] {
    const backend = this.backend as unknown as CpuBackend;
    return this.outputs.map(({ region, shape }) =>
      backend.makeTensorInfo(shape, 'float32', this.data.slice(region.off, region.off + region.len)),
    );
  }

  abort(): void {
    this.outputs.length = 0;
  }
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Whether transposing a matrix with this many rows thrashes the cache: the output's row stride is then a multiple
 * of 4 KiB, so the rows written together map to the same cache sets. The stock wasm Transpose takes 6 ms for
 * [4096, 100] and 14 ms for [4096, 256] (the [T·B, features] matrices of every recurrent backward pass) but 0.3 ms
 * for [100, 4096]; `transposeStreams` takes 1.3 and 2.3 ms.
 */
export function aliasingTranspose(rows: number): boolean {
  return rows >= 1024 && rows % 256 === 0;
}

/** transposeStreams on the wasm heap (float offsets), by transpose-scatter-conv-grads.wat's SIMD blocks once prepared. */
export function transposeOnHeap(backend: BackendWasm, x: number, out: number, rows: number, cols: number): void {
  const simd = heapSimd(backend as unknown as tf.KernelBackend);
  if (simd === undefined) transposeStreams(floatHeap(backend), x, out, rows, cols);
  else simd.transpose(x * 4, out * 4, rows, cols);
}

/**
 * out[cols × rows] = transpose of x[rows × cols] within one heap, four output rows at a time: four sequential write
 * streams stay within the cache's associativity whatever the stride. x and out must not overlap.
 */
export function transposeStreams(heap: Float32Array, x: number, out: number, rows: number, cols: number): void {
  for (let c0 = 0; c0 < cols; c0 += 4) {
    const end = Math.min(c0 + 4, cols);
    for (let r = 0; r < rows; r++) {
      const src = x + r * cols;
      for (let c = c0; c < end; c++) heap[out + c * rows + r] = heap[src + c] as number;
    }
  }
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((size, dim) => size * dim, 1);
}

function sameLength(a: Region, b: Region): void {
  if (a.len !== b.len) throw new RangeError(`regions of ${a.len} and ${b.len} floats must have equal length`);
}

function checkGemm(a: Region, b: Region, out: Region, m: number, k: number, n: number, bias?: Region): void {
  if (a.len !== m * k || b.len !== k * n || out.len !== m * n || (bias !== undefined && bias.len !== n)) {
    throw new RangeError(`gemm ${m}x${k}x${n}: region sizes ${a.len}, ${b.len}, ${out.len} do not match`);
  }
}
