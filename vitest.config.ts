import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{core,kernels,models,runtime,activities,workflows,worker,client,data,bench}/**/*.test.ts'],
    // tfjs-wasm installs process-level handlers and training is CPU-bound: isolate files in forks.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
