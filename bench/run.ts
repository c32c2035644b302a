/**
 * Benchmark runner: `npm run bench -- <name>` loads `bench/<name>.bench.ts`, runs it, and prints
 * `ratio <name> <value>` as the last line (higher is better unless the benchmark says otherwise).
 * Each benchmark measures ulasan against a peer in the same run, so machine noise hits both sides.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingPeerModules, peerInstallAdvice } from './peer-modules';

/** What every `bench/<name>.bench.ts` exports as default. */
export type Benchmark = (args: string[]) => Promise<number>;

const benchDir = dirname(fileURLToPath(import.meta.url));

function availableBenchmarks(): string[] {
  return readdirSync(benchDir)
    .filter((file) => file.endsWith('.bench.ts'))
    .map((file) => file.replace(/\.bench\.ts$/, ''))
    .sort();
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const names = availableBenchmarks();
  if (!name || !names.includes(name)) {
    console.error(`usage: npm run bench -- <name> [args]\navailable: ${names.join(', ')}`);
    process.exit(2);
  }
  const advice = peerInstallAdvice(name, missingPeerModules(name));
  if (advice) {
    console.error(advice);
    process.exit(2);
  }
  const module = (await import(join(benchDir, `${name}.bench.ts`))) as { default: Benchmark };
  const ratio = await module.default(rest);
  console.log(`ratio ${name} ${ratio.toPrecision(4)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
