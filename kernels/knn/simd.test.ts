import { describe, expect, it } from 'vitest';
import { Rng } from '../../data/random';
import { createKernels, type Kernels } from './simd';

function fill(kernels: Kernels, at: number, values: Float32Array): void {
  new Float32Array(kernels.memory.buffer).set(values, at / 4);
}

function randomRows(rng: Rng, rows: number, width: number, cols: number): Float32Array {
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * width + c] = rng.next() * 4 - 2;
  return out;
}

/** Runs gram then filter on the same inputs with the given kernels; returns dots and candidates. */
function run(kernels: Kernels, q: Float32Array, r: Float32Array, nq: number, nr: number, d4: number, term: Float32Array, thr: Float32Array) {
  const qAt = 0;
  const rAt = q.byteLength;
  const outAt = rAt + r.byteLength;
  const termAt = outAt + nq * nr * 4;
  const thrAt = termAt + term.byteLength;
  const candAt = thrAt + thr.byteLength;
  kernels.reserve(candAt + nq * nr * 8);
  fill(kernels, qAt, q);
  fill(kernels, rAt, r);
  fill(kernels, termAt, term);
  fill(kernels, thrAt, thr);
  kernels.gram(qAt, nq, rAt, nr, d4, outAt);
  const count = kernels.filter(outAt, nq, nr, termAt, thrAt, candAt);
  return {
    dots: new Float32Array(kernels.memory.buffer).slice(outAt / 4, outAt / 4 + nq * nr),
    pairs: Array.from(new Int32Array(kernels.memory.buffer).slice(candAt / 4, candAt / 4 + 2 * count)),
  };
}

describe('SIMD kernels', () => {
  it('assemble into a module the runtime accepts', () => {
    expect(createKernels().simd).toBe(true);
    expect(createKernels({ shared: true }).simd).toBe(true);
  });

  it('compute the same float32 dots and candidates as the scalar kernels', () => {
    const rng = new Rng(11);
    const [nq, nr, cols] = [6, 12, 7];
    const d4 = Math.ceil(cols / 4);
    const q = randomRows(rng, nq, d4 * 4, cols);
    const r = randomRows(rng, nr, d4 * 4, cols);
    const term = Float32Array.from({ length: nr }, () => rng.next() * 3);
    term[nr - 1] = NaN; // padded references carry NaN and are never candidates
    const thr = Float32Array.from({ length: nq }, () => rng.next() * 4 - 1);
    thr[0] = Infinity;
    thr[nq - 1] = -Infinity;
    const simd = run(createKernels(), q, r, nq, nr, d4, term, thr);
    const scalar = run(createKernels({ forceScalar: true }), q, r, nq, nr, d4, term, thr);
    expect(Array.from(simd.dots)).toEqual(Array.from(scalar.dots));
    expect(simd.pairs).toEqual(scalar.pairs);
    // dots agree with a float64 reference up to float32 rounding
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < nr; j++) {
        let dot = 0;
        for (let c = 0; c < cols; c++) dot += (q[i * d4 * 4 + c] as number) * (r[j * d4 * 4 + c] as number);
        expect(simd.dots[i * nr + j]).toBeCloseTo(dot, 5);
      }
    }
    // candidates: every pair with term − 2·dot <= threshold, none with NaN terms or a -Infinity threshold
    const expected: number[] = [];
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < nr; j++) {
        const dot = simd.dots[i * nr + j] as number;
        if (Math.fround((term[j] as number) - Math.fround(dot + dot)) <= (thr[i] as number)) expected.push(i, j);
      }
    }
    expect(simd.pairs).toEqual(expected);
    expect(simd.pairs.filter((_, p) => p % 2 === 0)).toContain(0);
    expect(simd.pairs.filter((_, p) => p % 2 === 1)).not.toContain(nr - 1);
  });
});
