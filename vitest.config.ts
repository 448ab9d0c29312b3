import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Kernel choices that webgrad/node keeps between processes (the matmul kernels timed on a CPU adapter): in
    // the checkout, not the user's cache folder, and shared by every test file and run.
    env: { WEBGRAD_CACHE_DIR: fileURLToPath(new URL('node_modules/.cache/webgrad', import.meta.url)) },
    // SwiftShader runs shaders on the CPU: GPU tests are slow on machines without a GPU.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Dawn's native addon is happiest in its own process per test file.
    pool: 'forks',
    // Two files at a time even on two cores (the default is one fewer than the cores): much of the suite waits
    // on child processes and on Chromium's GPU process rather than computing, so the second file overlaps it.
    // The tests that time the page's main thread (demo, worker) run after the rest, alone: `npm test` does that.
    maxWorkers: 2,
  },
});
