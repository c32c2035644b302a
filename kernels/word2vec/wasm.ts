/**
 * The single-thread Word2Vec sentence step on WebAssembly SIMD (word2vec.wat), driven by the same epoch and
 * subsampling loop as the JavaScript kernel (`runWord2VecKernel` with this trainer). Its vectors live in the
 * module's own memory, padded to whole 4-float rows, and are copied back into the caller's arrays at the end.
 */
import { loadWatModule } from '../wat';
import type { KernelInput, SentenceTrainer } from './kernel';

interface Exports {
  memory: WebAssembly.Memory;
  configure(...args: number[]): void;
  cbow(sen: number, n: number, alpha: number, rnd: number): number;
  skipGram(sen: number, n: number, alpha: number, rnd: number): number;
}

const WASM_PAGE = 65_536;

export interface WasmTrainer extends SentenceTrainer {
  /** Copies the trained vectors back into `input.syn0` and `input.syn1neg`. */
  copyOut(): void;
}

/** A trainer over copies of `input`'s vectors and tables in a fresh instance of the SIMD module. */
export async function createWasmTrainer(input: KernelInput): Promise<WasmTrainer> {
  const instance = new WebAssembly.Instance(await loadWatModule(new URL('../wat/word2vec.wat', import.meta.url)));
  const wasm = instance.exports as unknown as Exports;
  const { dim } = input;
  const vocab = input.syn0.length / dim;
  const stride = Math.ceil(dim / 4) * 4;
  const longest = longestSentence(input);
  const layout = new Layout();
  const at = {
    syn0: layout.take(vocab * stride),
    syn1: layout.take(vocab * stride),
    aliasProb: layout.take(input.aliasProb.length),
    aliasIndex: layout.take(input.aliasIndex.length),
    expTable: layout.take(input.expTable.length),
    neu1: layout.take(stride),
    work: layout.take(stride),
    sen: layout.take(longest),
  };
  wasm.memory.grow(Math.ceil(layout.bytes / WASM_PAGE));
  const buffer = wasm.memory.buffer;
  copyRows(input.syn0, dim, new Float32Array(buffer, at.syn0, vocab * stride), stride);
  copyRows(input.syn1neg, dim, new Float32Array(buffer, at.syn1, vocab * stride), stride);
  new Uint32Array(buffer, at.aliasProb, input.aliasProb.length).set(input.aliasProb);
  new Int32Array(buffer, at.aliasIndex, input.aliasIndex.length).set(input.aliasIndex);
  new Float32Array(buffer, at.expTable, input.expTable.length).set(input.expTable);
  wasm.configure(
    ...[at.syn0, at.syn1, stride * 4, at.aliasProb, at.aliasIndex, input.aliasProb.length, at.expTable, at.neu1],
    ...[at.work, input.window, input.negative, Number(input.shrinkWindows), Number(input.cbowMean)],
  );
  const step = input.skipGram ? wasm.skipGram : wasm.cbow;
  return {
    sen: new Int32Array(buffer, at.sen, longest),
    train: (n, alpha, rnd) => step(at.sen, n, alpha, rnd),
    copyOut() {
      copyRows(new Float32Array(buffer, at.syn0, vocab * stride), stride, input.syn0, dim);
      copyRows(new Float32Array(buffer, at.syn1, vocab * stride), stride, input.syn1neg, dim);
    },
  };
}

/** Byte offsets of 4-byte element regions, each aligned to 16 bytes for v128 loads. */
class Layout {
  bytes = 16;

  take(elements: number): number {
    const offset = this.bytes;
    this.bytes += Math.ceil((elements * 4) / 16) * 16;
    return offset;
  }
}

function longestSentence({ starts, firstSentence, endSentence }: KernelInput): number {
  let longest = 1;
  for (let s = firstSentence; s < endSentence; s++) {
    longest = Math.max(longest, (starts[s + 1] as number) - (starts[s] as number));
  }
  return longest;
}

function copyRows(from: Float32Array, fromStride: number, to: Float32Array, toStride: number): void {
  const width = Math.min(fromStride, toStride);
  const rows = from.length / fromStride;
  for (let r = 0; r < rows; r++) to.set(from.subarray(r * fromStride, r * fromStride + width), r * toStride);
}
