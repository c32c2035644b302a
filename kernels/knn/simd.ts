/**
 * The two inner loops of dense exact kNN, in WebAssembly SIMD:
 *
 * - `gram`: dot products of a block of query rows with a block of reference rows;
 * - `filter`: from those dots, the (query, reference) pairs whose key ||r||² − 2 q·r is at most the
 *   query's current threshold, i.e. the few pairs that can enter its k-best list.
 *
 * Plain JavaScript reaches about 1.5 GFLOP/s on the dot loop; a 128-bit SIMD kernel with a 2×4
 * register block reaches 15–25 GFLOP/s on the same machine, which is what lets the brute-force
 * search keep up with scikit-learn's BLAS-backed one. The module is assembled here from opcodes (about
 * 100 instructions): it predates wabt in the dependencies and is the one module not yet written as
 * `.wat` (kernels/wat/, assembled by kernels/wat.ts); the tests check it against a scalar loop. Where SIMD is unavailable, `createKernels` returns JavaScript versions with the
 * same contract and the same float32 summation order.
 */

/** Query rows per register block; query counts are padded to a multiple of it. */
export const QUERY_BLOCK = 2;
/** Reference rows per register block; reference counts are padded to a multiple of it. */
export const REF_BLOCK = 4;

/**
 * `gram(q, nq, r, nr, d4, out)`: for query row i < nq and reference row j < nr, writes the float32
 * dot(q_i, r_j) to `out[i * nr + j]`. Arguments are byte offsets into the kernel memory and counts;
 * rows are `d4 * 4` floats (zero padded); nq is a multiple of QUERY_BLOCK, nr of REF_BLOCK.
 */
export type GramFunction = (q: number, nq: number, r: number, nr: number, d4: number, out: number) => void;

/**
 * `filter(out, nq, nr, refTerm, threshold, candidates)`: appends (i, j) as two int32 to
 * `candidates` for every i < nq, j < nr with refTerm[j] − 2·out[i·nr + j] <= threshold[i]
 * (float32 arithmetic), in (i, j) order; returns how many pairs it wrote. nr is a multiple of 4.
 */
export type FilterFunction = (
  out: number,
  nq: number,
  nr: number,
  refTerm: number,
  threshold: number,
  candidates: number,
) => number;

export interface Kernels {
  readonly simd: boolean;
  /** The compiled module (to instantiate in worker threads on the same memory), when SIMD. */
  readonly module?: object;
  /** The kernel memory: a WebAssembly.Memory (shared when `shared`), or a plain buffer holder. */
  readonly memory: { readonly buffer: ArrayBufferLike };
  readonly shared: boolean;
  /** Grows the memory to at least `bytes`. Views made before must be rebuilt from `memory.buffer`. */
  reserve(bytes: number): void;
  gram: GramFunction;
  filter: FilterFunction;
}

const PAGE = 65536;
/** Largest shared memory (pages): 2 GiB of address space, reserved lazily by the engine. */
const SHARED_MAX_PAGES = 32768;

/** The slice of the WebAssembly JS API used here (the project's lib settings do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * SIMD kernels over a fresh memory (shared between threads when `shared` and the runtime allows),
 * or JavaScript ones when the runtime rejects the SIMD module or `forceScalar` is set.
 */
export function createKernels(options: { shared?: boolean; forceScalar?: boolean } = {}): Kernels {
  if (options.forceScalar || !wasm.validate(assembleKernels(false))) return scalarKernels();
  if (options.shared === true && typeof SharedArrayBuffer === 'function') {
    try {
      return simdKernels(true);
    } catch {
      // A shared memory reserves its maximum size up front; where that is refused, run unshared.
    }
  }
  return simdKernels(false);
}

function simdKernels(shared: boolean): Kernels {
  const bytes = assembleKernels(shared);
  const memory = new wasm.Memory(shared ? { initial: 16, maximum: SHARED_MAX_PAGES, shared: true } : { initial: 16 });
  const module = new wasm.Module(bytes);
  const { exports } = new wasm.Instance(module, { env: { mem: memory } });
  return {
    simd: true,
    module,
    memory,
    shared,
    reserve(needed) {
      const have = memory.buffer.byteLength;
      if (needed > have) memory.grow(Math.ceil((needed - have) / PAGE));
    },
    gram: exports.gram as GramFunction,
    filter: exports.filter as FilterFunction,
  };
}

function scalarKernels(): Kernels {
  const holder = { buffer: new ArrayBuffer(PAGE) as ArrayBufferLike };
  return {
    simd: false,
    memory: holder,
    shared: false,
    reserve(needed) {
      if (needed <= holder.buffer.byteLength) return;
      const next = new ArrayBuffer(Math.ceil(needed / PAGE) * PAGE);
      new Uint8Array(next).set(new Uint8Array(holder.buffer));
      holder.buffer = next;
    },
    gram(qAt, nq, rAt, nr, d4, outAt) {
      const m = new Float32Array(holder.buffer);
      const width = d4 * 4;
      const lane = new Float32Array(4);
      for (let i = 0; i < nq; i++) {
        const q = qAt / 4 + i * width;
        for (let j = 0; j < nr; j++) {
          const r = rAt / 4 + j * width;
          // Four lane sums reduced as the SIMD kernel does: (l0 + l2) + (l1 + l3).
          lane.fill(0);
          for (let k = 0; k < width; k++) {
            lane[k & 3] = (lane[k & 3] as number) + Math.fround((m[q + k] as number) * (m[r + k] as number));
          }
          const [l0 = 0, l1 = 0, l2 = 0, l3 = 0] = lane;
          m[outAt / 4 + i * nr + j] = Math.fround(Math.fround(l0 + l2) + Math.fround(l1 + l3));
        }
      }
    },
    filter(outAt, nq, nr, termAt, thrAt, candAt) {
      const f = new Float32Array(holder.buffer);
      const cand = new Int32Array(holder.buffer);
      let count = 0;
      for (let i = 0; i < nq; i++) {
        const threshold = f[thrAt / 4 + i] as number;
        for (let j = 0; j < nr; j++) {
          const dot = f[outAt / 4 + i * nr + j] as number;
          const key = Math.fround((f[termAt / 4 + j] as number) - Math.fround(dot + dot));
          if (key <= threshold) {
            cand[candAt / 4 + 2 * count] = i;
            cand[candAt / 4 + 2 * count + 1] = j;
            count++;
          }
        }
      }
      return count;
    },
  };
}

// --- a tiny assembler: just the opcodes the kernels need -------------------------------------

const uleb = (value: number): number[] => {
  const out: number[] = [];
  let n = value >>> 0;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};

const sleb = (value: number): number[] => {
  const out: number[] = [];
  let n = value | 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
};

const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (text: string): number[] => vector([...text].map((ch) => [ch.charCodeAt(0)]));
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const simd = (opcode: number, ...immediates: number[]): number[] => [0xfd, ...uleb(opcode), ...immediates];

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  shl: [0x74],
  geS: [0x4e],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  i32Store: (offset: number) => [0x36, 0x02, ...uleb(offset)],
  f32Load: [0x2a, 0x02, 0x00],
  load: simd(0x00, 0x04, 0x00),
  store: simd(0x0b, 0x04, 0x00),
  zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  shuffle: (lanes: number[]) => simd(0x0d, ...lanes),
  i32x4Lane: (lane: number) => simd(0x1b, lane),
  f32x4Splat: simd(0x13),
  f32x4Le: simd(0x45),
  anyTrue: simd(0x53),
  fadd: simd(0xe4),
  fsub: simd(0xe5),
  fmul: simd(0xe6),
};

/** Byte lanes for i8x16.shuffle from float lanes of (a, b). */
const floatLanes = (lanes: number[]): number[] => lanes.flatMap((l) => [l * 4, l * 4 + 1, l * 4 + 2, l * 4 + 3]);
const INTERLEAVE_LO = floatLanes([0, 4, 1, 5]);
const INTERLEAVE_HI = floatLanes([2, 6, 3, 7]);
const LOW_HALVES = floatLanes([0, 1, 4, 5]);
const HIGH_HALVES = floatLanes([2, 3, 6, 7]);

function gramBody(): number[] {
  // params 0..5: q, nq, r, nr, d4, out; i32 locals 6..11; v128 accumulators, then scratch.
  const [Q, NQ, R, NR, D4, OUT] = [0, 1, 2, 3, 4, 5];
  const [I, J, K, QP, RP, STRIDE] = [6, 7, 8, 9, 10, 11];
  const ACC = 12;
  const accs = QUERY_BLOCK * REF_BLOCK;
  const QV = ACC + accs;
  const RV = QV + QUERY_BLOCK;
  const code: number[] = [];
  const emit = (...parts: number[][]): void => {
    for (const part of parts) code.push(...part);
  };
  emit(op.get(D4), op.i32(4), op.shl, op.set(STRIDE), op.i32(0), op.set(I));
  emit(op.block, op.loop); // for i in 0..nq step QUERY_BLOCK
  emit(op.get(I), op.get(NQ), op.geS, op.brIf(1), op.i32(0), op.set(J));
  emit(op.block, op.loop); // for j in 0..nr step REF_BLOCK
  emit(op.get(J), op.get(NR), op.geS, op.brIf(1));
  for (let a = 0; a < accs; a++) emit(op.zero, op.set(ACC + a));
  emit(op.get(Q), op.get(I), op.get(STRIDE), op.mul, op.add, op.set(QP));
  emit(op.get(R), op.get(J), op.get(STRIDE), op.mul, op.add, op.set(RP), op.get(D4), op.set(K));
  emit(op.block, op.loop); // for k in 0..d4: four lanes of every pair of the block
  for (let qi = 0; qi < QUERY_BLOCK; qi++) {
    emit(op.get(QP));
    if (qi > 0) emit(op.get(STRIDE), op.i32(qi), op.mul, op.add);
    emit(op.load, op.set(QV + qi));
  }
  for (let rj = 0; rj < REF_BLOCK; rj++) {
    emit(op.get(RP));
    if (rj > 0) emit(op.get(STRIDE), op.i32(rj), op.mul, op.add);
    emit(op.load, op.set(RV));
    for (let qi = 0; qi < QUERY_BLOCK; qi++) {
      const acc = ACC + qi * REF_BLOCK + rj;
      emit(op.get(acc), op.get(QV + qi), op.get(RV), op.fmul, op.fadd, op.set(acc));
    }
  }
  emit(op.get(QP), op.i32(16), op.add, op.set(QP), op.get(RP), op.i32(16), op.add, op.set(RP));
  emit(op.get(K), op.i32(1), op.sub, op.tee(K), op.brIf(0), op.end, op.end);
  for (let qi = 0; qi < QUERY_BLOCK; qi++) {
    const a = ACC + qi * REF_BLOCK;
    emit(op.get(OUT), op.get(I), op.i32(qi), op.add, op.get(NR), op.mul, op.get(J), op.add, op.i32(4), op.mul, op.add);
    // Transpose-and-add four accumulators into one vector of four dot products: (l0 + l2) + (l1 + l3).
    const pairSum = (u: number, v: number, lo: number[], hi: number[]): number[][] => [
      op.get(u),
      op.get(v),
      op.shuffle(lo),
      op.get(u),
      op.get(v),
      op.shuffle(hi),
      op.fadd,
    ];
    emit(...pairSum(a, a + 1, INTERLEAVE_LO, INTERLEAVE_HI), op.set(RV));
    emit(...pairSum(a + 2, a + 3, INTERLEAVE_LO, INTERLEAVE_HI), op.set(QV));
    emit(...pairSum(RV, QV, LOW_HALVES, HIGH_HALVES), op.store);
  }
  emit(op.get(J), op.i32(REF_BLOCK), op.add, op.set(J), op.br(0), op.end, op.end);
  emit(op.get(I), op.i32(QUERY_BLOCK), op.add, op.set(I), op.br(0), op.end, op.end, op.end);
  const locals = vector([
    [...uleb(6), I32],
    [...uleb(accs + QUERY_BLOCK + 1), V128],
  ]);
  return [...locals, ...code];
}

function filterBody(): number[] {
  // params 0..5: out, nq, nr, term, thr, cand; i32 locals 6..9; v128 locals 10..12.
  const [OUT, NQ, NR, TERM, THR, CAND] = [0, 1, 2, 3, 4, 5];
  const [I, J, COUNT, ROW] = [6, 7, 8, 9];
  const [T, V, M] = [10, 11, 12];
  const code: number[] = [];
  const emit = (...parts: number[][]): void => {
    for (const part of parts) code.push(...part);
  };
  emit(op.i32(0), op.set(COUNT), op.i32(0), op.set(I));
  emit(op.block, op.loop);
  emit(op.get(I), op.get(NQ), op.geS, op.brIf(1));
  emit(op.get(THR), op.get(I), op.i32(2), op.shl, op.add, op.f32Load, op.f32x4Splat, op.set(T));
  emit(op.get(OUT), op.get(I), op.get(NR), op.mul, op.i32(2), op.shl, op.add, op.set(ROW), op.i32(0), op.set(J));
  emit(op.block, op.loop);
  emit(op.get(J), op.get(NR), op.geS, op.brIf(1));
  emit(op.get(ROW), op.get(J), op.i32(2), op.shl, op.add, op.load, op.tee(V), op.get(V), op.fadd, op.set(V));
  emit(op.get(TERM), op.get(J), op.i32(2), op.shl, op.add, op.load, op.get(V), op.fsub);
  emit(op.get(T), op.f32x4Le, op.tee(M));
  emit(op.anyTrue, op.if);
  for (let lane = 0; lane < 4; lane++) {
    emit(op.get(M), op.i32x4Lane(lane), op.if);
    emit(op.get(CAND), op.get(COUNT), op.i32(3), op.shl, op.add, op.get(I), op.i32Store(0));
    emit(op.get(CAND), op.get(COUNT), op.i32(3), op.shl, op.add, op.get(J), op.i32(lane), op.add, op.i32Store(4));
    emit(op.get(COUNT), op.i32(1), op.add, op.set(COUNT), op.end);
  }
  emit(op.end);
  emit(op.get(J), op.i32(4), op.add, op.set(J), op.br(0), op.end, op.end);
  emit(op.get(I), op.i32(1), op.add, op.set(I), op.br(0), op.end, op.end);
  emit(op.get(COUNT), op.end);
  const locals = vector([
    [...uleb(4), I32],
    [...uleb(3), V128],
  ]);
  return [...locals, ...code];
}

/** Assembles the module: imports `env.mem` (shared or not), exports `gram` and `filter`. */
export function assembleKernels(shared: boolean): Uint8Array<ArrayBuffer> {
  const six = vector([[I32], [I32], [I32], [I32], [I32], [I32]]);
  const types = vector([
    [0x60, ...six, ...vector([])],
    [0x60, ...six, ...vector([[I32]])],
  ]);
  const limits = shared ? [0x03, ...uleb(1), ...uleb(SHARED_MAX_PAGES)] : [0x00, ...uleb(1)];
  const bodies = [gramBody(), filterBody()].map((body) => [...uleb(body.length), ...body]);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, types),
    ...section(2, vector([[...name('env'), ...name('mem'), 0x02, ...limits]])),
    ...section(3, vector([[0], [1]])),
    ...section(
      7,
      vector([
        [...name('gram'), 0x00, 0],
        [...name('filter'), 0x00, 1],
      ]),
    ),
    ...section(10, vector(bodies)),
  ]);
}
