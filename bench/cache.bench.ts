/**
 * `npm run bench -- cache`: the quickstart cold (empty store) then warm (every stage cached), each as
 * a fresh `ulasan run` process, as a user runs `npm start` twice. Returns warm seconds ÷ cold seconds
 * (LOWER is better; goal < 0.10). Warm runs are repeated and the median taken.
 *
 * Also prints how warm runs scale with the data: real Halodoc reviews (read by path from
 * ../shared/data) ×1 and ×5 (five copies with distinct review ids, built in a temp folder), each
 * through TF-IDF + Naive Bayes with exact-duplicate removal off so every artifact grows ×5. A cache
 * hit checks file stamps instead of hashing, so the two warm times should be about equal.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { quoteLiteral, withConnection } from '../data/duckdb';

interface Timed {
  seconds: number;
  stages: { stage: string; cache: string; ms: number }[];
}

function runQuickstart(home: string, spec: string): Timed {
  const started = performance.now();
  // The command `npm start` runs (package.json), without npm's own start-up.
  const child = spawnSync(process.execPath, ['client/bin.js', 'run', spec, '--json'], {
    env: { ...process.env, ULASAN_HOME: home },
    encoding: 'utf8',
  });
  const seconds = (performance.now() - started) / 1000;
  if (child.status !== 0) throw new Error(`ulasan run failed (${child.status}):\n${child.stderr}`);
  const last = child.stdout.trim().split('\n').at(-1)!;
  return { seconds, stages: (JSON.parse(last) as Timed).stages };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const stageMs = (t: Timed) => t.stages.reduce((sum, s) => sum + s.ms, 0);

/** One cold run, then three warm ones that must hit every stage. */
function coldThenWarm(home: string, spec: string): { cold: Timed; warm: Timed[] } {
  const cold = runQuickstart(home, spec);
  const warm = [0, 1, 2].map(() => runQuickstart(home, spec));
  const misses = warm.flatMap((w) => w.stages.filter((s) => s.cache !== 'hit').map((s) => s.stage));
  if (misses.length > 0) throw new Error(`warm runs of ${spec} missed the cache for: ${misses.join(', ')}`);
  return { cold, warm };
}

/** `copies` copies of the CSV's rows, each with its own review ids, written as CSV to `target`. */
async function multiplyReviews(source: string, copies: number, target: string): Promise<void> {
  await withConnection(async (connection) => {
    await connection.run(
      `COPY (SELECT * REPLACE ("Review ID" || '-' || k AS "Review ID")
             FROM read_csv(${quoteLiteral(source)}, header = true, all_varchar = true), range(${copies}) t(k)
             ORDER BY k)
       TO ${quoteLiteral(target)} (HEADER, DELIMITER ',')`,
    );
  });
}

const halodocSpec = (file: string, copies: number) => `name: bench-cache-halodoc-x${copies}
seed: 42
source:
  file: ${JSON.stringify(file)}
clean:
  dedupeExact: false
label:
  rule: ternary
split:
  train: 0.8
  val: 0
  test: 0.2
features:
  kind: tfidf
resample:
  method: none
model:
  arch: nb
`;

/** Warm-run seconds on Halodoc ×1 and ×5; skipped loudly without ../shared/data. */
async function warmScaling(): Promise<void> {
  const source = resolve(process.env.ULASAN_SHARED_DATA ?? '../shared/data', 'reviews', 'halodoc_id_reviews.csv');
  if (!existsSync(source)) {
    console.warn(`SKIPPED: warm runs on Halodoc ×1 and ×5 (${source} not found; set ULASAN_SHARED_DATA).`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ulasan-bench-cache-halodoc-'));
  try {
    const warmSeconds: Record<number, number> = {};
    for (const copies of [1, 5]) {
      const file = copies === 1 ? source : join(dir, `halodoc-x${copies}.csv`);
      if (copies > 1) await multiplyReviews(source, copies, file);
      const spec = join(dir, `halodoc-x${copies}.yaml`);
      writeFileSync(spec, halodocSpec(file, copies));
      const { cold, warm } = coldThenWarm(join(dir, `home-x${copies}`), spec);
      warmSeconds[copies] = median(warm.map((w) => w.seconds));
      console.log(`halodoc x${copies}: cold ${cold.seconds.toFixed(2)} s; warm ${warm.map((w) => w.seconds.toFixed(2)).join(', ')} s ` +
        `(median ${warmSeconds[copies]!.toFixed(2)}; ${median(warm.map(stageMs))} ms in stages)`);
    }
    console.log(`warm halodoc x1 ${warmSeconds[1]!.toFixed(2)} s, x5 ${warmSeconds[5]!.toFixed(2)} s (x5/x1 ${(warmSeconds[5]! / warmSeconds[1]!).toFixed(2)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function cacheBenchmark(args: string[]): Promise<number> {
  const spec = args.find((arg) => !arg.startsWith('--')) ?? 'experiments/quickstart.yaml';
  const home = mkdtempSync(join(tmpdir(), 'ulasan-bench-cache-'));
  let ratio: number;
  try {
    const { cold, warm } = coldThenWarm(home, spec);
    console.log(`cold: ${cold.seconds.toFixed(2)} s wall (${(stageMs(cold) / 1000).toFixed(2)} s in stages)`);
    console.log(`warm: ${warm.map((w) => w.seconds.toFixed(2)).join(', ')} s wall (median ${median(warm.map((w) => w.seconds)).toFixed(2)}); ` +
      `${median(warm.map(stageMs))} ms in stages (all ${warm[0]!.stages.length} stages hit)`);
    console.log(`in-stage ratio: ${(median(warm.map(stageMs)) / stageMs(cold)).toFixed(4)} (process start excluded)`);
    ratio = median(warm.map((w) => w.seconds)) / cold.seconds;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  if (!args.includes('--no-scaling')) await warmScaling();
  return ratio;
}
