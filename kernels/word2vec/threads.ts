/**
 * Hogwild Word2Vec: worker threads train disjoint slices of the sentences against vectors on a
 * SharedArrayBuffer, without locks. Updates race, so results vary from run to run.
 *
 * The workers run the kernel's own source text (`eval: true`), so this works the same under tsx,
 * vitest and compiled JavaScript without a separate worker entry file to build or resolve.
 */
import { Worker } from 'node:worker_threads';
import { UlasanError } from '../../core/errors';
import { KERNEL_SOURCE, type KernelInput, type KernelOutput } from './kernel';

const workerSource = `
const { workerData, parentPort } = require('node:worker_threads');
${KERNEL_SOURCE}
parentPort.postMessage(runWord2VecKernel(workerData));
`;

/** Runs the kernel in `threads` workers over slices of about equal raw word count; sums their counts. */
export async function runKernelThreads(input: KernelInput, threads: number): Promise<KernelOutput> {
  if (!(input.syn0.buffer instanceof SharedArrayBuffer) || !(input.syn1neg.buffer instanceof SharedArrayBuffer)) {
    throw new TypeError('runKernelThreads needs syn0 and syn1neg on a SharedArrayBuffer');
  }
  const slices = sliceByWords(input, threads);
  const outputs = await Promise.all(
    slices.map(([first, end], i) => {
      const seed = (input.seed + Math.imul(i, 0x9e3779b9)) | 1;
      return runWorker({ ...input, firstSentence: first, endSentence: end, seed });
    }),
  );
  return outputs.reduce(
    (sum, out) => ({ effectiveWords: sum.effectiveWords + out.effectiveWords, rawWords: sum.rawWords + out.rawWords }),
    { effectiveWords: 0, rawWords: 0 },
  );
}

function sliceByWords(input: KernelInput, threads: number): [number, number][] {
  const { rawLengths, firstSentence, endSentence } = input;
  let total = 0;
  for (let s = firstSentence; s < endSentence; s++) total += rawLengths[s] as number;
  const slices: [number, number][] = [];
  let start = firstSentence;
  let seen = 0;
  for (let s = firstSentence; s < endSentence && slices.length < threads - 1; s++) {
    seen += rawLengths[s] as number;
    if (seen >= (total * (slices.length + 1)) / threads) {
      slices.push([start, s + 1]);
      start = s + 1;
    }
  }
  slices.push([start, endSentence]);
  return slices.filter(([first, end]) => end > first);
}

function runWorker(input: KernelInput): Promise<KernelOutput> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerSource, { eval: true, workerData: input });
    let result: KernelOutput | undefined;
    worker.once('message', (message: KernelOutput) => (result = message));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new UlasanError('Transient', `word2vec worker thread exited with code ${code} before reporting (a lost thread: retried)`, { stage: 'features' }));
    });
  });
}
