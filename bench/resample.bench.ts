/**
 * `npm run bench -- resample [--rows 20000] [--repeats 3]`: SMOTE, Borderline-SMOTE (borderline-1)
 * and ADASYN, ulasan against imbalanced-learn, on the same matrices in the same run:
 *
 * - dense: 100-d document vectors (mean of seeded random word vectors) of 20,000 Halodoc reviews;
 * - tfidf: the sparse TF-IDF matrix of the same rows (word unigrams, min_df 2, l2).
 *
 * The peer script builds both matrices once from the CSV and writes raw arrays to a temp folder;
 * both sides read those files (see bench/peers/resample.py). Labels: rating 1–2 → 0, 4–5 → 1,
 * 3 dropped. Each case is timed 3 times per side (wall clock, min). imbalanced-learn fits sklearn
 * NearestNeighbors with n_jobs=None (one joblib job), but sklearn 1.2's brute-force kneighbors runs
 * its Cython ArgKmin reduction with OpenMP over every core threadpoolctl reports; ulasan's dense
 * kNN likewise uses worker threads (ULASAN_KNN_THREADS, default: the CPU count). Both thread counts
 * are printed. Returns the geometric mean over the six cases of imblearn seconds ÷ ulasan seconds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../data/random';
import { closeKnnThreads, defaultKnnThreads, denseKernelIsSimd } from '../activities/resample/knn';
import type { CsrMatrix, DenseMatrix, FeatureMatrix } from '../activities/resample/matrix';
import { resample } from '../activities/resample/sampler';
import type { SamplerSpecInput } from '../activities/resample/spec';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';
const PEER = join(repoRoot, 'bench/peers/resample.py');

const SAMPLERS: [string, SamplerSpecInput][] = [
  ['smote', { method: 'smote' }],
  ['borderline-smote', { method: 'borderline-smote', kind: 'borderline-1' }],
  ['adasyn', { method: 'adasyn' }],
];

interface PeerCase {
  seconds: number;
  counts: number[];
}

interface PeerReport {
  imblearn: string;
  sklearn: string;
  threads: Record<string, number>;
  cases: Record<string, PeerCase>;
}

function option(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(`--${name}`);
  const value = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive integer`);
  return value;
}

function python(args: string[]): string {
  const run = spawnSync(PYTHON, [PEER, ...args], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`peer ${args[0]} failed (${run.status}): ${run.stderr}`);
  return run.stdout.trim().split('\n').at(-1) ?? '';
}

function readArray<T>(path: string, make: (buffer: ArrayBuffer) => T): T {
  const bytes = readFileSync(path);
  return make(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

function loadMatrices(dir: string): { dense: DenseMatrix; tfidf: CsrMatrix; y: Int32Array } {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { rows: number; dim: number; vocab: number };
  const data = readArray(join(dir, 'dense.f32'), (b) => new Float32Array(b));
  const dense = { data, rows: meta.rows, cols: meta.dim };
  const tfidf = {
    indptr: readArray(join(dir, 'tfidf_indptr.i32'), (b) => new Int32Array(b)),
    indices: readArray(join(dir, 'tfidf_indices.i32'), (b) => new Int32Array(b)),
    data: readArray(join(dir, 'tfidf_data.f32'), (b) => new Float32Array(b)),
    rows: meta.rows,
    cols: meta.vocab,
  };
  return { dense, tfidf, y: readArray(join(dir, 'labels.i32'), (b) => new Int32Array(b)) };
}

function timeUlasan(
  x: FeatureMatrix,
  y: Int32Array,
  spec: SamplerSpecInput,
  featureSpace: 'doc-vectors' | 'tfidf',
  repeats: number,
): PeerCase {
  let best = Infinity;
  let counts: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    const result = resample({ x, y, featureSpace }, spec, new Rng(r + 1));
    best = Math.min(best, (performance.now() - start) / 1000);
    counts = result.summary.after;
  }
  return { seconds: best, counts };
}

export default async function (args: string[]): Promise<number> {
  const rows = option(args, 'rows', 20000);
  const repeats = option(args, 'repeats', 3);
  const shared = process.env.ULASAN_SHARED_DATA ?? resolve(repoRoot, '../shared/data');
  const csv = join(shared, 'reviews/halodoc_id_reviews.csv');
  const dir = mkdtempSync(join(tmpdir(), 'ulasan-resample-bench-'));
  try {
    const meta = python(['prepare', csv, dir, '--rows', String(rows), '--dim', '100']);
    console.log(`matrices: ${meta}`);
    const { dense, tfidf, y } = loadMatrices(dir);
    const ours: Record<string, PeerCase> = {};
    for (const [matrix, x, space] of [
      ['dense', dense, 'doc-vectors'],
      ['tfidf', tfidf, 'tfidf'],
    ] as const) {
      for (const [name, spec] of SAMPLERS) ours[`${name}/${matrix}`] = timeUlasan(x, y, spec, space, repeats);
    }
    await closeKnnThreads();
    const peer = JSON.parse(python(['run', dir, '--repeats', String(repeats)])) as PeerReport;

    console.log(
      `imbalanced-learn ${peer.imblearn} / scikit-learn ${peer.sklearn}: NearestNeighbors n_jobs=None (1 joblib job); ` +
        `threadpools ${JSON.stringify(peer.threads)} (sklearn 1.2's ArgKmin kneighbors runs OpenMP threads).`,
    );
    const kernel = denseKernelIsSimd() ? 'WebAssembly SIMD' : 'scalar JS';
    console.log(`ulasan: dense kNN on ${kernel} with ${defaultKnnThreads()} thread(s); sparse kNN single-threaded.`);
    console.log(`wall clock, min of ${repeats}:`);
    const header = ['case'.padEnd(24), 'imblearn s'.padStart(11), 'ulasan s'.padStart(10), 'ratio'.padStart(8)];
    console.log([...header, '  counts imblearn | ulasan'].join(''));
    const ratios: number[] = [];
    for (const [key, mine] of Object.entries(ours)) {
      const theirs = peer.cases[key];
      if (!theirs) throw new Error(`peer did not report ${key}`);
      const ratio = theirs.seconds / mine.seconds;
      ratios.push(ratio);
      console.log(
        [
          key.padEnd(24),
          theirs.seconds.toFixed(3).padStart(11),
          mine.seconds.toFixed(3).padStart(10),
          ratio.toFixed(2).padStart(8),
          `  ${JSON.stringify(theirs.counts)} | ${JSON.stringify(mine.counts)}`,
        ].join(''),
      );
    }
    const geomean = Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length);
    console.log(`geometric mean of imblearn ÷ ulasan over ${ratios.length} cases: ${geomean.toFixed(3)}`);
    return geomean;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
