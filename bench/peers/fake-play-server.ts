/**
 * Runs the fake Play server in its own process for `bench/scrape.bench.ts`, so serving pages does not
 * share an event loop with the client being measured. Prints `listening <url>` once ready; exits
 * when stdin closes. Usage: node --import tsx bench/peers/fake-play-server.ts <appId> <reviews> [seed]
 */
import { startFakePlayServer } from '../../activities/scrape/testing/fake-play-server';

async function main(): Promise<void> {
  const [appId = 'com.example.bench', reviews = '20000', seed = '1'] = process.argv.slice(2);
  const server = await startFakePlayServer({ apps: { [appId]: Number(reviews) }, seed: Number(seed) });
  server.reviews(appId); // generate before the first request is timed
  process.stdout.write(`listening ${server.url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
