import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // SwiftShader runs shaders on the CPU: GPU tests are slow on machines without a GPU.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Dawn's native addon is happiest in its own process per test file.
    pool: 'forks',
  },
});
