/**
 * `npm run bench -- scrape [--reviews 20000] [--rounds 7]`: scrapes the same synthetic app from the fake
 * Play server (own process, no throttle) through ulasan's core and through the bare library, in
 * alternating rounds, and returns ulasan reviews/s ÷ bare reviews/s: the median over rounds of the ratio
 * within a round (both runs adjacent in time; ratios of bests, of medians and of CPU time are printed too).
 * Goal: ≥ 0.8.
 *
 * ulasan's side does its real per-page work: got hooks, soft-failure checks, shape checks, normalisation,
 * dedupe, and an onPage that keeps the page and JSON-serialises a checkpoint. The bare side is the
 * library paginating with `nextPaginationToken`, with only the URL rewrite it needs to reach the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import gplay from 'google-play-scraper';
import { rebaseUrl, scrapeReviews, type ScrapePage } from '../activities/scrape/play-client';
import { RateLimiter } from '../activities/scrape/rate-limiter';

const APP = 'com.example.bench';
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

async function startServer(reviews: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/peers/fake-play-server.ts', APP, String(reviews)], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`fake Play server exited with ${code}`)));
  });
  return { url, child };
}

async function ulasanRun(url: string): Promise<number> {
  const pages: ScrapePage[] = [];
  let checkpoint = '';
  const result = await scrapeReviews(
    {
      appId: APP,
      lang: 'id',
      country: 'id',
      sort: 'newest',
      maxReviews: Infinity,
      baseUrl: url,
      timeoutMs: 30_000,
      limiter: new RateLimiter(),
    },
    {
      onPage: async (page) => {
        pages.push(page);
        const { nextToken: token, pageNumber, new: added, duplicates } = page;
        checkpoint = JSON.stringify({ token, pageNumber, new: added, duplicates });
      },
    },
  );
  if (checkpoint === '') throw new Error('no checkpoint written');
  return result.new;
}

type BareReviews = (
  options: Record<string, unknown>,
) => Promise<{ data: unknown[]; nextPaginationToken?: string | null }>;

async function bareRun(url: string): Promise<number> {
  const base = new URL(url);
  const rebase = (options: { url: URL }): void => void (options.url = rebaseUrl(options.url, base));
  const requestOptions = { hooks: { beforeRequest: [rebase] } };
  const reviews: unknown[] = [];
  let token: string | null | undefined;
  do {
    const page = await (gplay.reviews as unknown as BareReviews)({
      appId: APP,
      lang: 'id',
      country: 'id',
      sort: (gplay.sort as unknown as { NEWEST: number }).NEWEST,
      num: 150,
      paginate: true,
      ...(token ? { nextPaginationToken: token } : {}),
      requestOptions,
    });
    reviews.push(...page.data);
    token = page.nextPaginationToken;
  } while (token);
  return reviews.length;
}

interface Rates {
  /** Reviews per wall-clock second: what the ratio is about. */
  wall: number;
  /** Reviews per CPU second of this (client) process: less disturbed by other load on the machine. */
  cpu: number;
}

async function timed(run: () => Promise<number>, expected: number): Promise<Rates> {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const count = await run();
  const cpu = process.cpuUsage(cpuStart);
  const seconds = (performance.now() - start) / 1000;
  if (count !== expected) throw new Error(`scraped ${count} reviews, expected ${expected}`);
  return { wall: count / seconds, cpu: count / ((cpu.user + cpu.system) / 1e6) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

export default async function scrapeBench(args: string[]): Promise<number> {
  const total = flag(args, 'reviews', 20_000);
  const rounds = flag(args, 'rounds', 7);
  const { url, child } = await startServer(total);
  try {
    // Warm-up: JIT both paths and fill the server's reply cache.
    await timed(() => bareRun(url), total);
    await timed(() => ulasanRun(url), total);
    const ulasan: Rates[] = [];
    const bare: Rates[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first so drift in machine load hits both sides.
      if (round % 2 === 0) {
        ulasan.push(await timed(() => ulasanRun(url), total));
        bare.push(await timed(() => bareRun(url), total));
      } else {
        bare.push(await timed(() => bareRun(url), total));
        ulasan.push(await timed(() => ulasanRun(url), total));
      }
    }
    const wall = (xs: Rates[]): number[] => xs.map((x) => x.wall);
    const cpu = (xs: Rates[]): number[] => xs.map((x) => x.cpu);
    const best = (xs: number[]): number => Math.max(...xs);
    const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(', ');
    const pages = Math.ceil(total / 150);
    console.log(`scrape: ${total} reviews, ${pages} pages per run, ${rounds} rounds, fake server in its own process`);
    for (const [name, rates] of [['ulasan', ulasan], ['bare google-play-scraper', bare]] as const) {
      const summary = `best ${best(wall(rates)).toFixed(0)}, median ${median(wall(rates)).toFixed(0)}`;
      console.log(`${name} reviews/s: ${summary} (${fmt(wall(rates))})`);
    }
    const ratio = (pick: (xs: number[]) => number, of: (xs: Rates[]) => number[]): string =>
      (pick(of(ulasan)) / pick(of(bare))).toFixed(3);
    // Each round's two runs are adjacent in time, so they see about the same load from other processes.
    const paired = ulasan.map((u, i) => u.wall / (bare[i] as Rates).wall);
    console.log(`per-round ratios: ${paired.map((r) => r.toFixed(3)).join(', ')}`);
    console.log(`ratio of bests ${ratio(best, wall)}, of medians ${ratio(median, wall)}`);
    console.log(`ratio per client CPU second: of bests ${ratio(best, cpu)}, of medians ${ratio(median, cpu)}`);
    return median(paired);
  } finally {
    child.stdin?.end();
    child.kill();
  }
}
