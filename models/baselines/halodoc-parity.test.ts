/**
 * Class-weighted linear SVM and logistic regression against scikit-learn on real reviews: the peer's
 * Halodoc ternary split (../shared), its cleaning and TF-IDF, fitted by halodoc-sklearn.py with
 * LinearSVC(class_weight='balanced') and LogisticRegression(class_weight='balanced'); ulasan's baselines
 * fit the very same matrices and must give the same test predictions, but for near-ties (the solvers stop
 * at their tolerances, so scores differ in the last digits). Skipped, loudly, without ../shared or
 * without /usr/bin/python3 with scikit-learn and pandas.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../data/random';
import { fitBaseline, scoreBaseline, type CsrMatrix } from './index';

const PYTHON = '/usr/bin/python3';
// ULASAN_SHARED_DATA names shared/data elsewhere (as in import.test.ts); the peer folder sits beside it.
const shared = resolve(process.env.ULASAN_SHARED_DATA ? join(process.env.ULASAN_SHARED_DATA, '..') : '../shared');
const script = fileURLToPath(new URL('./halodoc-sklearn.py', import.meta.url));

function skipReason(): string | undefined {
  if (!existsSync(join(shared, 'data', 'reviews', 'halodoc_id_reviews.csv'))) return `${shared}/data/reviews/halodoc_id_reviews.csv not found`;
  if (!existsSync(join(shared, 'peer', 'results', 'halodoc_id_reviews.ternary.split.json'))) return `${shared}/peer/results has no Halodoc split`;
  const probe = spawnSync(PYTHON, ['-c', 'import sklearn, pandas'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PYTHON} cannot import sklearn and pandas (apt-get install -y python3-sklearn python3-pandas)`;
  return undefined;
}

const skip = skipReason();
if (skip) console.warn(`SKIPPED: class-weight parity on Halodoc: ${skip}.`);

interface JsonCsr {
  rows: number;
  cols: number;
  indptr: number[];
  indices: number[];
  data: number[];
}
interface Peer {
  sklearn: string;
  train: { X: JsonCsr; y: number[] };
  test: { X: JsonCsr; y: number[] };
  models: Record<'linearSvmBalanced' | 'logisticRegressionBalanced', { predictions: number[] }>;
}

const csr = (m: JsonCsr): CsrMatrix => ({
  rows: m.rows,
  cols: m.cols,
  indptr: Int32Array.from(m.indptr),
  indices: Int32Array.from(m.indices),
  data: Float32Array.from(m.data),
});

/** Gap between the two highest scores of row i. */
function margin(scores: Float64Array, k: number, i: number): number {
  const row = Array.from(scores.subarray(i * k, (i + 1) * k)).sort((a, b) => b - a);
  return (row[0] as number) - (row[1] as number);
}

let dir: string | undefined;
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

describe.skipIf(skip !== undefined)('class-weighted baselines agree with scikit-learn on the Halodoc split', () => {
  let peer: Peer;
  const load = async (): Promise<Peer> => {
    if (peer) return peer;
    dir = await mkdtemp(join(tmpdir(), 'ulasan-halodoc-parity-'));
    const out = join(dir, 'peer.json');
    const run = spawnSync(PYTHON, [script, shared, out], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`halodoc-sklearn.py failed: ${run.stderr}`);
    peer = JSON.parse(await readFile(out, 'utf8')) as Peer;
    return peer;
  };

  it.each([
    ['linearSvm', 'linearSvmBalanced'],
    ['logisticRegression', 'logisticRegressionBalanced'],
  ] as const)('%s with classWeight balanced (sklearn %s): at least 99.5 percent identical test predictions, the rest near-ties', async (kind, name) => {
    const { train, test, models } = await load();
    const model = fitBaseline(kind, csr(train.X), Int32Array.from(train.y), 3, { classWeight: 'balanced' }, new Rng(42));
    const { labels, scores, k } = scoreBaseline(model, csr(test.X));
    const expected = models[name].predictions;
    const differing = expected.flatMap((label, i) => (label === labels[i] ? [] : [i]));
    expect(test.y.length).toBeGreaterThan(4000);
    expect(1 - differing.length / expected.length).toBeGreaterThanOrEqual(0.995);
    for (const i of differing) expect(margin(scores, k, i), `row ${i}`).toBeLessThan(0.01);
  }, 120_000);
});
