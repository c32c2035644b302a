/**
 * `npm run bench -- cache`: the quickstart cold (empty store) then warm (every stage cached), each as
 * a fresh `ulasan run` process, as a user runs `npm start` twice. Returns warm seconds ÷ cold seconds
 * (LOWER is better; goal < 0.10). Warm runs are repeated and the median taken.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

export default async function cacheBenchmark(args: string[]): Promise<number> {
  const spec = args[0] ?? 'experiments/quickstart.yaml';
  const home = mkdtempSync(join(tmpdir(), 'ulasan-bench-cache-'));
  try {
    const cold = runQuickstart(home, spec);
    const warm = [0, 1, 2].map(() => runQuickstart(home, spec));
    const misses = warm.flatMap((w) => w.stages.filter((s) => s.cache !== 'hit').map((s) => s.stage));
    if (misses.length > 0) throw new Error(`warm runs missed the cache for: ${misses.join(', ')}`);
    const stageMs = (t: Timed) => t.stages.reduce((sum, s) => sum + s.ms, 0);
    console.log(`cold: ${cold.seconds.toFixed(2)} s wall (${(stageMs(cold) / 1000).toFixed(2)} s in stages)`);
    console.log(`warm: ${warm.map((w) => w.seconds.toFixed(2)).join(', ')} s wall (median ${median(warm.map((w) => w.seconds)).toFixed(2)}); ` +
      `${median(warm.map(stageMs))} ms in stages (all ${warm[0]!.stages.length} stages hit)`);
    console.log(`in-stage ratio: ${(median(warm.map(stageMs)) / stageMs(cold)).toFixed(4)} (process start excluded)`);
    return median(warm.map((w) => w.seconds)) / cold.seconds;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
