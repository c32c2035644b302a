/**
 * `npm run bench -- train [--archs cnn,lstm,cnn-bilstm] [--n 4000] [--runs 2] [--batches 64,256] [--threads 1,2]
 *   [--ulasan-threads 1]`
 *
 * Samples/s of one training epoch (vocab 10,000, dim 100, length 64, 5 classes, Adam 1e-3) for ulasan's models on
 * the backend `selectBackend` picks (wasm here) against the same architectures in PyTorch CPU (bench/peers/train.py
 * with OPENBLAS_NUM_THREADS=1 and malloc tuned, see PEER_ENV), measured in the same run. Each side trains `runs`
 * fresh models for one epoch and keeps its fastest. PyTorch runs at each of `--threads` (default 1 and 2) and its best is the peer figure: 2 threads is
 * its best on a quiet 2-core machine, but when other processes load the cores its OpenMP threads stall and 1 thread
 * wins by far. Returns the geometric mean over architectures of ulasan ÷ PyTorch at the first batch size; the other
 * batch sizes are printed alongside, and so are samples per CPU-second of both sides (a figure that other load on
 * the machine distorts less than wall time).
 *
 * `--ulasan-threads N` trains ulasan data-parallel in N worker threads (fit option `threads`); the default 1 is one
 * thread against PyTorch's two.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../data/random';
import { fitModel } from '../models/fit';
import { buildModel, type ModelSpecInput } from '../models/builders';
import { selectBackend } from '../kernels/backend';

const VOCAB = 10_000;
const DIM = 100;
const SEQ = 64;
const CLASSES = 5;

/** ulasan specs equal to the peer's stacks (see bench/peers/train.py). */
const ARCHS: Record<string, { spec: ModelSpecInput; peer: string }> = {
  cnn: {
    spec: { arch: 'cnn', embeddingDim: DIM, filters: [64], kernelSize: 3, padding: 'valid', pooling: 'global-max' },
    peer: 'cnn',
  },
  lstm: { spec: { arch: 'lstm', embeddingDim: DIM, units: 64 }, peer: 'lstm' },
  gru: { spec: { arch: 'gru', embeddingDim: DIM, units: 64 }, peer: 'gru' },
  'cnn-bilstm': {
    spec: { arch: 'cnn-bilstm', embeddingDim: DIM, filters: 64, kernelSize: 3, padding: 'valid', units: 64, returnSequences: false },
    peer: 'hybrid',
  },
};

interface Args {
  archs: string[];
  n: number;
  runs: number;
  batches: number[];
  threads: number[];
  ulasanThreads: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
  };
  const archs = get('archs', 'cnn,lstm,cnn-bilstm').split(',');
  const unknown = archs.filter((a) => !(a in ARCHS));
  if (unknown.length > 0) throw new Error(`unknown --archs ${unknown.join(', ')}; choose from ${Object.keys(ARCHS).join(', ')}`);
  return {
    archs,
    n: Number(get('n', '4000')),
    runs: Number(get('runs', '2')),
    batches: get('batches', '64,256').split(',').map(Number),
    threads: get('threads', '1,2').split(',').map(Number),
    ulasanThreads: Number(get('ulasan-threads', '1')),
  };
}

function randomData(n: number, seed: number): { xTrain: Int32Array; yTrain: Int32Array } {
  const rng = new Rng(seed);
  return {
    xTrain: Int32Array.from({ length: n * SEQ }, () => 1 + rng.int(VOCAB - 1)),
    yTrain: Int32Array.from({ length: n }, () => rng.int(CLASSES)),
  };
}

interface Throughput {
  /** Samples per wall-clock second of the fastest run. */
  perSec: number;
  /** Samples per CPU-second (all threads) of that run. */
  perCpuSec: number;
  note: string;
}

/** Fastest of `runs` one-epoch fits. */
async function ulasanThroughput(spec: ModelSpecInput, batchSize: number, args: Args): Promise<Throughput> {
  const data = randomData(args.n, 1);
  let best = Infinity;
  let bestCpu = Infinity;
  for (let run = 0; run < args.runs; run++) {
    const model = buildModel(spec, { vocabSize: VOCAB, seqLen: SEQ, nClasses: CLASSES, seed: run });
    try {
      const cpuBefore = process.cpuUsage();
      const result = await fitModel(model, data, {
        epochs: 1,
        batchSize,
        learningRate: 1e-3,
        optimizer: 'adam',
        seed: run,
        threads: args.ulasanThreads,
      });
      const cpu = process.cpuUsage(cpuBefore);
      // The epoch alone, as the peer times it: model building and any worker start-up are outside.
      const seconds = (result.history[0]?.durationMs ?? Infinity) / 1000;
      if (seconds < best) {
        best = seconds;
        bestCpu = (cpu.user + cpu.system) / 1e6;
      }
    } finally {
      model.dispose();
    }
  }
  return { perSec: args.n / best, perCpuSec: args.n / bestCpu, note: `${args.ulasanThreads}t` };
}

/** PyTorch's best over the thread counts. */
function peerThroughput(peer: string, batchSize: number, args: Args): Throughput {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'train.py');
  let best: Throughput | undefined;
  for (const threads of args.threads) {
    const cli = [script, peer, '--threads', String(threads), '--runs', String(args.runs), '--n', String(args.n)];
    const result = spawnSync('/usr/bin/python3', [...cli, '--batch', String(batchSize)], {
      env: { ...process.env, ...PEER_ENV },
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (result.status !== 0) throw new Error(`peer ${peer} failed (${result.status}): ${result.stderr || result.error}`);
    const line = result.stdout.trim().split('\n').at(-1) ?? '';
    const { samplesPerSec, cpuSec } = JSON.parse(line) as { samplesPerSec: number; cpuSec: number };
    const run = { perSec: samplesPerSec, perCpuSec: args.n / cpuSec, note: `${threads}t` };
    if (best === undefined || run.perSec > best.perSec) best = run;
  }
  if (best === undefined) throw new Error('no peer thread count given (--threads)');
  return best;
}

/**
 * PyTorch at its best: one OpenBLAS thread (torch's own threads do the parallel work), and glibc malloc told to keep
 * freed memory. Without the malloc settings every step's 4 MB embedding gradient and Adam temporaries go back to the
 * kernel and fault in again, and one CNN epoch takes anywhere from 0.4 s to 5.9 s on the same machine.
 */
const PEER_ENV = {
  OPENBLAS_NUM_THREADS: '1',
  MALLOC_MMAP_THRESHOLD_: String(1 << 30),
  MALLOC_TRIM_THRESHOLD_: String(1 << 30),
};

function geometricMean(values: number[]): number {
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
}

export default async function trainBench(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const backend = await selectBackend();
  console.log(`backend ${backend.name} (skipped: ${backend.skipped.join('; ') || 'none'})`);
  console.log(
    `n ${args.n}, runs ${args.runs}, ulasan threads ${args.ulasanThreads}, peer threads ${args.threads.join('|')} (best), ` +
      `load average ${loadavg()[0]?.toFixed(1)}`,
  );
  console.log('arch        batch  ulasan/s  pytorch/s   ratio | ulasan/cpu-s pytorch/cpu-s  ratio');
  const ratios = new Map<number, number[]>();
  const cpuRatios = new Map<number, number[]>();
  for (const batch of args.batches) {
    for (const name of args.archs) {
      const { spec, peer } = ARCHS[name] as (typeof ARCHS)[string];
      const ours = await ulasanThroughput(spec, batch, args);
      const theirs = peerThroughput(peer, batch, args);
      const ratio = ours.perSec / theirs.perSec;
      ratios.set(batch, [...(ratios.get(batch) ?? []), ratio]);
      cpuRatios.set(batch, [...(cpuRatios.get(batch) ?? []), ours.perCpuSec / theirs.perCpuSec]);
      const cell = (t: Throughput, width: number) => `${t.perSec.toFixed(0)} (${t.note})`.padStart(width);
      const cpuCell = (t: Throughput, width: number) => t.perCpuSec.toFixed(0).padStart(width);
      console.log(
        `${name.padEnd(11)} ${String(batch).padStart(5)} ${cell(ours, 9)} ${cell(theirs, 10)} ${ratio.toFixed(3).padStart(7)} |` +
          ` ${cpuCell(ours, 12)} ${cpuCell(theirs, 13)} ${(ours.perCpuSec / theirs.perCpuSec).toFixed(3).padStart(6)}`,
      );
    }
  }
  for (const [batch, values] of ratios) {
    const cpu = geometricMean(cpuRatios.get(batch) ?? [NaN]);
    console.log(`geomean ratio at batch ${batch}: ${geometricMean(values).toFixed(3)} (per CPU-second: ${cpu.toFixed(3)})`);
  }
  console.log(`load average after ${loadavg()[0]?.toFixed(1)}`);
  return geometricMean(ratios.get(args.batches[0] as number) ?? [NaN]);
}
