/**
 * A real Temporal dev server for tests: the Temporal CLI's `temporal server start-dev` (installed into
 * .tools/bin by infra/install-temporal.sh, or named by ULASAN_TEMPORAL_CLI), or an existing server at
 * TEMPORAL_ADDRESS. Without either the server tests skip loudly; with ULASAN_REQUIRE_TEMPORAL=1 (CI
 * sets it) a missing server fails the run instead, so CI can never go green on skipped server tests.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The Temporal CLI binary tests start, if there is one. */
export const TEMPORAL_CLI = process.env.ULASAN_TEMPORAL_CLI ?? `${REPO_ROOT}.tools/bin/temporal`;

/** Whether server tests can run here; warns (or, when CI requires a server, throws) when they cannot. */
export function devServerAvailable(suite: string): boolean {
  if (process.env.TEMPORAL_ADDRESS || existsSync(TEMPORAL_CLI)) return true;
  const why = `no Temporal CLI at ${TEMPORAL_CLI} and TEMPORAL_ADDRESS is unset (run infra/install-temporal.sh)`;
  if (process.env.ULASAN_REQUIRE_TEMPORAL === '1') throw new Error(`${suite} must run against a Temporal server, but ${why}`);
  console.warn(`!!! SKIPPED: ${suite}: ${why}. !!!`);
  return false;
}

/**
 * A dev server of its own for one test file (in-memory SQLite), or the server at TEMPORAL_ADDRESS. The SDK gives a
 * starting server 5 s to answer, a hard-coded limit a cold binary on a busy 2-core machine can miss; such a start is
 * retried (the binary is warm in the page cache by then) rather than failing the suite.
 */
export async function startDevServer(attempts = 3): Promise<TestWorkflowEnvironment> {
  const address = process.env.TEMPORAL_ADDRESS;
  if (address) return TestWorkflowEnvironment.createFromExistingServer({ address });
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createLocal({
        server: { executable: { type: 'existing-path', path: TEMPORAL_CLI }, ip: '127.0.0.1', extraArgs: ['--log-level', 'error'] },
      });
    } catch (error) {
      if (attempt >= attempts || !/did not start within/.test(String(error))) throw error;
      console.warn(`Temporal dev server did not answer in time (attempt ${attempt} of ${attempts}); starting it again`);
    }
  }
}
